"""OpenSpiel as an outside oracle (issue 23): ``analysis.to_openspiel`` builds the game over
basis vectors as an OpenSpiel tensor game (turned turn-based), ``analysis.openspiel_policy``
writes a profile as its ``TabularPolicy``, and OpenSpiel's own ``exploitability.nash_conv``
must agree with ours: on pure profiles with ``game.nash_conv(..., deviations="basis")``, on
symmetric mixed profiles with an expectation written here over the opponents' count vectors
(scipy's multinomial), and on every symmetric equilibrium ``analysis.symmetric_equilibria``
finds (nash_conv 0). OpenSpiel 2.0.2 is the version tested (the ``openspiel`` extra).
"""

import itertools

import numpy as np
import pytest
from scipy import stats

import recsys_eq_env as rq
from recsys_eq_env import analysis

pyspiel = pytest.importorskip("pyspiel", reason="OpenSpiel is the 'openspiel' extra")
exploitability = pytest.importorskip("open_spiel.python.algorithms.exploitability")

INSTANCES = [
    (population, n, d, rule, temperature, seed)
    for population, seed in (("uniform", 3), ("skewed", 11))
    for n, d in ((2, 3), (3, 3), (4, 2))
    for rule, temperature in (("softmax", 0.1), ("softmax", 1.0), ("linear", 1.0))
] + [("uniform", 3, 3, "hardmax", 1.0, 5), ("uniform", 3, 2, "topk_softmax", 1.0, 5)]


def _game(population, n, d, rule, temperature, seed):
    users = rq.synthetic_users(population, 150, d, seed=seed)
    kwargs = {"k": 2} if rule == "topk_softmax" else {}
    return rq.EngagementGame(users, n, rule, temperature, **kwargs)


def _expected_join(game, shares):
    """(d,) a producer's expected utility on each feature when the n - 1 others draw their
    features from ``shares``: a sum over their count vectors, written without analysis."""
    n, d = game.n_producers, game.dim
    out = np.zeros(d)
    for others in itertools.product(range(n), repeat=d):
        if sum(others) != n - 1:
            continue
        p = stats.multinomial.pmf(others, n - 1, shares)
        for b in range(d):
            joined = np.array(others)
            joined[b] += 1
            out[b] += p * game.count_utilities(joined)[b]
    return out


@pytest.fixture(scope="module", params=INSTANCES, ids=lambda i: "-".join(map(str, i)))
def instance(request):
    game = _game(*request.param)
    return game, analysis.to_openspiel(game)


def test_the_openspiel_game_is_the_engagement_game(instance):
    game, spiel = instance
    kind = spiel.get_type()
    assert spiel.num_players() == game.n_producers
    assert spiel.num_distinct_actions() == game.dim
    assert kind.dynamics == pyspiel.GameType.Dynamics.SEQUENTIAL  # turn-based by default
    tensor = analysis.to_openspiel(game, turn_based=False)
    assert tensor.get_type().dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS
    rng = np.random.default_rng(0)
    for _ in range(5):  # one profile's payoffs, read back from OpenSpiel
        actions = rng.integers(0, game.dim, game.n_producers)
        state = tensor.new_initial_state()
        state.apply_actions(list(map(int, actions)))
        profile = np.eye(game.dim)[actions]
        np.testing.assert_allclose(state.returns(), game.producer_utilities(profile), rtol=1e-12)


def test_openspiel_nash_conv_of_pure_profiles_is_ours(instance):
    game, spiel = instance
    for actions in itertools.islice(
        itertools.product(range(game.dim), repeat=game.n_producers), 12
    ):
        actions = np.array(actions)
        theirs = exploitability.nash_conv(spiel, analysis.openspiel_policy(spiel, actions))
        ours = game.nash_conv(np.eye(game.dim)[actions], deviations="basis")
        assert theirs == pytest.approx(ours, rel=1e-10, abs=1e-12)


def test_openspiel_nash_conv_of_symmetric_mixed_profiles_is_the_expectation(instance):
    game, spiel = instance
    rng = np.random.default_rng(1)
    for shares in rng.dirichlet(np.ones(game.dim), 3):
        f = _expected_join(game, shares)
        expected = game.n_producers * (f.max() - shares @ f)
        theirs = exploitability.nash_conv(spiel, analysis.openspiel_policy(spiel, shares))
        assert theirs == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_every_symmetric_equilibrium_has_zero_openspiel_nash_conv(instance):
    game, spiel = instance
    equilibria = analysis.symmetric_equilibria(game, certify=False)
    assert equilibria, "every finite symmetric game has a symmetric equilibrium (Nash 1951)"
    scale = float(np.abs(analysis.normal_form(game)).max())
    for eq in equilibria:
        theirs = exploitability.nash_conv(spiel, analysis.openspiel_policy(spiel, eq.shares))
        assert theirs <= 1e-8 * scale
        assert theirs == pytest.approx(eq.nash_conv, abs=1e-8 * scale)


def test_asymmetric_mixed_profiles_follow_the_player_order(instance):
    game, spiel = instance
    rows = np.random.default_rng(2).dirichlet(np.ones(game.dim), game.n_producers)
    payoffs = analysis.normal_form(game)
    n = game.n_producers
    expected = 0.0
    for i in range(n):  # producer i's best pure reply against the others' mixed rows
        others = [rows[j] for j in range(n) if j != i]
        tensor = np.moveaxis(payoffs[i], i, 0)
        for row in reversed(others):  # the last axis is the last other producer
            tensor = tensor @ row
        values = tensor
        expected += values.max() - rows[i] @ values
    theirs = exploitability.nash_conv(spiel, analysis.openspiel_policy(spiel, rows))
    assert theirs == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_openspiel_policy_names_bad_strategies():
    game = _game("uniform", 3, 3, "softmax", 1.0, 0)
    spiel = analysis.to_openspiel(game)
    with pytest.raises(ValueError, match=r"strategies must have shape \(3,\), \(3, 3\)"):
        analysis.openspiel_policy(spiel, np.ones((2, 3)) / 3)
    with pytest.raises(ValueError, match="probability vector"):
        analysis.openspiel_policy(spiel, np.array([0.5, 0.6, -0.1]))
    with pytest.raises(ValueError, match="basis indices"):
        analysis.openspiel_policy(spiel, np.array([0, 1, 3]))
    with pytest.raises(ValueError, match="turn-based"):
        analysis.openspiel_policy(analysis.to_openspiel(game, turn_based=False), [1.0, 0, 0])
    with pytest.raises(TypeError, match="turn_based must be a bool"):
        analysis.to_openspiel(game, turn_based="yes")
