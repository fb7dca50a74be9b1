"""recsys-eq compare: every learner on a tiny study; curves, table, figure, report section."""

import pandas as pd
import pytest

from experiments.cli import main
from experiments.compare import LEARNERS, METRICS, cells, final_table, load_study, run_study

TINY = """
dataset: synthetic-uniform
n_users: 200
embedding_seed: 13
dims: [3]
n_producers: [4]
serving:
  - {rule: softmax, temperature: 0.1}
  - {rule: linear}
seeds: [0]
checkpoints: 3
learners:
  hedge: {steps: 60, learning_rate: 10.0}
  exponentiated_gradient: {steps: 60, learning_rate: 50.0}
  shared_ppo:
    timesteps: 480
    episode_length: 6
    ppo: {n_steps: 30, batch_size: 60, learning_rate: 0.003, gamma: 0.9, n_epochs: 2}
  independent_ppo:
    timesteps: 60
    episode_length: 6
    ppo: {n_steps: 30, batch_size: 15, learning_rate: 0.003, gamma: 0.9, n_epochs: 2}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny-study.yaml"
    path.write_text(TINY)
    return path


def test_study_logs_every_learner_and_resumes(tiny, tmp_path):
    study = load_study(str(tiny))
    curves, ran = run_study(study, tmp_path, n_jobs=1, progress=False)
    assert ran == 2
    assert set(curves["learner"]) == set(LEARNERS)
    assert curves["key"].nunique() == len(cells(study)) == 2
    for _, block in curves.groupby(["key", "learner"]):
        assert block["step"].is_monotonic_increasing and block["step"].iloc[0] == 0
        assert len(block) >= 2
    for column in METRICS:
        assert curves[column].notna().all()
    best = curves[curves["learner"] == "best_response"].groupby("key").tail(1)
    assert (best["nash_conv_per_user"] <= 1e-6).all() and (best["tvd_to_best_response"] == 0).all()
    again, ran = run_study(study, tmp_path, n_jobs=1, progress=False)  # nothing left to run
    assert ran == 0
    pd.testing.assert_frame_equal(again, curves)
    final = final_table(curves)
    assert len(final) == 2 * len(LEARNERS)


def test_compare_command_writes_figure_and_report(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["compare", "--study", str(tiny), "--out", str(out), "--jobs", "1", "--no-progress"])
        == 0
    )
    assert (out / "figures" / "fig5_learning.png").stat().st_size > 10_000
    text = (out / "REPRODUCTION.md").read_text()
    assert "Learning producers vs best-response dynamics" in text
    assert "**hedge**" in text and "**shared_ppo**" in text
    assert "fig5_learning" in text
    assert "compare:" in capsys.readouterr().out
