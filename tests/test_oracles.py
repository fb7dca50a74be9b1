"""Closed-form oracles of MODEL.md section 2 and the invariants of the dynamics."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import recsys_eq_env as rq

from reference import brute_force_equilibria, dhondt, single_minded_users


@pytest.mark.parametrize("temperature", [0.05, 0.5, 1.0, 3.0])
def test_single_minded_closed_form(temperature):
    """A producer on j earns w_j e^{1/tau} / ((e^{1/tau} - 1) n_j + n) (MODEL.md section 2)."""
    weights = [7, 3, 5, 1]
    game = rq.EngagementGame(single_minded_users(weights), 6, "softmax", temperature)
    counts = np.array([2, 0, 3, 1])
    e = math.exp(1 / temperature)
    expected = [
        w * e / ((e - 1) * c + 6) if c else 0.0 for w, c in zip(weights, counts, strict=True)
    ]
    np.testing.assert_allclose(game.count_utilities(counts), expected, rtol=1e-13)


@pytest.mark.parametrize(
    ("weights", "n"),
    [([50, 30, 15, 5], 7), ([41, 29, 17, 9, 4], 10), ([13, 11, 7], 9), ([60, 25, 10, 5], 20)],
)
@pytest.mark.parametrize("rule", ["softmax", "hardmax"])
def test_small_temperature_gives_dhondt(weights, n, rule):
    """As tau -> 0 the equilibrium counts follow D'Hondt apportionment of n seats by w."""
    game = rq.EngagementGame(single_minded_users(weights), n, rule, 0.01)
    expected = dhondt(weights, n)
    for seed in range(5):
        result = rq.best_response_dynamics(game, seed=seed)
        assert result.converged
        assert result.counts.tolist() == expected.tolist()
    assert rq.pure_nash_equilibria(game).tolist() == [expected.tolist()]


@pytest.mark.parametrize(("weights", "n"), [([50, 30, 15, 5], 7), ([10, 9, 8], 12)])
def test_large_temperature_puts_everybody_on_argmax(weights, n):
    game = rq.EngagementGame(single_minded_users(weights), n, "softmax", 1000.0)
    for seed in range(5):
        result = rq.best_response_dynamics(game, seed=seed)
        assert result.converged
        assert result.counts.tolist() == [n] + [0] * (len(weights) - 1)


@given(
    w1=st.integers(1, 60),
    w2=st.integers(1, 60),
    n=st.integers(2, 12),
    temperature=st.floats(0.05, 20.0),
)
def test_two_feature_condition(w1, w2, n, temperature):
    """All on feature 1 is not an equilibrium iff w2 n e^{1/tau} > w1 (e^{1/tau} - 1 + n)."""
    w1, w2 = max(w1, w2), min(w1, w2)
    e = math.exp(1 / temperature)
    lhs, rhs = w2 * n * e, w1 * (e - 1 + n)
    assume(abs(lhs - rhs) > 1e-6 * rhs)  # away from the boundary, where tol decides
    game = rq.EngagementGame(single_minded_users([w1, w2]), n, "softmax", temperature)
    all_on_first = np.array([n, 0])
    assert game.count_is_nash(all_on_first) == (not lhs > rhs)


CELLS = [
    ("softmax", 1.0, None),
    ("softmax", 0.1, None),
    ("softmax", 0.01, None),
    ("linear", 1.0, None),
    ("hardmax", 1.0, None),
    ("topk_softmax", 0.5, 2),
]


@pytest.mark.parametrize(("rule", "temperature", "k"), CELLS)
def test_converged_runs_are_equilibria_and_enumerated(rule, temperature, k):
    for users_seed in range(4):
        users = rq.synthetic_users("uniform", 40, 3, seed=users_seed)
        game = rq.EngagementGame(users, 5, rule, temperature, k=k)
        equilibria = {tuple(c) for c in rq.pure_nash_equilibria(game).tolist()}
        for seed in range(6):
            result = rq.best_response_dynamics(game, seed=seed, max_iter=200)
            if result.converged:
                assert game.is_nash(result.profile)
                assert game.nash_conv(result.profile) == pytest.approx(0.0, abs=1e-9)
                assert tuple(result.counts.tolist()) in equilibria
            else:
                assert not game.is_nash(result.profile)


@pytest.mark.parametrize(
    ("rule", "temperature"), [("softmax", 1.0), ("linear", 1.0), ("softmax", 0.01)]
)
def test_enumeration_matches_brute_force(rule, temperature):
    """Count-vector enumeration equals a check of all dim**n profiles with the naive code."""
    users = rq.synthetic_users("uniform", 12, 3, seed=5)
    game = rq.EngagementGame(users, 3, rule, temperature)
    found = [tuple(c) for c in rq.pure_nash_equilibria(game).tolist()]
    assert found == brute_force_equilibria(users, 3, rule, temperature)


def test_no_pure_equilibrium_at_low_temperature():
    """tau = 0.01, 10 uniform users, 3 features, 2 producers (users seed 23): no pure NE.

    Found by searching small games; confirmed here by brute force over all 3^2 profiles with
    the naive code, and the dynamics cycle until max_iter.
    """
    users = rq.synthetic_users("uniform", 10, 3, seed=23)
    game = rq.EngagementGame(users, 2, "softmax", 0.01)
    assert rq.pure_nash_equilibria(game).shape == (0, 3)
    assert brute_force_equilibria(users, 2, "softmax", 0.01) == []
    result = rq.best_response_dynamics(game, seed=0, max_iter=50)
    assert not result.converged
    assert result.iterations == 50


def test_linear_best_response_over_simplex_is_a_vertex():
    """Under linear serving utility is convex in own content: no simplex point beats a vertex."""
    users = rq.synthetic_users("uniform", 200, 4, seed=1)
    game = rq.EngagementGame(users, 5, "linear")
    rng = np.random.default_rng(0)
    profile = np.eye(4)[rng.integers(0, 4, 5)]
    best_vertex = game.deviation_utilities(profile, 0).max()
    for point in rng.dirichlet(np.ones(4), 200):
        trial = profile.copy()
        trial[0] = point
        assert game.producer_utilities(trial)[0] <= best_vertex + 1e-12


def test_compositions_count_and_order():
    vectors = list(rq.compositions(4, 3))
    assert len(vectors) == math.comb(6, 2)
    assert all(v.sum() == 4 and (v >= 0).all() for v in vectors)
    assert [tuple(v) for v in vectors] == sorted(tuple(v) for v in vectors)
    assert len({tuple(v) for v in vectors}) == len(vectors)
