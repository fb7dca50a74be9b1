"""The environment in the MARL libraries people use: TorchRL (here), SB3 (test_learners)."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import recsys_eq_env as rq

pytestmark = pytest.mark.slow  # whole module: make test-fast skips it

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_torchrl_wrapper_passes_torchrl_checks():
    from torchrl.envs import PettingZooWrapper
    from torchrl.envs.utils import check_env_specs

    for action_type in ("signed", "discrete"):
        base = rq.parallel_env(
            users=rq.synthetic_users("uniform", 100, 3, seed=0),
            n_producers=3,
            action_type=action_type,
            max_cycles=5,
        )
        env = PettingZooWrapper(env=base, seed=0)
        assert env.group_map == {"producer": ["producer_0", "producer_1", "producer_2"]}
        check_env_specs(env)
        rollout = env.rollout(4)
        assert rollout.get(("next", "producer", "reward")).shape == (4, 3, 1)


def test_torchrl_multi_agent_ppo_learns_an_obvious_game():
    """A short TorchRL PPO run (examples/torchrl_ppo.py): reward per user rises.

    90% of users care only about feature 0; both producers there earn 0.45 per user, the
    untrained (centred) policy about 0.31.
    """
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(EXAMPLES))
    try:
        from torchrl_ppo import train
    finally:
        sys.path.remove(str(EXAMPLES))
    users = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rewards = train(users, iterations=8, seed=0)
    assert len(rewards) == 8 and np.isfinite(rewards).all()
    assert rewards[-1] > rewards[0] + 0.03


def test_rllib_example_says_how_to_install_it():
    """RLlib needs its own environment (Ray pins gymnasium); its example must say how."""
    text = (EXAMPLES / "rllib_ppo.py").read_text()
    assert "ParallelPettingZooEnv" in text and '".[rllib]"' in text


def test_rllib_trains_a_few_iterations():
    """Runs where the 'rllib' extra is installed (its own venv; see examples/rllib_ppo.py)."""
    pytest.importorskip("ray.rllib", reason="RLlib lives in its own venv (extra 'rllib')")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from rllib_ppo import main
    finally:
        sys.path.remove(str(EXAMPLES))
    returns = main(["--iterations", "2"])
    assert len(returns) == 2 and np.isfinite(returns).all()


def test_rllib_callback_puts_nash_conv_in_the_train_result():
    """Issue 23: RLlib's result carries the deterministic evaluation, equal to a direct
    call of agents.evaluate with the same module (runs in RLlib's venv)."""
    pytest.importorskip("ray.rllib", reason="RLlib lives in its own venv (extra 'rllib')")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from rllib_ppo import build, make_env
    finally:
        sys.path.remove(str(EXAMPLES))
    from agents.callbacks.rllib import NashConvCallback, RLModulePolicy
    from agents.evaluation import evaluate

    callback = NashConvCallback(make_env({}), episodes=3, max_cycles=10)
    algo = build(callbacks=callback)
    try:
        results = [algo.train() for _ in range(2)]
        for result in results:  # (RLlib calls a copy of the callback: read its results)
            assert 0 <= result["eval/nash_conv_per_user"] < np.inf
        env = make_env({}).par_env
        direct = evaluate(RLModulePolicy(algo.get_module("shared")), env.game,
                          range(10_000, 10_003), 10, action_type="signed", observe_id=True,
                          revision=env.params.revision)  # fmt: skip
        assert results[-1]["eval/nash_conv_per_user"] == float(direct.nash_conv_per_user.mean())
    finally:
        algo.stop()
