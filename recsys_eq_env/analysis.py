"""Equilibrium analysis over count vectors: every pure equilibrium, the best-response graph,
basins, symmetric mixed equilibria (:mod:`recsys_eq_env.mixed`) and welfare.

Basis-vector profiles are symmetric (MODEL.md section 2): what a producer on feature ``a``
earns depends only on the count vector ``c``. Write ``U(c)[a]`` for it. A producer on ``a``
that moves to ``b`` lands in ``c - e_a + e_b`` and earns ``U(c - e_a + e_b)[b]``, so one batched
pass over all C(n + d - 1, d - 1) count vectors (:mod:`recsys_eq_env.lattice` numbers them
without a table) gives every deviation of every profile: instead of ``d^n`` profiles, and
instead of ``d`` deviation rows per count vector. With ``V(o)[b] = U(o + e_b)[b]``, the
utility of joining feature ``b`` against others ``o`` (a count vector of ``n - 1``),

* ``c`` is a pure Nash equilibrium iff every occupied ``a`` has
  ``max_b V(c - e_a)[b] <= U(c)[a] + tol * max(|U(c)[a]|, 1e-12)`` (the paper's rule,
  MODEL.md section 3);
* a symmetric mixed equilibrium over basis vectors is a share vector ``x`` with
  ``f(x) = E_{o ~ Multinomial(n - 1, x)} V(o)`` equal on the support of ``x`` and no larger off
  it; ``f`` is a polynomial in ``x``, exact over the lattice of ``n - 1``;
* the best-response graph has an edge ``c -> c - e_a + e_b`` for every strict improvement;
  better-response paths cannot cycle iff the graph is acyclic (on count vectors as on
  profiles: a profile cycle projects to a count cycle, and a count cycle repeated lifts back),
  which proves convergence of the paper's dynamics per instance (a finite improvement
  property) or exhibits a cycle.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from . import _checks
from ._budget import MAX_BYTES, check_bytes
from ._progress import progress_bar
from ._threads import blas_limit
from .certificate import certify_counts
from .correlated import CorrelatedEquilibria, correlated_equilibria
from .counts import strictly_improves
from .evolution import (
    AlphaRank,
    SymmetricPayoffs,
    alpha_rank,
    classify_symmetric_equilibria,
    fictitious_play,
    logit_dynamics,
    replicator,
    stability,
)
from .game import EngagementGame
from .lattice import Lattice
from .lattice import size as lattice_size
from .mixed import (
    EXACT_OPPONENTS,
    MixedEquilibrium,
    _log_multinomial,
    mixed_certificate,
    symmetric_equilibria,
    symmetric_mixed_equilibrium,
    tied_features,
)
from .oracles import MAX_NORMAL_FORM, normal_form, openspiel_policy, to_gambit, to_openspiel
from .qre import QREPath, qre_path

#: Refuse (count vectors x users x features) above this many operations unless asked.
MAX_WORK = 5e12
#: Count vectors per batch of the lattice pass.
CHUNK = 4096


# ---------------------------------------------------------------------- the lattice pass
def _engagement_twin(game: EngagementGame) -> EngagementGame:
    """The same game with engagement utility (user welfare is engagement)."""
    if game.utility == "engagement":
        return game
    return EngagementGame(
        game.users, game.n_producers, game.rule, game.temperature, "engagement", game.k
    )


def _utilities(game: EngagementGame, counts: np.ndarray) -> np.ndarray:
    """(m, d) utility of a producer on each feature of m count vectors (0 where absent)."""
    return game.batch_count_utilities(counts, np.float64)


def _check_work(game, lattice_size, max_work, what):
    work = float(lattice_size) * game.n_users * game.dim
    if not work <= max_work:
        raise ValueError(
            f"{what} needs {lattice_size:,} count vectors x {game.n_users:,} users x "
            f"{game.dim} features, about {work:.1e} operations, more than max_work="
            f"{max_work:.1e}; use fewer users, producers or features, or raise max_work"
        )


def _passes(lattice: Lattice, threads: int, function, progress, desc):
    """Run ``function(lo, counts)`` over the lattice in chunks, on ``threads`` threads."""
    chunks = [(lo, min(lo + CHUNK, lattice.size)) for lo in range(0, lattice.size, CHUNK)]
    bar = progress_bar(len(chunks), progress, desc=desc, unit="chunk")

    def work(bounds):
        lo, hi = bounds
        result = function(lo, lattice.unrank(np.arange(lo, hi)))
        bar.update()
        return result

    with blas_limit(1):
        if threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(work, chunks))
        else:
            results = [work(c) for c in chunks]
    bar.close()
    return results


# ---------------------------------------------------------------------- pure equilibria
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


# ---------------------------------------------------------------------- best-response graph
@dataclass(frozen=True)
class ResponseGraph:
    """The better- and best-response graphs over count vectors, and what they say."""

    #: (size, dim) every count vector, in lattice order (node i is ``counts[i]``).
    counts: np.ndarray
    #: Better-response graph: an edge for every strict improvement (scipy CSR, size x size).
    better: sparse.csr_matrix
    #: The paper's dynamics as a Markov chain: a uniformly random improving producer moves to
    #: its best feature (lowest index on ties); rows of equilibria are empty.
    dynamics: sparse.csr_matrix
    #: Node indices of the pure equilibria.
    equilibria: np.ndarray
    #: Whether better-response paths can cycle (False: every path ends at an equilibrium).
    has_cycle: bool
    #: One better-response cycle as a list of count vectors (empty when acyclic).
    cycle: list = field(default_factory=list)
    seconds: float = 0.0

    def basins(self, start=None, max_steps: int = 100_000) -> tuple[np.ndarray, float]:
        """(share of starts ending at each equilibrium, share never ending at one).

        ``start`` is a distribution over count vectors; by default the paper's start, every
        producer on a uniformly random feature (a multinomial over count vectors). Exact:
        the distribution is pushed through the dynamics' chain until no mass is left off the
        equilibria (or ``max_steps``; what remains then is in cycles).
        """
        n, dim = int(self.counts[0].sum()), self.counts.shape[1]
        max_steps = _checks.check_int(max_steps, "max_steps", minimum=1)
        if start is None:
            start = np.exp(_log_multinomial(self.counts, np.full(dim, 1.0 / dim), n))
        mass = _checks.as_float_matrix(np.atleast_2d(start), "start")[0].copy()
        size = len(self.counts)
        if np.ndim(start) != 1 or mass.shape != (size,):
            raise ValueError(
                f"start must be a distribution over the {size:,} count vectors (shape "
                f"({size},)), got shape {np.shape(start)}"
            )
        if mass.min() < 0 or not np.isclose(mass.sum(), 1.0, rtol=1e-9, atol=1e-12):
            raise ValueError(
                f"start must be a distribution: non-negative, summing to 1 (got sum "
                f"{mass.sum():.6g}, min {mass.min():.3g})"
            )
        absorbing = np.zeros(len(mass), dtype=bool)
        absorbing[self.equilibria] = True
        ended = np.zeros(len(mass))
        moving = self.dynamics.T.tocsr()
        for _ in range(max_steps):
            ended[absorbing] += mass[absorbing]
            mass[absorbing] = 0.0
            if mass.sum() < 1e-15:
                break
            mass = moving @ mass
        return ended[self.equilibria], float(mass.sum())


def response_graph(
    game: EngagementGame, tol: float = 1e-9, max_size: int = 500_000, progress: bool = False
) -> ResponseGraph:
    """Build the graphs over every count vector and test them for cycles (module docstring).

    Stores every count vector's utilities (``size x dim`` numbers): refused above
    ``max_size`` count vectors.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    tol = _checks.check_tol(tol)
    start = time.perf_counter()
    n, dim = game.n_producers, game.dim
    lattice = Lattice(n, dim)
    if lattice.size > max_size:
        raise ValueError(
            f"the best-response graph has {lattice.size:,} count vectors (n_producers={n}, "
            f"dim={dim}), more than max_size={max_size:,}"
        )
    counts = lattice.unrank(np.arange(lattice.size))
    with blas_limit(1):
        u = np.concatenate(
            [_utilities(game, counts[lo : lo + CHUNK]) for lo in range(0, lattice.size, CHUNK)]
        )
    rows, cols, moves = [], [], []  # moves: (node, from, to, gain)
    for a in range(dim):
        on = np.flatnonzero(counts[:, a] > 0)
        current = u[on, a]
        gains = np.full((on.size, dim), -np.inf)
        targets = np.full((on.size, dim), -1)
        for b in range(dim):
            if b == a:
                continue
            moved = counts[on].copy()
            moved[:, a] -= 1
            moved[:, b] += 1
            target = lattice.rank(moved)
            value = u[target, b]
            better = strictly_improves(value, current, tol)
            rows.append(on[better])
            cols.append(target[better])
            gains[:, b] = np.where(better, value, -np.inf)
            targets[:, b] = target
        improving = np.isfinite(gains).any(axis=1)
        best = gains.argmax(axis=1)  # lowest index among equal best values
        moves.append((on[improving], a, targets[improving, best[improving]]))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    size = lattice.size
    better = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(size, size))
    # The dynamics: a uniformly random improving producer moves; producers on a are c_a of them.
    weight_rows, weight_cols, weights = [], [], []
    improving_producers = np.zeros(size)
    for nodes, a, _ in moves:
        improving_producers[nodes] += counts[nodes, a]
    for nodes, a, targets in moves:
        weight_rows.append(nodes)
        weight_cols.append(targets)
        weights.append(counts[nodes, a] / improving_producers[nodes])
    dynamics = sparse.csr_matrix(
        (np.concatenate(weights), (np.concatenate(weight_rows), np.concatenate(weight_cols))),
        shape=(size, size),
    )
    equilibria = np.flatnonzero(improving_producers == 0)
    _, labels = sparse.csgraph.connected_components(better, directed=True, connection="strong")
    sizes = np.bincount(labels)
    has_cycle = bool((sizes > 1).any())
    cycle = _find_cycle(better, labels, int(np.argmax(sizes)), counts) if has_cycle else []
    return ResponseGraph(
        counts, better, dynamics, equilibria, has_cycle, cycle, time.perf_counter() - start
    )


