"""BenchMARL on the engagement game (recsys_eq_env/benchmarl.py), in BenchMARL's own venv.

BenchMARL 1.5.2 pins torchrl<0.12, so these tests run where the ``benchmarl`` extra is
installed (its own venv, as RLlib's; the module's docs say how) and skip elsewhere; the study
file they share with the report is checked everywhere.
"""

import numpy as np
import pandas as pd
import pytest

from experiments.compare import load_study, units

TINY = """
dataset: synthetic-uniform
n_users: 200
embedding_seed: 13
dims: [3]
n_producers: [3]
serving:
  - {rule: linear}
seeds: 2
eval_episodes: 2
checkpoints: 2
reference_dynamics: false
learners:
  benchmarl_mappo: {timesteps_per_producer: 600, num_envs: 4, frames_per_batch: 200}
  benchmarl_ippo: {timesteps_per_producer: 600, num_envs: 4, frames_per_batch: 200}
"""


def test_the_benchmarl_study_reads_everywhere():
    study = load_study("compare-benchmarl")
    assert not study.reference_dynamics
    names = {u.learner for u in units(study)}
    assert names == {"benchmarl_mappo", "benchmarl_ippo", "benchmarl_iql"}  # no best_response
    assert study.dataset == load_study("compare").dataset  # the compare study's cells
    assert study.embedding_seed == load_study("compare").embedding_seed


def test_the_task_class_builds_a_checked_env():
    pytest.importorskip("benchmarl", reason="BenchMARL lives in its own venv (extra 'benchmarl')")
    from torchrl.envs.utils import check_env_specs

    from recsys_eq_env.benchmarl import EngagementTask

    task = EngagementTask.SOFTMAX.get_task({"n_producers": 4, "dim": 3, "n_users": 100})
    assert task.config["temperature"] == 1.0 and task.game.n_producers == 4
    for continuous in (False, True):
        env = task.get_env_fun(5, continuous, seed=0, device="cpu")()
        check_env_specs(env)  # TorchRL's own checker
        assert task.group_map(env) == {"producers": [f"producer_{i}" for i in range(4)]}
        assert task.max_steps(env) == 40
        spec = task.action_spec(env)[("producers", "action")]
        assert spec.shape == ((4, 3) if continuous else (4,))
    with pytest.raises(ValueError, match="unknown keys"):
        EngagementTask.LINEAR.get_task({"n_agents": 3})


def test_mappo_and_ippo_train_into_study_rows(tmp_path):
    pytest.importorskip("benchmarl", reason="BenchMARL lives in its own venv (extra 'benchmarl')")
    from experiments.compare import run_study

    path = tmp_path / "tiny-benchmarl.yaml"
    path.write_text(TINY)
    curves, ran = run_study(load_study(str(path)), tmp_path, progress=False, table="benchmarl")
    assert ran == 2 and (tmp_path / "benchmarl.parquet").exists()
    assert set(curves["learner"]) == {"benchmarl_mappo", "benchmarl_ippo"}
    assert set(curves["engine"]) == {"benchmarl"} and set(curves["feedback"]) == {"bandit"}
    for _, run in curves.groupby(["learner", "seed"]):
        # 600 timesteps per producer: 600 frames of 3 producers, checkpoints at 0, 300, 600
        assert run["step"].tolist() == [0, 900, 1800]
        assert np.isfinite(run["nash_conv_per_user"]).all()
    assert curves["seed"].nunique() == 2
    assert "benchmarl 1.5.2" in curves["versions"].iloc[0]
    pd.testing.assert_frame_equal(
        run_study(load_study(str(path)), tmp_path, progress=False, table="benchmarl")[0], curves
    )


def test_benchmarl_logs_nash_conv_with_the_callback_and_by_itself(tmp_path):
    """Issue 23: the task's infos reach BenchMARL's logger with no glue
    (``collection/producers/info/nash_conv_per_user``), and the callback logs the
    deterministic evaluation, equal to a direct call of agents.evaluate."""
    pytest.importorskip("benchmarl", reason="BenchMARL lives in its own venv (extra 'benchmarl')")
    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig

    from agents.callbacks.benchmarl import NashConvCallback
    from agents.evaluation import evaluate
    from recsys_eq_env.benchmarl import BenchmarlPolicy, EngagementTask

    task = EngagementTask.LINEAR.get_task({"n_producers": 3, "dim": 3, "n_users": 100})
    config = ExperimentConfig.get_from_yaml()
    config.max_n_frames, config.max_n_iters = 800, None
    config.on_policy_collected_frames_per_batch, config.on_policy_n_envs_per_worker = 200, 4
    config.on_policy_minibatch_size, config.on_policy_n_minibatch_iters = 100, 1
    config.evaluation, config.render, config.loggers = False, False, ["csv"]
    config.checkpoint_interval, config.checkpoint_at_end, config.create_json = 0, False, False
    config.prefer_continuous_actions, config.save_folder = False, str(tmp_path)
    callback = NashConvCallback(task, every=400, episodes=3, max_cycles=6)
    run = Experiment(task=task, algorithm_config=MappoConfig.get_from_yaml(),
                     model_config=MlpConfig.get_from_yaml(),
                     critic_model_config=MlpConfig.get_from_yaml(), seed=0, config=config,
                     callbacks=[callback])  # fmt: skip
    run.run()
    assert [frames for frames, _ in callback.history] == [400, 800]
    logged = {p.name for p in tmp_path.rglob("*.csv")}
    assert "collection_producers_info_nash_conv_per_user.csv" in logged
    assert "eval_nash_conv_per_user.csv" in logged
    direct = evaluate(BenchmarlPolicy(run.policy, 3), task.game, range(10_000, 10_003), 6,
                      action_type="discrete", observe_id=True, revision="one")  # fmt: skip
    assert callback.evaluate(800)["eval/nash_conv_per_user"] == float(
        direct.nash_conv_per_user.mean()
    )
