"""Game theory over count vectors (issue 25): replicator stability and the index of every
symmetric equilibrium, symmetric alpha-rank, the logit QRE path, correlated and coarse
correlated equilibria, and the classic dynamics. Each is checked against something written
independently: finite differences, the index theorem, simulated dynamics, OpenSpiel's
alpha-rank, a brute-force LP over every profile, the QRE fixed-point equation."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

import recsys_eq_env as rq
from recsys_eq_env import analysis, correlated, evolution, mixed

#: Five producers, users (3,3), (1,2), (4,3), exposure under top-4 softmax: three symmetric
#: equilibria, everybody on feature 0, on feature 1, and a mixture with share 0.6294 on
#: feature 0 (tests/test_certificate.py::test_three_symmetric_equilibria_with_their_welfare).
THREE = rq.EngagementGame([[3, 3], [1, 2], [4, 3]], 5, "topk_softmax", 1.0, "exposure", k=4)

GAMES = [
    ("uniform", 5, 3, "softmax", 1.0, 0),
    ("skewed", 4, 3, "softmax", 0.1, 1),
    ("uniform", 6, 4, "linear", 1.0, 2),
    ("uniform", 3, 2, "hardmax", 1.0, 5),
    ("skewed", 8, 3, "softmax", 1.0, 3),
]


def _game(population, n, d, rule, temperature, seed, n_users=300):
    return rq.EngagementGame(rq.synthetic_users(population, n_users, d, seed=seed), n, rule,
                             temperature)  # fmt: skip


# ---------------------------------------------------------------------- f and its Jacobian
@pytest.mark.parametrize("instance", GAMES, ids=lambda i: "-".join(map(str, i)))
def test_expected_utilities_are_the_mixed_module_s(instance):
    game = _game(*instance)
    payoffs = evolution.SymmetricPayoffs(game)
    opponents = mixed._Opponents(game, 0, 0)
    for x in np.random.default_rng(0).dirichlet(np.ones(game.dim), 4):
        np.testing.assert_allclose(payoffs.expected(x), opponents.expected(x)[0], rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    index=st.integers(0, len(GAMES) - 1),
    seed=st.integers(0, 10_000),
    zeros=st.integers(0, 2),
)
def test_the_jacobian_is_the_derivative_inside_and_on_the_boundary(index, seed, zeros):
    game = _game(*GAMES[index], n_users=60)
    payoffs = evolution.SymmetricPayoffs(game)
    rng = np.random.default_rng(seed)
    x = rng.dirichlet(np.ones(game.dim))
    x[: min(zeros, game.dim - 1)] = 0.0  # a face of the simplex: one-sided differences
    x /= x.sum()
    eps = 1e-6
    numeric = np.stack(
        [(payoffs.expected(x + eps * e) - payoffs.expected(x)) / eps for e in np.eye(game.dim)],
        axis=1,
    )
    scale = max(np.abs(numeric).max(), 1.0)
    np.testing.assert_allclose(payoffs.jacobian(x), numeric, atol=2e-4 * scale)


# ---------------------------------------------------------------------- stability and index
def test_three_equilibria_two_stable_one_unstable_and_the_indices_sum_to_one():
    found = analysis.classify_symmetric_equilibria(THREE, certify=False)
    by_share = {round(float(e.shares[0]), 4): e.stability for e in found}
    assert sorted(by_share) == [0.0, 0.6294, 1.0]
    assert by_share[0.0].stable and by_share[1.0].stable
    assert not by_share[0.6294].stable and by_share[0.6294].eigenvalues.real.max() > 0
    assert sum(s.index for s in by_share.values()) == 1  # Hofbauer and Sigmund, section 13.2


@pytest.mark.parametrize("instance", GAMES, ids=lambda i: "-".join(map(str, i)))
def test_indices_of_regular_equilibria_sum_to_one(instance):
    found = analysis.classify_symmetric_equilibria(_game(*instance), certify=False)
    assert all(e.stability.regular for e in found)
    assert sum(e.stability.index for e in found) == 1


def test_stability_predicts_what_the_replicator_does():
    """From a small push off each equilibrium, the replicator returns to the stable ones and
    leaves the unstable one."""
    payoffs = evolution.SymmetricPayoffs(THREE)
    for eq in analysis.classify_symmetric_equilibria(THREE, certify=False):
        push = np.array([-0.02, 0.02]) if eq.shares[0] > 0.5 else np.array([0.02, -0.02])
        start = np.clip(eq.shares + push, 0.0, None)
        start /= start.sum()
        run = evolution.replicator(payoffs, start, steps=4000, dt=0.5)
        distance = np.abs(run.shares[-1] - eq.shares).max()
        assert (distance < 1e-3) == eq.stability.stable


def test_tied_features_are_a_continuum_not_a_regular_equilibrium():
    """Two identical features: the game cannot tell them apart, so the split between them is
    free (a line of equilibria); the linearisation has a zero eigenvalue there."""
    users = rq.synthetic_users("uniform", 200, 2, seed=4)
    game = rq.EngagementGame(np.column_stack([users, users[:, 1]]), 8, "linear")  # 2 = 1
    payoffs = evolution.SymmetricPayoffs(game)
    eq = analysis.symmetric_mixed_equilibrium(game, certify=False).shares
    assert eq[1] + eq[2] > 0.1  # the equilibrium uses the tied pair
    split = eq.copy()
    split[1:] = np.array([0.25, 0.75]) * eq[1:].sum()  # move along the line: still one
    for shares in (eq, split):
        assert payoffs.nash_conv(shares) <= 1e-9 * np.abs(payoffs.expected(shares)).max()
        result = analysis.stability(payoffs, shares)
        assert not result.regular and result.index == 0 and not result.stable


def test_a_continuum_of_tied_features_is_reported_once():
    """Two identical features: support enumeration solves the tied pair's supports {0, 1},
    {0, 2} and {0, 1, 2} separately, and every split of the pair's share is an equilibrium;
    symmetric_equilibria reports the continuum once, as its even split, naming the pair."""
    users = rq.synthetic_users("uniform", 200, 2, seed=4)
    game = rq.EngagementGame(np.column_stack([users, users[:, 1]]), 8, "linear")
    assert analysis.tied_features(game) == ((1, 2),)
    found = analysis.symmetric_equilibria(game)
    spread = [e for e in found if e.continuum]
    assert len(spread) == 1 and spread[0].continuum == ((1, 2),)
    assert spread[0].shares[1] == pytest.approx(spread[0].shares[2])
    payoffs = evolution.SymmetricPayoffs(game)
    for split in (0.0, 0.3, 1.0):  # every point of the continuum, the ends included
        shares = spread[0].shares.copy()
        shares[1:] = np.array([split, 1 - split]) * spread[0].shares[1:].sum()
        assert payoffs.nash_conv(shares) <= 1e-9 * np.abs(payoffs.expected(shares)).max()
    # no two results differ only by the split within the pair
    pooled = {tuple(np.round([e.shares[0], e.shares[1:].sum()], 9)) for e in found}
    assert len(pooled) == len(found)
    # A game without ties has only isolated equilibria
    assert all(not e.continuum for e in analysis.symmetric_equilibria(THREE))
    assert analysis.tied_features(THREE) == ()


def test_a_segment_of_equilibria_on_a_degenerate_edge_is_reported_by_its_ends():
    """Exposure under hardmax, 2 producers, 40 users: features 1 and 2 earn the same all along
    their edge (a degenerate game), and from share 2/3 on feature 1 to the vertex no other
    feature earns more: a segment of equilibria. Its interior end is found exactly (Gambit's
    enummixed agrees: tests/test_gambit.py), flagged, and every point between is one too."""
    users = rq.synthetic_users("uniform", 40, 3, seed=5)
    game = rq.EngagementGame(users, 2, "hardmax", 1.0, "exposure")
    found = analysis.symmetric_equilibria(game, certify=False)
    ends = [e for e in found if e.continuum == ((1, 2),)]
    assert len(ends) == 1
    np.testing.assert_allclose(ends[0].shares, [0, 2 / 3, 1 / 3], atol=1e-9)
    assert any(np.allclose(e.shares, [0, 1, 0]) for e in found)  # the vertex, the other end
    payoffs = evolution.SymmetricPayoffs(game)
    for t in (0.7, 0.8, 0.95):
        assert payoffs.nash_conv(np.array([0, t, 1 - t])) <= 1e-9
    assert payoffs.nash_conv(np.array([0, 0.6, 0.4])) > 1e-6  # beyond the end: not one


# ---------------------------------------------------------------------- alpha-rank
def test_alpha_rank_at_two_producers_is_openspiel_s():
    alpharank = pytest.importorskip("open_spiel.python.egt.alpharank")
    game = _game("uniform", 2, 4, "softmax", 0.1, 7)
    table = analysis.normal_form(game)[0]  # row producer's payoff against the column's
    for alpha in (0.01, 0.1, 1.0):
        ours = analysis.alpha_rank(game, alpha=alpha)
        for local in (True, False):
            rhos, _, pi, _, _ = alpharank.compute(
                [table], m=2, alpha=alpha, use_local_selection_model=local
            )
            np.testing.assert_allclose(ours.pi, pi, atol=1e-10)
            off = ~np.eye(game.dim, dtype=bool)
            np.testing.assert_allclose(ours.fixation[off], rhos[off], atol=1e-10)


def test_alpha_rank_is_uniform_when_selection_is_off_and_a_chain_otherwise():
    game = _game("skewed", 6, 3, "softmax", 1.0, 3)
    sweep = analysis.alpha_rank(game, alphas=[1e-12, 1.0])
    np.testing.assert_allclose(sweep[0].pi, np.full(3, 1 / 3), atol=1e-9)  # neutral drift
    for result in sweep:
        np.testing.assert_allclose(result.transitions.sum(axis=1), 1.0)
        assert (result.transitions >= 0).all()
        np.testing.assert_allclose(result.pi @ result.transitions, result.pi, atol=1e-12)


def test_alpha_rank_at_large_alpha_sits_on_the_uninvadable_monomorphic_states():
    """At large alpha a mutant fixes only where it earns more along the whole edge; the two
    pure symmetric equilibria of THREE resist every mutant, so they share the mass."""
    result = analysis.alpha_rank(THREE, alpha=1e3)
    np.testing.assert_allclose(result.pi, [0.5, 0.5], atol=1e-6)
    assert result.fixation[0, 1] < 1e-12 and result.fixation[1, 0] < 1e-12


def test_alpha_rank_names_its_arguments():
    with pytest.raises(TypeError, match="alpha or alphas"):
        analysis.alpha_rank(THREE, alpha=1.0, alphas=[1.0])
    with pytest.raises(ValueError, match="alphas must be"):
        analysis.alpha_rank(THREE, alphas=[1.0, -2.0])
    with pytest.raises(ValueError, match="alpha"):
        analysis.alpha_rank(THREE, alpha=0.0)


# ---------------------------------------------------------------------- QRE path
@pytest.mark.parametrize("game", [THREE, _game("uniform", 10, 3, "softmax", 1.0, 0)],
                         ids=["three-equilibria", "uniform-n10-d3"])  # fmt: skip
def test_every_point_of_the_qre_path_is_a_logit_qre(game):
    path = analysis.qre_path(game)
    payoffs = evolution.SymmetricPayoffs(game)
    np.testing.assert_allclose(path.shares[0], np.full(game.dim, 1 / game.dim))
    assert path.complete and path.lambdas[0] == 0.0
    for lam, x in zip(path.lambdas, path.shares, strict=True):
        z = lam * payoffs.expected(x)
        response = np.exp(z - z.max())
        np.testing.assert_allclose(response / response.sum(), x, atol=1e-8)
    assert (
        path.selected is not None and path.nash_conv[-1] <= 1e-3 * np.abs(payoffs.expected(x)).max()
    )
    np.testing.assert_allclose(path.limit, path.selected.shares, atol=1e-3)


def test_the_qre_path_of_two_features_follows_the_scalar_equation():
    """With two features the QRE is one equation, log(x / (1 - x)) = lambda (f_0 - f_1):
    solved here by bracketing on (0, 1) at each of the path's lambdas."""
    payoffs = evolution.SymmetricPayoffs(THREE)
    path = analysis.qre_path(THREE)
    for lam, x in zip(path.lambdas[1::3], path.shares[1::3], strict=True):
        if x.min() <= 0.0:
            continue  # the shares are 0 and 1 to double precision

        def h(v, lam=lam):  # v = log(x_0 / x_1)
            s = 1.0 / (1.0 + np.exp(-v))
            f = payoffs.expected(np.array([s, 1 - s]))
            return v - lam * (f[0] - f[1])

        grid = np.linspace(-700.0, 700.0, 2801)
        values = np.array([h(v) for v in grid])
        roots = [optimize.brentq(h, grid[i], grid[i + 1], xtol=1e-13)
                 for i in np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:]))]  # fmt: skip
        ours = np.log(x[0]) - np.log(x[1])
        assert min(abs(r - ours) for r in roots) < 1e-6 * max(1.0, abs(ours))


