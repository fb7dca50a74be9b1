"""Gymnasium: the vector env as a ``gymnasium.vector.VectorEnv`` with one entry per producer.

``ProducerVectorEnv(vector_env(B, ...))`` has ``num_envs = B * n_producers``: entry
``b * n + i`` is producer ``i`` of game ``b``, with the single env's observation and action
spaces per entry, rewards ``(num_envs,)`` and ``terminated``/``truncated`` ``(num_envs,)`` (all
producers of a game end together). So every Gymnasium vector wrapper
(``RecordEpisodeStatistics``, ``NormalizeReward``, ``ClipReward``, ``DictInfoToList``, ...) and
a CleanRL-style loop with one shared policy run on it unchanged.

* **Autoreset**: the vector env's mode (``NEXT_STEP``, ``SAME_STEP`` or ``DISABLED``), in
  ``metadata["autoreset_mode"]`` as Gymnasium's wrappers read it. Under ``SAME_STEP``
  ``infos["final_obs"]`` is an object array of the finished entries' last observations,
  ``infos["final_info"]`` their infos, with Gymnasium's ``_`` masks.
* **Infos**: Gymnasium's dict of arrays, one row per entry, each key with its ``_key`` mask:
  ``utility``, ``moved``, ``counts``, ``action_mask``; with regrets ``regret``, the game's
  ``nash_conv`` and ``nash_conv_per_user``; with deviations ``deviation_rewards``.
* **Seeds**: ``reset(seed=s)`` seeds game ``b`` with ``s + b`` (the vector env's rule), so
  the entries of one game share a seed; a list gives one seed per game.
* **Registration**: ``gymnasium.make_vec("recsys_eq/Producers-v0", num_envs=N,
  vectorization_mode="vector_entry_point", n_producers=n, ...)`` builds ``N / n`` games
  (``N`` must be a multiple of ``n``) with the other keyword arguments of
  :func:`recsys_eq_env.vector_env`; with no ``users`` or ``game``, 1,000 synthetic uniform users
  on ``dim`` features (default 5, ``users_seed`` 0).
"""

from __future__ import annotations

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..vector import VectorEngagementEnv, vector_env
from ._infos import per_entry

__all__ = ["ENV_ID", "ProducerVectorEnv", "make_producer_vector_env", "register"]

#: The id ``gymnasium.make_vec`` knows this env by.
ENV_ID = "recsys_eq/Producers-v0"


class ProducerVectorEnv(VectorEnv):
    """A Gymnasium ``VectorEnv`` over a :class:`VectorEngagementEnv` (module docs)."""

    def __init__(self, venv: VectorEngagementEnv):
        if not isinstance(venv, VectorEngagementEnv):
            raise TypeError(f"venv must be a VectorEngagementEnv, got {type(venv).__name__}")
        self.venv = venv
        self.games, self.n_producers = venv.num_envs, venv.n_producers
        self.num_envs = self.games * self.n_producers
        self.single_observation_space = venv.single_observation_space
        self.single_action_space = venv.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": venv.autoreset_mode}
        self.render_mode = None
        self.closed = False

    def reset(self, *, seed=None, options=None):
        """Reset every game (``seed``: an int, one seed per game, or None)."""
        observations, infos = self.venv.reset(seed=seed, options=options)
        return observations.reshape(self.num_envs, -1), self._entries(infos)

    def step(self, actions):
        actions = np.asarray(actions)
        b, n = self.games, self.n_producers
        if actions.shape[:1] != (self.num_envs,):
            raise ValueError(
                f"actions must hold one action per entry ({self.num_envs}), got shape "
                f"{actions.shape}"
            )
        shape = (b, n) if self.venv.action_type == "discrete" else (b, n, -1)
        observations, rewards, terminated, truncated, infos = self.venv.step(actions.reshape(shape))
        out = self._entries(infos)
        if "final_obs" in infos:  # same-step autoreset: the finished entries' last step
            ended = np.repeat(infos["_final_obs"], n)
            final_obs = np.full(self.num_envs, None, dtype=object)
            last = infos["final_obs"].reshape(self.num_envs, -1)
            for entry in np.flatnonzero(ended):
                final_obs[entry] = last[entry]
            out["final_obs"], out["_final_obs"] = final_obs, ended
            out["final_info"] = self._entries(infos["final_info"], ended)
            out["_final_info"] = ended
        return (
            observations.reshape(self.num_envs, -1),
            rewards.reshape(-1),
            np.repeat(terminated, n),
            np.repeat(truncated, n),
            out,
        )

    def _entries(self, infos: dict, mask=None) -> dict:
        """Gymnasium's vector infos: per-entry arrays, each with its ``_key`` mask."""
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else mask
        out = {}
        for key, value in per_entry(infos, self.n_producers, self.venv.game.n_users).items():
            out[key], out[f"_{key}"] = value, mask.copy()
        return out

    def close_extras(self, **kwargs):
        self.venv.close()

    def __repr__(self) -> str:
        return f"ProducerVectorEnv({self.venv!r}, num_envs={self.num_envs})"


def make_producer_vector_env(
    num_envs: int,
    n_producers: int = 5,
    users=None,
    game=None,
    dim: int = 5,
    n_users: int = 1000,
    users_seed: int = 0,
    **kwargs,
) -> ProducerVectorEnv:
    """``gymnasium.make_vec``'s entry point: ``num_envs`` producer entries (module docs)."""
    from .. import synthetic_users
    from .._checks import check_int

    num_envs = check_int(num_envs, "num_envs", minimum=1)
    if game is not None:
        n_producers = game.n_producers
    n_producers = check_int(n_producers, "n_producers", minimum=1)
    if num_envs % n_producers:
        raise ValueError(
            f"num_envs counts producer entries and must be a multiple of n_producers "
            f"({n_producers}), got {num_envs}"
        )
    if game is None and users is None:
        users = synthetic_users("uniform", n_users, dim, seed=users_seed)
    source = {"game": game} if game is not None else {"users": users, "n_producers": n_producers}
    kwargs.setdefault("autoreset_mode", AutoresetMode.NEXT_STEP)
    return ProducerVectorEnv(vector_env(num_envs // n_producers, **source, **kwargs))


def register() -> None:
    """Register :data:`ENV_ID` with Gymnasium (``import recsys_eq_env`` already does)."""
    from .. import _register_with_gymnasium

    _register_with_gymnasium()
