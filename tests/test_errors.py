"""Bad input gets a ValueError/TypeError naming the argument (MODEL.md section 5)."""

import numpy as np
import pytest

import recsys_eq_env as rq
from agents import BestResponseAgent

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
        (dict(max_cycles=0), "max_cycles must be >= 1, got 0"),
        (dict(render_mode="window"), "render_mode must be one of"),
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
        (np.array([np.nan, 0.5, 0.5]), ValueError, r"actions contain NaN or inf \(producer_0\)"),
        (np.array([-0.2, 0.6, 0.6]), ValueError, r"actions have negative entries \(producer_0\)"),
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
        (3, ValueError, r"actions must be in 0..2, got 3 for producer_1"),
        (-1, ValueError, r"actions must be in 0..2, got -1 for producer_1"),
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
    env = rq.parallel_env(users=U, n_producers=2, action_type="discrete", max_cycles=1)
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


# ---------------------------------------------------------------------- issue 10: silent wrongs
G = rq.EngagementGame(U, 3)
S = np.eye(3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: rq.EngagementGame(U, 2, temperature=1e-310),
            ValueError,
            r"temperature must be >= 1e-100 \(use rule='hardmax' for the limit",
        ),
        (lambda: G.is_nash(S, tol=float("nan")), ValueError, "tol must be a finite number >= 0"),
        (lambda: G.is_nash(S, tol=float("inf")), ValueError, "tol must be a finite number >= 0"),
        (lambda: G.is_nash(S, tol="1e-9"), TypeError, "tol must be a real number"),
        (lambda: rq.parallel_env(users=U, tol=float("inf")), ValueError, "tol must be a finite"),
        (
            lambda: rq.best_response_dynamics(G, tol=float("nan")),
            ValueError,
            "tol must be a finite number >= 0, got nan",
        ),
        (
            lambda: rq.parallel_env(game=G, rule="linear"),
            ValueError,
            "game is given, so rule would be ignored",
        ),
        (
            lambda: rq.parallel_env(game=G, temperature=0.5, n_producers=4),
            ValueError,
            "game is given, so n_producers, temperature would be ignored",
        ),
        (
            lambda: G.regrets(S, deviations="continuous"),
            ValueError,
            "deviations must be one of basis, simplex",
        ),
        (lambda: rq.CountOracle(U, "softmaxx"), ValueError, "rule must be one of"),
        (lambda: rq.CountOracle([[1.0, -1.0]], "linear"), ValueError, "users has negative"),
        (lambda: rq.CountOracle(U, "softmax", 0.0), ValueError, "temperature must be a finite"),
        (lambda: rq.CountOracle(U, "softmax", k=2), ValueError, "k is only used by"),
        (
            lambda: rq.pure_nash_equilibria(
                rq.EngagementGame(rq.synthetic_users("uniform", 5000, 10, seed=0), 20)
            ),
            ValueError,
            "more than max_profiles",
        ),
        (
            lambda: rq.pure_nash_equilibria(
                rq.EngagementGame(rq.synthetic_users("uniform", 50_000, 6, seed=0), 20)
            ),
            ValueError,
            r"53,130 count vectors x 50,000 users x 6 features .* more than max_work",
        ),
        (
            lambda: BestResponseAgent(G, tol=float("nan")),
            ValueError,
            "tol must be a finite number >= 0",
        ),
        (
            lambda: BestResponseAgent(G, action_type="discrete", deviations="simplex"),
            ValueError,
            "deviations='simplex' needs simplex or signed actions",
        ),
    ],
)
def test_inputs_that_used_to_pass_silently(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_extreme_values_are_normalised_not_overflowed():
    huge = rq.EngagementGame(U * 1e307 * 5, 3)  # plain row sums would be inf: rows of zeros
    np.testing.assert_allclose(huge.users, G.users, rtol=1e-15)
    tiny = rq.EngagementGame(U * 1e-320, 3)  # subnormal rows (few bits left in the input)
    np.testing.assert_allclose(tiny.users.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(tiny.users, G.users, atol=1e-3)
    env = rq.parallel_env(users=U, n_producers=2)
    env.reset(seed=0)
    before = env.profile.copy()
    env.step({"producer_0": np.full(3, 1e308)})
    np.testing.assert_allclose(env.profile[0], np.full(3, 1 / 3))
    np.testing.assert_array_equal(env.profile[1], before[1])


def test_a_bad_action_leaves_the_profile_untouched():
    env = rq.parallel_env(users=U, n_producers=3)
    env.reset(seed=0)
    before = env.profile.copy()
    with pytest.raises(ValueError, match=r"actions contain NaN or inf \(producer_2\)"):
        env.step(
            {
                "producer_0": np.array([0.2, 0.3, 0.5]),
                "producer_1": np.array([1.0, 0.0, 0.0]),
                "producer_2": np.array([np.nan, 1.0, 0.0]),
            }
        )
    np.testing.assert_array_equal(env.profile, before)
    assert env.steps == 0


def test_zero_iterations_mean_the_same_to_both_engines():
    result = rq.best_response_dynamics(G, seed=0, max_iter=0)
    assert result.iterations == 0
    assert result.converged == G.is_nash(result.profile)
    from experiments.config import RunSpec
    from experiments.runner import run_one

    spec = RunSpec("exp1", "synthetic-uniform", 50, 3, 3, 13, "linear", None, 0, 0, 7)
    for engine in ("rollout", "direct"):
        with pytest.raises(ValueError, match="max_iter must be >= 1, got 0"):
            run_one(spec, engine)


def test_memory_of_profiles_and_observations_is_linear():
    profile = rq.profile_from_assignment(np.array([0, 4_999_999]), 5_000_000)
    assert profile.shape == (2, 5_000_000) and profile.sum() == 2  # no 5M x 5M identity
    import tracemalloc

    env = rq.parallel_env(users=U, n_producers=2_000, observe_id=False, info_regrets=False)
    tracemalloc.start()
    env.reset(seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4e6  # an n x n one-hot table would be 16 MB; ids are not observed


def test_pure_nash_equilibria_shows_progress_when_asked(capsys):
    found = rq.pure_nash_equilibria(rq.EngagementGame(U, 4), progress=True)
    assert found.shape[1] == 3
    assert "equilibria" in capsys.readouterr().err  # the lattice pass reports its chunks
