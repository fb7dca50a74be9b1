"""Exposure games: best responses are often interior, so equilibrium checks search the simplex.

MODEL.md section 2: under linear serving a producer's exposure ``sum_k x_k / (x_k + R_k)`` is
concave in its own content, so basis vectors are the wrong candidates there; under softmax
it is neither concave nor convex. Checks say what they prove: ``exact``, ``certificate`` or
``basis only``.
"""

import numpy as np
import pytest
from scipy.optimize import minimize

import recsys_eq_env as rq
from agents import BestResponseAgent, rollout
from recsys_eq_env.continuous import best_simplex_response, utility_and_gradient

# MODEL.md section 2's example: two almost single-minded users, three producers on e1, e2, e1.
USERS = np.array([[0.999, 0.001], [0.001, 0.999]])
PROFILE = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])


def test_the_models_example_is_not_an_equilibrium():
    """Producer 2 (on e1) earns 0.999/1.999 + 0.001/1.001 = 0.50075 and 2/3 at (0.5, 0.5)."""
    game = rq.EngagementGame(USERS, 3, "linear", utility="exposure")
    assert game.default_deviations == "simplex"
    assert not game.is_nash(PROFILE)
    regrets = game.regrets(PROFILE)
    assert regrets[2] == pytest.approx(0.16592, abs=1e-5)
    assert regrets[2] == pytest.approx(2 / 3 - (0.999 / 1.999 + 0.001 / 1.001), rel=1e-9)
    responses = game.best_responses(PROFILE)
    np.testing.assert_allclose(responses.content[2], [0.5, 0.5], atol=1e-9)
    assert responses.check == "exact" and game.deviation_check() == "exact"
    # Over basis vectors alone the profile looks like an equilibrium, and says so.
    assert game.is_nash(PROFILE, deviations="basis")
    assert game.regrets(PROFILE, deviations="basis").tolist() == [0.0, 0.0, 0.0]
    assert game.deviation_check("basis") == "basis only"
    assert game.nash_conv(PROFILE) == pytest.approx(regrets.sum())


@pytest.mark.parametrize(
    ("rule", "temperature", "utility", "default", "basis", "simplex"),
    [
        ("linear", 1.0, "engagement", "basis", "exact", "exact"),  # convex
        ("softmax", 1.0, "engagement", "basis", "exact", "exact"),  # tau >= 1/2
        ("softmax", 0.1, "engagement", "basis", "basis only", "certificate"),
        ("linear", 1.0, "exposure", "simplex", "basis only", "exact"),  # concave
        ("softmax", 1.0, "exposure", "simplex", "basis only", "certificate"),
        ("uniform", 1.0, "exposure", "basis", "exact", "exact"),  # constant
        # no gradient: searched by nonsmooth.search
        ("hardmax", 1.0, "exposure", "basis", "basis only", "certificate"),
        ("hardmax", 1.0, "engagement", "basis", "basis only", "certificate"),
    ],
)
def test_what_each_check_proves(rule, temperature, utility, default, basis, simplex):
    game = rq.EngagementGame(USERS, 3, rule, temperature, utility)
    assert game.default_deviations == default
    assert game.deviation_check("basis") == basis
    assert game.deviation_check("simplex") == simplex
    regrets = game.regrets(PROFILE, deviations="simplex")
    assert np.all(regrets >= game.regrets(PROFILE, deviations="basis") - 1e-12)


