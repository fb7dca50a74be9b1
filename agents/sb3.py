"""stable-baselines3 learners for the engagement env, both ways people train many agents.

* **Shared parameters** (:func:`shared_ppo`): one PPO policy for every producer, trained on a
  vector-env view of the parallel env in which each producer is one sub-environment
  (SuperSuit's ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``). SuperSuit's SB3
  wrapper has no ``seed()``, so ``PPO(seed=...)`` fails on it; :class:`SeededVecEnv` adds one
  that seeds the parallel env's next reset. Build the env with ``observe_id=True``: identical
  observations would otherwise get identical actions.
* **Independent learners** (:class:`IndependentPPO`): one PPO model per producer, trained
  together on the same parallel env: every joint step fills each model's rollout buffer with
  its own transition, then each model trains on its buffer (SB3's ``collect_rollouts``, run
  for all producers at once).

Use ``action_type="signed"`` (a ``[-1, 1]`` box mapped to the simplex) or ``"discrete"`` for
the env: an untrained Gaussian policy centred at 0 on a ``[0, 1]`` box would be clipped to
all-zero actions. Every model has SB3's ``predict`` and runs through :func:`agents.rollout`.
Needs the ``rl`` extra (torch, stable-baselines3, supersuit).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium
import numpy as np
import supersuit
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import DummyVecEnv
from supersuit.vector.sb3_vector_wrapper import SB3VecEnvWrapper

from recsys_eq_env.environment import EngagementEnv


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


def shared_ppo(env: EngagementEnv, seed: int = 0, copies: int = 1, **ppo_kwargs) -> PPO:
    """One PPO policy shared by every producer (train it with ``.learn(total_timesteps)``)."""
    if not env.observe_id:
        raise ValueError(
            "env must have observe_id=True for parameter sharing: producers "
            "with the same observation would otherwise act identically"
        )
    ppo_kwargs.setdefault("verbose", 0)
    return PPO("MlpPolicy", shared_vec_env(env, copies), seed=seed, **ppo_kwargs)


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
    """One PPO model per producer, trained together on one parallel env."""

    def __init__(self, env: EngagementEnv, seed: int = 0, n_steps: int = 256, **ppo_kwargs):
        _check_env(env)
        self.env = env
        self.seed = int(seed)
        self.n_steps = int(n_steps)
        self.agents = list(env.possible_agents)
        ppo_kwargs.setdefault("verbose", 0)
        ppo_kwargs.setdefault("batch_size", min(64, self.n_steps))
        self.models = {
            agent: PPO(
                "MlpPolicy",
                DummyVecEnv(
                    [lambda a=agent: _Spaces(env.observation_space(a), env.action_space(a))]
                ),
                n_steps=self.n_steps,
                seed=self.seed + i,
                **ppo_kwargs,
            )
            for i, agent in enumerate(self.agents)
        }
        self._obs = None
        self._episode_start = True
        self.num_timesteps = 0

    def learn(self, total_timesteps: int, callback=None) -> IndependentPPO:
        """Joint steps of the env; every ``n_steps`` each model trains on its own buffer.

        ``callback(learner)`` (optional) runs after every update.
        """
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
        for model in self.models.values():
            model.policy.set_training_mode(False)
            model.rollout_buffer.reset()
        done = False
        for _ in range(self.n_steps):
            actions, stored = {}, {}
            for agent, model in self.models.items():
                with torch.no_grad():
                    obs = obs_as_tensor(self._obs[agent][None], model.device)
                    action, value, log_prob = model.policy(obs)
                action = action.cpu().numpy()
                stored[agent] = (action, value, log_prob)
                space = model.action_space
                if isinstance(space, gymnasium.spaces.Box):
                    actions[agent] = np.clip(action[0], space.low, space.high)
                else:
                    actions[agent] = int(action[0])
            next_obs, rewards, terms, truncs, _ = self.env.step(actions)
            done = not self.env.agents
            for agent, model in self.models.items():
                action, value, log_prob = stored[agent]
                reward = rewards[agent]
                if truncs[agent] and not terms[agent]:  # time limit: bootstrap, as SB3 does
                    with torch.no_grad():
                        terminal = obs_as_tensor(next_obs[agent][None], model.device)
                        reward += model.gamma * model.policy.predict_values(terminal).item()
                if isinstance(model.action_space, gymnasium.spaces.Discrete):
                    action = action.reshape(-1, 1)
                model.rollout_buffer.add(
                    self._obs[agent][None],
                    action,
                    np.array([reward]),
                    np.array([self._episode_start]),
                    value,
                    log_prob,
                )
            self._episode_start = done
            self._obs = self.env.reset()[0] if done else next_obs
            self.num_timesteps += 1
        for agent, model in self.models.items():
            with torch.no_grad():
                last = model.policy.predict_values(
                    obs_as_tensor(self._obs[agent][None], model.device)
                )
            model.rollout_buffer.compute_returns_and_advantage(last, np.array([done]))

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
    def load(cls, directory, env: EngagementEnv) -> IndependentPPO:
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


def _check_env(env):
    if not isinstance(env, EngagementEnv):
        raise TypeError(f"env must be an EngagementEnv (parallel_env(...)), got {type(env)}")
    if env.action_type == "simplex":
        raise ValueError(
            "use action_type='signed' or 'discrete' for SB3 learners: a Gaussian "
            "policy centred at 0 on the [0, 1] box is clipped to all-zero actions"
        )
