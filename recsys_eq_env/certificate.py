"""Is a profile a Nash equilibrium of the game as specified, with content on the simplex?

The paper's dynamics stop at equilibria over basis vectors. Those are equilibria of the game
only where no producer gains by moving to *any* point of the simplex (MODEL.md section 2).
:func:`certify_counts` (basis-vector profiles) and :func:`certify_profile` (any profile) search
every producer's best response over the simplex and label the answer:

* ``"exact"``: the structure decides it and no producer gains. A producer's utility is convex
  in its own content (engagement under linear serving, softmax with ``tau >= 1/2`` or
  ``e^{1/tau} <= n - 1``, uniform serving), so a basis vector is a best response and the
  basis check is the full Nash condition; or it is concave (exposure under linear serving)
  and maximised with a Frank-Wolfe duality gap below the tolerance.
* ``"certified by search"``: a search found no gain (softmax below the proven temperatures:
  multi-start SLSQP with the exact gradient; hardmax and top-k softmax, which jump where a
  score crosses another: :func:`recsys_eq_env.nonsmooth.search`, with the tilts off every
  vertex). Evidence, not a proof.
* ``"fails: gain g"``: some producer gains ``g`` (relative to its utility) by the content
  found: not an equilibrium of the game. ``g`` is the largest gain found, a lower bound.

The tolerance is relative, :data:`TOL` = 1e-6 by default, above the rounding of the searches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks, continuous
from .game import EngagementGame, basis_assignment

#: Relative gain above which a certificate fails.
TOL = 1e-6
EXACT = "exact"
SEARCHED = "certified by search"
LABELS = (EXACT, SEARCHED, "fails: gain g")


@dataclass(frozen=True)
class Certificate:
    """What a search over the simplex says of one profile."""

    #: ``"exact"``, ``"certified by search"`` or ``"fails: gain g"`` (module docstring).
    label: str
    #: The largest relative gain found, ``(best - current) / |current|`` (<= tol when it passes).
    gain: float
    #: (dim,) the relative gain of a producer on each feature (NaN where nobody sits, or where
    #: the search stopped at an earlier failure); for mixed profiles, per producer (n,).
    gains: np.ndarray
    #: Rows: the best content found for each entry of :attr:`gains`.
    contents: np.ndarray
    #: The utility of that content (NaN where not searched).
    values: np.ndarray
    #: The relative tolerance of the verdict.
    tol: float = TOL

    @property
    def passed(self) -> bool:
        """Whether the profile is an equilibrium by this certificate (exact or by search)."""
        return not self.label.startswith("fails")

    @property
    def exact(self) -> bool:
        return self.label == EXACT


def label_for(exact: bool, gain: float, tol: float = TOL) -> str:
    """The label of a certificate whose largest relative gain found is ``gain``."""
    if gain > tol:
        return f"fails: gain {gain:.3g}"
    return EXACT if exact else SEARCHED


def _relative(value, current) -> float:
    return float((value - current) / max(abs(current), 1e-12))


def certify_counts(
    game: EngagementGame,
    counts,
    tol: float = TOL,
    seed=0,
    stop_at_failure: bool = False,
) -> Certificate:
    """:class:`Certificate` of the basis-vector profile with these counts.

    Producers on one feature are interchangeable, so one search per occupied feature.
    ``stop_at_failure`` returns at the first producer that gains more than ``tol`` (the
    verdict is the same; fewer features are searched and :attr:`Certificate.gains` is NaN
    for the rest). ``seed`` fixes the searches' random starts.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    counts = _checks.as_counts(counts, game.n_producers, game.dim)
    tol = _checks.check_tol(tol)
    seed = _checks.check_int(seed, "seed", minimum=0)
    dim = game.dim
    table = game.deviation_table(counts)
    gains = np.full(dim, np.nan)
    values = np.full(dim, np.nan)
    contents = np.zeros((dim, dim))
    exact = continuous.vertex_is_optimal(game)  # a linear cost keeps a convex utility convex
    if game.costs is not None and not exact:
        raise ValueError(
            "certify_counts cannot certify a game with production costs over the simplex (the "
            "simplex searches do not charge costs): its equilibria are over basis vectors "
            "(pure_equilibria, deviation_table); pass certify=False where a function offers it"
        )
    for a in np.flatnonzero(counts):
        row = table[a]
        current, best = float(row[a]), int(row.argmax())
        value, content = float(row[best]), np.eye(dim)[best]
        if not exact:
            others = counts.astype(np.float64)
            others[a] -= 1.0
            response = continuous.best_simplex_response(
                game,
                game.users,
                others,
                current=np.eye(dim)[a],
                seed=[seed, int(a)],
                stop_above=current + tol * max(abs(current), 1e-12) if stop_at_failure else None,
            )
            if response.value > value:
                value, content = response.value, response.content
            if response.kind != "exact" or response.bound > value + tol * max(abs(value), 1e-12):
                exact = False
        gains[a], values[a], contents[a] = _relative(value, current), value, content
        if stop_at_failure and gains[a] > tol:
            exact = False
            break
    gain = float(np.nanmax(np.maximum(gains, 0.0))) if np.isfinite(gains).any() else 0.0
    exact = exact and not np.isnan(gains[counts > 0]).any()
    return Certificate(label_for(exact, gain, tol), gain, gains, contents, values, tol)


def certify_profile(game: EngagementGame, profile, tol: float = TOL, seed=0) -> Certificate:
    """:class:`Certificate` of any profile.

    A basis-vector profile is certified by :func:`certify_counts` (gains per feature); any
    other per producer, producers with the same content sharing one search.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    profile = game.check_profile(profile)
    tol = _checks.check_tol(tol)
    assignment = basis_assignment(profile)
    if assignment is not None:
        return certify_counts(game, np.bincount(assignment, minlength=game.dim), tol, seed)
    responses = game.best_responses(profile, "simplex")
    current = game.producer_utilities(profile)
    gains = (responses.value - current) / np.maximum(np.abs(current), 1e-12)
    gain = float(max(gains.max(), 0.0))
    exact = responses.check == "exact" and bool(
        np.all(responses.bound <= responses.value + tol * np.maximum(np.abs(current), 1e-12))
    )
    label = label_for(exact, gain, tol)
    return Certificate(label, gain, gains, responses.content, responses.value, tol)
