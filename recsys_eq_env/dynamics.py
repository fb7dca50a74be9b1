"""The paper's best-response dynamics over basis vectors, and exhaustive equilibrium search.

Best-response dynamics (MODEL.md section 3, the authors' ``best_response_dynamics``):

1. every producer starts on a basis vector drawn uniformly at random;
2. each iteration draws a uniformly random permutation of the producers and moves the first one
   that can strictly improve to its best basis vector (ties: lowest feature index); this picks
   a uniformly random improver. The permutation of iteration t is the order of counter-based
   keys of (the run's stream words, t, producer) (:mod:`recsys_eq_env.streams`), the words
   drawn from the seed's Generator right after the start: the envs' ``revision="one"`` draws
   the same permutations, so a rollout of best-response agents makes the same moves;
3. stop when nobody can improve (a pure Nash equilibrium over basis vectors) or after
   ``max_iter`` switches.

The state is the count vector: the deviation row of a feature is computed at most once per
iteration, and only until the first improver in the permutation is found.

Where basis vectors are not enough (exposure games: MODEL.md section 2), the same dynamics run
over the whole simplex with ``deviations="simplex"``: the chosen producer moves to its best
response over the simplex (:func:`recsys_eq_env.continuous.best_simplex_response`), and the
run stops at a ``tol``-equilibrium: no producer gains more than ``tol`` relative to its
utility. Continuous best responses can approach an equilibrium without reaching it exactly,
so ``tol`` is the stated epsilon of that equilibrium (default 1e-6 there, 1e-9 over basis
vectors).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from . import _checks, continuous
from ._checks import as_assignment
from ._progress import progress_bar
from .counts import Improvement, best_move, strictly_improves
from .game import EngagementGame, profile_from_assignment
from .streams import permutation, stream_words

#: Default relative tolerances of the two kinds of dynamics.
TOL_BASIS = 1e-9
TOL_SIMPLEX = 1e-6
#: pure_nash_equilibria refuses games whose enumeration would exceed this many
#: (count vector x user x feature) operations, unless given a larger ``max_work``.
MAX_WORK = 5e10


@dataclass(frozen=True)
class DynamicsResult:
    """Outcome of one run of best-response dynamics."""

    #: (n_producers, dim) final basis-vector profile.
    profile: np.ndarray
    #: (n_producers,) feature each producer ends on.
    assignment: np.ndarray
    #: (dim,) number of producers on each feature.
    counts: np.ndarray
    #: Number of switches made.
    iterations: int
    #: True when the final profile is a pure Nash equilibrium over basis vectors.
    converged: bool
    #: (n_producers,) starting features.
    initial_assignment: np.ndarray
    #: (iterations, 3) rows ``(producer, from_feature, to_feature)``, in order (for simplex
    #: dynamics the features are the largest coordinates of the content before and after).
    moves: np.ndarray = field(repr=False)
    #: ``"basis"`` (the paper's heuristic) or ``"simplex"`` (continuous best responses).
    deviations: str = "basis"
    #: The relative tolerance of the improvement rule: the epsilon of the equilibrium.
    tol: float = TOL_BASIS
    #: What ``converged`` proves (:meth:`EngagementGame.deviation_check`).
    check: str = "basis only"

    @property
    def producer_dist(self) -> np.ndarray:
        """Share of producers per feature, ``counts / n``."""
        return self.counts / self.counts.sum()


def initial_assignment(rng: np.random.Generator, n_producers: int, dim: int) -> np.ndarray:
    """Every producer on a uniformly random feature (the paper's start)."""
    return rng.integers(0, dim, size=n_producers)


def best_response_dynamics(
    game: EngagementGame,
    seed=None,
    max_iter: int = 500,
    tol: float | None = None,
    initial=None,
    deviations: str | None = None,
) -> DynamicsResult:
    """Run the paper's best-response dynamics on ``game``.

    ``seed`` (int, SeedSequence, Generator or None) drives the start and the choice of mover;
    ``initial`` optionally fixes the starting features, shape (n_producers,). ``deviations``
    (default :attr:`EngagementGame.default_deviations`: basis vectors for engagement, the
    simplex for exposure) chooses what a producer may move to; ``tol`` is the relative
    improvement a move needs (default 1e-9 over basis vectors, 1e-6 over the simplex).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    max_iter = _checks.check_int(max_iter, "max_iter", minimum=0)
    deviations = game.check_deviations(deviations)
    simplex = deviations == "simplex" and not continuous.vertex_is_optimal(game)
    if tol is None:
        tol = TOL_SIMPLEX if simplex else TOL_BASIS
    tol = _checks.check_tol(tol)
    rng = np.random.default_rng(seed)
    n, dim = game.n_producers, game.dim
    if initial is None:
        assignment = initial_assignment(rng, n, dim)
    else:
        assignment = as_assignment(initial, n, dim, "initial")
    start = assignment.copy()
    words = stream_words(rng)  # the revision stream (streams.py), as the envs draw it
    if simplex:
        profile, moves, converged = _simplex_dynamics(game, words, assignment, max_iter, tol)
        assignment = profile.argmax(axis=1)
        counts = np.bincount(assignment, minlength=dim)
    else:
        features, counts, moves, converged = _basis_dynamics(game, words, assignment, max_iter, tol)
        assignment = np.array(features, dtype=np.int64)
        profile = profile_from_assignment(assignment, dim)
    return DynamicsResult(
        profile=profile,
        assignment=assignment,
        counts=counts,
        iterations=len(moves),
        converged=converged,
        initial_assignment=start,
        moves=np.array(moves, dtype=np.int64).reshape(-1, 3),
        deviations=deviations,
        tol=tol,
        check=game.deviation_check(deviations),
    )


def _basis_dynamics(game, words, assignment, max_iter, tol):
    """The paper's heuristic on the count vector; returns (features, counts, moves,
    converged)."""
    n, dim = game.n_producers, game.dim
    counts = np.bincount(assignment, minlength=dim)
    row = game.deviation_row  # the rows every agent and env reads (game.py)
    # Python lists in the loop: on small populations a row costs ~20 us and NumPy scalar
    # indexing per producer would be a sizeable share of an iteration.
    features = assignment.tolist()
    moves = []
    while True:
        decisions: dict[int, Improvement] = {}
        mover = -1
        for i in permutation(words, len(moves), n).tolist():
            a = features[i]
            decision = decisions.get(a)
            if decision is None:
                decision = decisions[a] = best_move(row(counts, a), a, tol)
            if decision.improves:
                mover = i
                break
        if mover < 0:
            return features, counts, moves, True
        if len(moves) == max_iter:
            return features, counts, moves, False
        a = features[mover]
        b = decisions[a].best
        features[mover] = b
        counts[a] -= 1
        counts[b] += 1
        moves.append((mover, a, b))


def _simplex_dynamics(game, words, assignment, max_iter, tol):
    """The same protocol with continuous best responses; returns (profile, moves, converged).

    Each iteration evaluates producers in a uniformly random order and moves the first one
    whose best response over the simplex beats its utility by more than ``tol`` (relative).
    Producers with equal content share one best-response computation per iteration.
    """
    n = game.n_producers
    profile = profile_from_assignment(assignment, game.dim)
    moves = []
    while True:
        current = game.producer_utilities(profile)
        scores = game.users @ profile.T
        responses: dict[bytes, continuous.SimplexResponse] = {}
        mover, response = -1, None
        for i in permutation(words, len(moves), n).tolist():
            key = profile[i].tobytes()
            response = responses.get(key)
            if response is None:
                weights = np.ones(n)
                weights[i] = 0.0
                response = continuous.best_simplex_response(
                    game, scores, weights, current=profile[i]
                )
                responses[key] = response
            if strictly_improves(response.value, float(current[i]), tol):
                mover = i
                break
        if mover < 0:
            return profile, moves, True
        if len(moves) == max_iter:
            return profile, moves, False
        before = int(profile[mover].argmax())
        profile[mover] = response.content
        moves.append((mover, before, int(response.content.argmax())))


def pure_nash_equilibria(
    game: EngagementGame,
    tol: float = 1e-9,
    max_profiles: int = 2_000_000,
    max_work: float = MAX_WORK,
    progress: bool = False,
) -> np.ndarray:
    """Every pure Nash equilibrium over basis-vector profiles, as count vectors.

    Examines the C(n + d - 1, d - 1) count vectors (not d^n profiles) and returns an (m, dim)
    int array in lexicographic order; m may be 0. Softmax and linear serving use the batched
    lattice pass of :func:`recsys_eq_env.analysis.pure_equilibria` (two passes over every
    count vector, each one batched product per few thousand vectors); other rules check count
    vector by count vector, up to ``dim`` deviation rows of O(n_users * dim) each. Games with
    more than ``max_profiles`` count vectors, or more than ``max_work`` operations in all, are
    refused before any work. ``progress=True`` shows a progress bar (tqdm).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    tol = _checks.check_tol(tol)
    max_profiles = _checks.check_int(max_profiles, "max_profiles", minimum=1)
    n, dim = game.n_producers, game.dim
    total = math.comb(n + dim - 1, dim - 1)
    if total > max_profiles:
        raise ValueError(
            f"game has {total:,} count vectors (n_producers={n}, dim={dim}), more than "
            f"max_profiles={max_profiles:,}; raise max_profiles to enumerate them anyway"
        )
    work = float(total) * min(n, dim) * game.n_users * dim
    if not work <= max_work:
        raise ValueError(
            f"enumerating {total:,} count vectors x {game.n_users:,} users x {dim} features "
            f"is about {work:.1e} operations, more than max_work={max_work:.1e}; use fewer "
            "users, producers or features, or raise max_work"
        )
    if game.rule in ("softmax", "linear"):
        from .analysis import pure_equilibria

        counts = pure_equilibria(game, tol, progress=progress, max_work=max_work).counts
        return counts[np.lexsort(counts.T[::-1])] if len(counts) else counts
    return _enumerate(game, tol, total, progress)


def _enumerate(game, tol, total, progress):
    """The per-count-vector search: every occupied feature's deviation row."""
    n, dim = game.n_producers, game.dim
    found = []
    bar = progress_bar(total, progress, unit="count vectors", miniters=max(1, total // 1000))
    for counts in compositions(n, dim):
        bar.update()
        if not any(
            best_move(game.deviation_row(counts, int(a)), int(a), tol).improves
            for a in np.flatnonzero(counts)
        ):
            found.append(counts)
    bar.close()
    return np.array(found, dtype=np.int64).reshape(-1, dim)


def compositions(n: int, parts: int):
    """All count vectors of ``n`` producers over ``parts`` features, in lexicographic order."""
    for bars in itertools.combinations(range(n + parts - 1), parts - 1):
        edges = np.array((-1, *bars, n + parts - 1))
        yield np.diff(edges) - 1
