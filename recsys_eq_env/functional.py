"""The environment's logic as pure functions over arrays (Gymnasium's functional-env idea).

:class:`recsys_eq_env.EngagementEnv` (one game, PettingZoo's per-agent dicts) and
:class:`recsys_eq_env.VectorEngagementEnv` (``B`` games as arrays) are thin stateful adapters
over these functions, so both step alike by construction:

1. :func:`requested_content`: actions -> the content each producer asks for, and whether it
   asks at all (an all-zero ``simplex`` or all ``-1`` ``signed`` action keeps the content);
2. :func:`apply_requests`: a revision rule decides which requests apply (``"simultaneous"``:
   all; ``"one"``: the first requester in a uniformly random permutation drawn from the game's
   RNG, the paper's protocol);
3. the game evaluates the new profile: utilities, and with :func:`analyse_profile` the regrets,
   the equilibrium flag and the deviation table when asked;
4. :class:`ObservationLayout` turns profile and utilities into observations, and reads them
   back (the best-response agent decides from an observation alone);
5. :func:`episode_end`: terminated at an equilibrium (when asked), truncated after
   ``max_cycles`` steps.

Functions take a leading batch axis where that is cheap (``(..., n, d)``); the revision rule
draws from one Generator per game, so a batch of games draws exactly what single games would.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium
import numpy as np

from .counts import strictly_improves

ACTION_TYPES = ("simplex", "signed", "discrete")
OBSERVATIONS = ("aggregate", "full")
REVISIONS = ("simultaneous", "one")
#: A simplex request within this max-norm distance of the current content means "stay".
STAY_TOL = 1e-6


# ---------------------------------------------------------------------- validation
#: What ``reset(options=...)`` accepts (the vector env adds ``reset_mask``).
RESET_OPTIONS = ("assignment", "profile")


def check_reset_options(options, extra: tuple = (), strict: bool = True) -> dict:
    """``options`` as a dict, refusing unknown keys (a typo would silently reset
    everything) and both starts at once (which one wins would be a guess). ``strict=False``
    ignores unknown keys: PettingZoo's API makes options env-specific, and its own API test
    passes a key of its own, so a PettingZoo env must accept (and ignore) them."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    known = (*RESET_OPTIONS, *extra)
    unknown = sorted(set(options) - set(known), key=str)
    if unknown:
        message = (
            f"options has unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
            f"{', '.join(map(repr, known))}"
        )
        if strict:
            raise ValueError(message)
    if "assignment" in options and "profile" in options:
        raise ValueError("options may hold 'assignment' or 'profile', not both")
    return dict(options)


def check_seed(seed, name: str = "seed"):
    """None or a non-negative integer (bools, floats and strings refused)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None or an integer >= 0, got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {seed}")
    return int(seed)


def real_actions(actions, what: str = "actions") -> np.ndarray:
    """``actions`` as float64, refusing complex numbers (NumPy would drop the imaginary part
    with only a warning) and non-numeric input."""
    if np.iscomplexobj(actions):
        raise TypeError(f"{what} must be real numbers, got complex values")
    try:
        return np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a numeric array, got {type(actions).__name__}") from None


# ---------------------------------------------------------------------- actions
def action_space(action_type: str, dim: int) -> gymnasium.spaces.Space:
    """One producer's action space."""
    if action_type == "simplex":
        return gymnasium.spaces.Box(0.0, 1.0, (dim,), dtype=np.float32)
    if action_type == "signed":
        return gymnasium.spaces.Box(-1.0, 1.0, (dim,), dtype=np.float32)
    return gymnasium.spaces.Discrete(dim)


def requested_content(actions: np.ndarray, action_type: str, dim: int):
    """(content, wants): what each producer asks for, from validated actions.

    ``actions`` is (..., n) integer features (``discrete``) or (..., n, dim) finite reals;
    returns content (..., n, dim) float64 on the simplex (rows where ``wants`` is False are
    undefined) and ``wants`` (..., n) bool.
    """
    if action_type == "discrete":
        content = np.zeros((*actions.shape, dim))
        np.put_along_axis(content, actions[..., None], 1.0, axis=-1)
        return content, np.ones(actions.shape, dtype=bool)
    values = np.asarray(actions, dtype=np.float64)
    if action_type == "signed":
        values = (np.clip(values, -1.0, 1.0) + 1.0) / 2.0
    peak = values.max(axis=-1, keepdims=True)
    wants = peak[..., 0] > 0
    # Overflow-safe normalisation: divide by the largest entry first ([1e308] * d works).
    content = np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)
    content /= np.where(wants, content.sum(axis=-1), 1.0)[..., None]
    return content, wants


