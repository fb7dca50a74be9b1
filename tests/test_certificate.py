"""Equilibria over the simplex: the search for rules without a gradient, the certificate and
its labels, and every symmetric equilibrium (MODEL.md section 2; issue 19)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import recsys_eq_env as rq
from recsys_eq_env import analysis, mixed, nonsmooth, serving

from reference import grid_best_response, naive_utilities

#: MODEL.md section 2: 10 users (0.3, 0.5, 0.2), 10 users (0.3, 0.2, 0.5), 3 users (1, 0, 0).
MIXING_WINS = np.array([[0.3, 0.5, 0.2]] * 10 + [[0.3, 0.2, 0.5]] * 10 + [[1.0, 0.0, 0.0]] * 3)


def realised(game, counts, a, content):
    """The utility of a producer on feature ``a`` that plays ``content``, by the game's own
    utilities of the whole profile: a certificate's gain must be real."""
    dim = game.dim
    assignment = [j for j in range(dim) for _ in range(counts[j])]
    profile = np.eye(dim)[assignment]
    profile[assignment.index(a)] = content
    return game.producer_utilities(profile)[assignment.index(a)]


def realised_gain(game, counts, a, content):
    """The relative gain of playing ``content`` (:func:`realised`)."""
    before = game.deviation_table(counts)[a, a]
    return (realised(game, counts, a, content) - before) / abs(before)


@pytest.mark.parametrize(("rule", "k"), [("hardmax", None), ("topk_softmax", 1)])
def test_mixing_beats_a_hardmax_equilibrium(rule, k):
    """MODEL.md's example: producer 1 earns 5.0 at [e0, e1] and 7.0 at (0, 0.5, 0.5); top-1
    softmax is hardmax. [e0, e1] is an equilibrium over basis vectors, not of the game."""
    game = rq.EngagementGame(MIXING_WINS, 2, rule, k=k)
    counts = np.array([1, 1, 0])
    assert game.count_is_nash(counts)
    np.testing.assert_allclose(game.producer_utilities(np.eye(3)[[0, 1]]), [6.0, 5.0])
    certificate = rq.certify_counts(game, counts)
    assert not certificate.passed and certificate.label == "fails: gain 0.4"
    assert certificate.gain == pytest.approx(0.4, abs=1e-9)
    content = certificate.contents[1]
    assert realised_gain(game, counts, 1, content) == pytest.approx(0.4, abs=1e-9)
    assert content[0] == 0.0 and 1 / 3 < content[1] < 2 / 3  # both groups beat e0's 0.3


def test_low_temperature_softmax_equilibrium_that_mixing_beats():
    """MODEL.md section 2: below tau = 1/2 a basis equilibrium need not be one of the game.
    10 users in quarters, n = 3, softmax 0.02 (found by sampling such games): counts
    [0, 2, 1] are an equilibrium over basis vectors, and the producer on feature 2 gains
    9.5% at about (0.26, 0, 0.74)."""
    users = np.array(
        [
            [0.5, 0.25, 0.25],
            [0.25, 0.75, 0.0],
            [0.0, 0.75, 0.25],
            [0.0, 1.0, 0.0],
            [0.5, 0.25, 0.25],
            [0.25, 0.75, 0.0],
            [0.25, 0.5, 0.25],
            [0.25, 0.0, 0.75],
            [0.5, 0.5, 0.0],
            [0.25, 0.0, 0.75],
        ]
    )
    game = rq.EngagementGame(users, 3, "softmax", 0.02)
    counts = np.array([0, 2, 1])
    assert game.count_is_nash(counts) and game.deviation_check("basis") == "basis only"
    certificate = rq.certify_counts(game, counts)
    assert certificate.label.startswith("fails: gain") and certificate.gain > 0.09
    a = int(np.nanargmax(certificate.gains))
    assert realised_gain(game, counts, a, certificate.contents[a]) == pytest.approx(
        certificate.gain, rel=1e-9
    )
    np.testing.assert_allclose(certificate.contents[a], [0.258, 0.0, 0.742], atol=2e-3)