def _scipy_best(game, others, weights, starts):
    """An independent answer: SLSQP on the simplex from many starts."""

    def objective(s):
        value, grad = utility_and_gradient(game, s, others, weights)
        return -value, -grad

    best = -np.inf
    for start in starts:
        res = minimize(
            objective,
            start,
            jac=True,
            method="SLSQP",
            bounds=[(0, 1)] * game.dim,
            constraints=[{"type": "eq", "fun": lambda s: s.sum() - 1}],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        s = np.clip(res.x, 0, None)
        best = max(best, utility_and_gradient(game, s / s.sum(), others, weights)[0])
    return best


def test_linear_exposure_best_responses_are_certified_on_100_random_games():
    """Relative duality gap <= 1e-8, and no independent search does better."""
    worst = 0.0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        dim, n = int(rng.integers(2, 12)), int(rng.integers(2, 30))
        kind = ("uniform", "skewed", "sparse")[seed % 3]
        users = rq.synthetic_users(kind, int(rng.integers(2, 400)), dim, seed=seed)
        game = rq.EngagementGame(users, n, "linear", utility="exposure")
        if seed % 2:  # others with mixed content
            others = game.users @ rng.dirichlet(np.full(dim, 0.3), n - 1).T
            weights = np.ones(n - 1)
        else:  # others on basis vectors
            others, weights = game.users, rng.multinomial(n - 1, np.ones(dim) / dim)
        response = best_simplex_response(game, others, weights)
        assert response.kind == "exact"
        gap = (response.bound - response.value) / abs(response.value)
        worst = max(worst, gap)
        assert 0 <= gap <= 1e-8, seed
        assert response.value == pytest.approx(
            utility_and_gradient(game, response.content, others, weights)[0], rel=1e-12
        )
        if seed % 10 == 0:
            independent = _scipy_best(game, others, weights, [*np.eye(dim), np.ones(dim) / dim])
            assert independent <= response.value * (1 + 1e-9)
    assert worst <= 1e-8


def test_softmax_exposure_search_never_does_worse_than_a_vertex():
    users = rq.synthetic_users("uniform", 300, 4, seed=4)
    game = rq.EngagementGame(users, 5, "softmax", 0.05, "exposure")
    counts = np.array([1.0, 2.0, 0.0, 1.0])
    response = best_simplex_response(game, game.users, counts)
    vertices = [utility_and_gradient(game, e, game.users, counts)[0] for e in np.eye(4)]
    assert response.kind == "certificate" and response.bound == np.inf
    assert response.value >= max(vertices)


@pytest.mark.parametrize("rule", ["linear", "softmax"])
def test_exposure_dynamics_end_at_a_stated_epsilon_equilibrium(rule):
    users = rq.synthetic_users("uniform", 1000, 5, seed=13)
    game = rq.EngagementGame(users, 10, rule, 1.0, "exposure")
    result = rq.best_response_dynamics(game, seed=0, max_iter=2000)
    assert result.converged and result.deviations == "simplex" and result.tol == 1e-6
    regrets = game.regrets(result.profile)
    utilities = game.producer_utilities(result.profile)
    assert (regrets <= 1e-6 * utilities).all()
    basis = rq.best_response_dynamics(game, seed=0, deviations="basis")
    assert basis.converged and game.is_nash(basis.profile, deviations="basis")
    if rule == "linear":  # interior equilibria; the basis equilibrium leaves gains on the table
        assert result.profile.max() < 0.5
        assert result.check == "exact"
        gains = game.regrets(basis.profile) / game.producer_utilities(basis.profile)
        assert gains.max() > 0.01
        assert not game.is_nash(basis.profile)


def test_env_terminates_at_exposure_equilibria_over_the_simplex():
    users = rq.synthetic_users("uniform", 300, 4, seed=0)
    env = rq.parallel_env(
        users=users,
        n_producers=5,
        rule="linear",
        utility="exposure",
        revision="one",
        terminate_at_equilibrium=True,
        max_cycles=300,
    )
    assert env.deviations == "simplex"
    trajectory = rollout(env, BestResponseAgent.for_env(env), seed=0)
    assert trajectory.terminated
    game = env.game
    profile = trajectory.final_profile
    assert game.is_nash(profile, tol=1e-8) and profile.max() < 1.0
    # With discrete actions producers can only play basis vectors: the env checks those.
    discrete = rq.parallel_env(
        game=game, action_type="discrete", revision="one", terminate_at_equilibrium=True
    )
    assert discrete.deviations == "basis"
    assert rollout(discrete, BestResponseAgent.for_env(discrete), seed=0).terminated


@pytest.mark.parametrize("action_type", ["discrete", "simplex", "signed"])
def test_best_response_agent_reaches_equilibrium_with_every_action_type(action_type):
    """(With signed actions the agent used to ask for (a + 1) / 2 of a one-hot: no basis vector.)"""
    users = rq.synthetic_users("uniform", 300, 4, seed=0)
    env = rq.parallel_env(
        users=users,
        n_producers=5,
        action_type=action_type,
        revision="one",
        terminate_at_equilibrium=True,
    )
    trajectory = rollout(env, BestResponseAgent.for_env(env), seed=0)
    assert trajectory.terminated
    assert (trajectory.final_profile.max(axis=1) == 1.0).all()
