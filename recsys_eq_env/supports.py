"""Every symmetric equilibrium over basis vectors, by support enumeration (issue 25).

On each of the ``2^d - 1`` supports, "equal expected utility on the support" is solved from
several starts (:func:`recsys_eq_env.mixed._solve_support`, on the exact expectations of
:class:`recsys_eq_env.mixed._Opponents`) and kept where the shares are positive and no feature
off the support earns more. Two continua are reported as such
(:attr:`recsys_eq_env.mixed.MixedEquilibrium.continuum`): features the game cannot tell apart
(:func:`tied_features`), and edges along which two features earn the same everywhere (a
degenerate game), whose segments of equilibria are reported by their ends.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import optimize

from . import _checks
from ._progress import progress_bar
from .game import EngagementGame
from .mixed import (
    EXACT_OPPONENTS,
    SAME,
    MixedEquilibrium,
    _certified,
    _Opponents,
    _regret,
    _solve_support,
)

#: |f_a - f_b| below this times the utilities' size all along an edge: the two features tie
#: on the whole edge (a degenerate game), which holds a segment of equilibria, not points.
EDGE_TIE = 1e-12


def symmetric_equilibria(
    game: EngagementGame,
    tol: float = 1e-10,
    certify: bool = True,
    seed=0,
    progress: bool = False,
) -> list[MixedEquilibrium]:
    """Every symmetric equilibrium over basis vectors (module docstring), the symmetric pure
    ones (every producer on one feature) included, in order of support then shares.

    Support enumeration over the ``2^d - 1`` supports, each solved from the centroid of the
    support, the users' distribution on it and two random points; exact expectations only
    (at most 300,000 opponents' count vectors, else a ValueError). ``certify`` checks each
    over the simplex (:func:`mixed_certificate`).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    return _symmetric_equilibria(game, _Opponents(game, 0, seed), tol, certify, seed, progress)


def _symmetric_equilibria(game, opponents, tol=1e-10, certify=True, seed=0, progress=False):
    """:func:`symmetric_equilibria` on expectations already built (``opponents``)."""
    tol = _checks.check_tol(tol)
    dim = game.dim
    if not opponents.exact:
        raise ValueError(
            f"symmetric_equilibria needs exact expectations: the game has "
            f"{opponents.lattice.size:,} opponents' count vectors (n_producers="
            f"{game.n_producers}, dim={dim}), more than {EXACT_OPPONENTS:,}"
        )
    rng = np.random.default_rng(seed)
    users_dist = game.users.sum(axis=0) / game.users.sum()
    top = max(float(np.abs(opponents.expected(np.full(dim, 1.0 / dim))[0]).max()), 1e-300)
    supports = [s for r in range(1, dim + 1) for s in itertools.combinations(range(dim), r)]
    bar = progress_bar(len(supports), progress, desc="symmetric equilibria", unit="support")
    found: list[tuple[np.ndarray, tuple]] = []  # (shares, the tied edge it lies on, or ())
    for support in supports:
        bar.update()
        points, edge = _support_solutions(opponents, list(support), users_dist, rng, tol)
        for y in points:
            if _regret(opponents, y) <= 1e-9 * top and not any(
                np.abs(y - z).max() < SAME for z, _ in found
            ):
                found.append((y, edge))
    bar.close()
    results = []
    for y, continuum in _merge_ties(found, tied_features(game)):
        f, bound = opponents.expected(y)
        nash_conv = max(float(game.n_producers * (f.max() - y @ f)), 0.0)
        result = MixedEquilibrium(y, f, nash_conv, "exact", bound, 0, continuum=continuum)
        results.append(_certified(game, opponents, result, certify, seed))
    return results


def tied_features(game: EngagementGame) -> tuple[tuple[int, ...], ...]:
    """The classes (of two or more features) that no user and no cost tells apart: identical
    columns of the users (after normalisation) and equal costs. A producer's utility depends
    only on how many producers sit in each class, so the split of a share within a class is
    free."""
    users, dim = game.users, game.dim
    costs = np.zeros(dim) if game.costs is None else game.costs
    keys: dict[bytes, list[int]] = {}
    for j in range(dim):
        keys.setdefault(users[:, j].tobytes() + costs[j].tobytes(), []).append(j)
    return tuple(tuple(c) for c in keys.values() if len(c) > 1)


def _merge_ties(found, ties) -> list[tuple[np.ndarray, tuple]]:
    """[(shares, continuum)]: the equilibria ``found`` ((shares, tied edge) pairs), those that
    differ only by the split within tied classes merged into one (its shares split evenly
    within each class, its continuum the classes it spreads over, else its tied edge)."""
    if not ties:
        return found
    out: list[tuple[np.ndarray, tuple]] = []
    for y, edge in found:
        even = y.copy()
        spread = []
        for tie in ties:
            total = float(y[list(tie)].sum())
            even[list(tie)] = total / len(tie)
            if total > 0:
                spread.append(tie)
        if not any(np.abs(even - z).max() < SAME for z, _ in out):
            out.append((even, tuple(spread) or edge))
    return out


def _support_solutions(opponents, support, users_dist, rng, tol):
    """(share vectors with positive shares exactly on ``support`` and equal expected utility
    there, ``((a, b),)`` if the support is an edge on which ``f_a = f_b`` identically else
    ``()``). Two features: every sign change of ``f_a - f_b`` along the edge (a scan of 512
    points, then Brent's method), or the ends of a tied edge's segments. More: the root
    finder from the support's centroid, the users' distribution on it and ``4 |support|``
    random points."""
    dim = users_dist.size
    if len(support) == 1:
        y = np.zeros(dim)
        y[support[0]] = 1.0
        return [y], ()
    if len(support) == 2:
        return _edge_solutions(opponents, support, dim)
    on = np.zeros(dim)
    on[support] = 1.0
    starts = [on / on.sum(), users_dist * on / (users_dist * on).sum()]
    for _ in range(4 * len(support)):
        x = np.zeros(dim)
        x[support] = rng.dirichlet(np.ones(len(support)))
        starts.append(x)
    out = []
    for x in starts:
        y, solved = _solve_support(opponents, x, support, tol)
        if solved and (y[support] > 1e-12).all():
            y = np.where(on > 0, y, 0.0)
            out.append(y / y.sum())
    return out, ()


def _edge_solutions(opponents, support, dim):
    """Equilibria with support ``{a, b}``: the sign changes of ``f_a - f_b`` along the edge or,
    where ``f_a = f_b`` all along it (a polynomial that vanishes on the grid vanishes
    everywhere: a degenerate game), the ends of every stretch where no other feature earns
    more (a segment of equilibria; :func:`_edge_segment`). Returned with ``((a, b),)`` in the
    second case, else ``()`` (as :func:`_support_solutions`)."""
    a, b = support

    def point(t):
        y = np.zeros(dim)
        y[a], y[b] = t, 1.0 - t
        return y

    def difference(t):
        f = opponents.expected(point(t))[0]
        return float(f[a] - f[b])

    grid = np.linspace(0.0, 1.0, 513)[1:-1]
    expected = np.array([opponents.expected(point(t))[0] for t in grid])
    values = expected[:, a] - expected[:, b]
    top = max(float(np.abs(expected).max()), 1e-300)
    if np.abs(values).max() <= EDGE_TIE * top:
        return _edge_segment(opponents, support, dim, grid, expected, point), ((a, b),)
    scale = max(float(np.abs(values).max()), 1e-300)
    out = [point(t) for t, v in zip(grid, values, strict=True) if abs(v) <= 1e-13 * scale]
    for i in np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0):
        t = optimize.brentq(difference, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)
        out.append(point(t))
    return out, ()


