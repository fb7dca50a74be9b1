"""Equilibrium analysis over count vectors: every pure equilibrium, the response graph and its
cycles, basins, symmetric mixed equilibria and welfare, against references and closed forms."""

import itertools
import math

import numpy as np
import pytest

import recsys_eq_env as rq
from recsys_eq_env import analysis
from recsys_eq_env.lattice import Lattice

from reference import brute_force_equilibria, single_minded_users


def _random_game(seed):
    rng = np.random.default_rng(seed)
    dim, n = int(rng.integers(2, 5)), int(rng.integers(2, 8))
    kind = ("uniform", "sparse", "skewed")[seed % 3]
    users = rq.synthetic_users(kind, int(rng.integers(3, 60)), dim, seed=seed)
    rule, tau = [("softmax", 0.01), ("softmax", 0.1), ("softmax", 1.0), ("linear", 1.0)][seed % 4]
    return rq.EngagementGame(users, n, rule, tau)


@pytest.mark.parametrize("seed", range(16))
def test_lattice_pass_finds_exactly_the_enumerated_equilibria(seed):
    """The batched lattice pass against the per-count-vector search (deviation rows)."""
    from recsys_eq_env.dynamics import _enumerate

    game = _random_game(seed)
    reference = _enumerate(game, 1e-9, Lattice(game.n_producers, game.dim).size, False)
    expected = sorted(map(tuple, reference.tolist()))
    assert sorted(map(tuple, rq.pure_nash_equilibria(game).tolist())) == expected
    for threads in (1, 2):
        found = analysis.pure_equilibria(game, threads=threads)
        assert sorted(map(tuple, found.counts.tolist())) == expected
    graph = analysis.response_graph(game)
    assert sorted(map(tuple, graph.counts[graph.equilibria].tolist())) == expected


def test_brute_force_over_profiles_agrees_on_a_tiny_game():
    """3 producers, 3 features: every one of the 27 profiles checked with the naive code."""
    users = rq.synthetic_users("uniform", 8, 3, seed=5)
    game = rq.EngagementGame(users, 3, "softmax", 0.3)
    naive = set(brute_force_equilibria(users, 3, "softmax", 0.3))
    assert {tuple(c) for c in analysis.pure_equilibria(game).counts.tolist()} == naive


@pytest.mark.parametrize(("weights", "n"), [([5, 3, 2], 10), ([4, 4, 2], 7), ([9, 1], 5)])
def test_dhondt_at_low_temperature(weights, n):
    """Single-minded users, tau -> 0: counts follow the D'Hondt apportionment (MODEL.md 2)."""
    game = rq.EngagementGame(single_minded_users(weights), n, "softmax", 1e-3)
    seats = np.zeros(len(weights), dtype=int)
    for _ in range(n):
        seats[np.argmax(np.array(weights) / (seats + 1))] += 1
    assert analysis.pure_equilibria(game).counts.tolist() == [seats.tolist()]


def test_a_game_without_pure_equilibria_has_a_better_response_cycle():
    """tests/test_oracles.py's case: tau 0.01, 10 users (seed 23), 3 features, 2 producers."""
    users = rq.synthetic_users("uniform", 10, 3, seed=23)
    game = rq.EngagementGame(users, 2, "softmax", 0.01)
    graph = analysis.response_graph(game)
    assert len(graph.equilibria) == 0 and graph.has_cycle
    cycle = graph.cycle
    assert len(cycle) >= 3 and cycle[0] == cycle[-1]
    for before, after in itertools.pairwise(cycle):  # every step a strict improvement
        diff = np.array(after) - np.array(before)
        a, b = int(np.flatnonzero(diff < 0)[0]), int(np.flatnonzero(diff > 0)[0])
        row = game.deviation_table(before)[a]
        assert row[b] > row[a] * (1 + 1e-9)
    shares, never = graph.basins()
    assert shares.size == 0 and never == pytest.approx(1.0)


@pytest.mark.slow
def test_basins_match_the_dynamics_from_random_starts():
    """Exact basins vs 2,000 runs of best_response_dynamics (3-sigma binomial bound)."""
    users = rq.synthetic_users("uniform", 200, 3, seed=2)
    game = rq.EngagementGame(users, 6, "softmax", 0.05)
    graph = analysis.response_graph(game)
    shares, never = graph.basins()
    assert never < 1e-12 and shares.sum() == pytest.approx(1.0)
    ends = [tuple(rq.best_response_dynamics(game, seed=s).counts) for s in range(2000)]
    for node, share in zip(graph.equilibria, shares, strict=True):
        observed = ends.count(tuple(graph.counts[node])) / len(ends)
        assert abs(observed - share) <= 3 * math.sqrt(share * (1 - share) / len(ends)) + 1e-9


