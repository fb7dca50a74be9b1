"""The count-vector utility cache (issue 21): the same numbers as the batched kernel on every
rule, in every mode, from every thread; refused where it cannot be built."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import recsys_eq_env as rq
from recsys_eq_env import utility_cache
from recsys_eq_env.lattice import Lattice

USERS = rq.synthetic_users("sparse", 400, 4, seed=2)
RULES = [
    ("softmax", None, 0.3),
    ("softmax", None, 0.004),
    ("linear", None, 1.0),
    ("hardmax", None, 1.0),
    ("topk_softmax", 2, 0.5),
    ("uniform", None, 1.0),
]


@pytest.mark.parametrize(("rule", "k", "tau"), RULES)
@pytest.mark.parametrize("utility", ["engagement", "exposure"])
@pytest.mark.parametrize("mode", ["table", "lazy"])
def test_cached_utilities_equal_the_kernel(rule, k, tau, utility, mode):
    game = rq.EngagementGame(USERS, 6, rule, tau, utility, k=k, utility_cache=mode)
    off = rq.EngagementGame(USERS, 6, rule, tau, utility, k=k, utility_cache="off")
    counts = Lattice(6, 4).unrank(np.arange(Lattice(6, 4).size))
    np.testing.assert_allclose(
        game.batch_count_utilities(counts),
        off.batch_count_utilities(counts),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(  # float32 kernel against the cache: 1e-6 relative
        off.batch_count_utilities(counts, np.float32),
        game.batch_count_utilities(counts),
        rtol=1e-6,
        atol=1e-6 * game.n_users,
    )
    for c in counts[::7]:
        np.testing.assert_allclose(
            game.deviation_table(c), off.deviation_table(c), rtol=1e-12, atol=1e-12
        )
        assert game.nash_conv(rq.profile_from_assignment(np.repeat(np.arange(4), c), 4)) == (
            pytest.approx(
                off.nash_conv(rq.profile_from_assignment(np.repeat(np.arange(4), c), 4)),
                rel=1e-9,
                abs=1e-12,
            )
        )


def test_dynamics_are_the_same_with_and_without_the_cache():
    for mode in ("table", "lazy"):
        for rule in ("softmax", "linear", "hardmax"):
            cached = rq.EngagementGame(USERS, 7, rule, utility_cache=mode)
            plain = rq.EngagementGame(USERS, 7, rule, utility_cache="off")
            for seed in range(3):
                a = rq.best_response_dynamics(cached, seed=seed)
                b = rq.best_response_dynamics(plain, seed=seed)
                np.testing.assert_array_equal(a.moves, b.moves)


def test_auto_picks_a_table_only_where_it_is_small_and_cheap():
    assert rq.EngagementGame(USERS, 6).utility_cache == "table"
    big = rq.EngagementGame(rq.synthetic_users("uniform", 10_000, 10, seed=0), 20)
    assert big.utility_cache == "off"  # 10 million count vectors x 10,000 users to fill
    with pytest.raises(ValueError, match=r"utility_cache='table' needs .* count vectors"):
        rq.EngagementGame(rq.synthetic_users("uniform", 10, 12, seed=0), 60, utility_cache="table")
    with pytest.raises(ValueError, match="utility_cache must be one of"):
        rq.EngagementGame(USERS, 6, utility_cache="always")


def test_auto_gives_rules_filled_one_count_vector_at_a_time_only_tiny_tables():
    """Hardmax, top-k with k < n and uniform serving fill a table in a Python loop: at
    n = 50, d = 5 (316,251 count vectors) that took the variants grid 40 minutes for one run,
    so "auto" leaves them off there and keeps small tables."""
    users = rq.synthetic_users("uniform", n_users=50, dim=5, seed=0)
    for rule, k in [("hardmax", None), ("topk_softmax", 5), ("uniform", None)]:
        assert rq.EngagementGame(users, 50, rule=rule, k=k).utility_cache == "off"
        assert rq.EngagementGame(users, 4, rule=rule, k=k and 2).utility_cache == "table"
    assert rq.EngagementGame(users, 50, rule="topk_softmax", k=50).utility_cache == "table"
    assert rq.EngagementGame(users, 50, rule="linear").utility_cache == "table"
    assert not utility_cache.batched_rule("topk_softmax", 10, 3)
    assert utility_cache.batched_rule("softmax", 10)


def test_one_cache_serves_every_thread_and_env():
    game = rq.EngagementGame(USERS, 6, "softmax", 0.3, utility_cache="lazy")
    reference = rq.EngagementGame(USERS, 6, "softmax", 0.3, utility_cache="off")
    rng = np.random.default_rng(0)
    batches = [rng.multinomial(6, np.ones(4) / 4, size=64) for _ in range(32)]

    def work(counts):
        return game.batch_count_utilities(counts)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, batches))
    for counts, got in zip(batches, results, strict=True):
        np.testing.assert_allclose(got, reference.batch_count_utilities(counts), rtol=1e-12)
    envs = [rq.vector_env(2, game=game, action_type="discrete") for _ in range(2)]
    assert all(env.game.cache is game.cache for env in envs)


def test_the_lazy_map_starts_afresh_when_full(monkeypatch):
    monkeypatch.setattr(utility_cache, "LAZY_ENTRIES", 8)
    game = rq.EngagementGame(USERS, 6, utility_cache="lazy")
    counts = Lattice(6, 4).unrank(np.arange(40))
    first = game.batch_count_utilities(counts[:8])
    game.batch_count_utilities(counts[8:])
    assert len(game.cache._lazy) <= 40
    np.testing.assert_array_equal(game.batch_count_utilities(counts[:8]), first)