def _find_cycle(graph, labels, component, counts) -> list:
    """A cycle inside one strongly connected component (walk until a node repeats)."""
    nodes = np.flatnonzero(labels == component)
    inside = np.zeros(graph.shape[0], dtype=bool)
    inside[nodes] = True
    seen: dict[int, int] = {}
    path = []
    node = int(nodes[0])
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        successors = graph.indices[graph.indptr[node] : graph.indptr[node + 1]]
        node = int(successors[inside[successors]][0])
    return [counts[i].tolist() for i in [*path[seen[node] :], node]]


# ---------------------------------------------------------------------- mixed equilibria
# ---------------------------------------------------------------------- welfare
def mixed_welfare(game: EngagementGame, shares) -> tuple[float, float]:
    """Expected (producer welfare, user welfare) when every producer draws from ``shares``:
    exact over every count vector of n producers."""
    shares = np.asarray(shares, dtype=np.float64)
    if shares.shape != (game.dim,) or not np.isfinite(shares).all() or shares.min() < 0:
        raise ValueError(f"shares must be {game.dim} non-negative numbers, got {shares!r}")
    lattice = Lattice(game.n_producers, game.dim)
    producer = user = 0.0
    for _, counts in lattice.chunks(CHUNK):
        weights = np.exp(_log_multinomial(counts, shares, game.n_producers))
        keep = weights > 1e-16
        if keep.any():
            p, u = count_welfare(game, counts[keep])
            producer += float(weights[keep] @ p)
            user += float(weights[keep] @ u)
    return producer, user