@pytest.mark.parametrize(("rule", "tau"), [("linear", 1.0), ("softmax", 1.0), ("uniform", 1.0)])
def test_convex_utilities_certify_exactly(rule, tau):
    game = rq.EngagementGame(rq.synthetic_users("uniform", 200, 4, seed=0), 6, rule, tau)
    counts = rq.best_response_dynamics(game, seed=0).counts
    certificate = rq.certify_counts(game, counts)
    assert certificate.label == "exact" and certificate.exact and certificate.gain < 1e-12


def test_linear_exposure_certificate_fails_at_a_basis_equilibrium():
    """MODEL.md section 2: two users [[0.999, 0.001], [0.001, 0.999]], 3 producers, profile
    [e1, e2, e1]: a producer on e1 gains 0.16592 by moving to (0.5, 0.5)."""
    game = rq.EngagementGame([[0.999, 0.001], [0.001, 0.999]], 3, "linear", utility="exposure")
    profile = np.eye(2)[[0, 1, 0]]
    certificate = rq.certify_profile(game, profile)
    current = game.producer_utilities(profile)[0]
    assert certificate.gains[0] * current == pytest.approx(0.16592, abs=1e-5)
    np.testing.assert_allclose(certificate.contents[0], [0.5, 0.5], atol=1e-9)
    assert certificate.label == f"fails: gain {certificate.gain:.3g}"


def test_stop_at_failure_gives_the_same_verdict():
    game = rq.EngagementGame(MIXING_WINS, 2, "hardmax")
    full = rq.certify_counts(game, [1, 1, 0])
    quick = rq.certify_counts(game, [1, 1, 0], stop_at_failure=True)
    assert full.passed == quick.passed is False
    assert quick.gain <= full.gain + 1e-12


def test_certificates_are_deterministic():
    users = rq.synthetic_users("sparse", 300, 5, seed=3)
    game = rq.EngagementGame(users, 8, "topk_softmax", 1.0, k=3)
    counts = rq.best_response_dynamics(game, seed=1).counts
    one, two = rq.certify_counts(game, counts, seed=4), rq.certify_counts(game, counts, seed=4)
    assert one.label == two.label
    np.testing.assert_array_equal(one.gains, two.gains)


def test_certificate_input_errors():
    game = rq.EngagementGame(MIXING_WINS, 2, "hardmax")
    with pytest.raises(TypeError, match="game must be an EngagementGame"):
        rq.certify_counts(None, [1, 1, 0])
    with pytest.raises(ValueError, match="counts"):
        rq.certify_counts(game, [1, 1])
    with pytest.raises(ValueError, match="tol must be"):
        rq.certify_counts(game, [1, 1, 0], tol=float("nan"))


# ---------------------------------------------------------------------- the search
def test_threshold_utilities_equal_the_serving_rules():
    """nonsmooth.utilities (thresholds per user) against serving.deviation_probabilities
    (the rule itself) on random candidates, hardmax and top-k with ties among the others."""
    rng = np.random.default_rng(0)
    users = rng.dirichlet(np.ones(4), 50)
    counts = np.array([2.0, 0.0, 3.0, 1.0])
    candidates = users @ rng.dirichlet(np.ones(4), 30).T
    candidates = np.hstack([candidates, users])  # vertices: exact ties with the others
    for rule, k, tau in [
        ("hardmax", None, 1.0),
        ("topk_softmax", 1, 1.0),
        ("topk_softmax", 3, 0.2),
        ("topk_softmax", 5, 2.0),
    ]:
        for engagement in (True, False):
            th = nonsmooth.thresholds(users, users, counts, rule, tau, k, engagement)
            on = counts > 0  # the rule's own function takes the others present
            p = serving.deviation_probabilities(candidates, users[:, on], counts[on], rule, tau, k)
            expected = (p * candidates).sum(0) if engagement else p.sum(0)
            np.testing.assert_allclose(nonsmooth.utilities(th, candidates), expected, rtol=1e-12)


#: Users in multiples of 1/4 (rows already on the simplex, so nothing is renormalised):
#: every score against a grid of multiples of 1/32 is exact in floating point.
QUARTERS = [(a, b, 4 - a - b) for a in range(5) for b in range(5 - a)]
quarters = st.lists(st.sampled_from(QUARTERS), min_size=2, max_size=6)


