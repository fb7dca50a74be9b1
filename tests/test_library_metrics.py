"""Issue 23: the benchmark's metric where MARL researchers work.

The adapters carry the vector env's infos per entry (SB3's list of dicts, Gymnasium's dict of
arrays, TorchRL's ``("producers", "info")``), equal to the vector env's own arrays; every
Gymnasium vector wrapper runs on the per-producer adapter in all three autoreset modes; the
callbacks log the deterministic evaluation in each library's own logger and agree with a
direct call of :func:`agents.evaluate`.
"""

import csv
import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import recsys_eq_env as rq

torch.set_num_threads(1)
USERS = rq.synthetic_users("uniform", 120, 3, seed=0)
SETTINGS = dict(users=USERS, n_producers=3, action_type="discrete", observe_id=True, max_cycles=4)


def _twin_steps(venv, adapter_step, steps=9, seed=3):
    """Step the adapter and a twin vector env with the same actions; yield both results."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        actions = rng.integers(0, venv.dim, size=(venv.num_envs, venv.n_producers))
        yield actions, adapter_step(actions), venv.step(actions)


# ---------------------------------------------------------------------- SB3
def test_sb3_entries_carry_the_step_infos_of_their_game_and_producer():
    pytest.importorskip("stable_baselines3")
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    env = sb3_vec_env(2, **SETTINGS, info_deviations=True)
    twin = rq.vector_env(2, **SETTINGS, info_deviations=True, autoreset_mode="SameStep")
    env.seed(1)
    env.reset()
    twin.reset(seed=1)

    def step(actions):
        env.step_async(actions.reshape(-1))
        return env.step_wait()

    ends = 0
    for _, (_, _, dones, entries), (_, _, term, trunc, infos) in _twin_steps(twin, step):
        step_infos = infos.get("final_info", infos)  # the finished games' last step
        ends += int(dones.sum())
        for b in range(2):
            for i in range(3):
                entry = entries[b * 3 + i]
                assert entry["utility"] == step_infos["utility"][b, i]
                assert entry["regret"] == step_infos["regret"][b, i]
                assert entry["nash_conv"] == step_infos["nash_conv"][b]
                assert entry["nash_conv_per_user"] == pytest.approx(
                    step_infos["nash_conv"][b] / USERS.shape[0], rel=1e-15
                )
                np.testing.assert_array_equal(
                    entry["deviation_rewards"], step_infos["deviation_rewards"][b, i]
                )
                assert ("terminal_observation" in entry) == bool(term[b] or trunc[b])
    assert ends == 12  # max_cycles 4, 9 steps: every game ended twice, its entries with it
    bare = sb3_vec_env(2, **SETTINGS)
    bare.__init__(bare.venv, infos=False)
    bare.reset()
    bare.step_async(np.zeros(6, dtype=np.int64))
    assert bare.step_wait()[3] == [{}] * 6
    with pytest.raises(TypeError, match="infos must be True or False"):
        type(bare)(bare.venv, infos="yes")


def test_sb3_callback_logs_nash_conv_in_sb3s_logger(tmp_path):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import A2C
    from stable_baselines3.common.logger import configure

    from agents import evaluation
    from agents.callbacks import Evaluator
    from agents.callbacks.sb3 import NashConvCallback
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    env = sb3_vec_env(4, **SETTINGS, revision="one")
    model = A2C("MlpPolicy", env, n_steps=5, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    callback = NashConvCallback(env, every=120, episodes=4, max_cycles=6)
    model.learn(480, callback=callback)
    rows = list(csv.DictReader(open(tmp_path / "progress.csv")))
    logged = [float(r["eval/nash_conv_per_user"]) for r in rows if r["eval/nash_conv_per_user"]]
    assert len(callback.history) == 4 and len(logged) >= 3  # every 120 timesteps, and the end
    assert [m["eval/nash_conv_per_user"] for _, m in callback.history][-len(logged) :] == logged
    assert all("rollout/nash_conv_per_user" in m for _, m in callback.history)
    direct = evaluation.evaluate(
        model, env.venv.game, range(10_000, 10_004), 6,
        action_type="discrete", observe_id=True, revision="one",
    )  # fmt: skip
    assert callback.history[-1][1]["eval/nash_conv_per_user"] == float(
        direct.nash_conv_per_user.mean()
    )
    assert Evaluator.of(env).env_kwargs["revision"] == "one"
    with pytest.raises(ValueError, match="exactly one of them"):
        NashConvCallback()
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        NashConvCallback(env, every=0)
    with pytest.raises(TypeError, match=r"found no \.params"):
        Evaluator.of(object())


# ---------------------------------------------------------------------- TorchRL
def test_torchrl_infos_equal_the_vector_env_and_name_the_group():
    from torchrl.envs.utils import check_env_specs

    from recsys_eq_env.wrappers.torchrl import torchrl_env

    env = torchrl_env(3, **SETTINGS, info_deviations=True)
    assert env.n_agents == 3 and env.group_map == {"producers": ["producer_0", "producer_1",
                                                                 "producer_2"]}  # fmt: skip
    check_env_specs(env)
    env.set_seed(4)
    rollout = env.rollout(3, break_when_any_done=False)
    info = rollout.get(("next", "producers", "info"))
    assert set(info.keys()) == {"utility", "regret", "nash_conv", "nash_conv_per_user",
                                "deviation_rewards"}  # fmt: skip
    twin = rq.vector_env(3, **SETTINGS, info_deviations=True, autoreset_mode="Disabled")
    twin.reset(seed=4)
    actions = rollout.get(("producers", "action")).numpy()
    for t in range(3):
        _, rewards, _, _, infos = twin.step(actions[:, t])
        np.testing.assert_allclose(
            rollout.get(("next", "producers", "reward"))[:, t, :, 0].numpy(), rewards, rtol=1e-6
        )
        np.testing.assert_allclose(info["utility"][:, t].numpy(), infos["utility"], rtol=1e-6)
        np.testing.assert_allclose(
            info["nash_conv_per_user"][:, t].numpy(),
            np.repeat(infos["nash_conv"][:, None], 3, axis=1) / USERS.shape[0],
            rtol=1e-6,
        )
        np.testing.assert_allclose(
            info["deviation_rewards"][:, t].numpy(), infos["deviation_rewards"], rtol=1e-6
        )
    plain = torchrl_env(2, **{**SETTINGS, "info_regrets": False})
    assert set(plain.observation_spec["producers", "info"].keys()) == {"utility"}


def test_torchrl_hook_logs_a_collector_loop():
    from tensordict.nn import TensorDictModule
    from torchrl import collectors
    from torchrl.modules import MultiAgentMLP, ProbabilisticActor

    from agents.callbacks.torchrl import NashConvHook
    from recsys_eq_env.wrappers.torchrl import torchrl_env

    env = torchrl_env(4, **SETTINGS, revision="one")
    obs_dim = env.observation_spec["producers", "observation"].shape[-1]
    net = MultiAgentMLP(obs_dim, 3, n_agents=3, centralised=False, share_params=True,
                        depth=1, num_cells=16)  # fmt: skip
    module = TensorDictModule(net, in_keys=[("producers", "observation")],
                              out_keys=[("producers", "logits")])  # fmt: skip
    policy = ProbabilisticActor(
        module, in_keys={"logits": ("producers", "logits")}, out_keys=[("producers", "action")],
        distribution_class=torch.distributions.Categorical, spec=env.full_action_spec,
        return_log_prob=False,
    )  # fmt: skip
    hook = NashConvHook(env, policy, every=16, episodes=3, max_cycles=5)
    # torchrl 0.14 calls it Collector, 0.11 (BenchMARL's venv) SyncDataCollector
    make = getattr(collectors, "Collector", None) or collectors.SyncDataCollector
    collector = make(env, policy, frames_per_batch=8, total_frames=40)
    logged = [hook(batch) for batch in collector]
    collector.shutdown()
    assert all("rollout/nash_conv_per_user" in m for m in logged)
    assert sum("eval/nash_conv_per_user" in m for m in logged) == 2  # at 16 and 32 frames
    assert len(hook.history) == 2 and hook.frames == 40

    class Trainer:  # the one method of torchrl.trainers.Trainer the hook uses
        def register_op(self, dest, op):
            self.ops = (dest, op)

    assert hook.register(Trainer()) is hook


# ---------------------------------------------------------------------- Gymnasium
def _wrappers():
    from gymnasium.wrappers import vector as vw

    return {
        "RecordEpisodeStatistics": vw.RecordEpisodeStatistics,
        "NormalizeReward": vw.NormalizeReward,
        "ClipReward": lambda env: vw.ClipReward(env, 0.0, 0.2),
        "TransformReward": lambda env: vw.TransformReward(env, lambda r: 2 * r),
        "NormalizeObservation": vw.NormalizeObservation,
        "ClipObservation": lambda env: vw.TransformObservation(env, lambda o: np.clip(o, 0, 1)),
        "DtypeObservation": lambda env: vw.DtypeObservation(env, np.float64),
        "FlattenObservation": vw.FlattenObservation,
        "RescaleObservation": lambda env: vw.RescaleObservation(env, -1.0, 1.0),
        "DictInfoToList": vw.DictInfoToList,
    }


def _gymnasium_accepts(wrap, mode) -> bool:
    """Whether the wrapper takes Gymnasium's own SyncVectorEnv in this autoreset mode (some
    refuse SAME_STEP or all but NEXT_STEP, by Gymnasium's design)."""
    reference = gymnasium.vector.SyncVectorEnv(
        [lambda: gymnasium.make("MountainCar-v0")] * 2, autoreset_mode=mode
    )
    try:
        wrap(reference)
    except ValueError as error:
        assert "autoreset_mode" in str(error)
        return False
    finally:
        reference.close()
    return True


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_every_gymnasium_vector_wrapper_runs_on_the_producer_adapter(mode):
    """Every wrapper Gymnasium's own SyncVectorEnv takes in a mode runs on the adapter."""
    from recsys_eq_env.wrappers.gymnasium import ProducerVectorEnv

    accepted = 0
    for name, wrap in _wrappers().items():
        if not _gymnasium_accepts(wrap, mode):
            with pytest.raises(ValueError, match="autoreset_mode"):  # refused alike
                wrap(ProducerVectorEnv(rq.vector_env(2, **SETTINGS, autoreset_mode=mode)))
            continue
        accepted += 1
        venv = rq.vector_env(2, **SETTINGS, autoreset_mode=mode)
        env = wrap(ProducerVectorEnv(venv))
        obs, info = env.reset(seed=0)
        assert len(obs) == 6, name
        finished = np.zeros(6, dtype=bool)
        for _ in range(9):
            if mode == AutoresetMode.DISABLED and finished.any():
                obs, info = env.reset(seed=1)
                finished[:] = False
            obs, rewards, term, trunc, info = env.step(env.action_space.sample())
            finished |= term | trunc
            assert rewards.shape == (6,) and np.isfinite(rewards).all(), name
        if name == "RecordEpisodeStatistics":
            assert len(env.return_queue) >= 6  # every entry's episodes were counted
        if name == "DictInfoToList":
            assert isinstance(info, list) and "nash_conv_per_user" in info[0]
        env.close()
    assert accepted >= {AutoresetMode.NEXT_STEP: 10, AutoresetMode.SAME_STEP: 4,
                        AutoresetMode.DISABLED: 8}[mode]  # fmt: skip