def action_for(content, action_type: str, dim: int | None = None):
    """The action that asks for ``content`` (a point of the simplex) under ``action_type``.

    ``discrete``: the feature index (``content`` must be a basis vector); ``simplex``: the
    content itself; ``signed``: ``2 c / max(c) - 1``, which :func:`requested_content` maps back
    to ``c``. ``content=None`` asks to keep the current content (all zeros for ``simplex``,
    all -1 for ``signed``; ``dim`` gives the length).
    """
    if action_type == "discrete":
        if content is None:
            raise ValueError("content is required for discrete actions (name the feature)")
        return int(np.argmax(content))
    if content is None:
        return np.full(dim, 0.0 if action_type == "simplex" else -1.0, dtype=np.float32)
    content = np.asarray(content, dtype=np.float64)
    if action_type == "simplex":
        return content.astype(np.float32)
    return (2.0 * content / content.max() - 1.0).astype(np.float32)


# ---------------------------------------------------------------------- revision
def differing_requests(profile, content, wants):
    """(..., n) which requests differ from the producer's content (max-norm above
    :data:`STAY_TOL`): only these can apply."""
    return wants & (np.abs(content - profile).max(axis=-1) > STAY_TOL)


def revise(differs, revision: str, rng: np.random.Generator):
    """(n,) which of one game's differing requests apply: all (``"simultaneous"``) or the
    first requester in ``rng.permutation(n)`` (``"one"``, drawn every step, also when nobody
    asks to move, exactly as :func:`recsys_eq_env.best_response_dynamics` draws its order)."""
    if revision == "simultaneous":
        return differs.copy()
    moved = np.zeros_like(differs)
    order = rng.permutation(differs.shape[0])
    first = np.flatnonzero(differs[order])
    if first.size:
        moved[order[first[0]]] = True
    return moved


def apply_requests(profile, content, wants, revision: str, rng: np.random.Generator):
    """(new profile, moved) of one game: which requests apply under the revision rule
    (:func:`differing_requests`, then :func:`revise`)."""
    moved = revise(differing_requests(profile, content, wants), revision, rng)
    if not moved.any():
        return profile, moved
    new = profile.copy()
    new[moved] = content[moved]
    return new, moved


def apply_assignment_requests(assignment, requested, revision: str, rng: np.random.Generator):
    """(new assignment, moved) of one game whose producers all sit on basis vectors and ask for
    basis vectors (feature indices): :func:`apply_requests` on the count-vector path."""
    moved = revise(requested != assignment, revision, rng)
    if not moved.any():
        return assignment, moved
    return np.where(moved, requested, assignment), moved


# ---------------------------------------------------------------------- evaluation
class ProfileAnalysis(NamedTuple):
    """What an env reports of one game's profile beyond its rewards."""

    #: (n,) every producer's utility.
    utilities: np.ndarray
    #: (n,) every producer's regret (None where not asked on a mixed profile).
    regrets: np.ndarray | None
    #: Whether some producer strictly improves by a deviation (None with ``regrets``).
    improvable: bool | None
    #: (n, dim) every producer's utility at every basis vector, when asked.
    table: np.ndarray | None


def analyse_profile(
    game, profile, assignment, tol: float, deviations: str, regrets: bool, table: bool
) -> ProfileAnalysis:
    """Utilities with regrets and/or the deviation table of one game's profile.

    ``assignment`` is every producer's feature when all play basis vectors (the count-vector
    path: one analysis of the count vector, which gives the regrets anyway) or None (the
    mixed path: one score matrix for the utilities and every basis deviation; regrets over
    ``deviations``, MODEL.md section 3, only when ``regrets``). Call it when regrets or the
    table are wanted: rewards alone take one cheaper pass over the users.
    """
    if assignment is not None:
        counts = np.bincount(assignment, minlength=game.dim)
        result = game._analysis(counts, tol, deviations)
        return ProfileAnalysis(
            result.utilities[assignment],
            result.regrets[assignment],
            bool(result.improving.any()),
            game._count_table(counts)[assignment] if table else None,
        )
    utilities, full = game._utilities_and_deviations(profile)
    if not regrets:
        return ProfileAnalysis(utilities, None, None, full if table else None)
    if deviations == "simplex":
        best = game._best_responses(profile, "simplex").value
    else:
        best = full.max(axis=1)
    return ProfileAnalysis(
        utilities,
        np.maximum(best - utilities, 0.0),
        bool(strictly_improves(best, utilities, tol).any()),
        full if table else None,
    )


