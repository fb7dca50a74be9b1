"""Bad input gets a ValueError/TypeError naming the argument (MODEL.md section 5)."""

import numpy as np
import pytest

import recsys_eq_env as rq

U = rq.synthetic_users("uniform", 20, 3, seed=0)


@pytest.mark.parametrize(
    ("users", "error", "message"),
    [
        ([[0.5, -0.1, 0.6]], ValueError, "users has negative entries"),
        ([[0.5, np.nan, 0.5]], ValueError, "users contains NaN"),
        ([[0.5, np.inf, 0.5]], ValueError, "users contains inf"),
        ([[0.5, 0.5], [0.0, 0.0]], ValueError, "users row 1 is all zeros"),
        ([0.5, 0.5], ValueError, "users must be a 2-D array"),
        (np.zeros((0, 3)), ValueError, "users must have at least one row"),
        ([["a", "b"]], TypeError, "users must be a numeric array"),
    ],
)
def test_bad_users(users, error, message):
    with pytest.raises(error, match=message):
        rq.EngagementGame(users, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(temperature=0.0), ValueError, "temperature must be a finite number > 0, got 0.0"),
        (dict(temperature=-1), ValueError, "temperature must be a finite number > 0"),
        (dict(temperature=float("nan")), ValueError, "temperature must be a finite number"),
        (dict(temperature=float("inf")), ValueError, "temperature must be a finite number"),
        (dict(temperature="1"), TypeError, "temperature must be a real number"),
        (dict(n_producers=0), ValueError, "n_producers must be >= 1, got 0"),
        (dict(n_producers=2.5), TypeError, "n_producers must be an integer"),
        (dict(rule="softmaxx"), ValueError, "rule must be one of softmax, linear"),
        (dict(utility="clicks"), ValueError, "utility must be one of engagement, exposure"),
        (dict(rule="topk_softmax"), ValueError, "k is required for rule='topk_softmax'"),
        (dict(rule="topk_softmax", k=0), ValueError, r"k must be in 1..n_producers=4, got 0"),
        (dict(rule="topk_softmax", k=5), ValueError, r"k must be in 1..n_producers=4, got 5"),
        (dict(rule="softmax", k=2), ValueError, "k is only used by rule='topk_softmax'"),
    ],
)
def test_bad_game_parameters(kwargs, error, message):
    params = dict(n_producers=4)
    params.update(kwargs)
    with pytest.raises(error, match=message):
        rq.EngagementGame(U, **params)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (np.ones((2, 3)) / 3, r"profile must have shape \(n_producers, dim\) = \(3, 3\)"),
        (np.full((3, 3), 0.5), "profile row 0 sums to 1.5; content vectors must have unit L1"),
        (np.array([[1.0, 0, 0], [0, 1.0, 0], [np.nan, 0, 1.0]]), "profile contains NaN"),
        (np.array([[1.5, -0.5, 0], [0, 1.0, 0], [0, 0, 1.0]]), "profile has negative entries"),
    ],
)
def test_bad_profiles(profile, message):
    game = rq.EngagementGame(U, 3)
    with pytest.raises(ValueError, match=message):
        game.producer_utilities(profile)


def test_bad_producer_index_and_counts():
    game = rq.EngagementGame(U, 3)
    profile = np.eye(3)
    with pytest.raises(ValueError, match=r"i must be a producer index in 0..2, got 3"):
        game.deviation_utilities(profile, 3)
    with pytest.raises(ValueError, match="counts must sum to n_producers=3, got 2"):
        game.deviation_table([1, 1, 0])
    with pytest.raises(ValueError, match=r"counts must have shape \(3,\)"):
        game.deviation_table([1, 1, 1, 0])
    with pytest.raises(ValueError, match="counts must be >= 0"):
        game.deviation_table([4, -1, 0])


