"""A straightforward best-response dynamics, as the authors' research code computes it.

For every producer it checks, and every candidate basis vector, it rebuilds the whole
users x producers score matrix and the serving probabilities. It follows the same random draws
as :func:`recsys_eq_env.best_response_dynamics`, so both make the same moves from the same seed
(tests/test_benchmarks.py checks it); only the cost differs.
"""

from __future__ import annotations

import numpy as np

from recsys_eq_env import serving
from recsys_eq_env.counts import best_move
from recsys_eq_env.streams import permutation, stream_words


def naive_deviation_row(users, profile, i, rule, temperature, k=None):
    """Producer i's engagement at every basis vector: one full matrix per candidate."""
    dim = profile.shape[1]
    row = np.empty(dim)
    for j in range(dim):
        trial = profile.copy()
        trial[i] = 0.0
        trial[i, j] = 1.0
        scores = users @ trial.T
        p = serving.serving_probabilities(scores, rule, temperature, k)
        row[j] = p[:, i] @ scores[:, i]
    return row


def naive_best_response_dynamics(
    users, n_producers, rule, temperature=1.0, seed=0, max_iter=500, tol=1e-9, k=None
):
    """Returns (assignment, moves, converged)."""
    dim = users.shape[1]
    rng = np.random.default_rng(seed)
    assignment = rng.integers(0, dim, size=n_producers)
    words = stream_words(rng)  # the revision stream, drawn as the dynamics draw it
    eye = np.eye(dim)
    moves = []
    while True:
        profile = eye[assignment]
        mover = None
        for i in permutation(words, len(moves), n_producers):
            row = naive_deviation_row(users, profile, int(i), rule, temperature, k)
            a = int(assignment[i])
            move = best_move(row, a, tol)  # the one improvement rule (recsys_eq_env.counts)
            if move.improves:
                mover = (int(i), a, move.best)
                break
        if mover is None:
            return assignment, moves, True
        if len(moves) == max_iter:
            return assignment, moves, False
        assignment[mover[0]] = mover[2]
        moves.append(mover)
