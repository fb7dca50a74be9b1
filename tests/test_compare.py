"""recsys-eq compare: every learner on a tiny study, many seeds; rows, leaderboard, figures,
report; the same seed gives the same rows; the committed leaderboard is generated from the
committed table."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import stats
from experiments.cli import main
from experiments.compare import (
    LEARNERS,
    METRICS,
    SUCCESS,
    improvement_matrix,
    leaderboard,
    load_study,
    producer_steps,
    run_scores,
    run_study,
    training_seeds,
    units,
)

ROOT = Path(__file__).parents[1]
PPO = """    timesteps_per_producer: 400
    num_envs: 4
    n_steps: 8
    minibatches: 2
    entropy: 0.0
    learning_rate: 0.003"""
SB3 = """    seeds: 1
    timesteps_per_producer: 400
    num_envs: 4"""
TINY = f"""
dataset: synthetic-uniform
n_users: 200
embedding_seed: 13
dims: [3]
n_producers: [4]
serving:
  - {{rule: softmax, temperature: 0.1}}
  - {{rule: linear}}
seeds: 2
eval_episodes: 2
checkpoints: 2
learners:
  hedge: {{steps: 60, learning_rate: 10.0}}
  exponentiated_gradient: {{steps: 60, learning_rate: 50.0}}
  logit_response: {{steps_per_producer: 10, temperature: 0.01, final_temperature: 0.0001}}
  counterfactual_pg: {{timesteps_per_producer: 400, num_envs: 4, learning_rate: 0.003,
                      entropy: 0.02}}
  shared_ppo:
{PPO}
  independent_ppo:
{PPO}
  shared_ppo_myopic:
{PPO}
    gamma: 0.0
    gae_lambda: 0.0
  sb3_ppo:
{SB3}
    n_steps: 8
    minibatches: 2
    entropy: 0.0
    sb3: {{learning_rate: 0.003, n_epochs: 2}}
  sb3_ppo_defaults:
{SB3}
  sb3_ppo_signed:
{SB3}
    n_steps: 8
    minibatches: 2
    entropy: 0.0
  sb3_a2c:
{SB3}
  sb3_dqn:
{SB3}
simultaneous:
  dims: [3]
  learners: [best_response, shared_ppo, shared_ppo_without_ids]
