"""Hypothesis property tests of the serving rules and utilities (MODEL.md sections 1 and 5)."""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import recsys_eq_env as rq

RULES = ["softmax", "linear", "topk_softmax", "uniform", "hardmax"]


TEMPERATURES = st.sampled_from([1e-4, 0.01, 0.3, 1.0, 10.0, 1e4])


@st.composite
def games(draw, rules=RULES, temperatures=TEMPERATURES):
    n_users = draw(st.integers(1, 6))
    dim = draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    users = draw(
        arrays(np.float64, (n_users, dim), elements=st.floats(0, 1, allow_subnormal=False))
    )
    users[users.sum(axis=1) == 0, 0] = 1.0  # every user needs some mass
    rule = draw(st.sampled_from(rules))
    k = draw(st.integers(1, n)) if rule == "topk_softmax" else None
    temperature = draw(temperatures)
    utility = draw(st.sampled_from(["engagement", "exposure"]))
    return rq.EngagementGame(users, n, rule, temperature, utility, k)


@st.composite
def profiles(draw, game, basis=None):
    n, dim = game.n_producers, game.dim
    if basis is None:
        basis = draw(st.booleans())
    if basis:
        assignment = draw(st.lists(st.integers(0, dim - 1), min_size=n, max_size=n))
        return np.eye(dim)[assignment]
    raw = draw(arrays(np.float64, (n, dim), elements=st.floats(0.01, 1)))
    return raw / raw.sum(axis=1, keepdims=True)


@given(st.data())
def test_rows_sum_to_one_and_are_finite(data):
    game = data.draw(games())
    profile = data.draw(profiles(game))
    p = game.serving_probabilities(profile)
    assert np.isfinite(p).all()
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


@given(st.data())
def test_producer_engagement_sums_to_user_utility(data):
    game = data.draw(games())
    assume(game.utility == "engagement")
    profile = data.draw(profiles(game))
    total_producers = game.producer_utilities(profile).sum()
    total_users = game.user_utilities(profile).sum()
    np.testing.assert_allclose(total_producers, total_users, rtol=1e-12, atol=1e-15)


@given(st.data())
def test_relabelling_producers_permutes_utilities(data):
    game = data.draw(games())
    profile = data.draw(profiles(game))
    perm = data.draw(st.permutations(range(game.n_producers)))
    before = game.producer_utilities(profile)
    after = game.producer_utilities(profile[perm])
    np.testing.assert_allclose(after, before[perm], rtol=1e-12, atol=1e-15)


@given(st.data())
def test_deviation_at_own_feature_is_current_utility(data):
    game = data.draw(games())
    profile = data.draw(profiles(game, basis=True))
    i = data.draw(st.integers(0, game.n_producers - 1))
    own = int(profile[i].argmax())
    utilities = game.producer_utilities(profile)
    np.testing.assert_allclose(
        game.deviation_utilities(profile, i)[own], utilities[i], rtol=1e-12, atol=1e-15
    )
    # the count-vector path (basis profiles) agrees with the general serving-probability path
    scores = game.users @ profile.T
    p = game.serving_probabilities(profile)
    direct = (p * scores).sum(0) if game.utility == "engagement" else p.sum(0)
    np.testing.assert_allclose(utilities, direct, rtol=1e-12, atol=1e-15)


@given(st.data())
def test_regrets_are_non_negative_and_zero_at_equilibria(data):
    game = data.draw(games(rules=["softmax", "linear", "hardmax", "uniform"]))
    profile = data.draw(profiles(game))
    regrets = game.regrets(profile)
    assert (regrets >= 0).all() and np.isfinite(regrets).all()
    basis = game.regrets(profile, deviations="basis")
    if game.rule != "hardmax":  # searching the simplex never finds less than its vertices
        simplex = game.regrets(profile, deviations="simplex")
        assert (simplex >= basis - 1e-12 * max(1.0, game.producer_utilities(profile).max())).all()
    for counts in rq.pure_nash_equilibria(game):  # equilibria of the basis-vector game
        eq = rq.profile_from_assignment(np.repeat(np.arange(game.dim), counts), game.dim)
        assert game.is_nash(eq, deviations="basis")
        scale = max(1.0, game.producer_utilities(eq).max())  # each of n regrets within tol
        assert game.nash_conv(eq, deviations="basis") <= 1e-9 * scale * game.n_producers


@given(st.data())
def test_softmax_approaches_hardmax_as_temperature_falls(data):
    game = data.draw(games(rules=["softmax"]))
    profile = data.draw(profiles(game))
    scores = game.users @ profile.T
    gaps = scores.max(axis=1, keepdims=True) - scores
    gap = gaps[gaps > 1e-9].min() if (gaps > 1e-9).any() else 1.0
    assume(((gaps == 0) | (gaps > 1e-9)).all())  # ties are exact or clearly apart
    cold = rq.EngagementGame(game.users, game.n_producers, "softmax", 1e-4)
    hard = rq.EngagementGame(game.users, game.n_producers, "hardmax")
    bound = game.n_producers * np.exp(-gap / 1e-4) + 1e-12
    np.testing.assert_allclose(
        cold.serving_probabilities(profile), hard.serving_probabilities(profile), atol=bound
    )


@given(st.data())
def test_softmax_approaches_uniform_as_temperature_rises(data):
    game = data.draw(games(rules=["softmax"]))
    profile = data.draw(profiles(game))
    hot = rq.EngagementGame(game.users, game.n_producers, "softmax", 1e6)
    # |exp(x / tau) / sum - 1/n| <= (e^{1/tau} - 1) <= 2 / tau for scores in [0, 1]
    np.testing.assert_allclose(
        hot.serving_probabilities(profile), 1.0 / game.n_producers, atol=2e-6
    )


@given(st.data())
def test_tiny_temperatures_stay_finite(data):
    game = data.draw(games(rules=["softmax", "topk_softmax"], temperatures=st.just(1e-4)))
    profile = data.draw(profiles(game))
    for values in (
        game.serving_probabilities(profile),
        game.producer_utilities(profile),
        game.regrets(profile),
        game.deviation_utilities(profile, 0),
    ):
        assert np.isfinite(values).all()