@pytest.mark.parametrize(
    ("n", "dim", "rule", "tau"),
    [
        (20, 5, "softmax", 1.0),
        (20, 5, "linear", 1.0),
        (12, 4, "softmax", 0.1),
        (5, 3, "softmax", 10.0),
    ],
)
def test_symmetric_mixed_equilibria_are_exact(n, dim, rule, tau):
    """nash_conv <= 1e-9 (exact over every opponents' count vector) for n <= 20, d <= 5."""
    game = rq.EngagementGame(rq.synthetic_users("uniform", 500, dim, seed=7), n, rule, tau)
    mixed = analysis.symmetric_mixed_equilibrium(game, certify=False)
    assert mixed.method == "exact" and mixed.bound == 0.0
    assert mixed.nash_conv <= 1e-9 * max(1.0, mixed.expected.max())
    support = mixed.shares > 0
    np.testing.assert_allclose(mixed.expected[support], mixed.expected[support].max(), rtol=1e-9)
    assert (mixed.expected[~support] <= mixed.expected.max() * (1 + 1e-9)).all()
    np.testing.assert_allclose(mixed.shares.sum(), 1.0)
    # where utility is convex in own content a basis vector is a best response to any mixture
    assert mixed.continuous == ("exact" if rule == "linear" or tau >= 0.5 else "not checked")


def test_mixed_equilibrium_on_two_single_minded_features():
    """Two symmetric features (5 users each), 2 producers, linear serving: by symmetry the
    mixed equilibrium is (1/2, 1/2)."""
    game = rq.EngagementGame(single_minded_users([5, 5]), 2, "linear")
    mixed = analysis.symmetric_mixed_equilibrium(game, start=np.array([0.7, 0.3]), certify=False)
    np.testing.assert_allclose(mixed.shares, [0.5, 0.5], atol=1e-9)


@pytest.mark.slow
def test_mixed_equilibrium_certificate_where_the_utility_is_not_convex():
    game = rq.EngagementGame(rq.synthetic_users("uniform", 60, 3, seed=1), 3, "softmax", 0.1)
    mixed = analysis.symmetric_mixed_equilibrium(game)
    assert mixed.continuous == "certified by search" and np.isfinite(mixed.continuous_gain)


def test_welfare_orders_optimum_equilibria_and_bound():
    game = rq.EngagementGame(rq.synthetic_users("uniform", 300, 4, seed=3), 6, "softmax", 1.0)
    eq = analysis.pure_equilibria(game)
    value = analysis.welfare(game, eq, analysis.symmetric_mixed_equilibrium(game, certify=False))
    assert value.optimum_method == "exact"
    assert value.upper_bound >= value.optimum >= value.best_equilibrium >= value.worst_equilibrium
    assert value.price_of_anarchy >= value.price_of_stability >= 1.0
    # the optimum over basis profiles, by brute force over count vectors
    lattice = Lattice(6, 4)
    counts = lattice.unrank(np.arange(lattice.size))
    assert value.optimum == pytest.approx(analysis.count_welfare(game, counts)[1].max())
    # engagement: producer welfare equals user welfare
    np.testing.assert_allclose(eq.producer_welfare, eq.user_welfare)
    # a local search can only find a lower bound of the exact optimum
    searched = analysis.welfare(game, max_size=1)
    assert searched.optimum_method == "local search"
    assert searched.optimum <= value.optimum * (1 + 1e-12)


def test_analysis_refuses_work_above_its_bounds():
    game = rq.EngagementGame(rq.synthetic_users("uniform", 1000, 10, seed=0), 20)
    with pytest.raises(ValueError, match=r"count vectors x 1,000 users x 10 features.*max_work"):
        analysis.pure_equilibria(game, max_work=1e9)
    with pytest.raises(ValueError, match=r"10,015,005 count vectors .* more than max_size"):
        analysis.response_graph(game)


def test_a_mixed_equilibrium_next_to_a_face_is_found_exactly():
    """The benchmark's game (1,000 uniform users, seed 1, d = 5, n = 20, softmax 1): one
    feature earns 1e-4 less than the rest, so the replicator crawls towards the face without
    it (it stopped at nash_conv 6.5e-6 after 20,000 steps); the root finder on the face gives
    the exact equilibrium with that feature's share 0."""
    game = rq.EngagementGame(rq.synthetic_users("uniform", 1000, 5, seed=1), 20)
    mixed = analysis.symmetric_mixed_equilibrium(game, certify=False)
    assert mixed.nash_conv <= 1e-9 * mixed.expected.max()
    assert mixed.shares[3] == 0.0 and (np.delete(mixed.shares, 3) > 0.05).all()
    assert mixed.expected[3] < mixed.expected.max() - 1e-4
    assert mixed.iterations < 20_000


@pytest.mark.parametrize("total, dim", [(2, 97), (3, 60), (1, 200)])
def test_the_lattice_numbers_few_producers_over_many_features(total, dim):
    """C(s, j) beyond int64 (C(97, 48) > 2**63) is never read by a valid rank: the table caps
    it instead of overflowing (found with a 97-item catalogue of jagadeesan-supply-v0)."""
    lattice = Lattice(total, dim)
    counts = lattice.unrank(np.arange(lattice.size))
    assert len({tuple(c) for c in counts}) == lattice.size == math.comb(total + dim - 1, dim - 1)
    assert (counts.sum(axis=1) == total).all()
    np.testing.assert_array_equal(lattice.rank(counts), np.arange(lattice.size))