def test_the_producer_adapter_is_the_vector_env_entry_by_entry():
    from recsys_eq_env.wrappers.gymnasium import ProducerVectorEnv

    env = ProducerVectorEnv(rq.vector_env(2, **SETTINGS, autoreset_mode="SameStep"))
    twin = rq.vector_env(2, **SETTINGS, autoreset_mode="SameStep")
    obs, _ = env.reset(seed=2)
    np.testing.assert_array_equal(obs, twin.reset(seed=2)[0].reshape(6, -1))
    finals = 0
    for _, (obs, rewards, term, _, info), (tobs, trew, tterm, _, tinfo) in _twin_steps(
        twin, lambda a: env.step(a.reshape(-1))
    ):
        np.testing.assert_array_equal(obs, tobs.reshape(6, -1))
        np.testing.assert_array_equal(rewards, trew.reshape(-1))
        np.testing.assert_array_equal(term, np.repeat(tterm, 3))
        np.testing.assert_array_equal(info["utility"], tinfo["utility"].reshape(-1))
        if "final_obs" in tinfo:
            for entry in np.flatnonzero(info["_final_obs"]):
                b, i = divmod(entry, 3)
                np.testing.assert_array_equal(info["final_obs"][entry], tinfo["final_obs"][b, i])
                assert info["final_info"]["nash_conv"][entry] == tinfo["final_info"]["nash_conv"][b]
                finals += 1
    assert finals == 12
    with pytest.raises(ValueError, match="one action per entry"):
        env.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError, match="venv must be a VectorEngagementEnv"):
        ProducerVectorEnv(rq.parallel_env(**SETTINGS))


