"""The learning statistics (experiments/stats.py) against values computed by hand."""

import numpy as np
import pandas as pd
import pytest

from experiments import stats


def test_iqm_is_the_mean_of_the_middle_half():
    scores = np.arange(1.0, 9.0).reshape(4, 2)  # 1..8: the middle half is 3, 4, 5, 6
    assert stats.iqm_of(scores) == pytest.approx(4.5)
    assert stats.iqm_of(np.array([[1.0], [2.0], [3.0], [100.0]])) == pytest.approx(2.5)


def test_probability_of_improvement_by_hand():
    x = np.array([[0.0, 1.0], [2.0, 1.0]])  # two runs, two tasks; lower is better
    y = np.array([[1.0, 1.0], [3.0, 0.0]])
    # task 0: pairs (0<1, 0<3, 2>1, 2<3) -> 3/4; task 1: (1=1 half, 1>0, 1=1 half, 1>0) -> 1/4
    assert stats._improvement(x, y) == pytest.approx((0.75 + 0.25) / 2)
    est = stats.probability_of_improvement(x, y, reps=200)
    assert est.low <= est.value <= est.high
    assert stats.probability_of_improvement(y * 0, y + 1).value == 1.0


def test_rates_and_degenerate_intervals():
    ones = np.ones((10, 3))
    assert stats.rate(ones) == (1.0, 1.0, 1.0)
    half = np.array([[1.0, 0.0]] * 10)  # task 0 always succeeds, task 1 never: no spread
    assert stats.rate(half) == (0.5, 0.5, 0.5)
    mixed = np.random.default_rng(0).integers(0, 2, size=(10, 9)).astype(float)
    est = stats.rate(mixed)
    assert est.low < est.value < est.high
    assert stats.rate(mixed, seed=0) == est  # the same seed, the same interval


def test_the_bootstrap_is_stratified_by_task():
    scores = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    draws = stats.resample(scores, np.random.default_rng(0), 500)
    assert set(np.unique(draws[:, :, 0])) <= {0.0, 1.0, 2.0}  # task 0 keeps its own runs
    assert set(np.unique(draws[:, :, 1])) <= {10.0, 11.0, 12.0}


def test_performance_profile_by_hand():
    scores = np.array([[0.0, 0.002], [0.01, 0.0]])
    values, low, high = stats.performance_profile(scores, [0.0, 0.001, 0.005, 0.1], reps=100)
    np.testing.assert_allclose(values, [0.5, 0.5, 0.75, 1.0])
    assert (low <= values).all() and (values <= high).all()


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match=r"scores must be a non-empty \(runs, tasks\) array"):
        stats.rate(np.ones(3))
    with pytest.raises(ValueError, match="scores must be finite"):
        stats.iqm(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="x and y must have the same tasks"):
        stats.probability_of_improvement(np.ones((2, 2)), np.ones((2, 3)))


def test_marl_eval_layout():
    table = pd.DataFrame(
        {
            "task": ["a"] * 4,
            "learner": ["ppo"] * 4,
            "seed": [0, 0, 1, 1],
            "step": [0, 10, 0, 10],
            "nash_conv_per_user": [0.2, 0.0, 0.3, 0.1],
        }
    )
    out = stats.marl_eval(table)
    run = out["recsys_eq"]["a"]["ppo"]["seed_1"]
    assert run["absolute_metrics"]["nash_conv_per_user"] == [0.1]
    assert run["step_1"] == {"nash_conv_per_user": [0.1], "step_count": [10]}
