"""A softmax policy trained on counterfactual (full-information) rewards.

Producers play a repeated stage game, so a myopic producer (discount 0) wants, in every state,
the basis vector with the highest utility against the others' current content. The env can
say what every basis vector would earn (``info_deviations=True``: the deviation table it
computes for regrets anyway), so the learner does not have to try actions to find out: with a
policy ``pi_theta(a | o)`` over basis vectors, the expected reward in state ``o`` is
``sum_a pi(a | o) r(o, a)``, known exactly, and the learner ascends it (the "all-action" policy
gradient) with an entropy bonus that decays to 0. One network is shared by all producers
(their observations say where they stand); the deterministic policy (argmax) is then a learned
best response, and a rollout of it in a ``revision="one"`` env follows best-response dynamics.

Training runs on :func:`recsys_eq_env.vector_env` (discrete actions, ``revision="one"``, many
games at once) and needs torch (the ``rl`` extra). The trained learner acts through the shared
``predict`` interface.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import recsys_eq_env as rq


class CounterfactualPG:
    """Shared softmax policy over basis vectors, trained on every basis vector's reward.

    ``predict`` takes one observation or a batch (``batched = True``).

    ``env_kwargs`` are the arguments of :func:`recsys_eq_env.vector_env` (a ``game`` or
    ``users`` with the game's parameters); the learner fixes ``action_type="discrete"``,
    ``info_deviations=True`` and, unless given, ``revision="one"``.
    """

    batched = True

    def __init__(
        self,
        num_envs: int = 32,
        hidden: int = 64,
        learning_rate: float = 3e-3,
        entropy: float = 0.02,
        seed: int = 0,
        **env_kwargs,
    ):
        env_kwargs.setdefault("revision", "one")
        env_kwargs.setdefault("max_cycles", 50)
        self.venv = rq.vector_env(
            num_envs, action_type="discrete", info_deviations=True, info_regrets=False, **env_kwargs
        )
        self.seed = int(seed)
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        space = self.venv.single_observation_space
        self._scale = torch.as_tensor(1.0 / np.maximum(space.high, 1e-12), dtype=torch.float32)
        dim = self.venv.dim
        self.policy = nn.Sequential(
            nn.Linear(space.shape[0], hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, dim),
        )
        self.optimiser = torch.optim.Adam(self.policy.parameters(), lr=learning_rate)
        self.entropy = float(entropy)
        self.num_timesteps = 0
        self._obs = None
        self._deviations = None

    def _logits(self, observations) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(observations, dtype=np.float32)) * self._scale
        return self.policy(x)

    def learn(self, total_timesteps: int, callback=None) -> CounterfactualPG:
        """Train for ``total_timesteps`` producer-steps; ``callback(self)`` after each update."""
        venv = self.venv
        if self._obs is None:
            self._obs, infos = venv.reset(seed=self.seed)
            self._deviations = infos["deviation_rewards"]
        target = self.num_timesteps + int(total_timesteps)
        per_step = venv.num_envs * venv.n_producers
        while self.num_timesteps < target:
            progress = min(1.0, self.num_timesteps / max(target, 1))
            logits = self._logits(self._obs)
            probs = torch.softmax(logits, dim=-1)
            rewards = torch.as_tensor(self._deviations, dtype=torch.float32)
            # Counterfactual advantage: each basis vector's reward against the policy's mean.
            expected = (probs * rewards).sum(-1, keepdim=True)
            scale = rewards.std(-1, keepdim=True).clamp_min(1e-8)
            advantage = ((rewards - expected) / scale).detach()
            entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(-1)
            loss = (
                -(probs * advantage).sum(-1).mean() - self.entropy * (1 - progress) * entropy.mean()
            )
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()
            with torch.no_grad():
                actions = torch.distributions.Categorical(logits=logits).sample().numpy()
            self._obs, _, _, _, infos = venv.step(actions)
            self._deviations = infos["deviation_rewards"]
            self.num_timesteps += per_step
            if callback is not None:
                callback(self)
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        """SB3's interface: one observation (obs_dim,) or a batch (..., obs_dim)."""
        with torch.no_grad():
            logits = self._logits(observation)
        if deterministic:
            actions = logits.argmax(-1).numpy()
        else:
            actions = torch.distributions.Categorical(logits=logits).sample().numpy()
        return (int(actions) if actions.ndim == 0 else actions), state

    def save(self, path) -> None:
        torch.save({"policy": self.policy.state_dict(), "num_timesteps": self.num_timesteps}, path)

    def load_state(self, path) -> CounterfactualPG:
        state = torch.load(path, weights_only=True)
        self.policy.load_state_dict(state["policy"])
        self.num_timesteps = int(state["num_timesteps"])
        return self
