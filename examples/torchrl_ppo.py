"""Multi-agent PPO in TorchRL on the engagement env (``torchrl.envs.PettingZooWrapper``).

Producers form one TorchRL agent group (``"producer"``); the policy is a shared-parameter
Gaussian over ``action_type="signed"`` content (TanhNormal on [-1, 1]), the critic a
centralised MLP, the loss TorchRL's ``ClipPPOLoss`` with GAE, as in TorchRL's multi-agent PPO
tutorial. Run ``python examples/torchrl_ppo.py`` (needs the ``marl`` extra).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from tensordict.nn import NormalParamExtractor, TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.data.replay_buffers import ReplayBuffer
from torchrl.data.replay_buffers.samplers import SamplerWithoutReplacement
from torchrl.data.replay_buffers.storages import LazyTensorStorage
from torchrl.envs import PettingZooWrapper
from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
from torchrl.objectives import ClipPPOLoss, ValueEstimators

import recsys_eq_env as rq

GROUP = "producer"


def make_env(users, n_producers=2, temperature=0.1, episode_length=8, seed=0):
    base = rq.parallel_env(
        users=users,
        n_producers=n_producers,
        rule="softmax",
        temperature=temperature,
        action_type="signed",
        observe_id=True,
        info_regrets=False,
        max_cycles=episode_length,
    )
    return PettingZooWrapper(env=base, seed=seed)


def train(
    users,
    n_producers=2,
    temperature=0.1,
    iterations=8,
    frames_per_batch=256,
    episode_length=8,
    seed=0,
    learning_rate=3e-3,
) -> list[float]:
    """Train; return the mean reward per user of every collected batch."""
    torch.manual_seed(seed)
    env = make_env(users, n_producers, temperature, episode_length, seed)
    obs_dim = env.observation_spec[GROUP, "observation"].shape[-1]
    act_dim = env.full_action_spec[GROUP, "action"].shape[-1]
    n_agents = len(env.group_map[GROUP])

    actor_net = nn.Sequential(
        MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=2 * act_dim,
            n_agents=n_agents,
            centralised=False,
            share_params=True,
            depth=2,
            num_cells=64,
            activation_class=nn.Tanh,
        ),
        NormalParamExtractor(),
    )
    actor = ProbabilisticActor(
        TensorDictModule(
            actor_net, in_keys=[(GROUP, "observation")], out_keys=[(GROUP, "loc"), (GROUP, "scale")]
        ),
        spec=env.full_action_spec[GROUP, "action"],
        in_keys=[(GROUP, "loc"), (GROUP, "scale")],
        out_keys=[(GROUP, "action")],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": -1.0, "high": 1.0},
        return_log_prob=True,
    )
    critic = TensorDictModule(
        MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=1,
            n_agents=n_agents,
            centralised=True,
            share_params=True,
            depth=2,
            num_cells=64,
            activation_class=nn.Tanh,
        ),
        in_keys=[(GROUP, "observation")],
        out_keys=[(GROUP, "state_value")],
    )
    collector = Collector(
        env, actor, frames_per_batch=frames_per_batch, total_frames=frames_per_batch * iterations
    )
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(frames_per_batch),
        sampler=SamplerWithoutReplacement(),
        batch_size=64,
    )
    loss = ClipPPOLoss(
        actor_network=actor,
        critic_network=critic,
        clip_epsilon=0.2,
        entropy_coeff=1e-3,
        normalize_advantage=False,
    )
    loss.set_keys(
        reward=(GROUP, "reward"),
        action=(GROUP, "action"),
        value=(GROUP, "state_value"),
        done=(GROUP, "done"),
        terminated=(GROUP, "terminated"),
    )
    loss.make_value_estimator(ValueEstimators.GAE, gamma=0.9, lmbda=0.9)
    optimiser = torch.optim.Adam(loss.parameters(), learning_rate)

    rewards = []
    for batch in collector:
        rewards.append(float(batch.get(("next", GROUP, "reward")).mean()))
        with torch.no_grad():
            loss.value_estimator(
                batch,
                params=loss.critic_network_params,
                target_params=loss.target_critic_network_params,
            )
        buffer.extend(batch.reshape(-1))
        for _ in range(4):
            for _ in range(frames_per_batch // 64):
                sample = buffer.sample()
                values = loss(sample)
                total = values["loss_objective"] + values["loss_critic"] + values["loss_entropy"]
                optimiser.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), 1.0)
                optimiser.step()
        collector.update_policy_weights_()
    collector.shutdown()
    return rewards


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args(argv)
    users = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)  # 90% of users on feature 0
    rewards = train(users, iterations=args.iterations)
    for i, r in enumerate(rewards):
        print(f"iteration {i:3d}  mean reward per user {r:.3f}")


if __name__ == "__main__":
    main()
