"""recsys-eq compare: every learner on a tiny study; curves, tables, figure, report section."""

import pandas as pd
import pytest

from experiments.cli import main
from experiments.compare import (
    LEARNERS,
    METRICS,
    cells,
    final_table,
    learner_summary,
    load_study,
    producer_steps,
    run_study,
)

pytestmark = pytest.mark.slow  # whole module: make test-fast skips it

PPO = """    timesteps_per_producer: 300
    num_envs: 4
    n_steps: 8
    minibatches: 2
    entropy: 0.0
    ppo: {learning_rate: 0.003, n_epochs: 2}"""
TINY = f"""
dataset: synthetic-uniform
n_users: 200
embedding_seed: 13
dims: [3]
n_producers: [4]
serving:
  - {{rule: softmax, temperature: 0.1}}
  - {{rule: linear}}
seeds: [0]
eval_episodes: 2
checkpoints: 2
learners:
  hedge: {{steps: 60, learning_rate: 10.0}}
  exponentiated_gradient: {{steps: 60, learning_rate: 50.0}}
  logit_response: {{steps_per_producer: 10, temperature: 0.01, final_temperature: 0.0001}}
  counterfactual_pg: {{timesteps_per_producer: 300, num_envs: 4, learning_rate: 0.003,
                      entropy: 0.02}}
  shared_ppo:
{PPO}
  independent_ppo:
{PPO}
  shared_ppo_signed:
{PPO}
  shared_ppo_myopic:
{PPO.replace("n_epochs: 2}", "n_epochs: 2, gamma: 0.0}")}
simultaneous:
  dims: [3]
  learners: [best_response, shared_ppo, shared_ppo_without_ids]
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny-study.yaml"
    path.write_text(TINY)
    return path


def test_study_logs_every_learner_and_resumes(tiny, tmp_path):
    study = load_study(str(tiny))
    curves, ran = run_study(study, tmp_path, n_jobs=1, progress=False)
    assert ran == 4 == len(cells(study))  # 2 cells, and 2 more for simultaneous revision
    main_block = curves[curves["revision"] == "one"]
    assert set(main_block["learner"]) == set(LEARNERS)
    assert set(curves[curves["revision"] == "simultaneous"]["learner"]) == {
        "best_response",
        "shared_ppo",
        "shared_ppo_without_ids",
    }
    for (_, learner), block in main_block.groupby(["key", "learner"]):
        assert block["step"].is_monotonic_increasing and block["step"].iloc[0] == 0
        assert len(block) >= 2 or learner == "best_response"  # (a start may be an equilibrium)
    for column in METRICS:
        assert curves[column].notna().all()
    best = main_block[main_block["learner"] == "best_response"].groupby("key").tail(1)
    assert (best["nash_conv_per_user"] <= 1e-6).all() and (best["tvd_to_best_response"] == 0).all()
    again, ran = run_study(study, tmp_path, n_jobs=1, progress=False)  # nothing left to run
    assert ran == 0
    pd.testing.assert_frame_equal(again, curves)
    assert len(final_table(curves)) == 2 * len(LEARNERS)
    summary = learner_summary(curves)
    assert summary.loc["hedge", "cells"] == 2
    assert summary.loc["best_response", "cells reached"] == 2


def test_a_changed_study_is_refused_or_recomputed(tiny, tmp_path):
    study = load_study(str(tiny))
    run_study(study, tmp_path, n_jobs=1, progress=False)
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        TINY.replace("steps: 60, learning_rate: 10.0", "steps: 30, learning_rate: 10.0")
    )
    with pytest.raises(ValueError, match=r"made with other settings.*--recompute"):
        run_study(load_study(str(changed)), tmp_path, n_jobs=1, progress=False)


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
    assert "Simultaneous revision: herding" in text
    assert "fig5_learning" in text
    assert "compare:" in capsys.readouterr().out


def test_budgets_in_revisions_grow_as_n_squared(tmp_path):
    """One revision applies per step, so R applied requests per producer take R * n steps of
    n producers each; a timesteps budget grows as n."""
    path = tmp_path / "revisions.yaml"
    path.write_text(TINY.replace("timesteps_per_producer: 300", "revisions_per_producer: 20"))
    study = load_study(str(path))
    assert study.learners["shared_ppo"]["revisions_per_producer"] == 20
    assert "timesteps_per_producer" not in study.learners["independent_ppo"]
    assert [producer_steps(study.learners["shared_ppo"], n) for n in (4, 10)] == [320, 2000]
    assert producer_steps({"timesteps_per_producer": 300}, 10) == 3000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("eval_episodes: 2", "eval_episodes: 0", "eval_episodes must be >= 1"),
        ("minibatches: 2", "minibatches: 2\n    epochs: 3", "has unknown key 'epochs'"),
        ("learners: [best_response", "learners: [hedge", r"learners\[0\] must be one of"),
        (
            "timesteps_per_producer: 300\n",
            "timesteps_per_producer: 300\n    revisions_per_producer: 20\n",
            r"shared_ppo needs exactly one of timesteps_per_producer or revisions_per_producer",
        ),
        (
            "{timesteps_per_producer: 300, ",
            "{",
            r"counterfactual_pg needs exactly one of .*got neither",
        ),
    ],
)
def test_bad_studies_name_the_key(tmp_path, old, new, message):
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace(old, new, 1))
    with pytest.raises(ValueError, match=message):
        load_study(str(path))


def _ppo_rows(study, cell):
    import dataclasses

    from experiments.compare import run_cell

    study = dataclasses.replace(study, learners={"shared_ppo": study.learners["shared_ppo"]})
    rows = pd.DataFrame(run_cell(cell, study))
    return rows[rows["learner"] == "shared_ppo"].reset_index(drop=True)


def test_a_cell_gives_the_same_rows_whatever_threads_the_process_has(tiny):
    """Issue 19: PPO rows depended on the threads torch and BLAS were given (joblib workers
    get cores // jobs). run_cell pins both to one, so a cell run twice under other thread
    counts gives identical rows, bit for bit."""
    import torch
    from threadpoolctl import threadpool_limits

    study = load_study(str(tiny))
    cell = [c for c in cells(study) if c.revision == "one"][1]
    before = torch.get_num_threads()
    runs = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            runs.append(_ppo_rows(study, cell).drop(columns=["seconds"]))
    torch.set_num_threads(before)
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    assert torch.get_num_threads() == before  # run_cell gives the threads back
    assert runs[0]["versions"].iloc[0].startswith("numpy ") and "torch" in runs[0]["versions"][0]


def test_a_committed_ppo_cell_reproduces_on_the_machine_that_made_it():
    """The committed study's cheapest cell (d = 5, n = 5, linear), shared PPO, rerun: the
    same rows bit for bit where the versions and processor recorded in the table are this
    process's (float rounding in torch's kernels depends on both; elsewhere the report shows
    how far results move)."""
    from pathlib import Path

    from experiments.compare import provenance

    table = pd.read_parquet(Path(__file__).parents[1] / "reproduction" / "compare.parquet")
    committed = table[(table["key"] == "5|5|linear|0") & (table["learner"] == "shared_ppo")]
    here = provenance()
    made = committed[["versions", "cpu"]].iloc[0].to_dict()
    if made != here:
        pytest.skip(f"the table was made with {made}, this process is {here}")
    study = load_study("compare")
    cell = next(c for c in cells(study) if c.key == "5|5|linear|0")
    rerun = _ppo_rows(study, cell)
    columns = ["step", *METRICS]
    pd.testing.assert_frame_equal(
        rerun[columns], committed[columns].reset_index(drop=True), check_exact=True
    )