# ---------------------------------------------------------------------- CE and CCE
def _brute_force(game, kind):
    """Welfare-best and -worst CE/CCE over every profile, per-producer constraints."""
    payoffs = analysis.normal_form(game)
    n, d = game.n_producers, game.dim
    profiles = list(itertools.product(range(d), repeat=n))
    counts = np.array([np.bincount(p, minlength=d) for p in profiles])
    welfare = analysis.count_welfare(game, counts)[1]
    rows = []
    for i in range(n):
        gains = {}
        for k, p in enumerate(profiles):
            for b in range(d):
                deviation = list(p)
                deviation[i] = b
                gains[k, b] = payoffs[i][tuple(deviation)] - payoffs[i][p]
        if kind == "correlated":
            for a, b in itertools.permutations(range(d), 2):
                rows.append([gains[k, b] if p[i] == a else 0.0 for k, p in enumerate(profiles)])
        else:
            for b in range(d):
                rows.append([gains[k, b] for k in range(len(profiles))])
    out = []
    for sign in (-1, 1):
        ones = np.ones((1, len(profiles)))
        result = optimize.linprog(sign * welfare, A_ub=np.array(rows), b_ub=np.zeros(len(rows)),
                                  A_eq=ones, b_eq=[1], method="highs")  # fmt: skip
        out.append(result.x @ welfare)
    return out