"""
TRAINED = [name for name in LEARNERS if not name.startswith(("benchmarl", "best_response"))]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny-study.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny study run once (every learner, 2 seeds; SB3 learners 1)."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny-study.yaml").write_text(TINY)
    study = load_study(str(folder / "tiny-study.yaml"))
    curves, ran = run_study(study, folder / "out", n_jobs=1, progress=False)
    return study, folder, curves, ran


# ---------------------------------------------------------------------- the study
@pytest.mark.slow
def test_every_learner_logs_every_seed_and_the_study_resumes(tiny_run):
    study, folder, curves, ran = tiny_run
    assert ran == len(units(study)) == 2 * 13 + 2 * 3  # (dynamics + 12 learners) x 2 cells + sim
    main_block = curves[curves["revision"] == "one"]
    assert set(main_block["learner"]) == {"best_response", *TRAINED} - {"shared_ppo_without_ids"}
    assert set(curves[curves["revision"] == "simultaneous"]["learner"]) == {
        "best_response", "shared_ppo", "shared_ppo_without_ids"}  # fmt: skip
    # one row per (cell, learner, seed, checkpoint); seeds as configured per learner
    assert not curves.duplicated(["key", "seed", "step"]).any()
    per = main_block.groupby(["learner", "key"])["seed"].nunique().groupby("learner").max()
    assert (per[[n for n in per.index if n.startswith("sb3")]] == 1).all()
    assert (per[[n for n in per.index if not n.startswith("sb3")]] == 2).all()
    for (_, _, learner), block in main_block.groupby(["key", "seed", "learner"]):
        assert block["step"].is_monotonic_increasing and block["step"].iloc[0] == 0
        assert len(block) >= 2 or learner == "best_response"
    for column in METRICS:
        assert curves[column].notna().all(), column
    # the JAX learners train every seed of a unit at once; each row names its engine
    engines = main_block.groupby("learner")["engine"].first()
    assert engines["shared_ppo"] == engines["counterfactual_pg"] == "jax"
    assert engines["sb3_dqn"] == "sb3" and engines["hedge"] == "numpy"
    best = main_block[main_block["learner"] == "best_response"].sort_values("step")
    best = best.groupby(["key", "seed"]).tail(1)
    assert (best["nash_conv_per_user"] <= 1e-6).all() and (best["tvd_to_best_response"] == 0).all()
    again, ran = run_study(study, folder / "out", n_jobs=1, progress=False)
    assert ran == 0
    pd.testing.assert_frame_equal(again, curves)


@pytest.mark.slow
def test_the_leaderboard_counts_runs_with_intervals(tiny_run):
    _, _, curves, _ = tiny_run
    board = leaderboard(curves, reps=200).set_index(["learner", "revision"])
    hedge = board.loc[("hedge", "one")]
    assert (hedge["cells"], hedge["seeds"], hedge["runs"]) == (2, 2, 4)
    assert hedge["reached_low"] <= hedge["reached"] <= hedge["reached_high"]
    assert board.loc[("best_response", "one"), "reached"] == 1.0
    scores, success, tasks = run_scores(curves, "shared_ppo")
    assert scores.shape == (2, 2) and len(tasks) == 2
    assert board.loc[("shared_ppo", "one"), "reached"] == pytest.approx(success.mean())
    assert ("shared_ppo_without_ids", "simultaneous") in board.index
    matrix = improvement_matrix(curves, ["hedge", "shared_ppo"], reps=100)
    a, b = matrix.loc["hedge", "shared_ppo"], matrix.loc["shared_ppo", "hedge"]
    assert a.value + b.value == pytest.approx(1.0)  # P(X < Y) + P(Y < X) + ties = 1


@pytest.mark.slow
def test_compare_command_writes_figures_report_and_marl_eval(tiny_run, capsys):
    import json

    _, folder, _, _ = tiny_run
    out = folder / "out"
    argv = ["compare", "--study", str(folder / "tiny-study.yaml"), "--out", str(out),
            "--jobs", "1", "--no-progress", "--marl-eval", str(folder / "marl.json")]  # fmt: skip
    assert main(argv) == 0  # every unit is done: only figures and the report
    for name in ("fig5_learning", "fig5b_leaderboard", "fig5c_full_information"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
    text = (out / "REPRODUCTION.md").read_text()
    assert "### Leaderboard" in text and "| hedge | full information | one | numpy |" in text
    assert "Probability of improvement" in text and "Targets (issue 22)" in text
    assert "fig5b_leaderboard" in text
    assert "# Leaderboard" in (out / "LEADERBOARD.md").read_text()
    data = json.loads((folder / "marl.json").read_text())["recsys_eq"]
    task = next(iter(data.values()))
    run = task["shared_ppo"][next(iter(task["shared_ppo"]))]
    assert "absolute_metrics" in run and "nash_conv_per_user" in run["step_0"]
    assert "compare:" in capsys.readouterr().out


@pytest.mark.slow
def test_a_changed_study_is_refused_or_recomputed(tiny, tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(TINY.split("  counterfactual_pg:")[0] + "\n")  # the NumPy learners only
    run_study(load_study(str(path)), tmp_path, n_jobs=1, progress=False)
    changed = tmp_path / "changed.yaml"
    changed.write_text(path.read_text().replace("steps: 60, learning_rate: 10.0", "steps: 30, "
                                                "learning_rate: 10.0"))  # fmt: skip
    with pytest.raises(ValueError, match=r"made with other settings.*--recompute"):
        run_study(load_study(str(changed)), tmp_path, n_jobs=1, progress=False)
    curves, ran = run_study(load_study(str(changed)), tmp_path, progress=False, recompute=True)
    assert ran > 0 and curves[curves["learner"] == "hedge"]["step"].max() == 30


def test_training_seeds_are_the_cells_and_shared_by_learners(tiny):
    study = load_study(str(tiny))
    by_unit = {u.key: training_seeds(u, 3) for u in units(study)}
    cells = {}
    for u in units(study):
        cells.setdefault(u.cell, set()).add(tuple(by_unit[u.key]))
    assert all(len(seeds) == 1 for seeds in cells.values())  # every learner, the same seeds
    firsts = [next(iter(s))[0] for s in cells.values()]
    assert len(set(firsts)) == len(firsts)  # other cells, other seeds
    assert training_seeds(units(study)[0], 2) == training_seeds(units(study)[0], 3)[:2]


def test_budgets_in_revisions_grow_as_n_squared(tmp_path):
    """One revision applies per step, so R applied requests per producer take R * n steps of
    n producers each; a timesteps budget grows as n."""
    path = tmp_path / "revisions.yaml"
    path.write_text(TINY.replace("timesteps_per_producer: 400", "revisions_per_producer: 20"))
    study = load_study(str(path))
    assert study.learners["shared_ppo"]["revisions_per_producer"] == 20
    assert "timesteps_per_producer" not in study.learners["independent_ppo"]
    assert [producer_steps(study.learners["shared_ppo"], n) for n in (4, 10)] == [320, 2000]
    assert producer_steps({"timesteps_per_producer": 300}, 10) == 3000


def test_packaged_studies_are_what_the_report_says():
    """The default study: 10 seeds, 12 cells with one revision per step (n = 20 left out, see
    compare.yaml) and 6 simultaneous; SB3's learners are compare-sb3's; BenchMARL's load."""
    study = load_study("compare")
    assert study.seeds >= 10
    cells = {(u.dim, u.n_producers, u.serving, u.revision) for u in units(study)}
    assert len(cells) == 18
    for name in ("counterfactual_pg", "shared_ppo", "independent_ppo", "hedge"):
        assert name in study.learners and study.seeds_of(name) == 10
    sb3 = load_study("compare-sb3")
    for name in ("sb3_ppo", "sb3_a2c", "sb3_dqn", "sb3_ppo_signed", "shared_ppo_myopic"):
        assert name in sb3.learners
    assert not sb3.reference_dynamics
    assert len(load_study("compare-benchmarl").learners) == 3
    load_study("compare-quick")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("eval_episodes: 2", "eval_episodes: 0", "eval_episodes must be >= 1"),
        ("seeds: 2\n", "seeds: 0\n", "seeds must be >= 1"),
        ("    learning_rate: 0.003", "    learning_rate: 0.003\n    clip: 3", "unknown key 'clip'"),
        ("learners: [best_response", "learners: [hedge", r"learners\[0\] must be one of"),
        (
            "timesteps_per_producer: 400\n",
            "timesteps_per_producer: 400\n    revisions_per_producer: 20\n",
            r"shared_ppo needs exactly one of timesteps_per_producer or revisions_per_producer",
        ),
        (
            "{timesteps_per_producer: 400, ",
            "{",
            r"counterfactual_pg needs exactly one of .*got neither",
        ),
        ("sb3: {learning_rate: 0.003, n_epochs: 2}", "sb3: [0.003]", "sb3 must be a mapping"),
        ("seeds: 2\n", "seeds: 2\nreference_dynamics: maybe\n", "must be true or false"),
    ],
)
def test_bad_studies_name_the_key(tmp_path, old, new, message):
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace(old, new, 1))
    with pytest.raises(ValueError, match=message):
        load_study(str(path))