def test_gymnasium_make_vec_builds_it():
    env = gymnasium.make_vec("recsys_eq/Producers-v0", num_envs=6, n_producers=3, dim=3,
                             n_users=50, action_type="discrete", max_cycles=3)  # fmt: skip
    assert env.num_envs == 6 and env.unwrapped.games == 2
    assert env.spec.id == "recsys_eq/Producers-v0"
    env.reset(seed=0)
    assert env.step(env.action_space.sample())[1].shape == (6,)
    with pytest.raises(ValueError, match="must be a multiple of n_producers"):
        gymnasium.make_vec("recsys_eq/Producers-v0", num_envs=5, n_producers=3)


def test_a_cleanrl_style_loop_trains_on_the_adapter():
    """A CleanRL-style policy-gradient loop (one shared categorical policy, Gymnasium's
    RecordEpisodeStatistics, next-step autoreset handled by masking the reset step) on 90% of
    users on feature 0: both producers end there (0.45 per user each)."""
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    from recsys_eq_env.wrappers.gymnasium import ProducerVectorEnv

    users = np.array([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10)
    env = RecordEpisodeStatistics(ProducerVectorEnv(rq.vector_env(
        8, users=users, n_producers=2, action_type="discrete", observe_id=True, max_cycles=4,
        info_regrets=False)))  # fmt: skip
    torch.manual_seed(0)
    size = env.single_observation_space.shape[0]
    policy = torch.nn.Sequential(torch.nn.Linear(size, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    optimiser = torch.optim.Adam(policy.parameters(), lr=0.05)
    obs, _ = env.reset(seed=0)
    for _ in range(30):
        logps, rewards = [], []
        for _ in range(4):
            dist = torch.distributions.Categorical(logits=policy(torch.as_tensor(obs)))
            action = dist.sample()
            obs, reward, _, _, _ = env.step(action.numpy())
            logps.append(dist.log_prob(action))
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
        reward = torch.stack(rewards)
        loss = -((reward - reward.mean()) * torch.stack(logps)).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        greedy = policy(torch.as_tensor(obs)).argmax(-1)
    assert (greedy == 0).all()
    assert len(env.return_queue) >= 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env.close()