@dataclass(frozen=True)
class Welfare:
    """User welfare (the sum of users' engagement) at the optimum and at equilibria.

    The prices are those of the definition, over every equilibrium of the game the analysis
    knows: the pure equilibria over basis vectors and the symmetric mixed ones, each counted
    only when it passes its certificate over the simplex (an equilibrium over basis vectors
    that a continuous deviation beats is no equilibrium of the game).
    ``price_of_anarchy = optimum / worst equilibrium``, ``price_of_stability = optimum / best
    equilibrium``; ``pure_price_of_anarchy`` and ``pure_price_of_stability`` take the pure
    equilibria alone. The optimum is over basis-vector profiles (``upper_bound`` bounds every
    profile); NaN where no equilibrium is known.
    """

    #: Best user welfare over basis-vector profiles (exact, or the local search's).
    optimum: float
    #: ``"exact"`` (every count vector) or ``"local search"`` (a lower bound).
    optimum_method: str
    #: An upper bound over every profile, continuous content included: sum_k max_j c_kj.
    upper_bound: float
    #: (dim,) count vector of the optimum.
    optimum_counts: np.ndarray
    #: Over every certified equilibrium, pure and mixed.
    best_equilibrium: float
    worst_equilibrium: float
    price_of_anarchy: float
    price_of_stability: float
    #: Over the certified pure equilibria only.
    best_pure_equilibrium: float
    worst_pure_equilibrium: float
    pure_price_of_anarchy: float
    pure_price_of_stability: float
    #: Over the certified symmetric mixed equilibria only.
    best_mixed_equilibrium: float
    worst_mixed_equilibrium: float
    #: Pure equilibria over basis vectors, and how many of them pass the certificate.
    equilibria: int
    certified_equilibria: int
    #: Symmetric mixed equilibria given, and how many of them pass the certificate.
    mixed_equilibria: int = 0
    certified_mixed_equilibria: int = 0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def welfare(
    game: EngagementGame,
    equilibria: PureEquilibria | None = None,
    mixed=None,
    max_size: int = 2_000_000,
    seed=0,
    certify: bool = True,
) -> Welfare:
    """User welfare at the social optimum and at every equilibrium known, with the prices of
    anarchy and stability by their definition (:class:`Welfare`).

    ``equilibria`` are the pure equilibria over basis vectors (:func:`pure_equilibria`);
    ``mixed`` a :class:`MixedEquilibrium` or a sequence of them (:func:`symmetric_equilibria`).
    With ``certify`` every pure equilibrium is certified over the simplex
    (:func:`recsys_eq_env.certify_counts`) and only those that pass count; a mixed one
    counts when its own certificate (``continuous``) passed. The optimum is exact over
    basis-vector profiles while the count vectors number at most ``max_size``; beyond, a
    local search over count vectors (moving one producer at a time while welfare rises, from
    a proportional start and random ones) gives a lower bound, and ``sum_k max_j c_kj``
    (every user served its favourite feature) an upper bound over every profile.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    if mixed is None:
        mixed = []
    elif isinstance(mixed, MixedEquilibrium):
        mixed = [mixed]
    mixed = list(mixed)
    for m in mixed:
        if not isinstance(m, MixedEquilibrium) or np.asarray(m.shares).shape != (game.dim,):
            raise ValueError(
                f"mixed must be symmetric equilibria of this game ({game.dim} shares each)"
            )
    if equilibria is not None and (
        not isinstance(equilibria, PureEquilibria)
        or equilibria.counts.shape[1:] != (game.dim,)
        or (len(equilibria.counts) and (equilibria.counts.sum(axis=1) != game.n_producers).any())
    ):
        raise ValueError(
            f"equilibria must be the PureEquilibria of this game ({game.n_producers} producers "
            f"over {game.dim} features)"
        )
    lattice = Lattice(game.n_producers, game.dim)
    upper = float(game.users.max(axis=1).sum())
    if lattice.size <= max_size:
        best_value, best_counts = -np.inf, None
        for lo in range(0, lattice.size, CHUNK):
            counts = lattice.unrank(np.arange(lo, min(lo + CHUNK, lattice.size)))
            _, user = count_welfare(game, counts)
            i = int(user.argmax())
            if user[i] > best_value:
                best_value, best_counts = float(user[i]), counts[i]
        method = "exact"
    else:
        best_value, best_counts = _local_search(game, seed)
        method = "local search"
    pure = np.zeros(0)
    if equilibria is not None and len(equilibria.counts):
        keep = np.ones(len(equilibria.counts), dtype=bool)
        if certify and equilibria.check != "exact":
            keep = np.array(
                [
                    certify_counts(game, c, seed=seed, stop_at_failure=True).passed
                    for c in equilibria.counts
                ]
            )
        pure = equilibria.user_welfare[keep]
        best_eq = float(equilibria.user_welfare.max())
        if best_eq > best_value:  # equilibria are count vectors too (rounding of the sums)
            best_value = best_eq
            best_counts = equilibria.counts[int(equilibria.user_welfare.argmax())]
    mixed_values = np.array([mixed_welfare(game, m.shares)[1] for m in mixed if m.certified])
    every = np.concatenate([pure, mixed_values])
    nan = float("nan")

    def extremes(values):
        return (float(values.max()), float(values.min())) if values.size else (nan, nan)

    best_all, worst_all = extremes(every)
    best_pure, worst_pure = extremes(pure)
    best_mixed, worst_mixed = extremes(mixed_values)
    return Welfare(
        optimum=best_value,
        optimum_method=method,
        upper_bound=upper,
        optimum_counts=np.asarray(best_counts),
        best_equilibrium=best_all,
        worst_equilibrium=worst_all,
        price_of_anarchy=_ratio(best_value, worst_all),
        price_of_stability=_ratio(best_value, best_all),
        best_pure_equilibrium=best_pure,
        worst_pure_equilibrium=worst_pure,
        pure_price_of_anarchy=_ratio(best_value, worst_pure),
        pure_price_of_stability=_ratio(best_value, best_pure),
        best_mixed_equilibrium=best_mixed,
        worst_mixed_equilibrium=worst_mixed,
        equilibria=0 if equilibria is None else len(equilibria.counts),
        certified_equilibria=int(pure.size),
        mixed_equilibria=len(mixed),
        certified_mixed_equilibria=int(mixed_values.size),
    )


def _local_search(game: EngagementGame, seed, starts: int = 8):
    """Best user welfare found by moving one producer at a time while welfare rises."""
    rng = np.random.default_rng(seed)
    n, dim = game.n_producers, game.dim
    share = game.users.sum(axis=0) / game.users.sum()
    proportional = np.floor(share * n).astype(np.int64)
    proportional[np.argsort(-(share * n - proportional))[: n - proportional.sum()]] += 1
    candidates = [proportional] + [rng.multinomial(n, np.ones(dim) / dim) for _ in range(starts)]
    best_value, best_counts = -np.inf, None
    for counts in candidates:
        value = count_welfare(game, counts[None])[1][0]
        while True:
            moves = []
            for a in np.flatnonzero(counts):
                for b in range(dim):
                    if b != a:
                        moved = counts.copy()
                        moved[a] -= 1
                        moved[b] += 1
                        moves.append(moved)
            moves = np.array(moves)
            values = count_welfare(game, moves)[1]
            i = int(values.argmax())
            if values[i] <= value * (1 + 1e-12):
                break
            counts, value = moves[i], float(values[i])
        if value > best_value:
            best_value, best_counts = float(value), counts
    return best_value, best_counts


__all__ = [
    "EXACT_OPPONENTS",
    "MAX_NORMAL_FORM",
    "MAX_WORK",
    "AlphaRank",
    "CorrelatedEquilibria",
    "MixedEquilibrium",
    "PureEquilibria",
    "QREPath",
    "ResponseGraph",
    "SymmetricPayoffs",
    "Welfare",
    "alpha_rank",
    "classify_symmetric_equilibria",
    "correlated_equilibria",
    "count_welfare",
    "fictitious_play",
    "logit_dynamics",
    "mixed_certificate",
    "mixed_welfare",
    "normal_form",
    "openspiel_policy",
    "pure_equilibria",
    "qre_path",
    "replicator",
    "response_graph",
    "stability",
    "symmetric_equilibria",
    "symmetric_mixed_equilibrium",
    "tied_features",
    "to_gambit",
    "to_openspiel",
    "welfare",
]