SMALL = [("uniform", 3, 2, "softmax", 0.1, 0), ("skewed", 3, 3, "softmax", 1.0, 1),
         ("uniform", 4, 2, "hardmax", 1.0, 2), ("uniform", 3, 3, "linear", 1.0, 3)]  # fmt: skip


@pytest.mark.parametrize("instance", SMALL, ids=lambda i: "-".join(map(str, i)))
@pytest.mark.parametrize("kind", ["correlated", "coarse"])
def test_exchangeable_extremes_are_the_extremes_over_every_profile(instance, kind):
    game = _game(*instance, n_users=50)
    ours = analysis.correlated_equilibria(game, kind)
    best, worst = _brute_force(game, kind)
    assert ours.best.welfare == pytest.approx(best, rel=1e-9)
    assert ours.worst.welfare == pytest.approx(worst, rel=1e-9)


@pytest.mark.parametrize("instance", GAMES[:3], ids=lambda i: "-".join(map(str, i)))
def test_ce_and_cce_bracket_every_nash_equilibrium(instance):
    game = _game(*instance)
    ce = analysis.correlated_equilibria(game, "correlated")
    cce = analysis.correlated_equilibria(game, "coarse")
    scale = abs(ce.best.welfare)
    assert cce.worst.welfare <= ce.worst.welfare + 1e-9 * scale
    assert ce.best.welfare <= cce.best.welfare + 1e-9 * scale
    assert max(ce.best.max_gain, ce.worst.max_gain) <= 1e-9 * scale
    pure = analysis.pure_equilibria(game)
    values = list(pure.user_welfare) + [
        analysis.mixed_welfare(game, e.shares)[1]
        for e in analysis.symmetric_equilibria(game, certify=False)
    ]
    for value in values:
        assert ce.worst.welfare - 1e-9 * scale <= value <= ce.best.welfare + 1e-9 * scale


