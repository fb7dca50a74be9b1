"""The vectorised core against the naive loops of tests/reference.py on random small games."""

import zlib

import numpy as np
import pytest

import recsys_eq_env as rq

from reference import (
    naive_best_response_dynamics,
    naive_deviation_utilities,
    naive_probabilities,
    naive_utilities,
)

CELLS = [
    ("softmax", 1.0, None),
    ("softmax", 0.01, None),
    ("softmax", 1e-4, None),  # the log-space path of the count oracle
    ("softmax", 100.0, None),
    ("linear", 1.0, None),
    ("hardmax", 1.0, None),
    ("uniform", 1.0, None),
    ("topk_softmax", 0.1, 1),
    ("topk_softmax", 1.0, 2),
    ("topk_softmax", 1e-4, 2),
    ("topk_softmax", 1.0, 3),
]


def random_games(rule, temperature, k, count=6):
    rng = np.random.default_rng(zlib.crc32(repr((rule, temperature, k)).encode()))
    for trial in range(count):
        n_users = int(rng.integers(1, 7))
        dim = int(rng.integers(1, 5))
        n = int(rng.integers(max(1, k or 1), 6))
        kind = ["uniform", "skewed", "sparse"][trial % 3]
        users = rq.synthetic_users(kind, n_users, dim, seed=trial)
        yield users, n, rng


@pytest.mark.parametrize(("rule", "temperature", "k"), CELLS)
@pytest.mark.parametrize("utility", ["engagement", "exposure"])
def test_vectorised_matches_naive(rule, temperature, k, utility):
    for users, n, rng in random_games(rule, temperature, k):
        dim = users.shape[1]
        game = rq.EngagementGame(users, n, rule, temperature, utility, k)
        basis = np.eye(dim)[rng.integers(0, dim, n)]
        mixed = rng.dirichlet(np.ones(dim), n)
        for profile in (basis, mixed):
            np.testing.assert_allclose(
                game.serving_probabilities(profile),
                naive_probabilities(users, profile, rule, temperature, k),
                rtol=1e-12,
                atol=1e-15,
            )
            np.testing.assert_allclose(
                game.producer_utilities(profile),
                naive_utilities(users, profile, rule, temperature, k, utility),
                rtol=1e-12,
                atol=1e-15,
            )
            for i in range(n):
                np.testing.assert_allclose(
                    game.deviation_utilities(profile, i),
                    naive_deviation_utilities(users, profile, i, rule, temperature, k, utility),
                    rtol=1e-12,
                    atol=1e-15,
                )


@pytest.mark.parametrize(("rule", "temperature", "k"), CELLS)
def test_count_table_matches_naive(rule, temperature, k):
    """Every row of the deviation table equals the naive rebuild-the-profile computation."""
    for users, n, rng in random_games(rule, temperature, k):
        dim = users.shape[1]
        game = rq.EngagementGame(users, n, rule, temperature, k=k)
        assignment = rng.integers(0, dim, n)
        counts = np.bincount(assignment, minlength=dim)
        table = game.deviation_table(counts)
        profile = np.eye(dim)[assignment]
        for i in range(n):
            np.testing.assert_allclose(
                table[assignment[i]],
                naive_deviation_utilities(users, profile, i, rule, temperature, k),
                rtol=1e-12,
                atol=1e-15,
            )


@pytest.mark.parametrize(
    ("rule", "temperature", "k"),
    [c for c in CELLS if c[0] != "uniform"] + [("uniform", 1.0, None)],
)
def test_dynamics_match_naive_loop(rule, temperature, k):
    """Same seed, same moves: the count-vector dynamics equal the authors' naive loop."""
    for seed in range(3):
        users = rq.synthetic_users("uniform", 30, 3, seed=seed)
        n = 4
        game = rq.EngagementGame(users, n, rule, temperature, k=k)
        fast = rq.best_response_dynamics(game, seed=seed, max_iter=40)
        assignment, moves, converged = naive_best_response_dynamics(
            users, n, rule, temperature, k, seed=seed, max_iter=40
        )
        assert fast.moves.tolist() == [list(m) for m in moves]
        assert fast.assignment.tolist() == assignment.tolist()
        assert fast.converged == converged


