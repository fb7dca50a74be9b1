"""The vector env in RL libraries: SB3's VecEnv (no SuperSuit) and a TorchRL EnvBase."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import recsys_eq_env as rq

torch.set_num_threads(1)
USERS = rq.synthetic_users("uniform", 200, 3, seed=0)
OBVIOUS = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("action_type", ["discrete", "signed"])
def test_sb3_vec_env_passes_sb3_checks_and_trains_with_a_seed(action_type):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import is_wrapped
    from stable_baselines3.common.vec_env import VecCheckNan, VecMonitor

    from recsys_eq_env.wrappers.sb3 import SB3VecEnv, sb3_vec_env

    def make():
        venv = sb3_vec_env(
            4, users=USERS, n_producers=3, action_type=action_type, observe_id=True, max_cycles=5
        )
        return VecMonitor(VecCheckNan(venv, raise_exception=True))

    env = make()
    assert env.num_envs == 12 and not is_wrapped(env, SB3VecEnv)
    obs = env.reset()
    assert obs.shape == (12, env.observation_space.shape[0])
    assert all(env.observation_space.contains(o) for o in obs)
    actions = np.array([env.action_space.sample() for _ in range(12)])
    for _ in range(5):
        obs, rewards, dones, infos = env.step(actions)
    assert dones.all() and rewards.dtype == np.float32  # 5 steps: every game truncated
    assert all("terminal_observation" in i and i["TimeLimit.truncated"] for i in infos)
    assert all("episode" in i for i in infos)  # VecMonitor saw 12 episodes end
    params = []
    for _ in range(2):  # PPO(seed=...) works and is reproducible
        model = PPO("MlpPolicy", make(), n_steps=8, batch_size=32, seed=7, verbose=0)
        model.learn(192)
        params.append(torch.nn.utils.parameters_to_vector(model.policy.parameters()))
    torch.testing.assert_close(params[0], params[1])


def test_sb3_vec_env_refuses_a_vector_env_that_does_not_reset_in_the_same_step():
    from recsys_eq_env.wrappers.sb3 import SB3VecEnv

    with pytest.raises(ValueError, match="must reset finished games in the same step"):
        SB3VecEnv(rq.vector_env(2, users=USERS, n_producers=3))


@pytest.mark.parametrize("action_type", ["discrete", "signed", "simplex"])
def test_torchrl_env_passes_check_env_specs(action_type):
    from torchrl.envs.utils import check_env_specs

    from recsys_eq_env.wrappers.torchrl import torchrl_env

    env = torchrl_env(4, users=USERS, n_producers=3, action_type=action_type, max_cycles=5)
    assert env.batch_size == torch.Size([4])
    check_env_specs(env)
    rollout = env.rollout(12, break_when_any_done=False)  # partial resets through "_reset"
    assert rollout.get(("next", "producers", "reward")).shape == (4, 12, 3, 1)
    assert int(rollout.get(("next", "done")).sum()) == 8  # every game ended twice


def test_torchrl_env_seeds_like_the_vector_env():
    from recsys_eq_env.wrappers.torchrl import torchrl_env

    env = torchrl_env(3, users=USERS, n_producers=3, action_type="discrete")
    env.set_seed(5)
    first = env.reset().get(("producers", "observation")).numpy()
    venv = rq.vector_env(3, users=USERS, n_producers=3, action_type="discrete")
    np.testing.assert_array_equal(first, venv.reset(seed=5)[0])


@pytest.mark.slow
def test_torchrl_multi_agent_ppo_learns_on_the_batched_env():
    """examples/torchrl_ppo.py on 90% of users on feature 0: both producers there earn 0.45
    per user at equilibrium; random producers about 0.39."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        from torchrl_ppo import train
    finally:
        sys.path.remove(str(EXAMPLES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rewards = train(OBVIOUS, iterations=6, seed=0)
    assert len(rewards) == 6 and np.isfinite(rewards).all()
    assert rewards[0] < 0.42 and rewards[-1] > 0.445


def test_action_masks_for_pettingzoo_and_sb3_contrib():
    """Issue 21: every feature is always legal; PettingZoo's TerminateIllegalWrapper reads the
    env's infos["action_mask"], sb3-contrib's MaskablePPO one mask per SB3 entry."""
    from pettingzoo.utils.conversions import parallel_to_aec
    from pettingzoo.utils.wrappers import TerminateIllegalWrapper

    users = rq.synthetic_users("uniform", 80, 3, seed=0)
    aec = TerminateIllegalWrapper(
        parallel_to_aec(rq.parallel_env(users=users, n_producers=3, action_type="discrete")),
        illegal_reward=-1,
    )
    aec.reset(seed=0)
    for _ in aec.agent_iter(max_iter=12):
        _, _, term, trunc, info = aec.last()
        np.testing.assert_array_equal(info["action_mask"], [1, 1, 1])
        aec.step(None if term or trunc else 1)
    assert not any(aec.terminations.values())  # no move was illegal

    sb3_contrib = pytest.importorskip("sb3_contrib")
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    venv = sb3_vec_env(
        2,
        users=users,
        n_producers=3,
        action_type="discrete",
        observe_id=True,
        revision="one",
        max_cycles=5,
        info_regrets=False,
    )
    from sb3_contrib.common.maskable.utils import get_action_masks

    assert get_action_masks(venv).shape == (6, 3)
    model = sb3_contrib.MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=48, seed=0)
    model.learn(96)
    action, _ = model.predict(venv.reset(), action_masks=get_action_masks(venv))
    assert action.shape == (6,)
