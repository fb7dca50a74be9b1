"""Outside oracles for the equilibrium analysis (issue 13): Gambit on the normal form.

On tiny games (n <= 4 producers, d <= 3 features) the game over basis vectors is small enough
to write as a normal-form tensor (d ** n profiles). Gambit's pure-equilibrium enumeration on
that tensor must find exactly the profiles whose count vectors ``analysis.pure_equilibria``
finds, and our symmetric mixed equilibria must have zero regret in Gambit's own payoff
evaluation. The tensor itself is checked against ``producer_utilities`` profile by profile,
with or without Gambit.
"""

import itertools

import numpy as np
import pytest

import recsys_eq_env as rq
from recsys_eq_env import analysis

# Generic instances (no exact ties between deviations): softmax at two temperatures and
# linear serving, n = 2..4, d = 2..3, on small uniform and skewed populations of 120 users
# (one pure equilibrium count vector each, several profiles), and two populations of 6 users
# found by a search over seeds where the game has no pure equilibrium at all.
INSTANCES = [
    (population, 120, n, d, rule, temperature, seed)
    for population, seed in (("uniform", 3), ("skewed", 11))
    for n, d in ((2, 2), (3, 2), (3, 3), (4, 3))
    for rule, temperature in (("softmax", 0.1), ("softmax", 1.0), ("linear", None))
] + [
    ("uniform", 6, 3, 3, "softmax", 0.01, 4),
    ("uniform", 6, 4, 3, "softmax", 0.1, 13),
]


def _game(population, n_users, n, d, rule, temperature, seed):
    users = rq.synthetic_users(population, n_users, d, seed=seed)
    return rq.EngagementGame(users, n, rule, temperature if temperature else 1.0)


def test_the_instances_include_games_without_pure_equilibria():
    assert [len(analysis.pure_equilibria(_game(*i)).counts) for i in INSTANCES[-2:]] == [0, 0]


@pytest.mark.parametrize("instance", INSTANCES[:6])
def test_normal_form_is_the_games_payoffs(instance):
    game = _game(*instance)
    tensor = analysis.normal_form(game)
    n, d = game.n_producers, game.dim
    assert tensor.shape == (n,) + (d,) * n
    for profile in itertools.product(range(d), repeat=n):
        expected = game.producer_utilities(np.eye(d)[list(profile)])
        np.testing.assert_allclose(tensor[(slice(None), *profile)], expected, rtol=1e-12)


def test_normal_form_refuses_large_games():
    game = rq.EngagementGame(rq.synthetic_users("uniform", 20, 10, seed=0), 7)
    with pytest.raises(ValueError, match="10\\^7 = 10,000,000 basis-vector profiles"):
        analysis.normal_form(game)


@pytest.fixture(scope="module")
def gbt():
    return pytest.importorskip("pygambit", reason="Gambit oracle: pip install '.[gametheory]'")


@pytest.mark.parametrize("instance", INSTANCES, ids=lambda i: "-".join(map(str, i)))
def test_gambit_pure_equilibria_are_ours(gbt, instance):
    game = _game(*instance)
    n, d = game.n_producers, game.dim
    solved = gbt.nash.enumpure_solve(analysis.to_gambit(game))
    theirs = set()
    for equilibrium in solved.equilibria:
        profile = []
        for player in equilibrium.game.players:
            probabilities = [float(equilibrium[s]) for s in player.strategies]
            assert sorted(probabilities) == [0.0] * (d - 1) + [1.0]  # pure
            profile.append(int(np.argmax(probabilities)))
        theirs.add(tuple(profile))
    ours_counts = {tuple(c) for c in analysis.pure_equilibria(game).counts.tolist()}
    ours = {
        profile
        for profile in itertools.product(range(d), repeat=n)
        if tuple(np.bincount(profile, minlength=d)) in ours_counts
    }
    assert theirs == ours


@pytest.mark.parametrize(
    "instance", [i for i in INSTANCES if i[2] >= 3], ids=lambda i: "-".join(map(str, i))
)
def test_our_mixed_equilibria_have_zero_regret_in_gambits_payoffs(gbt, instance):
    game = _game(*instance)
    mixed = analysis.symmetric_mixed_equilibrium(game, certify=False)
    assert mixed.method == "exact"
    solved = analysis.to_gambit(game)
    profile = solved.mixed_strategy_profile(rational=False)
    for player in solved.players:
        for strategy, share in zip(player.strategies, mixed.shares, strict=True):
            profile[strategy] = float(share)
    scale = float(np.abs(analysis.normal_form(game)).max())
    for player in solved.players:
        best = max(float(profile.strategy_value(s)) for s in player.strategies)
        regret = best - float(profile.payoff(player))
        assert regret <= 1e-9 * scale, (player.label, regret)


#: Two-player games for Gambit's enummixed (every extreme equilibrium of a bimatrix game: on
#: these generic games, every equilibrium), with the engagement instances above: exposure under
#: hardmax and top-1 softmax, where pure and mixed symmetric equilibria sit side by side.
TWO_PLAYER = [i for i in INSTANCES if i[2] == 2] + [
    ("uniform", 40, 2, 3, "hardmax", None, 5),
    ("skewed", 40, 2, 4, "hardmax", None, 6),
    ("uniform", 40, 2, 3, "linear", None, 8),
]


def _any_game(population, n_users, n, d, rule, temperature, seed):
    users = rq.synthetic_users(population, n_users, d, seed=seed)
    utility = "exposure" if rule == "hardmax" else "engagement"
    return rq.EngagementGame(users, n, rule, temperature or 1.0, utility)


@pytest.mark.parametrize("instance", TWO_PLAYER, ids=lambda i: "-".join(map(str, i)))
def test_gambit_enummixed_finds_exactly_our_symmetric_equilibria(gbt, instance):
    """Every equilibrium of the two-player game by Gambit's enummixed; the symmetric ones (both
    players on the same mixture) are exactly those of mixed.symmetric_equilibria."""
    game = _any_game(*instance)
    solved = gbt.nash.enummixed_solve(analysis.to_gambit(game), rational=False)
    theirs = []
    for equilibrium in solved.equilibria:
        a, b = (
            np.array([float(equilibrium[s]) for s in player.strategies])
            for player in equilibrium.game.players
        )
        if np.abs(a - b).max() < 1e-7:
            theirs.append(a)
    ours = [e.shares for e in analysis.symmetric_equilibria(game, certify=False)]
    assert len(theirs) >= 1  # a symmetric game has a symmetric equilibrium (Nash 1951)
    for y in theirs:
        assert any(np.abs(y - z).max() < 1e-6 for z in ours), (y, ours)
    for z in ours:
        assert any(np.abs(y - z).max() < 1e-6 for y in theirs), (z, theirs)
