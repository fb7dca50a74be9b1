"""Experiments: same rows from rollouts and the core, resumable tables, workers don't matter."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import TINY

from experiments.cli import main
from experiments.config import expand, load_config, serving_order
from experiments.grid import run_grid
from experiments.store import ResultStore


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def run(config_path, out, experiment="exp2", engine="rollout", jobs=1):
    config = load_config(str(config_path))
    return run_grid(
        expand(config, experiment),
        ResultStore(out, experiment),
        engine=engine,
        n_jobs=jobs,
        progress=False,
    ).table


def test_paper_grid_is_the_papers():
    config = load_config("paper")
    assert config.dims == (5, 10, 15, 20)
    assert config.n_producers == (2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
    assert config.embedding_seeds == (13, 17, 19, 23, 29)
    # exp1 as the authors ran it: 40 runs on embedding seed 17, 10 on each other seed
    assert len(expand(config, "exp1")) == 2 * 4 * 12 * 2 * (40 + 4 * 10)
    assert len(expand(config, "exp2")) == 2 * 4 * 12 * 5 * 6
    assert config.generator == "paper"  # synthetic users: the authors' instances
    assert {s.generator for s in expand(config, "exp2")} == {"paper"}
    variants = expand(config, "variants")  # top-k with k = 5 needs n >= 5
    assert {s.serving for s in variants} == {
        "softmax@1",
        "topk_softmax@1,k=5",
        "linear",
        "uniform",
        "hardmax",
    }
    assert not [s for s in variants if s.k is not None and s.n_producers < s.k]
    labels = [s.label for s in config.experiments["exp2"].serving]
    assert serving_order(labels) == [
        "softmax@0.01",
        "softmax@0.1",
        "softmax@1",
        "softmax@10",
        "softmax@100",
        "linear",
    ]


def test_run_seeds_depend_only_on_the_cell_and_run(tiny):
    specs = expand(load_config(str(tiny)), "exp1")
    seeds = [s.seed for s in specs]
    assert len(set(seeds)) == len(seeds)
    assert [s.seed for s in reversed(specs)] == seeds[::-1]
    other = load_config(str(tiny))
    assert [s.seed for s in expand(other, "exp1")] == seeds


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["exp1", "exp2"])
def test_rollout_and_direct_engines_give_the_same_rows(tiny, tmp_path, experiment):
    rollout = run(tiny, tmp_path / "rollout", experiment, engine="rollout")
    direct = run(tiny, tmp_path / "direct", experiment, engine="direct")
    assert set(rollout["engine"]) == {"rollout"} and set(direct["engine"]) == {"direct"}
    settings = ["engine", "fingerprint"]  # the rows record which engine made them
    pd.testing.assert_frame_equal(rollout.drop(columns=settings), direct.drop(columns=settings))
    assert len(rollout) == len(expand(load_config(str(tiny)), experiment))


@pytest.mark.slow
def test_serial_equals_parallel(tiny, tmp_path):
    serial = run(tiny, tmp_path / "serial", "exp1", engine="direct", jobs=1)
    parallel = run(tiny, tmp_path / "parallel", "exp1", engine="direct", jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_rows_hold_the_papers_quantities_and_more(tiny, tmp_path):
    table = run(tiny, tmp_path, "exp2")
    for column in (
        "iterations",
        "converged",
        "producer_dist",
        "user_dist",
        "counts",
        "producer_utility_total",
        "producer_utility_mean",
        "producer_utility_min",
        "producer_utility_max",
        "user_utility_total",
        "user_utility_mean",
        "user_utility_min",
        "user_utility_max",
        "nash_conv",
        "features_occupied",
        "tvd",
        "hhi",
    ):
        assert column in table.columns
    row = table.iloc[0]
    assert sum(row["counts"]) == row["n_producers"]
    assert np.isclose(sum(row["producer_dist"]), 1) and np.isclose(sum(row["user_dist"]), 1)
    assert np.isclose(row["producer_utility_total"], row["user_utility_total"])
    converged = table[table["converged"]]
    assert (converged["nash_conv"] <= 1e-9 * converged["producer_utility_max"]).all()
    assert table["key"].is_unique


def test_rerun_of_a_finished_grid_changes_nothing(tiny, tmp_path):
    first = run(tiny, tmp_path, "exp2")
    summary = run_grid(
        expand(load_config(str(tiny)), "exp2"), ResultStore(tmp_path, "exp2"), progress=False
    )
    assert summary.new == 0 and summary.resumed == len(first)
    pd.testing.assert_frame_equal(summary.table, first)


SLOW = TINY.replace("n_users: 400", "n_users: 3000").replace(
    "runs_per_cell: 3", "runs_per_cell: 40"
)


@pytest.mark.slow
def test_killed_grid_resumes_without_losing_or_duplicating(tmp_path):
    """SIGKILL mid-grid, run the same command again: the table equals an uninterrupted run."""
    config = tmp_path / "slow.yaml"
    config.write_text(SLOW)
    out = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "exp1",
        "--config",
        str(config),
        "--out",
        str(out),
        "--engine",
        "direct",
        "--jobs",
        "1",
        "--no-progress",
        "--flush-seconds",
        "0",
    ]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = out / "exp1.parts"
    deadline = time.monotonic() + 120
    while len(list(parts.glob("part-*.parquet"))) < 20:  # every finished run is a part
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no results appeared"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = ResultStore(out, "exp1").finished_keys()
    total = len(expand(load_config(str(config)), "exp1"))
    assert 0 < len(saved) < total, "the grid should have been killed midway"
    assert not (out / "exp1.parquet").exists()

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert f"{total - len(saved)} new, {len(saved)} resumed" in resumed.stdout
    uninterrupted = run(config, tmp_path / "clean", "exp1", engine="direct")
    final = pd.read_parquet(out / "exp1.parquet")
    assert final["key"].is_unique and len(final) == total
    pd.testing.assert_frame_equal(final, uninterrupted)


def test_interrupt_flushes_finished_runs(tiny, tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM) keeps every run that finished before it."""
    import experiments.grid as grid

    real = grid.run_one
    calls = []

    def flaky(spec, engine):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(spec.key)
        return real(spec, engine)

    monkeypatch.setattr(grid, "run_one", flaky)
    specs = expand(load_config(str(tiny)), "exp2")
    with pytest.raises(KeyboardInterrupt):  # only the final flush can save them
        run_grid(
            specs,
            ResultStore(tmp_path, "exp2"),
            engine="direct",
            n_jobs=1,
            progress=False,
            flush_seconds=1e9,
        )
    assert ResultStore(tmp_path, "exp2").finished_keys() == set(calls)