def test_bad_dynamics_arguments():
    game = rq.EngagementGame(U, 3)
    with pytest.raises(ValueError, match="max_iter must be >= 0, got -1"):
        rq.best_response_dynamics(game, max_iter=-1)
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        rq.best_response_dynamics(game, tol=-1e-9)
    with pytest.raises(ValueError, match=r"initial must hold features in 0..2"):
        rq.best_response_dynamics(game, initial=np.array([0, 1, 3]))
    with pytest.raises(TypeError, match="game must be an EngagementGame"):
        rq.best_response_dynamics(U)
    with pytest.raises(ValueError, match=r"game has 10 count vectors .* more than max_profiles=5"):
        rq.pure_nash_equilibria(game, max_profiles=5)


@pytest.mark.parametrize(
    ("kind", "kwargs", "error", "message"),
    [
        ("gaussian", {}, ValueError, "kind must be one of uniform, skewed, sparse"),
        ("uniform", dict(n_users=0), ValueError, "n_users must be >= 1, got 0"),
        ("uniform", dict(dim=0), ValueError, "dim must be >= 1, got 0"),
        ("sparse", dict(sparsity=1.0), ValueError, r"sparsity must be in \[0, 1\), got 1.0"),
        ("sparse", dict(base="zipf"), ValueError, "base must be one of uniform, skewed"),
    ],
)
def test_bad_synthetic_users(kind, kwargs, error, message):
    with pytest.raises(error, match=message):
        rq.synthetic_users(kind, **{"n_users": 10, "dim": 3, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(action_type="box"), "action_type must be one of simplex, signed, discrete"),
        (dict(revision="async"), "revision must be one of simultaneous, one"),
        (dict(observation="pixels"), "observation must be one of aggregate, full"),
        (dict(init="zeros"), "init must be one of basis, simplex"),
        (dict(reward_scale="log"), "reward_scale must be one of per_user, raw"),
        (dict(max_steps=0), "max_steps must be >= 1, got 0"),
        (dict(render_mode="human"), "render_mode must be one of"),
        (dict(game=rq.EngagementGame(U, 2)), "pass either game or users"),
        (
            dict(terminate_at_equilibrium=True, info_regrets=False),
            "terminate_at_equilibrium=True needs info_regrets=True",
        ),
    ],
)
def test_bad_env_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rq.parallel_env(users=U, n_producers=2, **kwargs)


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (
            np.array([0.5, 0.5], dtype=np.float32),
            ValueError,
            r"action of producer_0 must have shape \(3,\), got \(2,\)",
        ),
        (np.array([np.nan, 0.5, 0.5]), ValueError, "action of producer_0 contains NaN"),
        (np.array([-0.2, 0.6, 0.6]), ValueError, "action of producer_0 has negative entries"),
        ("left", TypeError, "action of producer_0 must be a numeric array"),
    ],
)
def test_bad_simplex_actions(action, error, message):
    env = rq.parallel_env(users=U, n_producers=2)
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.step({"producer_0": action})


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (3, ValueError, r"action of producer_1 must be in 0..2, got 3"),
        (-1, ValueError, r"action of producer_1 must be in 0..2, got -1"),
        (1.0, TypeError, "action of producer_1 must be an integer feature index"),
        (np.array([1, 0, 0]), TypeError, "action of producer_1 must be an integer"),
    ],
)
def test_bad_discrete_actions(action, error, message):
    env = rq.parallel_env(users=U, n_producers=2, action_type="discrete")
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.step({"producer_1": action})


def test_bad_step_calls():
    env = rq.parallel_env(users=U, n_producers=2, action_type="discrete", max_steps=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions has an unknown agent 'producer_7'"):
        env.step({"producer_7": 0})
    with pytest.raises(TypeError, match="actions must be a dict"):
        env.step([0, 1])
    env.step({})
    with pytest.raises(RuntimeError, match="step\\(\\) called on a finished episode"):
        env.step({})
    with pytest.raises(ValueError, match="agent 'producer_9' is not one of"):
        env.action_space("producer_9")
