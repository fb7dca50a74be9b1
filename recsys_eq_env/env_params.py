"""The env's parameters: :class:`EnvParams`, every keyword argument of the envs validated once
(and the game they play, :func:`make_game`); frozen, shared by the single, vector and JAX envs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _checks
from .actions import ACTION_TYPES
from .game import EngagementGame
from .observations import ObservationLayout
from .users import synthetic_users

OBSERVATIONS = ("aggregate", "full")
REVISIONS = ("simultaneous", "one")
INITS = ("basis", "simplex")
REWARD_SCALES = ("per_user", "raw")
DTYPES = (np.float64, np.float32)
#: The game's parameters and their defaults when the env builds the game itself.
GAME_DEFAULTS = {
    "n_producers": 10,
    "rule": "softmax",
    "temperature": 1.0,
    "utility": "engagement",
    "k": None,
}


@dataclass(frozen=True)
class EnvParams:
    """Everything fixed for an env's life, validated once (:meth:`build`)."""

    game: EngagementGame
    action_type: str = "simplex"
    observation: str = "aggregate"
    observe_id: bool = False
    revision: str = "simultaneous"
    terminate_at_equilibrium: bool = False
    max_cycles: int = 500
    init: str = "basis"
    reward_scale: str = "per_user"
    tol: float = 1e-9
    info_regrets: bool = True
    info_deviations: bool = False
    deviations: str = "basis"
    #: dtype of the batched utilities (float32 halves their memory traffic).
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))
    layout: ObservationLayout | None = None

    @property
    def n_producers(self) -> int:
        return self.game.n_producers

    @property
    def dim(self) -> int:
        return self.game.dim

    @classmethod
    def build(
        cls,
        users=None,
        n_producers: int | None = None,
        rule: str | None = None,
        temperature: float | None = None,
        utility: str | None = None,
        k: int | None = None,
        game: EngagementGame | None = None,
        action_type: str = "simplex",
        observation: str = "aggregate",
        observe_id: bool = False,
        revision: str = "simultaneous",
        terminate_at_equilibrium: bool = False,
        max_cycles: int = 500,
        init: str = "basis",
        reward_scale: str = "per_user",
        tol: float = 1e-9,
        info_regrets: bool = True,
        info_deviations: bool = False,
        deviations: str | None = None,
        utility_cache: str | None = None,
        dtype=np.float64,
        costs=None,
    ) -> EnvParams:
        """Validate the env's keyword arguments (the single env's page lists them)."""
        game = make_game(
            users, n_producers, rule, temperature, utility, k, game, utility_cache, costs
        )
        action_type = _checks.check_choice(action_type, "action_type", ACTION_TYPES)
        info_regrets = _checks.check_bool(info_regrets, "info_regrets")
        terminate = _checks.check_bool(terminate_at_equilibrium, "terminate_at_equilibrium")
        if terminate and not info_regrets:
            raise ValueError("terminate_at_equilibrium=True needs info_regrets=True")
        if deviations is None and action_type == "discrete":
            deviations = "basis"  # the producers can only play basis vectors
        reward_scale = _checks.check_choice(reward_scale, "reward_scale", REWARD_SCALES)
        observation = _checks.check_choice(observation, "observation", OBSERVATIONS)
        observe_id = _checks.check_bool(observe_id, "observe_id")
        per_user = reward_scale == "per_user"
        scale = 1.0 / game.n_users if per_user else 1.0
        layout = ObservationLayout(
            game.n_producers,
            game.dim,
            observation,
            observe_id,
            scale,
            1.0 if per_user else float(game.n_users),
            0.0 if game.costs is None else -float(game.costs.max()) * scale,
        )
        return cls(
            game=game,
            action_type=action_type,
            observation=observation,
            observe_id=observe_id,
            revision=_checks.check_choice(revision, "revision", REVISIONS),
            terminate_at_equilibrium=terminate,
            max_cycles=_checks.check_int(max_cycles, "max_cycles", minimum=1),
            init=_checks.check_choice(init, "init", INITS),
            reward_scale=reward_scale,
            tol=_checks.check_tol(tol),
            info_regrets=info_regrets,
            info_deviations=_checks.check_bool(info_deviations, "info_deviations"),
            deviations=game.check_deviations(deviations),
            dtype=check_dtype(dtype),
            layout=layout,
        )


def check_dtype(dtype) -> np.dtype:
    try:
        known = np.dtype(dtype) in [np.dtype(t) for t in DTYPES]
    except TypeError:
        known = False
    if not known:
        raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    return np.dtype(dtype)


def make_game(
    users, n_producers, rule, temperature, utility, k, game, utility_cache=None, costs=None
):
    """The env's game: a given one (and no game parameters), or one built from ``users``."""
    params = {
        "n_producers": n_producers,
        "rule": rule,
        "temperature": temperature,
        "utility": utility,
        "k": k,
        "utility_cache": utility_cache,
        "costs": costs,
    }
    if game is not None:
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        if users is not None:
            raise ValueError("pass either game or users (with the game's parameters), not both")
        given = [name for name, value in params.items() if value is not None]
        if given:
            raise ValueError(
                f"game is given, so {', '.join(given)} would be ignored: pass the game's "
                "parameters to EngagementGame, or users and parameters without game"
            )
        return game
    if users is None:
        users = synthetic_users("uniform", n_users=1000, dim=5, seed=0)
    chosen = {name: GAME_DEFAULTS.get(name) if v is None else v for name, v in params.items()}
    if chosen["utility_cache"] is None:
        chosen["utility_cache"] = "auto"
    return EngagementGame(users, **chosen)
