"""User welfare at the optimum and at every equilibrium the analysis knows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..certificate import certify_counts
from ..game import EngagementGame
from ..lattice import Lattice
from ..mixed import (
    MixedEquilibrium,
    _log_multinomial,
)
from ._common import CHUNK
from .pure import PureEquilibria, count_welfare


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
