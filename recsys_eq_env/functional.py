"""The environment as one program: frozen parameters, a state of arrays with a leading game
axis, and pure functions of them (the idea of Gymnasium's functional env and JaxMARL's
``step_env``).

:class:`recsys_eq_env.EngagementEnv` (one game, PettingZoo's per-agent dicts) and
:class:`recsys_eq_env.VectorEngagementEnv` (``B`` games as arrays, Gymnasium's autoreset
modes) are thin adapters over these functions; neither re-implements a step, so game ``b`` of
a vector env is the single env reset with ``seed + b`` by construction:

1. :class:`EnvParams` ``.build(**kwargs)``: every argument validated once;
2. :func:`initial`: the starts of the games asked for, from their Generators (and their
   revision stream words, :mod:`recsys_eq_env.streams`), then :func:`evaluate`;
3. :func:`check_actions`: the whole batch validated before anything changes;
4. :func:`transition`: requests -> content, then the revision rule (``"simultaneous"``: every
   differing request applies; ``"one"``: the first requester of the step's permutation,
   drawn for every game in one array operation);
5. :func:`evaluate`: utilities, counting producers once per step, and regrets, the
   equilibrium flag and the deviation table when asked; basis-vector profiles go through the
   game's count-vector functions (and its utility cache), mixed ones through its score path;
6. :func:`observe`, :func:`infos`, :func:`episode_end`: what the adapters return.

The functions change the state in place (they are the state's only writers) and read nothing
else: no Generator inside but the ones passed to :func:`initial`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import continuous
from .actions import (
    ACTION_TYPES,
    STAY_TOL,
    action_for,
    action_space,
    check_reset_options,
    check_seed,
    differing_requests,
    real_actions,
    requested_content,
)
from .counts import strictly_improves
from .dynamics import initial_assignment

# The parameters live in env_params; the env modules read them from here too.
from .env_params import (  # noqa: F401
    DTYPES,
    GAME_DEFAULTS,
    INITS,
    OBSERVATIONS,
    REVISIONS,
    REWARD_SCALES,
    EnvParams,
    check_dtype,
    make_game,
)
from .game import basis_assignment
from .observations import ObservationLayout
from .streams import first_requesters, stream_words

__all__ = [
    "ACTION_TYPES",
    "OBSERVATIONS",
    "REVISIONS",
    "STAY_TOL",
    "EnvParams",
    "EnvState",
    "ObservationLayout",
    "action_for",
    "action_space",
    "check_actions",
    "check_reset_options",
    "check_seed",
    "differing_requests",
    "episode_end",
    "evaluate",
    "infos",
    "initial",
    "observe",
    "real_actions",
    "requested_content",
    "transition",
]


# ---------------------------------------------------------------------- state
@dataclass
class EnvState:
    """The state of ``B`` games: arrays with a leading game axis."""

    #: (B, n, dim) every producer's content.
    profile: np.ndarray
    #: (B, n) every producer's feature while every producer of every game plays a basis
    #: vector (the count-vector path), else None.
    assignment: np.ndarray | None
    #: (B,) steps since each game's start.
    steps: np.ndarray
    #: (B, 2) uint32: each game's revision stream words (:mod:`recsys_eq_env.streams`).
    words: np.ndarray
    #: (B, n) utilities at the current profile.
    utilities: np.ndarray
    #: (B, dim) producers per feature (of each producer's peak feature).
    counts: np.ndarray
    #: (B, n) regrets, (B,) whether somebody strictly improves (with ``info_regrets``).
    regrets: np.ndarray
    improvable: np.ndarray
    #: (B, n, dim) every producer's utility at every basis vector (``info_deviations``).
    table: np.ndarray | None = None

    @classmethod
    def empty(cls, params: EnvParams, num_envs: int) -> EnvState:
        n, dim = params.n_producers, params.dim
        return cls(
            profile=np.zeros((num_envs, n, dim)),
            assignment=None,
            steps=np.zeros(num_envs, dtype=np.int64),
            words=np.zeros((num_envs, 2), dtype=np.uint32),
            utilities=np.zeros((num_envs, n)),
            counts=np.zeros((num_envs, dim), dtype=np.int64),
            regrets=np.zeros((num_envs, n)),
            improvable=np.ones(num_envs, dtype=bool),
            table=np.zeros((num_envs, n, dim)) if params.info_deviations else None,
        )


def count_features(features: np.ndarray, dim: int) -> np.ndarray:
    """(B, dim) producers per feature of (B, n) feature indices: one bincount."""
    b = features.shape[0]
    offsets = features + dim * np.arange(b)[:, None]
    return np.bincount(offsets.ravel(), minlength=b * dim).reshape(b, dim)


def _sync_assignment(state: EnvState) -> None:
    b, n, dim = state.profile.shape
    features = basis_assignment(state.profile.reshape(-1, dim))
    state.assignment = None if features is None else features.reshape(b, n)


# ---------------------------------------------------------------------- starts
def check_start_options(params: EnvParams, options: dict, num_envs: int) -> dict:
    """``options["assignment"]`` (num_envs, n) or ``options["profile"]`` (num_envs, n, dim),
    validated (the single env passes them with a game axis of 1)."""
    n, dim = params.n_producers, params.dim
    out = {}
    if "profile" in options:
        profiles = np.asarray(options["profile"], dtype=np.float64)
        if profiles.shape != (num_envs, n, dim):
            raise ValueError(f"options['profile'] must have shape {(num_envs, n, dim)}")
        out["profile"] = np.array([params.game.check_profile(p) for p in profiles])
    if "assignment" in options:
        chosen = np.asarray(options["assignment"])
        if chosen.shape != (num_envs, n) or not np.issubdtype(chosen.dtype, np.integer):
            shape = (num_envs, n) if num_envs > 1 else (n,)
            raise ValueError(f"options['assignment'] must be integers of shape {shape}")
        if chosen.min() < 0 or chosen.max() >= dim:
            raise ValueError(f"options['assignment'] must hold features in 0..{dim - 1}")
        out["assignment"] = chosen.astype(np.int64)
    return out


def initial(params: EnvParams, state: EnvState, games: np.ndarray, rngs, starts: dict) -> None:
    """Start the ``games`` (bool (B,)): their profiles from ``starts`` (validated by
    :func:`check_start_options`) or drawn from their Generators ``rngs[b]`` (every producer on
    a uniformly random feature, or a uniformly random simplex point), then their revision
    stream words from the same Generator, steps 0, and :func:`evaluate`."""
    n, dim = params.n_producers, params.dim
    for b in np.flatnonzero(games):
        if "profile" in starts:
            state.profile[b] = starts["profile"][b]
        else:
            if "assignment" in starts:
                assignment = starts["assignment"][b]
            elif params.init == "basis":
                assignment = initial_assignment(rngs[b], n, dim)
            else:
                assignment = None
                state.profile[b] = rngs[b].dirichlet(np.ones(dim), size=n)
            if assignment is not None:
                state.profile[b] = 0.0
                state.profile[b, np.arange(n), assignment] = 1.0
        state.words[b] = stream_words(rngs[b])
    _sync_assignment(state)
    state.steps[games] = 0
    evaluate(params, state, games)


# ---------------------------------------------------------------------- actions
def check_actions(params: EnvParams, actions, num_envs: int, where=None) -> np.ndarray:
    """The batch's actions validated: (B, n) integer features (``discrete``) or (B, n, dim)
    finite reals (``simplex`` non-negative); a TypeError or ValueError naming the first bad
    entry (``where(b, i)``, default "producer i of game b") otherwise."""
    n, dim = params.n_producers, params.dim
    b = num_envs
    where = where or (lambda game, producer: f"producer {producer} of game {game}")
    if params.action_type == "discrete":
        arr = np.asarray(actions)
        if arr.shape != (b, n):
            raise ValueError(
                f"actions must have shape (num_envs, n_producers) = {(b, n)}, got {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"actions must be integer feature indices, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= dim):
            game, producer = np.argwhere((arr < 0) | (arr >= dim))[0]
            raise ValueError(
                f"actions must be in 0..{dim - 1}, got {int(arr[game, producer])} for "
                f"{where(game, producer)}"
            )
        return arr.astype(np.int64, copy=False)
    arr = real_actions(actions)
    if arr.shape != (b, n, dim):
        raise ValueError(
            f"actions must have shape (num_envs, n_producers, dim) = {(b, n, dim)}, got {arr.shape}"
        )
    finite = np.isfinite(arr)
    if not finite.all():
        game, producer = np.argwhere(~finite.all(axis=2))[0]
        raise ValueError(f"actions contain NaN or inf ({where(game, producer)})")
    if params.action_type == "simplex" and (arr < 0).any():
        game, producer = np.argwhere((arr < 0).any(axis=2))[0]
        raise ValueError(f"actions have negative entries ({where(game, producer)})")
    return arr


# ---------------------------------------------------------------------- transition
def transition(params: EnvParams, state: EnvState, actions, active, given=None) -> np.ndarray:
    """Apply the active games' requests under the revision rule; (B, n) which applied.

    ``given`` (B, n) marks the producers that acted (the single env's missing agents keep
    their content; default all). Only requests that differ from the current content can
    apply (:func:`differing_requests`); under ``"one"`` the first requester of each game's
    permutation for this step (:func:`recsys_eq_env.streams.first_requesters`). The active
    games' steps advance by one.
    """
    active = np.asarray(active, dtype=bool)
    if given is None:
        given = np.ones(state.utilities.shape, dtype=bool)
    wanted = given & active[:, None]
    if state.assignment is not None and params.action_type == "discrete":
        differs = wanted & (actions != state.assignment)
        moved = _revise(params, state, differs)
        if 4 * np.count_nonzero(moved) > moved.size:  # most moved: rebuild the one-hot rows
            np.copyto(state.assignment, actions, where=moved)
            np.take(_eye(params.dim), state.assignment, axis=0, out=state.profile)
        else:
            rows, producers = np.nonzero(moved)
            state.assignment[rows, producers] = actions[rows, producers]
            state.profile[rows, producers] = 0.0
            state.profile[rows, producers, state.assignment[rows, producers]] = 1.0
    else:
        content, wants = requested_content(actions, params.action_type, params.dim)
        differs = differing_requests(state.profile, content, wants & wanted)
        moved = _revise(params, state, differs)
        state.profile[moved] = content[moved]
        _sync_assignment(state)
    state.steps[active] += 1
    return moved


@functools.cache
def _eye(dim: int) -> np.ndarray:
    """The basis vectors as rows (read only: shared by every env of this dimension)."""
    eye = np.eye(dim)
    eye.flags.writeable = False
    return eye


def _revise(params, state, differs):
    if params.revision == "simultaneous":
        return differs
    return first_requesters(differs, state.words, state.steps)


# ---------------------------------------------------------------------- evaluation
def evaluate(params: EnvParams, state: EnvState, games) -> None:
    """Utilities of the ``games`` (bool (B,)), their producers per feature, and their regrets,
    equilibrium flags and deviation tables where asked (MODEL.md section 3's rule, over
    ``params.deviations``). Producers are counted once."""
    idx = np.flatnonzero(games)
    if idx.size == 0:
        return
    if state.assignment is not None:
        _evaluate_counts(params, state, idx)
    else:
        for b in idx:
            _evaluate_mixed(params, state, b)


def _evaluate_counts(params, state, idx):
    game, dim = params.game, params.dim
    assignment = state.assignment[idx]
    counts = count_features(assignment, dim)
    state.counts[idx] = counts
    if not (params.info_regrets or params.info_deviations):  # rewards alone: U(c) only
        per_feature = game.batch_count_utilities(counts, params.dtype)
        state.utilities[idx] = np.take_along_axis(per_feature, assignment, axis=1)
        return
    if params.deviations == "simplex" and not continuous.vertex_is_optimal(game):
        for row, b in enumerate(idx):  # continuous best responses: game by game
            result = game.analyse_counts(counts[row], params.tol, "simplex")
            state.utilities[b] = result.utilities[assignment[row]]
            state.regrets[b] = result.regrets[assignment[row]]
            state.improvable[b] = bool(result.improving.any())
            if state.table is not None:
                state.table[b] = game.deviation_table(counts[row])[assignment[row]]
        return
    tables = game.batch_deviation_tables(counts)  # (m, dim, dim), rows of occupied features
    diagonal = np.einsum("kaa->ka", tables)  # U(c)[a]: what a producer on a earns now
    best = tables.max(axis=2)
    occupied = counts > 0
    improving = occupied & strictly_improves(best, diagonal, params.tol)
    state.utilities[idx] = np.take_along_axis(diagonal, assignment, axis=1)
    state.regrets[idx] = np.take_along_axis(np.maximum(best - diagonal, 0.0), assignment, axis=1)
    state.improvable[idx] = improving.any(axis=1)
    if state.table is not None:
        state.table[idx] = np.take_along_axis(tables, assignment[:, :, None], axis=1)


def _evaluate_mixed(params, state, b):
    game = params.game
    profile = state.profile[b]
    state.counts[b] = np.bincount(profile.argmax(axis=1), minlength=params.dim)
    if not (params.info_regrets or params.info_deviations):
        state.utilities[b] = game.mixed_utilities(profile, params.dtype)
        return
    utilities, full = game.utilities_and_deviations(profile)
    state.utilities[b] = utilities
    if state.table is not None:
        state.table[b] = full
    if params.info_regrets:
        if params.deviations == "simplex":
            best = game.best_responses(profile, "simplex").value
        else:
            best = full.max(axis=1)
        state.regrets[b] = np.maximum(best - utilities, 0.0)
        state.improvable[b] = bool(strictly_improves(best, utilities, params.tol).any())


# ---------------------------------------------------------------------- outputs
def observe(params: EnvParams, state: EnvState) -> np.ndarray:
    """(B, n, size) float32 observations (:class:`ObservationLayout`)."""
    counts = state.counts if state.assignment is not None else None
    return params.layout.observe(state.profile, state.utilities, counts)


def rewards(params: EnvParams, state: EnvState) -> np.ndarray:
    """(B, n) rewards: utilities times the reward scale."""
    return state.utilities * params.layout.reward_scale


def infos(params: EnvParams, state: EnvState, moved) -> dict:
    """The batch's infos as arrays: ``utility`` (B, n), ``counts`` (B, dim), ``moved``
    (B, n); ``regret`` (B, n) and ``nash_conv`` (B,) with regrets; ``deviation_rewards``
    (B, n, dim) with deviations; ``action_mask`` (B, n, dim), all ones: every basis vector is
    always allowed (JaxMARL's ``get_avail_actions``, PettingZoo's and sb3-contrib's masks)."""
    out = {
        "utility": state.utilities.copy(),
        "counts": state.counts.copy(),
        "moved": moved,
    }
    if params.info_regrets:
        out["regret"] = state.regrets.copy()
        out["nash_conv"] = state.regrets.sum(axis=1)
    if params.info_deviations:
        out["deviation_rewards"] = state.table * params.layout.reward_scale
    return out


def action_masks(params: EnvParams, num_envs: int) -> np.ndarray:
    """(B, n, dim) int8 ones: every feature is a legal action at every step."""
    return np.ones((num_envs, params.n_producers, params.dim), dtype=np.int8)


def episode_end(params: EnvParams, state: EnvState, active):
    """(terminated, truncated) (B,): an equilibrium reached (when asked), or ``max_cycles``
    steps taken; only active games end."""
    active = np.asarray(active, dtype=bool)
    terminated = params.terminate_at_equilibrium & ~state.improvable & active
    truncated = (state.steps >= params.max_cycles) & active
    return terminated, truncated