# ---------------------------------------------------------------------- statistics by hand
def _curves(finals: dict) -> pd.DataFrame:
    """Study rows with given final nash_conv per (learner, cell): a list over seeds."""
    rows = []
    for (learner, task), values in finals.items():
        for i, value in enumerate(values):
            for step, v in ((0, 0.5), (10, value)):
                rows.append({"key": f"{task}|{learner}", "task": task, "learner": learner,
                             "revision": "one", "feedback": "bandit", "engine": "jax",
                             "seed": 100 + i, "seed_index": i, "step": step,
                             "step_unit": "producer-steps", "nash_conv_per_user": v,
                             "seconds": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_leaderboard_values_are_the_hand_computed_ones():
    finals = {("a", "c1"): [0.0, 0.0, 0.01, 0.0], ("a", "c2"): [0.0, 0.02, 0.03, 0.0]}
    board = leaderboard(_curves(finals), reps=500).iloc[0]
    assert board["runs"] == 8 and board["cells"] == 2 and board["seeds"] == 4
    assert board["reached"] == 5 / 8  # 5 of 8 runs at <= 1e-3
    # IQM: trim a quarter of 8 (2) from each end of the sorted scores, mean the middle 4
    middle = sorted([0.0, 0.0, 0.01, 0.0, 0.0, 0.02, 0.03, 0.0])[2:6]
    assert board["iqm"] == pytest.approx(np.mean(middle))
    assert board["reached_low"] < board["reached"] < board["reached_high"]
    # a stratified bootstrap: every cell keeps its runs, so a cell all-success stays so
    alone = leaderboard(_curves({("a", "c1"): [0.0] * 4, ("a", "c2"): [1.0] * 4}), reps=200)
    assert (alone.iloc[0][["reached", "reached_low", "reached_high"]] == 0.5).all()
    assert SUCCESS == 1e-3


def test_probability_of_improvement_by_hand():
    x = np.array([[0.0], [1.0]])  # two runs on one task
    y = np.array([[0.5], [0.5]])
    # pairs: (0 < .5) yes twice, (1 < .5) no twice: P = 2 / 4
    assert stats.probability_of_improvement(x, y, reps=50).value == 0.5
    assert stats.probability_of_improvement(x, x, reps=50).value == 0.5  # ties count half


# ---------------------------------------------------------------------- determinism
def _unit_rows(study, learner, cell_index=1):
    import dataclasses

    from experiments.compare import run_unit

    study = dataclasses.replace(study, learners={learner: study.learners[learner]})
    unit = [u for u in units(study) if u.revision == "one" and u.learner == learner][cell_index]
    return pd.DataFrame(run_unit(unit, study)).drop(columns=["seconds"])


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["shared_ppo", "sb3_ppo"])
def test_a_unit_gives_the_same_rows_whatever_threads_the_process_has(tiny, learner):
    """Learners amplify float rounding into other policies, so run_unit pins the threads of
    torch, BLAS and XLA: a unit run twice under other outer thread counts gives identical
    rows, bit for bit."""
    import torch
    from threadpoolctl import threadpool_limits

    study = load_study(str(tiny))
    before = torch.get_num_threads()
    runs = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            runs.append(_unit_rows(study, learner))
    torch.set_num_threads(before)
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    assert torch.get_num_threads() == before  # run_unit gives the threads back
    assert runs[0]["versions"].iloc[0].startswith("numpy ") and "jax" in runs[0]["versions"][0]


def _committed() -> pd.DataFrame:
    return pd.read_parquet(ROOT / "reproduction" / "compare.parquet")


@pytest.mark.slow
@pytest.mark.parametrize("learner", ["shared_ppo", "counterfactual_pg"])
def test_a_committed_unit_reproduces_on_the_machine_that_made_it(learner):
    """The committed study's cheapest cell (d = 5, n = 5, linear), rerun: every seed's rows
    bit for bit where the versions and processor recorded in the table are this process's
    (rounding in the kernels depends on both)."""
    from experiments.compare import provenance

    key = f"5|5|linear|{learner}"
    committed = _committed()
    committed = committed[committed["key"] == key].reset_index(drop=True)
    here = provenance()
    made = committed[["versions", "cpu"]].iloc[0].to_dict()
    if made != {k: here[k] for k in made}:
        pytest.skip(f"the table was made with {made}, this process is {here}")
    study = load_study("compare")
    index = [u.key for u in units(study) if u.learner == learner].index(key)
    rerun = _unit_rows(study, learner, index)
    columns = ["seed", "step", *METRICS]
    assert committed["seed"].nunique() == study.seeds_of(learner)

    def by_run(frame):  # the table is sorted by its store's key order, the rerun as logged
        return frame[columns].sort_values(["seed", "step"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(by_run(rerun), by_run(committed), check_exact=True)


def test_the_committed_leaderboard_is_generated_from_the_committed_tables():
    """REPRODUCTION.md's learning section, LEADERBOARD.md and the README's learning line are
    what the generator makes of reproduction/*.parquet now: every number comes from them."""
    from experiments.report import README_BEGIN, README_END, _read
    from experiments.report_learning import (
        leaderboard_page,
        learning_section,
        readme_line,
        study_rows,
    )

    folder = ROOT / "reproduction"
    tables = _read(folder)
    rows = study_rows(tables)
    assert rows is not None and rows["seed"].nunique() >= 10
    section = "\n".join(learning_section(rows, tables.get("sweep"))).strip()
    assert section in (folder / "REPRODUCTION.md").read_text()
    assert (folder / "LEADERBOARD.md").read_text().strip() == leaderboard_page(rows).strip()
    readme = (ROOT / "README.md").read_text().split(README_BEGIN, 1)[1].split(README_END)[0]
    assert readme_line(rows) in readme