def _edge_segment(opponents, support, dim, grid, expected, point):
    """The ends of the stretches of an edge where ``f_a = f_b`` and no other feature earns
    more: ``g(t) = max_c f_c - f_a <= 0``, its ends found by Brent's method on the binding
    feature (or the edge's own ends)."""
    a, _ = support
    others = [c for c in range(dim) if c not in support]
    top = max(float(np.abs(expected).max()), 1e-300)
    if not others:
        return [point(grid[0]), point(grid[-1])]
    gaps = expected[:, others].max(axis=1) - expected[:, a]
    feasible = gaps <= 1e-12 * top
    out = []
    for i in range(len(grid)):
        if not feasible[i]:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(grid) and not feasible[j]:  # an end between grid points i and j
                c = others[int(np.argmax(expected[j, others]))]

                def gap(t, c=c):
                    f = opponents.expected(point(t))[0]
                    return float(f[c] - f[a])

                lo, hi = sorted((grid[i], grid[j]))
                if gap(lo) * gap(hi) < 0:
                    out.append(point(optimize.brentq(gap, lo, hi, xtol=1e-15, rtol=1e-15)))
                else:
                    out.append(point(grid[i]))
        if i in (0, len(grid) - 1):  # feasible up to the edge's end: the vertex ends it
            out.append(point(0.0 if grid[i] < 0.5 else 1.0))
    return out


__all__ = ["symmetric_equilibria", "tied_features"]