@given(
    rows=quarters,
    n=st.integers(2, 4),
    rule=st.sampled_from(["hardmax", "topk_softmax"]),
    k=st.integers(1, 3),
    tau=st.sampled_from([0.05, 1.0]),
    utility=st.sampled_from(["engagement", "exposure"]),
    data=st.data(),
)
def test_search_finds_at_least_what_a_grid_finds(rows, n, rule, k, tau, utility, data):
    """Against a grid of the simplex (multiples of 1/32, every candidate profile served by
    the naive reference, scores exact so ties are ties), the search finds a best response
    at least as good, and every gain it reports is real."""
    users = np.array(rows, float) / 4.0
    k = min(k, n - 1) if rule == "topk_softmax" else None
    counts = np.array(data.draw(st.lists(st.integers(0, n), min_size=3, max_size=3)))
    if counts.sum() != n:
        counts = np.bincount(np.arange(n) % 3, minlength=3)
    a = int(np.flatnonzero(counts)[0])
    game = rq.EngagementGame(users, n, rule, tau, utility, k=k)
    certificate = rq.certify_counts(game, counts)
    grid, _ = grid_best_response(users, counts, a, rule, tau, k, utility)
    assert certificate.values[a] >= grid - 1e-9 * max(abs(grid), 1.0)
    # the search's values are lower bounds of the rule's own (a near-tie counts as lost)
    value = realised(game, counts, a, certificate.contents[a])
    assert value >= certificate.values[a] - 1e-12 * max(abs(value), 1.0)


def test_grid_reference_is_exact_on_the_mixing_example():
    value, content = grid_best_response(MIXING_WINS, [1, 1, 0], 1, "hardmax", resolution=4)
    assert value == pytest.approx(7.0) and content[0] == 0.0
    assert naive_utilities(MIXING_WINS, np.eye(3)[[0, 1]], "hardmax")[1] == pytest.approx(5.0)


@pytest.mark.slow
def test_movielens_top5_design_equilibrium_fails_by_tilting(movielens_users):
    """The committed MovieLens design (d = 10, n = 50, embedding seed 13), top-5 softmax:
    counts [6,5,5,6,5,5,6,5,5,2] are an equilibrium over basis vectors, but producers on 6
    of 10 features gain 2-4% by tilting their content by about 1e-6 (a tie at a user's 5th
    place goes whole to the tilter)."""
    game = rq.EngagementGame(movielens_users(10, 13), 50, "topk_softmax", 1.0, k=5)
    counts = np.array([6, 5, 5, 6, 5, 5, 6, 5, 5, 2])
    assert game.count_is_nash(counts)
    certificate = rq.certify_counts(game, counts)
    failing = np.flatnonzero(certificate.gains > 1e-6)
    assert failing.size == 6 and 0.02 <= certificate.gains[failing].min()
    assert certificate.gain <= 0.05
    for a in failing:  # tilts: within 1e-5 of the producer's own vertex
        assert certificate.contents[a].max() > 1 - 1e-5
        assert realised_gain(game, counts, a, certificate.contents[a]) == pytest.approx(
            certificate.gains[a], rel=1e-6
        )


# ---------------------------------------------------------------------- symmetric equilibria
def test_three_symmetric_equilibria_with_their_welfare():
    """Exposure, top-4 softmax at tau 1, 5 producers, users (3,3), (1,2), (4,3) (found by
    sampling two-feature games): three symmetric equilibria, everybody on feature 0, on
    feature 1, and a mixture with share 0.6294 on feature 0. The replicator returns one."""
    game = rq.EngagementGame([[3, 3], [1, 2], [4, 3]], 5, "topk_softmax", 1.0, "exposure", k=4)
    found = mixed.symmetric_equilibria(game)
    shares = sorted(float(e.shares[0]) for e in found)
    np.testing.assert_allclose(shares, [0.0, 0.6294, 1.0], atol=1e-4)
    for e in found:
        assert e.nash_conv <= 1e-9
    welfare = sorted(analysis.mixed_welfare(game, e.shares)[1] for e in found)
    np.testing.assert_allclose(welfare, [1.4048, 1.5469, 1.5952], atol=1e-4)
    one = analysis.symmetric_mixed_equilibrium(game)
    assert any(np.abs(one.shares - e.shares).max() < 1e-6 for e in found)