@pytest.mark.parametrize(("rule", "temperature", "k"), CELLS)
@pytest.mark.parametrize("utility", ["engagement", "exposure"])
def test_one_pass_utilities_match_table_and_naive(rule, temperature, k, utility):
    for users, n, rng in random_games(rule, temperature, k):
        dim = users.shape[1]
        game = rq.EngagementGame(users, n, rule, temperature, utility, k)
        assignment = rng.integers(0, dim, n)
        counts = np.bincount(assignment, minlength=dim)
        utilities = game.count_utilities(counts)
        table = game.deviation_table(counts)
        occupied = counts > 0
        np.testing.assert_allclose(
            utilities[occupied], np.diag(table)[occupied], rtol=1e-12, atol=1e-15
        )
        assert (utilities[~occupied] == 0).all()
        np.testing.assert_allclose(
            utilities[assignment],
            naive_utilities(users, np.eye(dim)[assignment], rule, temperature, k, utility),
            rtol=1e-12,
            atol=1e-15,
        )


@pytest.mark.parametrize("rule", ["softmax", "linear"])
def test_chunking_over_users_changes_nothing(rule, monkeypatch):
    """Rows computed in chunks of 257 users equal rows computed in one piece."""
    from recsys_eq_env import counts as counts_module

    users = rq.synthetic_users("sparse", 3000, 6, seed=4)
    counts = np.array([3, 0, 5, 1, 0, 2])
    whole = rq.EngagementGame(users, 11, rule, 0.2)
    table, utilities = whole.deviation_table(counts), whole.count_utilities(counts)
    monkeypatch.setattr(counts_module, "CHUNK", 257)
    chunked = rq.EngagementGame(users, 11, rule, 0.2)
    np.testing.assert_allclose(chunked.deviation_table(counts), table, rtol=1e-12)
    np.testing.assert_allclose(chunked.count_utilities(counts), utilities, rtol=1e-12)


@pytest.mark.parametrize("rule", ["softmax", "linear"])
def test_float32_precision_is_close_and_reaches_an_equilibrium(rule):
    users = rq.synthetic_users("uniform", 5000, 8, seed=3)
    double = rq.EngagementGame(users, 30, rule, 1.0)
    single = rq.EngagementGame(users, 30, rule, 1.0, precision="float32")
    counts = np.bincount(np.random.default_rng(0).integers(0, 8, 30), minlength=8)
    np.testing.assert_allclose(
        single.deviation_table(counts), double.deviation_table(counts), rtol=1e-5
    )
    result = rq.best_response_dynamics(single, seed=0, tol=1e-5)
    assert result.converged
    assert double.is_nash(result.profile, tol=1e-5)


@pytest.mark.parametrize(
    ("rule", "temperature"),
    [("softmax", 1.0), ("softmax", 0.01), ("softmax", 1e-4), ("linear", 1.0)],
)
@pytest.mark.parametrize("utility", ["engagement", "exposure"])
def test_all_deviations_at_once_match_naive(rule, temperature, utility):
    """The vectorised best deviations of mixed profiles (regrets, is_nash) vs the naive loop."""
    from recsys_eq_env import serving

    for users, n, rng in random_games(rule, temperature, None):
        dim = users.shape[1]
        game = rq.EngagementGame(users, n, rule, temperature, utility)
        profile = rng.dirichlet(np.ones(dim), n)
        naive = np.array(
            [
                naive_deviation_utilities(users, profile, i, rule, temperature, None, utility)
                for i in range(n)
            ]
        )
        table = serving.all_deviation_utilities(game.users.T, profile, rule, temperature, utility)
        if table is not None:  # None: tiny temperatures go through the log-space path
            np.testing.assert_allclose(table, naive, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(
            game.best_deviations(profile, deviations="basis"),
            naive.max(axis=1),
            rtol=1e-12,
            atol=1e-15,
        )
