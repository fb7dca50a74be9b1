"""TorchRL on the vector env: an ``EnvBase`` with ``batch_size=[B]`` and a producers group.

Keys follow TorchRL's multi-agent convention (as its VMAS wrapper): per-producer entries
under the group ``"producers"`` (``("producers", "observation")`` (B, n, obs_dim),
``("producers", "action")`` (B, n) or (B, n, dim), ``("producers", "reward")`` (B, n, 1)),
episode ends at the root (``"done"``, ``"terminated"``, ``"truncated"``, (B, 1)): all producers
of a game end together. Finished games are reset through TorchRL's ``"_reset"`` mask
(the vector env runs with ``AutoresetMode.DISABLED``). Training code that wants per-producer
ends expands them, as TorchRL's multi-agent PPO tutorial does.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from tensordict import TensorDict
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from ..vector import VectorEngagementEnv, vector_env

GROUP = "producers"


def torchrl_env(num_envs: int, device="cpu", **kwargs) -> TorchRLEnv:
    """A :class:`TorchRLEnv` over ``vector_env(num_envs, **kwargs)``."""
    return TorchRLEnv(vector_env(num_envs, autoreset_mode=AutoresetMode.DISABLED, **kwargs), device)


class TorchRLEnv(EnvBase):
    """A TorchRL ``EnvBase`` over a :class:`VectorEngagementEnv` (module docs)."""

    def __init__(self, venv: VectorEngagementEnv, device="cpu"):
        if not isinstance(venv, VectorEngagementEnv):
            raise TypeError(f"venv must be a VectorEngagementEnv, got {type(venv).__name__}")
        if venv.autoreset_mode != AutoresetMode.DISABLED:
            raise ValueError(
                "venv must leave finished games to TorchRL's resets: build it with "
                "autoreset_mode=AutoresetMode.DISABLED (or use torchrl_env)"
            )
        b, n, dim = venv.num_envs, venv.n_producers, venv.dim
        super().__init__(device=device, batch_size=torch.Size([b]))
        self.venv = venv
        self._seed = None
        obs = venv.single_observation_space
        self.observation_spec = Composite(
            {
                GROUP: Composite(
                    observation=Bounded(
                        low=torch.tensor(np.broadcast_to(obs.low, (b, n, obs.shape[0]))),
                        high=torch.tensor(np.broadcast_to(obs.high, (b, n, obs.shape[0]))),
                        shape=(b, n, obs.shape[0]),
                        dtype=torch.float32,
                        device=device,
                    ),
                    shape=(b, n),
                )
            },
            shape=(b,),
        )
        if venv.action_type == "discrete":
            action = Categorical(dim, shape=(b, n), dtype=torch.int64, device=device)
        else:
            low = 0.0 if venv.action_type == "simplex" else -1.0
            action = Bounded(low, 1.0, shape=(b, n, dim), dtype=torch.float32, device=device)
        self.action_spec = Composite({GROUP: Composite(action=action, shape=(b, n))}, shape=(b,))
        self.reward_spec = Composite(
            {GROUP: Composite(reward=Unbounded(shape=(b, n, 1), device=device), shape=(b, n))},
            shape=(b,),
        )
        flag = Categorical(2, shape=(b, 1), dtype=torch.bool, device=device)
        self.done_spec = Composite(
            done=flag.clone(), terminated=flag.clone(), truncated=flag.clone(), shape=(b,)
        )
        self._observations = None

    def _set_seed(self, seed):
        self._seed = seed  # game b is seeded with seed + b at the next reset of that game
        return seed

    def _reset(self, tensordict=None, **kwargs):
        mask = None
        if tensordict is not None and "_reset" in tensordict.keys():
            mask = tensordict.get("_reset").reshape(-1).cpu().numpy().astype(bool)
        options = {} if mask is None else {"reset_mask": mask}
        seed = self._seed
        if seed is not None and mask is not None:  # a pending seed seeds the games reset now
            seed = [seed + b if mask[b] else None for b in range(self.venv.num_envs)]
        observations, _ = self.venv.reset(seed=seed, options=options)
        self._seed = None
        b = self.venv.num_envs
        zeros = torch.zeros((b, 1), dtype=torch.bool, device=self.device)
        return TensorDict(
            {
                GROUP: TensorDict(
                    {"observation": torch.as_tensor(observations, device=self.device)},
                    batch_size=(b, self.venv.n_producers),
                ),
                "done": zeros.clone(),
                "terminated": zeros.clone(),
                "truncated": zeros.clone(),
            },
            batch_size=self.batch_size,
            device=self.device,
        )

    def _step(self, tensordict):
        actions = tensordict.get((GROUP, "action")).detach().cpu().numpy()
        observations, rewards, terminated, truncated, _ = self.venv.step(actions)
        b, n = self.venv.num_envs, self.venv.n_producers
        term = torch.as_tensor(terminated, device=self.device).reshape(b, 1)
        trunc = torch.as_tensor(truncated, device=self.device).reshape(b, 1)
        return TensorDict(
            {
                GROUP: TensorDict(
                    {
                        "observation": torch.as_tensor(observations, device=self.device),
                        "reward": torch.as_tensor(
                            rewards, dtype=torch.float32, device=self.device
                        ).reshape(b, n, 1),
                    },
                    batch_size=(b, n),
                ),
                "done": term | trunc,
                "terminated": term,
                "truncated": trunc,
            },
            batch_size=self.batch_size,
            device=self.device,
        )
