"""The benchmark's naive baseline does the same work as the fast core (else ratios mean nothing)."""

import pytest

import recsys_eq_env as rq
from benchmarks.__main__ import QUICK, format_table, run_case
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


def test_quick_benchmark_runs():
    row = run_case(QUICK[0], repeats=1)
    assert row["speedup"] > 1 and row["iterations"] > 0
    assert "brd-2k" in format_table([row])