@pytest.mark.slow
def test_cli_reproduce_plot_and_report(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            ["reproduce", "--config", str(tiny), "--out", str(out), "--no-progress", "--jobs", "1"]
        )
        == 0
    )
    text = (out / "REPRODUCTION.md").read_text()
    for heading in (
        "Populations: the authors' instances",
        "Iterations to equilibrium (exp1), every cell",
        "Equilibria (exp2), every cell",
        "Where we and the authors disagree",
        "Specialisation and utilities",
        "did not converge",
        "Structural result",
        "Figures",
    ):
        assert heading in text
    for name in ("comparison_exp1.csv", "comparison_exp2.csv", "disagreements.csv"):
        assert (out / name).exists()
    names = ["fig1_iterations"] + [
        f"{fig}_{dataset}"
        for fig in (
            "fig2_distributions",
            "fig2b_distributions_seed_mean",
            "fig3_utilities",
            "fig4_specialization",
        )
        for dataset in ("synthetic-skewed", "synthetic-uniform")
    ]
    for name in names:
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
        assert (out / "figures" / f"{name}.pdf").exists()
        assert f"figures/{name}.png" in text
    assert (out / "certify.parquet").exists()
    assert "exp1:" in capsys.readouterr().out
    record = json.loads((out / "report.json").read_text())
    assert (
        "exp1 (iterations to equilibrium) [synthetic-uniform, synthetic-skewed]" in record["stages"]
    )
    assert record["commands"] and record["commands"][-1].startswith("recsys-eq reproduce")


