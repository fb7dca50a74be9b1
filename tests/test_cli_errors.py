"""Every user error of the command line: exit code 2, one line naming the path or flag, no
traceback; the output folder is checked before any work; configs are read strictly."""

import errno
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY

from experiments import grid
from experiments.cli import main
from experiments.config import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _variant(tmp_path, old, new):
    path = tmp_path / "variant.yaml"
    text = TINY.replace(old, new)
    assert text != TINY, old
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("dims: [3, 5]", "dims: [3, 5]\ndimz: [4]", "has unknown key 'dimz'"),
        ("dims: [3, 5]", "dims: [3.7]", r"dims\[0\] must be an integer, got 3.7"),
        ("dims: [3, 5]", "dims: [3, 3]", "dims lists 3 twice"),
        ("dims: [3, 5]", "dims: []", "dims must be a non-empty list"),
        ("runs_per_cell: 3", "runs_per_cell: 0", "exp1.runs_per_cell must be >= 1, got 0"),
        ("max_iter: 60", "max_iter: 0", "max_iter must be >= 1, got 0"),
        ("n_users: 400\n", "", "n_users is missing"),
        ("  starts: 4", "  starts: 4\n  strats: 2", "certify has unknown key 'strats'"),
        (
            "- {rule: softmax, temperature: 1.0}\n    - {rule: linear}",
            "- {rule: softmax}\n    - {rule: linear}",
            r"exp1.serving\[0\].temperature is required for rule softmax",
        ),
        (
            "- {rule: linear}\nexp2",
            "- {rule: linear, temperature: 2}\nexp2",
            r"exp1.serving\[1\].temperature is only used by softmax",
        ),
        (
            "datasets: [synthetic-uniform, synthetic-skewed]",
            "datasets: [netflix]",
            r"datasets\[0\] must be one of synthetic-uniform",
        ),
        ("base_seed: 7", "base_seed: [7", "is not valid YAML"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, old, new, message):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ValueError, match=message) as info:
        load_config(str(path))
    assert str(path) in str(info.value)


def test_config_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config file missing\.yaml not found"):
        load_config("missing.yaml")
    with pytest.raises(ValueError, match="is a directory, not a YAML file"):
        load_config(str(tmp_path))


