"""The paper's best-response dynamics over basis vectors, and exhaustive equilibrium search.

Best-response dynamics (MODEL.md section 3, the authors' ``best_response_dynamics``):

1. every producer starts on a basis vector drawn uniformly at random;
2. each iteration draws a uniformly random permutation of the producers and moves the first one
   that can strictly improve to its best basis vector (ties: lowest feature index); this picks
   a uniformly random improver;
3. stop when nobody can improve (a pure Nash equilibrium over basis vectors) or after
   ``max_iter`` switches.

The state is the count vector: the deviation row of a feature is computed at most once per
iteration, and only until the first improver in the permutation is found.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from . import _checks
from .counts import improvement
from .game import EngagementGame, profile_from_assignment


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
    #: (iterations, 3) rows ``(producer, from_feature, to_feature)``, in order.
    moves: np.ndarray = field(repr=False)

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
    tol: float = 1e-9,
    initial=None,
) -> DynamicsResult:
    """Run the paper's best-response dynamics on ``game``.

    ``seed`` (int, SeedSequence, Generator or None) drives the start and the choice of mover;
    ``initial`` optionally fixes the starting features, shape (n_producers,).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    max_iter = _checks.check_int(max_iter, "max_iter", minimum=0)
    tol = _check_tol(tol)
    rng = np.random.default_rng(seed)
    n, dim = game.n_producers, game.dim
    if initial is None:
        assignment = initial_assignment(rng, n, dim)
    else:
        assignment = check_assignment(initial, n, dim, "initial")
    start = assignment.copy()
    counts = np.bincount(assignment, minlength=dim)
    oracle = game.oracle
    # Python lists in the loop: on small populations a row costs ~20 us and NumPy scalar
    # indexing per producer would be a sizeable share of an iteration.
    features = assignment.tolist()
    n_total = float(n)
    moves = []
    converged = False
    while True:
        decisions: dict[int, tuple[bool, int]] = {}
        mover = -1
        for i in rng.permutation(n).tolist():
            a = features[i]
            decision = decisions.get(a)
            if decision is None:
                decision = decisions[a] = improvement(oracle.row(counts, a, n_total), a, tol)
            if decision[0]:
                mover = i
                break
        if mover < 0:
            converged = True
            break
        if len(moves) == max_iter:
            break
        a = features[mover]
        b = decisions[a][1]
        features[mover] = b
        counts[a] -= 1
        counts[b] += 1
        moves.append((mover, a, b))
    assignment = np.array(features, dtype=np.int64)
    return DynamicsResult(
        profile=profile_from_assignment(assignment, dim),
        assignment=assignment,
        counts=counts,
        iterations=len(moves),
        converged=converged,
        initial_assignment=start,
        moves=np.array(moves, dtype=np.int64).reshape(-1, 3),
    )


def pure_nash_equilibria(
    game: EngagementGame, tol: float = 1e-9, max_profiles: int = 2_000_000
) -> np.ndarray:
    """Every pure Nash equilibrium over basis-vector profiles, as count vectors.

    Enumerates the C(n + d - 1, d - 1) compositions of n into d parts (not d^n profiles) and
    returns an (m, dim) int array in lexicographic order; m may be 0.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    tol = _check_tol(tol)
    n, dim = game.n_producers, game.dim
    total = math.comb(n + dim - 1, dim - 1)
    if total > max_profiles:
        raise ValueError(
            f"game has {total} count vectors (n_producers={n}, dim={dim}), more than "
            f"max_profiles={max_profiles}; raise max_profiles to enumerate them anyway"
        )
    oracle = game.oracle
    found = []
    for counts in compositions(n, dim):
        if not any(
            improvement(oracle.row(counts, int(a)), int(a), tol)[0] for a in np.flatnonzero(counts)
        ):
            found.append(counts)
    return np.array(found, dtype=np.int64).reshape(-1, dim)


def compositions(n: int, parts: int):
    """All count vectors of ``n`` producers over ``parts`` features, in lexicographic order."""
    for bars in itertools.combinations(range(n + parts - 1), parts - 1):
        edges = np.array((-1, *bars, n + parts - 1))
        yield np.diff(edges) - 1


def check_assignment(assignment, n_producers: int, dim: int, name: str) -> np.ndarray:
    """A (n_producers,) integer array of features in 0..dim-1."""
    arr = np.asarray(assignment)
    if arr.shape != (n_producers,):
        raise ValueError(f"{name} must have shape ({n_producers},), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer feature indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= dim):
        raise ValueError(f"{name} must hold features in 0..{dim - 1}, got {arr.tolist()}")
    return arr.astype(np.int64)


def _check_tol(tol) -> float:
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not np.isfinite(tol):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    if tol < 0:
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return float(tol)
