"""stable-baselines3 on the vector env: one VecEnv entry per producer of every game.

``SB3VecEnv(vector_env(B, ...))`` has ``num_envs = B * n_producers``: entry ``b * n + i`` is
producer ``i`` of game ``b``. One SB3 model trained on it shares its parameters between all
producers (give it ``observe_id=True`` so producers with the same observation can act
differently). All producers of a game end their episode together; the vector env resets a
finished game within the same step (``AutoresetMode.SAME_STEP``) and the last observation goes
to ``infos[i]["terminal_observation"]``, as SB3's own vector envs do. ``PPO(seed=s)`` seeds the
next reset: game b with ``s + b``. No SuperSuit needed.

**Infos per entry.** ``infos[b * n + i]`` carries producer ``i``'s values of the step just
taken in game ``b``: ``utility``, ``moved``, ``counts`` and ``action_mask``; with
``info_regrets=True`` also ``regret``, the game's ``nash_conv`` and ``nash_conv_per_user``
(the learning benchmark's metric); with ``info_deviations=True`` ``deviation_rewards``
(dim,). :class:`agents.sb3.NashConvCallback` logs them in SB3's logger. ``SB3VecEnv(venv,
infos=False)`` returns SB3's bare entries (``terminal_observation`` only), a little faster.
"""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv

from ..vector import VectorEngagementEnv, vector_env
from ._infos import per_entry, step_infos


def sb3_vec_env(num_envs: int, **kwargs) -> SB3VecEnv:
    """An :class:`SB3VecEnv` over ``vector_env(num_envs, **kwargs)`` (same-step autoreset)."""
    return SB3VecEnv(vector_env(num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs))


def _feature_indices(actions: np.ndarray, entries: int) -> np.ndarray:
    """SB3's discrete actions as int64, refusing what a cast would silently change: NaN (cast
    to -9223372036854775808) and fractions (2.9 cast to 2)."""
    if actions.size != entries:
        raise ValueError(f"actions must hold one action per entry ({entries}), got {actions.size}")
    if np.issubdtype(actions.dtype, np.integer):
        return actions.astype(np.int64, copy=False)
    if not np.issubdtype(actions.dtype, np.floating):
        raise TypeError(f"actions must be feature indices, got dtype {actions.dtype}")
    if not np.isfinite(actions).all():
        raise ValueError("actions contain NaN or inf; discrete actions are feature indices")
    whole = np.round(actions)
    if not np.array_equal(whole, actions):
        bad = float(actions[whole != actions].ravel()[0])
        raise ValueError(f"actions must be whole feature indices, got {bad!r}")
    return whole.astype(np.int64)


class SB3VecEnv(VecEnv):
    """A stable-baselines3 ``VecEnv`` over a :class:`VectorEngagementEnv` (module docs)."""

    def __init__(self, venv: VectorEngagementEnv, infos: bool = True):
        if not isinstance(venv, VectorEngagementEnv):
            raise TypeError(f"venv must be a VectorEngagementEnv, got {type(venv).__name__}")
        if venv.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                "venv must reset finished games in the same step, as SB3 expects: build it "
                "with autoreset_mode=AutoresetMode.SAME_STEP (or use sb3_vec_env)"
            )
        if not isinstance(infos, bool):
            raise TypeError(f"infos must be True or False, got {infos!r}")
        self.venv, self.infos = venv, infos
        self.games, self.n_producers = venv.num_envs, venv.n_producers
        self.render_mode = None
        super().__init__(
            venv.num_envs * venv.n_producers,
            venv.single_observation_space,
            venv.single_action_space,
        )
        self._actions = None

    def reset(self):
        seed = self._seeds[0]  # SB3 hands out seed + i per entry; games take seed + b
        observations, infos = self.venv.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._entries(infos)
        return observations.reshape(self.num_envs, -1)

    def step_async(self, actions) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        b, n = self.games, self.n_producers
        if self.venv.action_type == "discrete":
            actions = _feature_indices(self._actions, b * n).reshape(b, n)
        else:
            actions = self._actions.reshape(b, n, -1)
        observations, rewards, terminated, truncated, infos = self.venv.step(actions)
        ended = terminated | truncated
        dones = np.repeat(ended, n)
        entries = self._entries(step_infos(infos))
        if ended.any():
            final = infos["final_obs"]
            for game in np.flatnonzero(ended):
                limit = bool(truncated[game] and not terminated[game])
                for i in range(n):
                    entry = entries[game * n + i]
                    entry["terminal_observation"] = final[game, i]
                    entry["TimeLimit.truncated"] = limit
        return (
            observations.reshape(self.num_envs, -1),
            rewards.reshape(-1).astype(np.float32),
            dones,
            entries,
        )

    def _entries(self, infos: dict) -> list[dict]:
        """One info dict per entry (module docs), or empty dicts with ``infos=False``."""
        if not self.infos:
            return [{} for _ in range(self.num_envs)]
        columns = per_entry(infos, self.n_producers, self.venv.game.n_users)
        keys = list(columns)
        values = [columns[k].tolist() if columns[k].ndim == 1 else list(columns[k]) for k in keys]
        return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.venv, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def action_masks(self) -> np.ndarray:
        """(num_envs, dim) bool: every entry's legal features (all of them), for sb3-contrib's
        ``MaskablePPO``."""
        return np.ones((self.num_envs, self.venv.dim), dtype=bool)

    def env_method(self, method_name, *method_args, indices=None, **method_kwargs):
        indices = self._get_indices(indices)
        if method_name == "action_masks":  # one mask per entry, not the batch's per entry
            return list(self.action_masks()[list(indices)])
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * len(indices)

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._get_indices(indices))
