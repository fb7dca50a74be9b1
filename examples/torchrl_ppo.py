"""Multi-agent PPO in TorchRL on the batched engagement env.

``recsys_eq_env.wrappers.torchrl.torchrl_env(B, ...)`` is a TorchRL ``EnvBase`` with
``batch_size=[B]``: B games stepped together, producers in the agent group ``"producers"``.
The policy is a shared-parameter categorical policy over basis vectors (``action_type=
"discrete"``), the critic a centralised MLP, the loss TorchRL's ``ClipPPOLoss`` with GAE, as in
TorchRL's multi-agent PPO tutorial; producers are myopic (discount 0: a repeated stage game)
and revise one at a time (``revision="one"``, the paper's protocol). Episode ends live at the
root of the tensordict and are expanded to the producers, as the tutorial does for VMAS.

The single env works in TorchRL too, through ``torchrl.envs.PettingZooWrapper`` (see
``make_pettingzoo_env``). Run ``python examples/torchrl_ppo.py`` (needs the ``marl`` extra).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.collectors import Collector
from torchrl.data.replay_buffers import ReplayBuffer
from torchrl.data.replay_buffers.samplers import SamplerWithoutReplacement
from torchrl.data.replay_buffers.storages import LazyTensorStorage
from torchrl.modules import MultiAgentMLP, ProbabilisticActor
from torchrl.objectives import ClipPPOLoss, ValueEstimators

import recsys_eq_env as rq
from recsys_eq_env.wrappers.torchrl import GROUP, torchrl_env


def make_env(users, n_producers=2, temperature=0.1, episode_length=8, num_envs=8, seed=0):
    """B games of the engagement env as one TorchRL env (discrete actions, ids observed)."""
    env = torchrl_env(
        num_envs,
        users=users,
        n_producers=n_producers,
        rule="softmax",
        temperature=temperature,
        action_type="discrete",
        revision="one",
        observe_id=True,
        info_regrets=False,
        max_cycles=episode_length,
    )
    env.set_seed(seed)
    return env


def make_pettingzoo_env(users, n_producers=2, seed=0):
    """The single env through TorchRL's PettingZoo wrapper (group ``"producer"``)."""
    from torchrl.envs import PettingZooWrapper

    base = rq.parallel_env(users=users, n_producers=n_producers, action_type="discrete")
    return PettingZooWrapper(env=base, seed=seed)


def train(
    users,
    n_producers=2,
    temperature=0.1,
    iterations=8,
    num_envs=8,
    episode_length=8,
    seed=0,
    learning_rate=3e-3,
) -> list[float]:
    """Train; return the mean reward per user of every collected batch."""
    torch.manual_seed(seed)
    env = make_env(users, n_producers, temperature, episode_length, num_envs, seed)
    frames_per_batch = num_envs * 32
    obs_dim = env.observation_spec[GROUP, "observation"].shape[-1]
    n_actions = env.full_action_spec[GROUP, "action"].space.n

    actor = ProbabilisticActor(
        TensorDictModule(
            MultiAgentMLP(
                n_agent_inputs=obs_dim,
                n_agent_outputs=n_actions,
                n_agents=n_producers,
                centralised=False,
                share_params=True,
                depth=2,
                num_cells=64,
                activation_class=nn.Tanh,
            ),
            in_keys=[(GROUP, "observation")],
            out_keys=[(GROUP, "logits")],
        ),
        spec=env.full_action_spec[GROUP, "action"],
        in_keys={"logits": (GROUP, "logits")},
        out_keys=[(GROUP, "action")],
        distribution_class=torch.distributions.Categorical,
        return_log_prob=True,
        log_prob_key=(GROUP, "sample_log_prob"),
    )
    critic = TensorDictModule(
        MultiAgentMLP(
            n_agent_inputs=obs_dim,
            n_agent_outputs=1,
            n_agents=n_producers,
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
        entropy_coeff=1e-2,
        normalize_advantage=False,
    )
    loss.set_keys(
        reward=(GROUP, "reward"),
        action=(GROUP, "action"),
        sample_log_prob=(GROUP, "sample_log_prob"),
        value=(GROUP, "state_value"),
        done=(GROUP, "done"),
        terminated=(GROUP, "terminated"),
    )
    loss.make_value_estimator(ValueEstimators.GAE, gamma=0.0, lmbda=0.0)
    optimiser = torch.optim.Adam(loss.parameters(), learning_rate)

    rewards = []
    for batch in collector:
        for key in ("done", "terminated"):  # root episode ends, one per producer
            root = batch.get(("next", key))
            shape = (*root.shape[:-1], n_producers, 1)
            batch.set(("next", GROUP, key), root.unsqueeze(-1).expand(shape))
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
