"""RLlib PPO on the engagement env through ``ParallelPettingZooEnv`` (a few iterations).

Ray pins its own gymnasium release, so install it apart from the main environment:

    python -m venv .venv-rllib
    .venv-rllib/bin/pip install "torch>=2.8,<2.14"
    .venv-rllib/bin/pip install -e ".[rllib]"
    .venv-rllib/bin/python examples/rllib_ppo.py --iterations 3

Every producer maps to one shared policy; observations carry the producer's id.
"""

from __future__ import annotations

import argparse

import numpy as np
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

import recsys_eq_env as rq
from agents.callbacks.rllib import NashConvCallback

ENV_NAME = "recsys_eq_v0"


def make_env(config=None):
    config = config or {}
    users = rq.synthetic_users(
        "uniform",
        config.get("n_users", 1000),
        config.get("dim", 5),
        seed=config.get("users_seed", 13),
    )
    env = rq.parallel_env(
        users=users,
        n_producers=config.get("n_producers", 5),
        rule="softmax",
        temperature=config.get("temperature", 0.1),
        action_type="signed",
        observe_id=True,
        info_regrets=False,
        max_cycles=config.get("episode_length", 20),
    )
    return ParallelPettingZooEnv(env)


def build(seed: int = 0, callbacks=None):
    """PPO with one shared module; ``callbacks``: an ``on_train_result`` callable, such as
    :class:`agents.callbacks.rllib.NashConvCallback` (nash_conv per user in every result)."""
    register_env(ENV_NAME, make_env)
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config={})
        .framework("torch")
        .env_runners(num_env_runners=0)
        .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, *args, **kw: "shared")
        .training(train_batch_size=1000, minibatch_size=250, num_epochs=4, lr=3e-4, gamma=0.9)
        .debugging(seed=seed)
    )
    if callbacks is not None:
        config = config.callbacks(on_train_result=callbacks)
    return config.build_algo()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args(argv)
    algo = build(callbacks=NashConvCallback(make_env({}), episodes=5))
    returns = []
    for i in range(args.iterations):
        result = algo.train()
        value = result.get("env_runners", {}).get("episode_return_mean", np.nan)
        returns.append(value)
        print(
            f"iteration {i}: mean episode return (all producers) {value:.3f}, "
            f"nash_conv per user {result['eval/nash_conv_per_user']:.4f}"
        )
    algo.stop()
    return returns


if __name__ == "__main__":
    main()