@given(
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4)).filter(sum), min_size=2, max_size=5
    ),
    n=st.integers(2, 6),
    rule=st.sampled_from(["softmax", "linear", "hardmax", "topk_softmax"]),
    utility=st.sampled_from(["engagement", "exposure"]),
    tau=st.sampled_from([0.1, 1.0]),
)
def test_support_enumeration_finds_every_two_feature_equilibrium(rows, n, rule, utility, tau):
    """Two features: the symmetric equilibria are the roots of f_0(x) - f_1(x) on (0, 1)
    plus the ends that are stable; a scan of 4,001 points finds them (skipping games with a
    continuum of equilibria)."""
    k = max(1, n - 2) if rule == "topk_softmax" else None
    game = rq.EngagementGame(np.array(rows, float), n, rule, tau, utility, k=k)
    opponents = mixed._Opponents(game, 0, 0)
    xs = np.linspace(0.0, 1.0, 4001)
    f = np.array([opponents.expected(np.array([x, 1 - x]))[0] for x in xs])
    diff = f[:, 0] - f[:, 1]
    scale = max(float(np.abs(f).max()), 1e-300)
    inner = diff[1:-1]
    zero = np.abs(inner) <= 1e-12 * scale
    if zero.sum() > 3:
        return  # a continuum (tied features): not counted here
    roots = [xs[i + 1] for i in np.flatnonzero(np.sign(inner[:-1]) * np.sign(inner[1:]) < 0)]
    roots += list(xs[1:-1][zero])
    roots += [0.0] if diff[0] <= 1e-12 * scale else []
    roots += [1.0] if diff[-1] >= -1e-12 * scale else []
    expected = []
    for r in sorted(roots):  # a zero on the scan is also next to a sign change
        if not expected or r - expected[-1] > 1e-3:
            expected.append(r)
    found = sorted(float(e.shares[0]) for e in mixed.symmetric_equilibria(game, certify=False))
    assert len(found) == len(expected)
    np.testing.assert_allclose(found, expected, atol=1e-3)


def test_welfare_counts_mixed_equilibria_and_only_certified_ones():
    """The price of anarchy over every equilibrium: with a mixed equilibrium worse than the
    pure one, price_of_anarchy exceeds pure_price_of_anarchy."""
    game = rq.EngagementGame(rq.synthetic_users("uniform", 300, 3, seed=2), 4, "linear")
    eq = analysis.pure_equilibria(game)
    found = mixed.symmetric_equilibria(game)
    value = analysis.welfare(game, eq, found)
    assert value.certified_equilibria == value.equilibria == len(eq.counts)
    assert value.mixed_equilibria == len(found) and value.certified_mixed_equilibria >= 1
    assert value.worst_equilibrium <= value.worst_pure_equilibrium
    assert value.price_of_anarchy >= value.pure_price_of_anarchy >= 1.0
    assert value.price_of_anarchy == pytest.approx(value.optimum / value.worst_equilibrium)


def test_welfare_drops_pure_equilibria_that_mixing_beats():
    game = rq.EngagementGame(MIXING_WINS, 2, "hardmax")
    eq = analysis.pure_equilibria(game)
    assert eq.check == "basis only" and [1, 1, 0] in eq.counts.tolist()
    value = analysis.welfare(game, eq)
    assert value.equilibria == len(eq.counts) > value.certified_equilibria


def test_env_terminates_only_at_equilibria_over_the_simplex_when_asked():
    """The env's termination check over the simplex (deviations="simplex") sees what mixing
    gains under hardmax; over basis vectors it stops at [e0, e1]."""
    for deviations, stops in (("basis", True), ("simplex", False)):
        env = rq.parallel_env(
            users=MIXING_WINS,
            n_producers=2,
            rule="hardmax",
            action_type="discrete",
            terminate_at_equilibrium=True,
            deviations=deviations,
            info_regrets=True,
        )
        env.reset(seed=0, options={"assignment": [0, 1]})
        *_, terminations, _, infos = env.step({a: i for i, a in enumerate(env.agents)})
        assert all(terminations.values()) is stops
        assert infos["producer_1"]["regret"] == pytest.approx(0.0 if stops else 2.0)
