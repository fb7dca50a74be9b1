"""Every pure Nash equilibrium over count vectors, with its welfare (the package docstring)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np

from .. import _checks
from .._budget import MAX_BYTES, check_bytes
from ..certificate import certify_counts
from ..counts import strictly_improves
from ..game import EngagementGame
from ..lattice import Lattice
from ..lattice import size as lattice_size
from ._common import CHUNK, MAX_WORK, _check_work, _engagement_twin, _passes, _utilities


@dataclass(frozen=True)
class PureEquilibria:
    """Every pure Nash equilibrium over basis-vector profiles, as count vectors.

    They are equilibria of the game restricted to basis vectors; :attr:`check` says what that
    proves of the game over the simplex (``"exact"`` where basis vectors are best responses,
    else ``"basis only"``: certify each with :func:`recsys_eq_env.certify_counts`).
    """

    #: (m, dim) count vectors, in lattice order.
    counts: np.ndarray
    #: (m,) sum of producers' utilities (the game's utility).
    producer_welfare: np.ndarray
    #: (m,) sum of users' engagement.
    user_welfare: np.ndarray
    #: Count vectors examined.
    examined: int
    seconds: float
    #: What the basis check proves over the simplex: ``"exact"`` or ``"basis only"``.
    check: str = "basis only"
    #: With ``certify``: each count vector's certificate over the simplex (``"exact"``,
    #: ``"certified by search"`` or ``"fails: gain g"``); None when not asked.
    certificates: tuple | None = None

    @property
    def certified(self) -> np.ndarray:
        """(m,) bool: which are equilibria of the game over the simplex (exact checks count
        all; otherwise only where certified)."""
        if self.check == "exact":
            return np.ones(len(self.counts), dtype=bool)
        if self.certificates is None:
            raise ValueError(
                f"these equilibria are {self.check!r}: pass certify=True to pure_equilibria "
                "to know which are equilibria over the simplex"
            )
        return np.array([not c.startswith("fails") for c in self.certificates], dtype=bool)


def pure_equilibria(
    game: EngagementGame,
    tol: float = 1e-9,
    threads: int = 2,
    progress: bool = False,
    max_work: float = MAX_WORK,
    max_bytes: float = MAX_BYTES,
    certify: bool = False,
) -> PureEquilibria:
    """Every pure Nash equilibrium over basis vectors, with its welfare (module docstring).

    Two batched passes over the count vectors of ``n`` (the first takes, for every count
    vector of ``n - 1`` others, the best utility of joining any feature; the second tests
    every count vector against it), on ``threads`` threads. Softmax and linear serving use
    the batched kernel; other rules go count vector by count vector. Games whose passes
    exceed ``max_work`` operations or ``max_bytes`` of memory are refused before any work.

    They are equilibria of the game restricted to basis vectors (the result's ``check``);
    ``certify`` also certifies each over the simplex (:attr:`PureEquilibria.certificates`).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    tol = _checks.check_tol(tol)
    threads = _checks.check_int(threads, "threads", minimum=1)
    start = time.perf_counter()
    n, dim = game.n_producers, game.dim
    _check_work(game, 2 * lattice_size(n, dim), max_work, "pure_equilibria")
    # Per thread, the best utility of joining against every count vector of n - 1 others.
    check_bytes(
        8.0 * lattice_size(n - 1, dim) * min(threads, 2) + 3 * 8.0 * CHUNK * dim * game.n_users,
        f"pure_equilibria ({lattice_size(n - 1, dim):,} count vectors of the others)",
        max_bytes,
        "use fewer producers or features, or raise max_bytes",
    )
    full = Lattice(n, dim)
    result = _pure_equilibria(game, tol, threads, progress, full, start)
    if certify:
        labels = tuple(certify_counts(game, c, stop_at_failure=True).label for c in result.counts)
        result = replace(result, certificates=labels)
    return result


def _pure_equilibria(game, tol, threads, progress, full, start) -> PureEquilibria:
    n, dim = game.n_producers, game.dim
    if n == 1:
        counts = np.eye(dim, dtype=np.int64)
        u = _utilities(game, counts)
        best = u.max()
        keep = ~strictly_improves(best, u.max(axis=1), tol)
        return _with_welfare(game, counts[keep], full.size, start)
    others = Lattice(n - 1, dim)
    # Pass 1: best[r] = max_b V(o_r)[b], the best utility of joining against others o_r.
    # Each thread scatters into its own array (ufunc.at is not atomic); they merge after.
    local = threading.local()
    best_parts: list[np.ndarray] = []

    def first(lo, counts):
        mine = getattr(local, "best", None)
        if mine is None:
            mine = local.best = np.full(others.size, -np.inf)
            best_parts.append(mine)  # list.append is atomic
        u = _utilities(game, counts)
        for b in range(dim):
            on = counts[:, b] > 0
            if on.any():
                o = counts[on].copy()
                o[:, b] -= 1
                np.maximum.at(mine, others.rank(o), u[on, b])
        return None

    _passes(full, threads, first, progress, "equilibria: deviations")
    best = best_parts[0]
    for part in best_parts[1:]:
        np.maximum(best, part, out=best)

    # Pass 2: c is an equilibrium iff no occupied feature's producer gains by joining another.
    def second(lo, counts):
        u = _utilities(game, counts)
        ok = np.ones(counts.shape[0], dtype=bool)
        for a in range(dim):
            on = counts[:, a] > 0
            if on.any():
                o = counts[on].copy()
                o[:, a] -= 1
                stable = ~strictly_improves(best[others.rank(o)], u[on, a], tol)
                ok[np.flatnonzero(on)] &= stable
        return counts[ok]

    found = _passes(full, threads, second, progress, "equilibria: tests")
    counts = np.concatenate(found).reshape(-1, dim) if found else np.zeros((0, dim), np.int64)
    return _with_welfare(game, counts, full.size, start)


def _with_welfare(game, counts, examined, start) -> PureEquilibria:
    producer, user = count_welfare(game, counts)
    seconds = time.perf_counter() - start
    return PureEquilibria(counts, producer, user, examined, seconds, game.deviation_check("basis"))


def count_welfare(game: EngagementGame, counts) -> tuple[np.ndarray, np.ndarray]:
    """(producer welfare, user welfare) of (m, dim) count vectors: the sum of producers'
    utilities (the game's) and of users' engagement (for engagement games the two agree)."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, game.dim)
    if len(counts) == 0:
        return np.zeros(0), np.zeros(0)
    producer = (counts * _utilities(game, counts)).sum(axis=1)
    twin = _engagement_twin(game)
    user = producer if twin is game else (counts * _utilities(twin, counts)).sum(axis=1)
    return producer, user
