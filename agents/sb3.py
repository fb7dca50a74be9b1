"""stable-baselines3 learners for the engagement env, both ways people train many agents.

* **Shared parameters** (:func:`shared_ppo`): one PPO policy for every producer. On a
  :class:`recsys_eq_env.VectorEngagementEnv` (or the arguments of one) it trains on
  :class:`recsys_eq_env.wrappers.sb3.SB3VecEnv`, one VecEnv entry per producer of every game,
  all stepped in batched NumPy; on a single :class:`recsys_eq_env.EngagementEnv` it goes through
  SuperSuit's ``pettingzoo_env_to_vec_env_v1`` (slower; kept for PettingZoo users), with
  :class:`SeededVecEnv` adding the ``seed()`` SB3 calls. Build the env with ``observe_id=True``:
  identical observations would otherwise get identical actions.
* **Independent learners** (:class:`IndependentPPO`): one PPO model per producer, trained
  together on the same games: every joint step fills each model's rollout buffer with its own
  producers' transitions, then each model trains on its buffer.

**The recipe that learns** (the committed sweep, ``reproduction/sweep.parquet``): discrete actions
and ``revision="one"`` (under simultaneous revision even exact best responses herd onto the same
feature). Producers play a repeated stage game, and a myopic producer wants the best response to the
others' current content, so a discount of 0 describes them; but under one revision per step a
producer's request pays off only on the step the env picks that producer, often several steps later,
and PPO needs a discount to credit a persistent request with that pay-off. Measured over 192 runs (6
cells, 32 settings): the best settings with ``gamma=0.9`` (GAE ``lambda=0.95``) end 83% of
evaluation episodes at an equilibrium, the best with ``gamma=0`` 72%. ``gamma=0.9, gae_lambda=0.95``
are the defaults here for that reason; pass ``gamma=0`` for myopic learners. Use
``action_type="signed"`` for continuous content: a Gaussian policy centred at 0 on a ``[0, 1]`` box
would be clipped to all-zero actions.
Every model has SB3's ``predict`` and runs through :func:`agents.rollout`. Needs the ``rl`` extra
(torch, stable-baselines3, supersuit).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium
import numpy as np
import supersuit
import torch
from gymnasium.vector import AutoresetMode
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import DummyVecEnv
from supersuit.vector.sb3_vector_wrapper import SB3VecEnvWrapper

from recsys_eq_env.environment import EngagementEnv
from recsys_eq_env.vector import VectorEngagementEnv
from recsys_eq_env.wrappers.sb3 import SB3VecEnv

#: Producers' defaults (the sweep's best; see the module docstring).
PRODUCER_DEFAULTS = {"gamma": 0.9, "gae_lambda": 0.95}


class EntropySchedule(BaseCallback):
    """Decay PPO's entropy coefficient linearly from ``start`` to ``end`` over a ``learn()``
    call of ``total`` timesteps (SB3 takes a constant coefficient): explore early, commit late.
    """

    def __init__(self, start: float, end: float = 0.0, total: int | None = None):
        super().__init__()
        self.start, self.end, self.total = float(start), float(end), total
        self._begin = None

    def _on_training_start(self) -> None:
        # the first learn() starts the schedule; later calls (training in chunks) continue it
        if self._begin is None:
            self._begin = self.model.num_timesteps
        if self.total is None:
            self.total = self.locals["total_timesteps"]
        self._on_rollout_end()

    def _on_rollout_end(self) -> None:
        done = (self.model.num_timesteps - self._begin) / max(self.total, 1)
        self.model.ent_coef = self.start + (self.end - self.start) * min(done, 1.0)

    def _on_step(self) -> bool:
        return True


class SeededVecEnv(SB3VecEnvWrapper):
    """SuperSuit's SB3 vector env with the ``seed()`` SB3 calls: it seeds the next reset."""

    def __init__(self, venv):
        super().__init__(venv)
        self._next_seed = None

    def seed(self, seed=None):
        self._next_seed = seed
        return [seed] * self.num_envs

    def reset(self, seed=None, options=None):
        seed = self._next_seed if seed is None else seed
        self._next_seed = None
        observations, self.reset_infos = self.venv.reset(seed=seed, options=options)
        return observations


def shared_vec_env(env: EngagementEnv, copies: int = 1) -> SeededVecEnv:
    """An SB3 VecEnv with one sub-environment per producer (per copy of the env)."""
    _check_env(env)
    vec = supersuit.pettingzoo_env_to_vec_env_v1(env)
    vec = supersuit.concat_vec_envs_v1(vec, copies, num_cpus=0, base_class="gymnasium")
    return SeededVecEnv(vec)