def _run(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.slow
def test_grid_flag_and_path_errors(tiny, tmp_path, capsys, monkeypatch):
    base = ["exp1", "--config", str(tiny), "--no-progress"]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert f"--out {a_file} is a file" in _run([*base, "--out", str(a_file)], capsys)
    out = ["--out", str(tmp_path / "out")]
    err = _run([*base, *out, "--flush-seconds", "nan"], capsys)
    assert "--flush-seconds must be a finite number >= 0, got nan" in err
    assert "--jobs must be >= 1, got 0" in _run([*base, *out, "--jobs", "0"], capsys)
    err = _run([*base, *out, "--scheduler", "tcp://127.0.0.1:1"], capsys)
    assert "--scheduler needs --backend dask" in err
    err = _run(["exp1", "--config", "missing.yaml", *out], capsys)
    assert "config file missing.yaml not found" in err
    assert "is a directory" in _run(["exp1", "--config", str(tmp_path), *out], capsys)
    bad = _variant(tmp_path, "base_seed: 7", "base_seed: [7")
    assert "is not valid YAML" in _run(["exp1", "--config", str(bad), *out], capsys)
    err = _run([*base, *out, "--data-home", str(tmp_path / "nowhere")], capsys)
    assert "--data-home" in err and "is not a folder" in err
    monkeypatch.setattr(grid, "SCHEDULER_TIMEOUT", "1s")
    err = _run([*base, *out, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"], capsys)
    assert "could not reach the Dask scheduler at tcp://127.0.0.1:1" in err


@pytest.mark.slow
def test_unwritable_out_and_full_disk_are_one_line(tiny, tmp_path, capsys, monkeypatch):
    """(Root ignores permission bits, so the operating system's errors are injected.)"""
    real = Path.write_bytes

    def denied(self, data):
        if self.name.startswith(".write-test"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", denied)
    out = tmp_path / "readonly"
    err = _run(["exp1", "--config", str(tiny), "--out", str(out), "--no-progress"], capsys)
    assert f"--out {out} is not writable: Permission denied" in err
    monkeypatch.undo()

    import pandas as pd

    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    err = _run(["exp2", "--config", str(tiny), "--out", str(tmp_path / "o"), "--jobs", "1",
                "--no-progress"], capsys)  # fmt: skip
    assert "no space left on the device writing" in err
    assert "the runs finished so far are saved; free some space and run the same command" in err


def test_certify_checks_out_before_computing(tiny, tmp_path, capsys, monkeypatch):
    import experiments.certify as certify

    monkeypatch.setattr(certify, "run_certify", lambda *a, **k: pytest.fail("computed first"))
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    err = _run(["certify", "--config", str(tiny), "--out", str(a_file)], capsys)
    assert "is a file" in err


def test_compare_given_an_experiment_config(tiny, tmp_path, capsys):
    err = _run(["compare", "--study", str(tiny), "--out", str(tmp_path)], capsys)
    assert "is an experiment grid (it has exp1), not a learning study" in err


def test_no_traceback_from_the_installed_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "exp1", "--config", "missing.yaml",
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "recsys-eq exp1: error: config file missing.yaml not found"


def test_jobs_zero_is_refused_by_every_command(capsys):
    for command in ("welfare", "compare", "exp1", "certify"):
        assert "--jobs must be >= 1, got 0" in _run([command, "--jobs", "0"], capsys)


@pytest.mark.slow
def test_a_forged_part_is_refused_not_taken_for_finished(tiny, tmp_path, capsys):
    """Issue 20: a part with a valid key and fingerprint but iterations 999 was accepted."""
    import pandas as pd

    out = tmp_path / "out"
    assert main(["exp1", "--config", str(tiny), "--out", str(out), "--no-progress",
                 "--jobs", "1"]) == 0  # fmt: skip
    table = pd.read_parquet(out / "exp1.parquet")
    forged = table.iloc[[0]].assign(iterations=999)
    (out / "exp1.parts").mkdir(exist_ok=True)
    forged.to_parquet(out / "exp1.parts" / "part-99999999999999999999-forged00.parquet")
    err = _run(["exp1", "--config", str(tiny), "--out", str(out), "--no-progress"], capsys)
    assert "part-99999999999999999999-forged00.parquet holds a row no run of 'exp1' can " in err
    assert "iterations 999 outside 0..max_iter=60" in err


def test_report_on_a_table_of_another_schema_names_the_file(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame({"serving": ["linear"], "equilibria": [1]}).to_parquet(
        tmp_path / "welfare.parquet"
    )
    err = _run(["report", "--out", str(tmp_path)], capsys)
    assert f"{tmp_path / 'welfare.parquet'} lacks the columns certified_equilibria" in err
    assert "rerun `recsys-eq welfare` into that folder with --recompute" in err


@pytest.mark.slow
def test_a_grid_with_one_embedding_seed_reproduces(tmp_path, capsys):
    """Issue 20: a grid without the authors' seed 17 failed in the figures ("Number of rows
    must be a positive integer, not 0"); they now plot the grid's own seed."""
    path = tmp_path / "one-seed.yaml"
    path.write_text(
        TINY.replace("embedding_seeds: [13, 17]", "embedding_seeds: [13]").replace(
            "  embedding_seeds: [17]\n", ""
        )
    )
    out = tmp_path / "out"
    code = main(["reproduce", "--config", str(path), "--out", str(out), "--no-progress",
                 "--jobs", "1"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert (out / "figures" / "fig1_iterations.png").exists()
    assert (out / "REPRODUCTION.md").exists()


def test_a_programming_error_keeps_its_traceback(monkeypatch, tmp_path):
    """Only user errors (ValueError, OSError) become one-line messages: a TypeError inside a
    command is a bug and must surface as one, not as 'error: ...'."""
    import experiments.cli_analysis as commands

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr("experiments.scenarios.run_scenarios", broken)
    assert commands.run_scenarios_cmd  # the command imports run_scenarios when it runs
    with pytest.raises(TypeError, match=re.escape("unsupported operand")):
        main(["scenarios", "--out", str(tmp_path), "--no-progress"])
