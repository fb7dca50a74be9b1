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