def shared_ppo(env, seed: int = 0, copies: int = 1, require_ids: bool = True, **ppo_kwargs) -> PPO:
    """One PPO policy shared by every producer (train it with ``.learn(total_timesteps)``).

    ``env`` is a :class:`VectorEngagementEnv` (reset in the same step, as SB3 expects), an
    :class:`recsys_eq_env.wrappers.sb3.SB3VecEnv`, or a single :class:`EngagementEnv` (through
    SuperSuit, ``copies`` copies of it). ``gamma`` and ``gae_lambda`` default to 0.9 and 0.95.
    ``require_ids=False`` allows an env without producer ids (to show what they change).
    """
    if isinstance(env, VectorEngagementEnv):
        env = SB3VecEnv(env)
    if isinstance(env, SB3VecEnv):
        observe_id = env.venv.params.observe_id
        _check_action_type(env.venv.action_type)
        vec = env
    else:
        observe_id = getattr(env, "observe_id", False)
        vec = shared_vec_env(env, copies)
    if require_ids and not observe_id:
        raise ValueError(
            "env must have observe_id=True for parameter sharing: producers "
            "with the same observation would otherwise act identically"
        )
    ppo_kwargs.setdefault("verbose", 0)
    for key, value in PRODUCER_DEFAULTS.items():
        ppo_kwargs.setdefault(key, value)
    return PPO("MlpPolicy", vec, seed=seed, **ppo_kwargs)


class _Spaces(gymnasium.Env):
    """An env that only carries spaces: SB3 needs one to build a model (and resets it once)."""

    def __init__(self, observation_space, action_space):
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, seed=None, options=None):
        low = self.observation_space.low
        return np.zeros_like(low), {}

    def step(self, action):
        raise RuntimeError("_Spaces is never stepped")


