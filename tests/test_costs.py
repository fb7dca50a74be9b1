"""Production costs (issue 26, the ``jagadeesan-supply-v0`` scenario): a producer's utility is
what it is served minus ``<costs, s_i>``. Every path (formulas, the count oracle's rows, the
batched kernel, the lattice table, the float32 vector env) must charge the same cost, and what
cannot charge it (the simplex searches, the JAX env) must say so instead of ignoring it."""

import functools
import re

import numpy as np
import pytest
from checkers import seven_checkers

import recsys_eq_env as rq
from recsys_eq_env import analysis
from recsys_eq_env.dynamics import compositions

USERS = rq.synthetic_users("uniform", 80, 3, seed=1)
COSTS = np.array([0.0, 4.0, 9.0])  # in the utility's units, summed over 80 users
RULES = [("softmax", None), ("linear", None), ("topk_softmax", 2), ("uniform", None),
         ("hardmax", None)]  # fmt: skip


def games(rule, k, utility="engagement", **kwargs):
    make = functools.partial(rq.EngagementGame, USERS, 4, rule=rule, k=k, utility=utility)
    return make(**kwargs), make(costs=COSTS, **kwargs)


@pytest.mark.parametrize(
    "costs, message",
    [
        ([1.0, 2.0], "costs must have shape (3,)"),
        ([1.0, -1.0, 0.0], "costs must be finite and non-negative"),
        ([1.0, np.nan, 0.0], "costs must be finite and non-negative"),
        (["a", "b", "c"], "costs must be a vector of 3 numbers"),
    ],
)
def test_bad_costs_are_refused_by_name(costs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rq.EngagementGame(USERS, 3, costs=costs)
    with pytest.raises(ValueError, match=re.escape(message)):
        rq.CountOracle(USERS, "softmax", costs=costs)
    with pytest.raises(ValueError, match=re.escape(message)):
        rq.parallel_env(users=USERS, n_producers=3, costs=costs)


def test_zero_costs_are_no_costs():
    game = rq.EngagementGame(USERS, 3, costs=[0, 0, 0])
    assert game.costs is None
    assert "costs" not in repr(game)
    assert "costs=[0.0, 4.0, 9.0]" in repr(rq.EngagementGame(USERS, 3, costs=COSTS))


@pytest.mark.parametrize("rule, k", RULES)
@pytest.mark.parametrize("utility", ["engagement", "exposure"])
def test_costs_are_charged_on_every_path(rule, k, utility):
    free, paid = games(rule, k, utility)
    rng = np.random.default_rng(0)
    basis = np.eye(3)[[0, 1, 1, 2]]
    mixed = rng.dirichlet(np.ones(3), size=4)
    for profile in (basis, mixed):
        expected = free.producer_utilities(profile) - profile @ COSTS
        np.testing.assert_allclose(paid.producer_utilities(profile), expected, atol=1e-12)
    counts = np.array([1, 2, 1])
    table_free, table_paid = free.deviation_table(counts), paid.deviation_table(counts)
    np.testing.assert_allclose(table_paid, table_free - COSTS, atol=1e-12)
    # The count oracle on its own, and the batched kernel over many count vectors
    oracle = rq.CountOracle(USERS, rule, k=k, utility=utility, costs=COSTS)
    occupied = counts > 0
    np.testing.assert_allclose(oracle.table(counts)[occupied], table_paid[occupied], atol=1e-12)
    np.testing.assert_allclose(
        oracle.utilities(counts), paid.count_utilities_of(counts), atol=1e-12
    )
    lattice = np.array(list(compositions(4, 3)))
    batched = analysis._utilities(paid, lattice)
    direct = np.array([paid.count_utilities_of(c) for c in lattice])
    np.testing.assert_allclose(batched, direct, atol=1e-10)
    np.testing.assert_allclose(
        direct, np.where(lattice > 0, analysis._utilities(free, lattice) - COSTS, 0.0), atol=1e-10
    )


@pytest.mark.parametrize("mode", ["table", "lazy", "off"])
def test_every_utility_cache_charges_the_same(mode):
    reference = rq.EngagementGame(USERS, 4, rule="softmax", utility_cache="off", costs=COSTS)
    game = rq.EngagementGame(USERS, 4, rule="softmax", utility_cache=mode, costs=COSTS)
    for counts in compositions(4, 3):
        np.testing.assert_allclose(
            game.count_utilities_of(np.array(counts)),
            reference.count_utilities_of(np.array(counts)),
            atol=1e-12,
        )


def test_equilibria_with_costs_are_those_of_a_brute_force():
    """Every pure equilibrium over basis vectors, checked one producer at a time by hand."""
    game = rq.EngagementGame(USERS, 4, rule="hardmax", utility="exposure", costs=COSTS)
    found = {tuple(c) for c in analysis.pure_equilibria(game).counts}
    expected = set()
    for counts in compositions(4, 3):
        counts = np.array(counts)
        stable = True
        for a in np.flatnonzero(counts):
            profile = np.repeat(np.eye(3), counts, axis=0)
            me = int(np.flatnonzero((profile == np.eye(3)[a]).all(axis=1))[0])
            now = game.producer_utilities(profile)[me]
            for b in range(3):
                moved = profile.copy()
                moved[me] = np.eye(3)[b]
                if game.producer_utilities(moved)[me] > now + 1e-9 * max(abs(now), 1e-12):
                    stable = False
        if stable:
            expected.add(tuple(counts))
    assert found == expected
    assert found  # the instance has equilibria to compare


def test_the_vector_env_in_float32_charges_the_single_env_cost():
    kwargs = dict(users=USERS, n_producers=4, rule="softmax", costs=COSTS, action_type="discrete")
    single = rq.parallel_env(**kwargs)
    vector = rq.vector_env(num_envs=1, dtype=np.float32, **kwargs)
    single.reset(seed=3)
    vector.reset(seed=3)
    actions = {a: i % 3 for i, a in enumerate(single.agents)}
    _, rewards, *_ = single.step(actions)
    _, vrewards, *_ = vector.step(np.array([[i % 3 for i in range(4)]]))
    np.testing.assert_allclose(vrewards[0], [rewards[a] for a in single.agents], rtol=1e-5)
    assert min(rewards.values()) < 0  # the 9-unit feature costs more than it earns per user


def test_the_env_with_costs_passes_pettingzoo_checkers():
    kwargs = dict(users=USERS, n_producers=3, rule="hardmax", utility="exposure", costs=COSTS)
    seven_checkers(functools.partial(rq.parallel_env, **kwargs), num_cycles=20)
    parallel = functools.partial(rq.parallel_env, max_cycles=20, **kwargs)
    env = parallel()
    space = env.observation_space(env.possible_agents[0])
    assert space.low.min() == pytest.approx(-COSTS.max() / len(USERS))
    obs, _ = env.reset(seed=0)
    for _ in range(10):
        obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
        assert all(space.contains(o) for o in obs.values())


def test_what_cannot_charge_costs_says_so():
    game = rq.EngagementGame(USERS, 3, rule="hardmax", utility="exposure", costs=COSTS)
    with pytest.raises(ValueError, match="deviations='simplex' is not available"):
        game.best_responses(np.eye(3), deviations="simplex")
    with pytest.raises(ValueError, match="certify_counts cannot certify a game with production"):
        rq.certify_counts(game, [1, 1, 1])
    with pytest.raises(ValueError, match="does not charge production costs"):
        rq.best_simplex_response(game, USERS[:, :1], [1.0])
    with pytest.raises(ValueError, match="candidates=None"):
        game.utilities_against(USERS[:, :1], [1.0], candidates=USERS)
    assert game.default_deviations == "basis"
    assert game.deviation_check() == "basis only"
    # Where the utility is convex in own content, a linear cost keeps it so: still exact
    convex = rq.EngagementGame(USERS, 3, rule="linear", costs=COSTS)
    certificate = rq.certify_counts(convex, [1, 1, 1])
    assert certificate.label == "exact" or certificate.label.startswith("fails")
    np.testing.assert_allclose(certificate.values, convex.deviation_table([1, 1, 1]).max(axis=1))
    assert convex.deviation_check() == "exact"


def test_the_jax_env_refuses_costs():
    pytest.importorskip("jax")
    from recsys_eq_env.jax import JaxEngagementEnv

    game = rq.EngagementGame(USERS, 3, costs=COSTS)
    with pytest.raises(ValueError, match="the JAX env has no production costs"):
        JaxEngagementEnv(game=game)


def test_the_replicator_runs_on_negative_utilities():
    """With costs a feature can earn less than nothing; the discrete replicator (which needs
    non-negative payoffs) is shifted by max(costs) and still finds an equilibrium."""
    from recsys_eq_env import mixed

    game = rq.EngagementGame(USERS, 2, rule="softmax", utility="exposure", costs=[0, 30, 60])
    found = mixed.symmetric_mixed_equilibrium(game, certify=False)
    assert np.isfinite(found.shares).all() and np.isfinite(found.expected).all()
    assert found.nash_conv <= 1e-9
    every = mixed.symmetric_equilibria(game, certify=False)
    assert any(np.allclose(e.shares, found.shares, atol=1e-7) for e in every)
    assert found.continuous == "not checked"  # the simplex searches do not charge costs