def test_correlated_equilibria_names_bad_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        analysis.correlated_equilibria(THREE, "mixed")
    with pytest.raises(ValueError, match="welfare must be one of"):
        analysis.correlated_equilibria(THREE, welfare="social")
    with pytest.raises(TypeError, match="EngagementGame"):
        correlated.correlated_equilibria([[1.0]])


# ---------------------------------------------------------------------- dynamics catalogue
def test_fictitious_play_s_empirical_frequencies_approach_an_equilibrium():
    game = _game("uniform", 5, 3, "softmax", 1.0, 0)
    run = analysis.fictitious_play(game, steps=3000)
    assert run.nash_conv[-1] < 0.05 * run.nash_conv[0]
    eq = analysis.symmetric_mixed_equilibrium(game, certify=False)
    assert np.abs(run.average[-1] - eq.shares).max() < 0.02


def test_logit_dynamics_rest_at_the_qre_of_their_temperature():
    game = _game("uniform", 5, 3, "softmax", 1.0, 0)
    payoffs = evolution.SymmetricPayoffs(game)
    temperature = 0.2  # utilities near 25: a sharp response (0.05) makes Euler steps of 0.2 cycle
    run = analysis.logit_dynamics(payoffs, temperature, steps=3000, dt=0.2)
    x = run.shares[-1]
    z = payoffs.expected(x) / temperature
    response = np.exp(z - z.max())
    np.testing.assert_allclose(response / response.sum(), x, atol=1e-8)


def test_replicator_from_the_interior_reaches_the_stable_equilibrium():
    game = _game("uniform", 6, 4, "linear", 1.0, 2)
    (eq,) = analysis.classify_symmetric_equilibria(game, certify=False)
    run = analysis.replicator(game, steps=5000, dt=0.5)
    assert eq.stability.stable and np.abs(run.shares[-1] - eq.shares).max() < 1e-6


def test_dynamics_name_bad_arguments():
    with pytest.raises(ValueError, match="shares must sum to 1"):
        analysis.replicator(THREE, start=[0.5, 0.6])
    with pytest.raises(ValueError, match="temperature"):
        analysis.logit_dynamics(THREE, 0.0)
    with pytest.raises(ValueError, match="steps"):
        analysis.fictitious_play(THREE, steps=-1)
    with pytest.raises(ValueError, match="exact expectations need at most"):
        evolution.SymmetricPayoffs(rq.EngagementGame(rq.synthetic_users("uniform", 10, 10), 20))