# ---------------------------------------------------------------------- observations
@dataclass(frozen=True)
class ObservationLayout:
    """What a producer observes, as one float32 vector, and how to read it back.

    ========================  =================================  ===============================
    slice                     ``observation="aggregate"``        ``observation="full"``
    ========================  =================================  ===============================
    ``[0, dim)``              own content                        own content
    next                      others' content mass per feature   the profile, row by row (n*dim)
    next (1 value)            own reward (utility x scale)       same
    last n (``observe_id``)   one-hot producer index             same
    ========================  =================================  ===============================
    """

    n_producers: int
    dim: int
    observation: str = "aggregate"
    observe_id: bool = False
    #: Multiplies a utility into a reward (1 / n_users for ``per_user``).
    reward_scale: float = 1.0
    #: Upper bound of a reward.
    reward_high: float = 1.0

    @property
    def middle(self) -> int:
        return self.dim if self.observation == "aggregate" else self.n_producers * self.dim

    @property
    def size(self) -> int:
        return self.dim + self.middle + 1 + (self.n_producers if self.observe_id else 0)

    def space(self) -> gymnasium.spaces.Box:
        n, dim = self.n_producers, self.dim
        middle = (
            [float(max(n - 1, 1))] * dim if self.observation == "aggregate" else [1.0] * (n * dim)
        )
        high = np.array(
            [1.0] * dim + middle + [self.reward_high] + ([1.0] * n if self.observe_id else []),
            dtype=np.float32,
        )
        return gymnasium.spaces.Box(0.0, high, dtype=np.float32)

    def observe(self, profile, utilities, counts=None) -> np.ndarray:
        """(..., n, size) float32 observations of every producer.

        ``profile`` (..., n, dim) and ``utilities`` (..., n); ``counts`` (..., dim), the
        producers per feature of basis-vector profiles, saves a sum (same numbers).
        """
        n, dim = self.n_producers, self.dim
        batch = profile.shape[:-2]
        out = np.empty((*batch, n, self.size), dtype=np.float32)
        out[..., :dim] = profile
        if self.observation == "aggregate":
            total = profile.sum(axis=-2) if counts is None else counts
            # Clip the float rounding of (total - own) so observations stay in their space.
            out[..., dim : 2 * dim] = np.clip(total[..., None, :] - profile, 0.0, None)
        else:
            out[..., dim : dim + n * dim] = profile.reshape(*batch, 1, n * dim)
        out[..., dim + self.middle] = utilities * self.reward_scale
        if self.observe_id:
            out[..., dim + self.middle + 1 :] = np.eye(n, dtype=np.float32)
        return out

    def parse(self, observation):
        """(own content, others, reward): the parts of one producer's observation.

        ``others`` is the others' content mass per feature (``aggregate``) or the whole
        profile (``full``, shape (n, dim)). Observations with or without the trailing one-hot
        id are accepted; another length raises a ValueError.
        """
        obs = np.asarray(observation, dtype=np.float64)
        base = self.dim + self.middle + 1
        if obs.ndim != 1 or obs.shape[0] not in (base, base + self.n_producers):
            raise ValueError(
                f"observation must be a vector of length {base} (or {base + self.n_producers} "
                f"with producer ids) for this game, got shape {obs.shape}"
            )
        dim = self.dim
        own = obs[:dim]
        middle = obs[dim : dim + self.middle]
        if self.observation == "full":
            middle = middle.reshape(self.n_producers, dim)
        return own, middle, float(obs[dim + self.middle])


# ---------------------------------------------------------------------- episode end
def episode_end(steps, max_cycles: int, improvable, terminate_at_equilibrium: bool):
    """(terminated, truncated): an equilibrium reached (when asked), or the step budget used."""
    terminated = np.logical_and(terminate_at_equilibrium, np.logical_not(improvable))
    truncated = np.asarray(steps) >= max_cycles
    return terminated, truncated
