"""Symmetric correlated and coarse correlated equilibria over basis vectors, as linear programs
over distributions on count vectors.

A mediator draws a profile and tells each producer its feature. The game is symmetric, so
averaging a correlated equilibrium (CE) over the permutations of producers gives a CE that is
exchangeable, with the same welfare (welfare does not depend on who is where): the welfare-best
and welfare-worst CE are found among exchangeable ones, which are distributions ``p`` over the
``C(n + d - 1, d - 1)`` count vectors (each profile of a count vector equally likely). In a
drawn ``c`` a producer is told ``a`` with probability ``c_a / n``; obeying earns ``U(c)[a]``,
switching to ``b`` earns ``U(c - e_a + e_b)[b]``. So (Aumann 1974; Hart and Schmeidler 1989
for the linear form):

* **CE**: for every ``a != b``, ``sum_c p(c) c_a (U(c - e_a + e_b)[b] - U(c)[a]) <= 0``;
* **CCE** (Moulin and Vial 1978; a producer commits before hearing its feature): for every
  ``b``, ``sum_c p(c) sum_a c_a (U(c - e_a + e_b)[b] - U(c)[a]) <= 0``.

Every Nash equilibrium's distribution over count vectors is a CE (a symmetric mixed one's
is the multinomial), and every CE is a CCE: their welfare brackets the equilibria's. Solved
with SciPy's HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from ._budget import check_bytes
from .game import EngagementGame
from .lattice import Lattice

KINDS = ("correlated", "coarse")
WELFARE = ("user", "producer")
#: Count vectors per batch of the lattice pass.
CHUNK = 4096


@dataclass(frozen=True)
class CorrelatedDistribution:
    """One extreme (welfare-best or -worst) exchangeable CE or CCE."""

    #: (k, d) the count vectors with positive probability.
    counts: np.ndarray
    #: (k,) their probabilities.
    probabilities: np.ndarray
    #: Expected welfare under the distribution.
    welfare: float
    #: The largest constraint value (expected gain of a deviation, <= 0 up to rounding).
    max_gain: float


@dataclass(frozen=True)
class CorrelatedEquilibria:
    """The welfare-best and welfare-worst symmetric CE (or CCE) of a game."""

    kind: str  # "correlated" or "coarse"
    welfare_kind: str  # "user" or "producer"
    best: CorrelatedDistribution
    worst: CorrelatedDistribution
    #: Count vectors (the LP's variables) and constraints.
    variables: int
    constraints: int
    seconds: float


def _lattice_terms(game: EngagementGame):
    """Every count vector, U(c), welfare, and the gain table g[c, a, b] =
    U(c - e_a + e_b)[b] - U(c)[a] (0 where c_a = 0 or a = b)."""
    from .analysis import count_welfare

    n, dim = game.n_producers, game.dim
    lattice = Lattice(n, dim)
    check_bytes(
        lattice.size * dim * dim * 8 * 3,
        f"the CE constraints over {lattice.size:,} count vectors x {dim}^2 deviations",
        way_out="use fewer producers or features",
    )
    counts = lattice.unrank(np.arange(lattice.size))
    u = np.concatenate(
        [game.batch_count_utilities(c, np.float64) for _, c in lattice.chunks(CHUNK)]
    )
    producer, user = count_welfare(game, counts)
    gains = np.zeros((lattice.size, dim, dim))
    for a in range(dim):
        has = counts[:, a] > 0
        for b in range(dim):
            if a == b:
                continue
            moved = counts[has].copy()
            moved[:, a] -= 1
            moved[:, b] += 1
            gains[has, a, b] = u[lattice.rank(moved), b] - u[has, a]
    return counts, producer, user, gains


def correlated_equilibria(
    game: EngagementGame, kind: str = "correlated", welfare: str = "user"
) -> CorrelatedEquilibria:
    """The welfare-best and welfare-worst exchangeable correlated (``kind="correlated"``) or
    coarse correlated (``kind="coarse"``) equilibrium over basis vectors (module docstring).

    ``welfare`` is the users' engagement (``"user"``) or the producers' utilities
    (``"producer"``; the same for engagement games).
    """
    import time

    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if welfare not in WELFARE:
        raise ValueError(f"welfare must be one of {WELFARE}, got {welfare!r}")
    start = time.perf_counter()
    counts, producer, user, gains = _lattice_terms(game)
    value = user if welfare == "user" else producer
    dim = game.dim
    weighted = counts[:, :, None] * gains  # (m, a, b): c_a g_ab(c)
    if kind == "correlated":
        pairs = [(a, b) for a in range(dim) for b in range(dim) if a != b]
        rows = np.stack([weighted[:, a, b] for a, b in pairs]) if pairs else np.zeros((0, 1))
    else:
        rows = weighted.sum(axis=1).T  # (b, m)
    scale = max(float(np.abs(rows).max(initial=0.0)), 1e-300)
    a_ub = sparse.csr_matrix(rows / scale)
    a_eq = np.ones((1, len(counts)))
    extremes = []
    for sign in (-1.0, 1.0):  # maximise, then minimise
        result = optimize.linprog(
            sign * value,
            A_ub=a_ub if rows.shape[0] else None,
            b_ub=np.zeros(rows.shape[0]) if rows.shape[0] else None,
            A_eq=a_eq,
            b_eq=[1.0],
            bounds=(0, None),
            method="highs",
        )
        if result.status != 0:  # pragma: no cover - the LP is feasible (Nash 1951)
            raise RuntimeError(f"the {kind} equilibrium LP failed: {result.message}")
        p = np.clip(result.x, 0.0, None)
        p /= p.sum()
        keep = p > 1e-12
        extremes.append(
            CorrelatedDistribution(
                counts[keep],
                p[keep],
                float(p @ value),
                float((rows @ p).max()) / game.n_producers if rows.shape[0] else 0.0,
            )
        )
    best, worst = extremes
    return CorrelatedEquilibria(
        kind, welfare, best, worst, len(counts), rows.shape[0], time.perf_counter() - start
    )


__all__ = ["CorrelatedDistribution", "CorrelatedEquilibria", "correlated_equilibria"]