class IndependentPPO:
    """One PPO model per producer, trained together on the games of one vector env.

    ``env`` is a :class:`VectorEngagementEnv` built with ``autoreset_mode=SAME_STEP`` (or a
    single :class:`EngagementEnv`, which is turned into one game of such a vector env). Each
    model's rollout buffer holds its producer's transitions in all B games: ``n_steps`` joint
    steps give every model ``n_steps * B`` samples. ``gamma`` and ``gae_lambda`` default to 0.9
    and 0.95.

    SB3's ``learn()`` drives one model's own env loop, and here n models must act before the
    shared env can step, so this class runs SB3's rollout collection itself: it fills each
    model's ``rollout_buffer`` (public) and calls ``train()`` (public), and uses two private
    methods for the bookkeeping ``learn()`` would do (``_setup_learn``, which builds the logger
    and progress, and ``_update_current_progress_remaining``, which drives learning-rate
    schedules). SB3 has no public equivalent for either.
    """

    def __init__(self, env, seed: int = 0, n_steps: int = 64, **ppo_kwargs):
        if isinstance(env, EngagementEnv):
            env = _as_vector(env)
        if not isinstance(env, VectorEngagementEnv):
            raise TypeError(f"env must be a VectorEngagementEnv or EngagementEnv, got {type(env)}")
        if env.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError("env must reset finished games in the same step (SAME_STEP)")
        _check_action_type(env.action_type)
        self.env = env
        self.seed = int(seed)
        self.n_steps = int(n_steps)
        self.agents = list(env.possible_agents)
        games = env.num_envs
        ppo_kwargs.setdefault("verbose", 0)
        ppo_kwargs.setdefault("batch_size", min(64, self.n_steps * games))
        for key, value in PRODUCER_DEFAULTS.items():
            ppo_kwargs.setdefault(key, value)
        self.ppo_kwargs = dict(ppo_kwargs)
        obs_space, act_space = env.single_observation_space, env.single_action_space
        self.models = {
            agent: PPO(
                "MlpPolicy",
                DummyVecEnv([lambda: _Spaces(obs_space, act_space)] * games),
                n_steps=self.n_steps,
                seed=self.seed + i,
                **ppo_kwargs,
            )
            for i, agent in enumerate(self.agents)
        }
        self._obs = None
        self._episode_start = np.ones(games, dtype=bool)
        self.num_timesteps = 0  # joint steps of all games (each a step of every producer)

    def learn(self, total_timesteps: int, callback=None) -> IndependentPPO:
        """``total_timesteps`` producer-steps of each producer (joint steps x games); every
        ``n_steps`` joint steps each model trains on its own buffer. ``callback(learner)``
        (optional) runs after every update."""
        for model in self.models.values():
            model._setup_learn(total_timesteps, reset_num_timesteps=self.num_timesteps == 0)
        if self._obs is None:
            self._obs, _ = self.env.reset(seed=self.seed)
        target = self.num_timesteps + total_timesteps
        while self.num_timesteps < target:
            self._collect()
            for model in self.models.values():
                model.num_timesteps = self.num_timesteps
                model._update_current_progress_remaining(self.num_timesteps, target)
                model.train()
            if callback is not None:
                callback(self)
        return self

    def _collect(self):
        """SB3's collect_rollouts, for every producer from the same joint steps."""
        env, games = self.env, self.env.num_envs
        discrete = env.action_type == "discrete"
        for model in self.models.values():
            model.policy.set_training_mode(False)
            model.rollout_buffer.reset()
        for _ in range(self.n_steps):
            stored, joint = [], []
            for i, model in enumerate(self.models.values()):
                with torch.no_grad():
                    action, value, log_prob = model.policy(
                        obs_as_tensor(self._obs[:, i], model.device)
                    )
                action = action.cpu().numpy()
                stored.append((action, value, log_prob))
                if discrete:
                    joint.append(action.astype(np.int64))
                else:
                    space = model.action_space
                    joint.append(np.clip(action, space.low, space.high))
            actions = np.stack(joint, axis=1)
            next_obs, rewards, terminated, truncated, infos = env.step(actions)
            ended = terminated | truncated
            limit = truncated & ~terminated
            for i, model in enumerate(self.models.values()):
                action, value, log_prob = stored[i]
                reward = rewards[:, i].copy()
                if limit.any() and model.gamma > 0:  # time limit: bootstrap, as SB3 does
                    with torch.no_grad():
                        final = obs_as_tensor(infos["final_obs"][limit, i], model.device)
                        reward[limit] += (
                            model.gamma * model.policy.predict_values(final).numpy()[:, 0]
                        )
                if discrete:
                    action = action.reshape(-1, 1)
                model.rollout_buffer.add(
                    self._obs[:, i], action, reward, self._episode_start, value, log_prob
                )
            self._episode_start = ended
            self._obs = next_obs
            self.num_timesteps += games
        for i, model in enumerate(self.models.values()):
            with torch.no_grad():
                last = model.policy.predict_values(obs_as_tensor(self._obs[:, i], model.device))
            model.rollout_buffer.compute_returns_and_advantage(last, self._episode_start)

    def policies(self) -> dict:
        """agent -> its SB3 model (each has ``predict``), for :func:`agents.rollout`."""
        return dict(self.models)

    def save(self, directory) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for agent, model in self.models.items():
            model.save(directory / f"{agent}.zip")
        meta = {
            "agents": self.agents,
            "seed": self.seed,
            "n_steps": self.n_steps,
            "num_timesteps": self.num_timesteps,
        }
        (directory / "independent_ppo.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, directory, env) -> IndependentPPO:
        directory = Path(directory)
        meta = json.loads((directory / "independent_ppo.json").read_text())
        if meta["agents"] != list(env.possible_agents):
            raise ValueError(
                f"env has agents {env.possible_agents}, the saved learners {meta['agents']}"
            )
        learner = cls(env, seed=meta["seed"], n_steps=meta["n_steps"])
        for agent in learner.agents:
            learner.models[agent] = PPO.load(directory / f"{agent}.zip", device="cpu")
        learner.num_timesteps = meta["num_timesteps"]
        return learner


def _as_vector(env: EngagementEnv) -> VectorEngagementEnv:
    """One game of a vector env with the single env's settings (same-step autoreset)."""
    s = env
    return VectorEngagementEnv(
        1,
        autoreset_mode=AutoresetMode.SAME_STEP,
        game=s.game,
        action_type=s.action_type,
        observation=s.observation,
        observe_id=s.observe_id,
        revision=s.revision,
        terminate_at_equilibrium=s.terminate_at_equilibrium,
        max_cycles=s.max_cycles,
        init=s.init,
        reward_scale=s.reward_scale,
        tol=s.tol,
        info_regrets=s.info_regrets,
        deviations=s.deviations,
    )


def _check_env(env):
    if not isinstance(env, EngagementEnv):
        raise TypeError(f"env must be an EngagementEnv (parallel_env(...)), got {type(env)}")
    _check_action_type(env.action_type)


def _check_action_type(action_type: str) -> None:
    if action_type == "simplex":
        raise ValueError(
            "use action_type='signed' or 'discrete' for SB3 learners: a Gaussian "
            "policy centred at 0 on the [0, 1] box is clipped to all-zero actions"
        )
