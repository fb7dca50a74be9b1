"""The benchmark's naive baseline does the same work as the fast core (else ratios mean nothing)."""

import json

import pytest

import recsys_eq_env as rq
from benchmarks.__main__ import main
from benchmarks.naive import naive_best_response_dynamics


@pytest.mark.parametrize(
    ("rule", "temperature"), [("softmax", 1.0), ("linear", 1.0), ("softmax", 0.1)]
)
def test_naive_baseline_makes_the_same_moves(rule, temperature):
    users = rq.synthetic_users("uniform", 300, 5, seed=2)
    game = rq.EngagementGame(users, 12, rule, temperature)
    for seed in range(3):
        fast = rq.best_response_dynamics(game, seed=seed)
        final, moves, converged = naive_best_response_dynamics(
            game.users, 12, rule, temperature, seed=seed
        )
        assert [list(m) for m in moves] == fast.moves.tolist()
        assert converged == fast.converged
        assert final.tolist() == fast.assignment.tolist()


@pytest.mark.slow
def test_quick_benchmark_prints_its_table(tmp_path, capsys):
    result = tmp_path / "b.json"
    assert main(["--quick", "--repeats", "1", "--steps", "50", "--json", str(result)]) == 0
    out = capsys.readouterr().out
    assert "| brd-2k-d10-n30-softmax1 |" in out and "| env-2k-d5-n10-discrete-one |" in out
    assert "| vector-2k-d5-n10-discrete-B32 |" in out
    rows = json.loads(result.read_text())
    dynamics, env, vector = rows
    assert dynamics["same_moves"] and dynamics["speed-up"] > 1 and dynamics["peak_mb"] > 10
    assert env["steps_per_s"] > env["naive_steps_per_s"] > 0
    assert vector["producer_steps_per_s"] > 0 and vector["ratio"] > 1


def _row(case, **numbers):
    return {"case": case, "kind": "env", "population": "synthetic uniform", **numbers}


def test_write_results_merges_by_case_and_regenerates_pages(tmp_path):
    from benchmarks.results import README_BEGIN, README_END, write_results

    paths = dict(
        json_path=tmp_path / "r.json", markdown=tmp_path / "R.md", readme=tmp_path / "README.md"
    )
    paths["readme"].write_text(f"intro\n{README_BEGIN}\nold\n{README_END}\noutro\n")
    name = "env-10k-d10-n20-discrete-simultaneous-noregrets"
    first = _row(name, steps_per_s=1500.0, naive_steps_per_s=100.0, **{"speed-up": 15.0})
    first["peak_mb"] = 60.0
    write_results([first], **paths)
    other = {**first, "case": "env-10k-d10-n20-discrete-one"}
    write_results([other], **paths)
    rows = json.loads(paths["json_path"].read_text())
    assert [r["case"] for r in rows] == [name, "env-10k-d10-n20-discrete-one"]  # CASES order
    assert all(r["measured"] and r["machine"] for r in rows)
    page = paths["markdown"].read_text()
    assert f"| {name} | 1,500 |" in page
    assert "steps_per_s 1,500.00 (target >= 2,000) NOT met" in page
    readme = paths["readme"].read_text()
    assert readme.startswith("intro\n") and readme.endswith("outro\n") and "old" not in readme
    assert "NOT met" in readme


def test_committed_results_are_what_the_pages_show():
    """benchmarks/RESULTS.md and the README's block are generated from results.json."""
    from benchmarks.results import (
        README,
        README_BEGIN,
        README_END,
        RESULTS_JSON,
        RESULTS_MD,
        readme_block,
        render_results,
    )

    rows = json.loads(RESULTS_JSON.read_text())
    assert RESULTS_MD.read_text() == render_results(rows)
    block = README.read_text().split(README_BEGIN, 1)[1].split(README_END, 1)[0]
    assert block.strip() == readme_block(rows).strip()
