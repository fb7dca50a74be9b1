"""TorchRL on the vector env: an ``EnvBase`` with ``batch_size=[B]`` and a producers group.

Keys follow TorchRL's multi-agent convention (as its VMAS wrapper): per-producer entries
under the group ``"producers"`` (``("producers", "observation")`` (B, n, obs_dim),
``("producers", "action")`` (B, n) or (B, n, dim), ``("producers", "reward")`` (B, n, 1)),
episode ends at the root (``"done"``, ``"terminated"``, ``"truncated"``, (B, 1)): all producers
of a game end together. Finished games are reset through TorchRL's ``"_reset"`` mask
(the vector env runs with ``AutoresetMode.DISABLED``). Training code that wants per-producer
ends expands them, as TorchRL's multi-agent PPO tutorial does.

**Infos** go under ``("producers", "info")`` (as VMAS's wrapper puts them, so BenchMARL logs
them as ``collection/producers/info/...`` with no glue): ``utility`` (B, n); with regrets on
``regret``, ``nash_conv`` and ``nash_conv_per_user`` (B, n: a game's value repeated for each
of its producers); with ``info_deviations=True`` ``deviation_rewards`` (B, n, dim). They are
part of the observation spec; a policy reads ``("producers", "observation")`` only.
``n_agents`` and ``group_map`` are TorchRL's and BenchMARL's names for the group.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from tensordict import TensorDict
from torchrl.data import Bounded, Categorical, Composite, Unbounded
from torchrl.envs import EnvBase

from ..vector import VectorEngagementEnv, vector_env
from ._infos import per_entry

GROUP = "producers"
#: The info keys a TorchRL env reports (those its vector env's settings produce).
SCALAR_INFOS = ("utility", "regret", "nash_conv", "nash_conv_per_user")


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
        self.info_keys = self._info_keys(venv)
        info = {
            key: Unbounded(
                shape=(b, n, dim) if key == "deviation_rewards" else (b, n),
                dtype=torch.float32,
                device=device,
            )
            for key in self.info_keys
        }
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
                    info=Composite(info, shape=(b, n), device=device),
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

    @staticmethod
    def _info_keys(venv) -> tuple[str, ...]:
        params = venv.params
        keys = ("utility",)
        if params.info_regrets:
            keys += ("regret", "nash_conv", "nash_conv_per_user")
        if params.info_deviations:
            keys += ("deviation_rewards",)
        return keys

    @property
    def n_agents(self) -> int:
        """Producers per game (TorchRL's tutorial and VMAS's wrapper read ``n_agents``)."""
        return self.venv.n_producers

    @property
    def group_map(self) -> dict[str, list[str]]:
        """The one agent group, ``{"producers": ["producer_0", ...]}``."""
        return {GROUP: list(self.venv.possible_agents)}

    def _group(self, observations, infos, reward=None) -> TensorDict:
        b, n = self.venv.num_envs, self.venv.n_producers
        columns = per_entry(infos, n, self.venv.game.n_users)
        info = {
            key: torch.as_tensor(columns[key], dtype=torch.float32, device=self.device).reshape(
                b, n, *columns[key].shape[1:]
            )
            for key in self.info_keys
        }
        group = {
            "observation": torch.as_tensor(observations, device=self.device),
            "info": TensorDict(info, batch_size=(b, n), device=self.device),
        }
        if reward is not None:
            group["reward"] = torch.as_tensor(
                reward, dtype=torch.float32, device=self.device
            ).reshape(b, n, 1)
        return TensorDict(group, batch_size=(b, n), device=self.device)

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
        observations, infos = self.venv.reset(seed=seed, options=options)
        self._seed = None
        b = self.venv.num_envs
        zeros = torch.zeros((b, 1), dtype=torch.bool, device=self.device)
        return TensorDict(
            {
                GROUP: self._group(observations, infos),
                "done": zeros.clone(),
                "terminated": zeros.clone(),
                "truncated": zeros.clone(),
            },
            batch_size=self.batch_size,
            device=self.device,
        )

    def _step(self, tensordict):
        actions = tensordict.get((GROUP, "action")).detach().cpu().numpy()
        observations, rewards, terminated, truncated, infos = self.venv.step(actions)
        b = self.venv.num_envs
        term = torch.as_tensor(terminated, device=self.device).reshape(b, 1)
        trunc = torch.as_tensor(truncated, device=self.device).reshape(b, 1)
        return TensorDict(
            {
                GROUP: self._group(observations, infos, rewards),
                "done": term | trunc,
                "terminated": term,
                "truncated": trunc,
            },
            batch_size=self.batch_size,
            device=self.device,
        )


class TensorDictPolicy:
    """A TorchRL policy (a TensorDict module reading ``("producers", "observation")`` and
    writing ``("producers", "action")``: BenchMARL's, the MARL PPO tutorial's) behind
    stable-baselines3's ``predict``, for :func:`agents.evaluate`: observations (E * n, obs_dim)
    in game-major order, actions (E * n,) (deterministic: the policy's mode)."""

    batched = True

    def __init__(self, policy, n_producers: int):
        self.policy, self.n = policy, n_producers

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        from torchrl.envs.utils import ExplorationType, set_exploration_type

        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32))
        single = obs.ndim == 1
        obs = obs.reshape(-1, self.n, obs.shape[-1])
        td = TensorDict({GROUP: TensorDict({"observation": obs}, batch_size=obs.shape[:2])},
                        batch_size=obs.shape[:1])  # fmt: skip
        mode = ExplorationType.DETERMINISTIC if deterministic else ExplorationType.RANDOM
        with torch.no_grad(), set_exploration_type(mode):
            out = self.policy(td)
        actions = out.get((GROUP, "action")).cpu().numpy()
        actions = actions.reshape(-1, *actions.shape[2:])
        return (actions[0] if single else actions), state
