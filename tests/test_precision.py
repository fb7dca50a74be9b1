"""float32 is float64 to 1e-5 relative, or a clear error, down to the temperature floor
(issue 20): never NaN rewards, never "converged" dynamics on non-finite utilities."""

import numpy as np
import pytest

import recsys_eq_env as rq
from recsys_eq_env.counts import CountOracle

from reference import single_minded_users

POPULATIONS = {
    "sparse": rq.synthetic_users("sparse", 400, 8, seed=0),
    "uniform": rq.synthetic_users("uniform", 400, 8, seed=1),
    "skewed": rq.synthetic_users("skewed", 400, 8, seed=2),
    "single-minded": single_minded_users([3, 2, 2, 1, 1, 1, 1, 1]),
}
TEMPERATURES = (1e-100, 1e-10, 1e-3, 0.005, 0.01, 0.1, 1.0, 10.0)


def _counts(seed, n, dim):
    return np.random.default_rng(seed).multinomial(n, np.ones(dim) / dim, size=6)


@pytest.mark.parametrize("population", POPULATIONS)
@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize("rule", ["softmax", "linear"])
def test_float32_engine_equals_float64(population, temperature, rule):
    users = POPULATIONS[population]
    f64 = rq.EngagementGame(users, 6, rule, temperature)
    f32 = rq.EngagementGame(users, 6, rule, temperature, precision="float32")
    for counts in _counts(0, 6, 8):
        a, b = f32.deviation_table(counts), f64.deviation_table(counts)
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
        np.testing.assert_allclose(
            f32.count_utilities(counts), f64.count_utilities(counts), rtol=1e-5, atol=1e-9
        )
    batch = _counts(1, 6, 8)
    np.testing.assert_allclose(
        f64.oracle.batch_utilities(batch, np.float32),
        f64.oracle.batch_utilities(batch, np.float64),
        rtol=1e-5,
        atol=1e-5 * f64.n_users,
    )


@pytest.mark.parametrize("temperature", [0.005, 0.01, 1e-3])
def test_float32_vector_env_rewards_are_finite_and_equal(temperature):
    """Issue 20: sparse users (90% zeros) at softmax 0.01 or 0.005 gave 2,688 of 2,880 NaN
    rewards in float32."""
    users = POPULATIONS["sparse"]
    rewards = {}
    for dtype in (np.float64, np.float32):
        env = rq.vector_env(
            num_envs=16,
            users=users,
            n_producers=6,
            rule="softmax",
            temperature=temperature,
            action_type="discrete",
            dtype=dtype,
            revision="simultaneous",
            max_cycles=20,
        )
        env.reset(seed=3)
        rng = np.random.default_rng(0)
        out = []
        for _ in range(10):
            _, r, *_ = env.step(rng.integers(0, 8, size=(16, 6)))
            out.append(r)
        rewards[dtype] = np.array(out)
    assert np.isfinite(rewards[np.float32]).all()
    np.testing.assert_allclose(rewards[np.float32], rewards[np.float64], rtol=1e-5, atol=1e-9)


def test_single_minded_users_at_low_temperature():
    """Issue 20: single-minded users, tau 0.005, everybody on feature 0: float32 gave NaN.
    MODEL.md's closed form w_0 e^{1/tau} / ((e^{1/tau} - 1) n_0 + n) with w_0 = 9 users and
    n_0 = n = 3 is 9 / 3 = 3 (to 1e-80)."""
    users = single_minded_users([9, 16, 15])
    for precision in ("float64", "float32"):
        game = rq.EngagementGame(users, 3, "softmax", 0.005, precision=precision)
        np.testing.assert_allclose(game.count_utilities([3, 0, 0])[0], 3.0, rtol=1e-9)


def test_dynamics_never_converge_on_non_finite_utilities(monkeypatch):
    """Should arithmetic ever leave the finite numbers, the engine raises instead of reading
    NaN as "nobody gains" (the dynamics reported convergence after 0 iterations)."""
    users = POPULATIONS["uniform"]
    game = rq.EngagementGame(users, 4, "softmax", 1.0, precision="float32", utility_cache="off")
    monkeypatch.setattr(CountOracle, "_row", lambda self, counts, a, n: np.full(self.dim, np.nan))
    with pytest.raises(FloatingPointError, match=r"precision='float32'.*use precision='float64'"):
        rq.best_response_dynamics(game, seed=0)
    monkeypatch.undo()  # the cache's path: the batched kernel checks its output too
    game = rq.EngagementGame(users, 4, "softmax", 1.0, precision="float32", utility_cache="table")
    real = CountOracle.batch_utilities
    monkeypatch.setattr(
        CountOracle, "batch_utilities", lambda self, c, dtype=np.float64: real(self, c) * np.nan
    )
    with pytest.raises(FloatingPointError, match=r"utilities are not finite"):
        rq.best_response_dynamics(game, seed=0)