REAL = """
n_users: 400
max_iter: 100
base_seed: 7
datasets: [movielens-100k]
dims: [3]
n_producers: [5, 20]
embedding_seeds: [13]
exp1:
  runs_per_cell: 2
  serving: [{rule: softmax, temperature: 1.0}]
exp2:
  runs_per_cell: 1
  serving: [{rule: softmax, temperature: 0.1}, {rule: linear}]
certify:
  datasets: [synthetic-uniform]
  n_users: 200
  dims: [3]
  n_producers: [4]
  embedding_seeds: [13]
  starts: 3
"""


@pytest.mark.slow
def test_real_dataset_through_the_cli(tmp_path, monkeypatch, capsys):
    """MovieLens from ../shared/data: one NMF embedding, cached, then the grid on it."""
    from helpers import shared_file as shared

    data = shared("ml-100k", "u.data").parents[1]
    monkeypatch.setenv("RECSYS_EQ_CACHE", str(tmp_path / "cache"))
    config = tmp_path / "real.yaml"
    config.write_text(REAL)
    out = tmp_path / "out"
    args = [
        "--config",
        str(config),
        "--out",
        str(out),
        "--data-home",
        str(data),
        "--no-progress",
        "--jobs",
        "1",
    ]
    assert main(["exp2", *args]) == 0
    assert "embeddings: 1 computed" in capsys.readouterr().out
    table = pd.read_parquet(out / "exp2.parquet")
    assert set(table["dataset"]) == {"movielens-100k"} and len(table) == 4
    assert (table["n_users"] == 943).all()
    assert list((tmp_path / "cache").rglob("nmf_dim3_seed13.npz"))
    assert main(["exp1", *args]) == 0  # same embedding: read from the cache
    assert "embeddings:" not in capsys.readouterr().out

    # A grid that needs one cached and one new embedding computes only the new one.
    from experiments import populations

    computed = []
    monkeypatch.setattr(populations, "_embed", lambda *key: computed.append(key))
    monkeypatch.setenv("RECSYS_EQ_DATA", str(data))
    specs = expand(load_config(str(config)), "exp2")
    wider = specs + [replace(s, dim=4) for s in specs]
    assert populations.prepare(wider, n_jobs=1, progress=False) == 1
    assert computed == [("movielens-100k", 4, 13)]


@pytest.mark.slow
def test_plot_reads_tables_and_never_recomputes(tiny, tmp_path, monkeypatch):
    run(tiny, tmp_path, "exp1", engine="direct")
    run(tiny, tmp_path, "exp2", engine="direct")
    import recsys_eq_env

    def forbidden(*args, **kwargs):
        raise AssertionError("plot must not run the dynamics")

    monkeypatch.setattr(recsys_eq_env, "best_response_dynamics", forbidden)
    monkeypatch.setattr("experiments.runner.run_one", forbidden)
    assert main(["plot", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "figures" / "fig1_iterations.png").exists()


def test_cli_errors(tmp_path, capsys):
    assert main(["plot", "--out", str(tmp_path / "nothing")]) == 2
    assert "no results table" in capsys.readouterr().err
    assert main(["exp1", "--quick", "--dataset", "netflix", "--out", str(tmp_path)]) == 2
    assert "--dataset must be among" in capsys.readouterr().err
    assert main(["exp1", "--config", "nope", "--out", str(tmp_path)]) == 2
    assert "config must be 'paper', 'quick' or a .yaml file" in capsys.readouterr().err
