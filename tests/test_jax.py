"""The JAX env (issue 21): JaxMARL's shape, pure and compiled, and the NumPy env's moves."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import recsys_eq_env as rq

jax = pytest.importorskip("jax", reason="the 'jax' extra is not installed")
from recsys_eq_env.jax import JaxEngagementEnv, mover_keys  # noqa: E402
from recsys_eq_env.streams import mover_keys as numpy_mover_keys  # noqa: E402

USERS = rq.synthetic_users("sparse", 300, 5, seed=0)
RULES = [
    ("softmax", None, 1.0),
    ("softmax", None, 0.005),
    ("linear", None, 1.0),
    ("hardmax", None, 1.0),
    ("topk_softmax", 2, 0.3),
    ("uniform", None, 1.0),
]


def _actions(env, row):
    return {a: int(row[i]) for i, a in enumerate(env.agents)}


def test_the_stream_is_the_numpy_stream():
    words = np.array([[123456789, 987654321], [0, 2**32 - 1]], dtype=np.uint32)
    for b in range(2):
        for step in (0, 1, 7, 2**31):
            ours = np.asarray(mover_keys(jax.numpy.asarray(words[b]), step, 9))
            np.testing.assert_array_equal(ours, numpy_mover_keys(words[b][None], [step], 9)[0])


@pytest.mark.parametrize(("rule", "k", "tau"), RULES)
@pytest.mark.parametrize("revision", ["one", "simultaneous"])
def test_the_same_draws_give_the_numpy_moves(rule, k, tau, revision):
    """From the NumPy vector env's starts and stream words, the JAX env makes its moves step
    for step; rewards to 2e-6 relative in float32 against float64 (and float32) NumPy,
    nash_conv and observations alike."""
    game = rq.EngagementGame(USERS, 6, rule, tau, k=k)
    venvs = {
        dtype: rq.vector_env(
            4, game=game, action_type="discrete", revision=revision, max_cycles=50, dtype=dtype
        )
        for dtype in (np.float64, np.float32)
    }
    for venv in venvs.values():
        venv.reset(seed=3)
    env = JaxEngagementEnv(game, revision=revision, max_cycles=50)
    reference = venvs[np.float64]
    states = [
        env.state_from(reference._state.assignment[b], reference._state.words[b]) for b in range(4)
    ]
    step = jax.jit(env.step_env)
    rng = np.random.default_rng(0)
    for _ in range(15):
        actions = rng.integers(0, 5, size=(4, 6))
        out = {dtype: venv.step(actions) for dtype, venv in venvs.items()}
        infos = out[np.float64][4]
        for b in range(4):
            obs, states[b], jax_rewards, _, jax_infos = step(
                jax.random.PRNGKey(0), states[b], _actions(env, actions[b])
            )
            np.testing.assert_array_equal(
                np.asarray(states[b].assignment), reference._state.assignment[b]
            )
            ours = np.array([jax_rewards[a] for a in env.agents])
            for dtype in venvs:
                np.testing.assert_allclose(ours, out[dtype][1][b], rtol=2e-6, atol=1e-9)
            np.testing.assert_allclose(
                float(jax_infos["nash_conv"]),
                infos["nash_conv"][b],
                rtol=1e-4,
                atol=1e-5 * game.n_users,
            )
            layout = reference.layout
            expected = layout.observe(
                reference.profile[b], reference._state.utilities[b], reference._state.counts[b]
            )
            np.testing.assert_allclose(
                np.stack([obs[a] for a in env.agents]), expected, rtol=2e-6, atol=1e-7
            )


def test_rewards_and_nash_conv_are_the_games():
    game = rq.EngagementGame(USERS, 6, "softmax", 0.5)
    env = JaxEngagementEnv(game, reward_scale="raw")
    _, state = env.reset(jax.random.PRNGKey(4))
    _, state, rewards, _, infos = env.step_env(
        jax.random.PRNGKey(5), state, _actions(env, np.arange(6) % 5)
    )
    profile = rq.profile_from_assignment(np.asarray(state.assignment), 5)
    np.testing.assert_allclose(
        [rewards[a] for a in env.agents], game.producer_utilities(profile), rtol=2e-6
    )
    np.testing.assert_allclose(float(infos["nash_conv"]), game.nash_conv(profile), rtol=1e-4)


def test_jit_vmap_over_games_and_keys_and_autoreset():
    game = rq.EngagementGame(USERS, 6, "linear")
    env = JaxEngagementEnv(game, max_cycles=3, revision="one")
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    obs, states = jax.vmap(env.reset)(keys)
    assert obs["producer_0"].shape == (8, env.layout.size)
    step = jax.jit(jax.vmap(env.step))
    actions = {a: jax.numpy.full(8, i % 5) for i, a in enumerate(env.agents)}
    for _ in range(3):
        obs, states, rewards, dones, infos = step(keys, states, actions)
    assert bool(dones["__all__"].all())  # max_cycles reached ...
    assert int(states.step.max()) == 0  # ... and every game started afresh (autoreset)
    assert rewards["producer_0"].shape == (8,) and infos["nash_conv"].shape == (8,)
    again = jax.vmap(env.reset)(keys)[1]  # the same key, the same game
    np.testing.assert_array_equal(
        np.asarray(again.assignment), np.asarray(jax.vmap(env.reset)(keys)[1].assignment)
    )
    other = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(1), 8))[1]
    assert not np.array_equal(np.asarray(other.assignment), np.asarray(again.assignment))


def test_a_lookup_table_gives_the_same_numbers():
    game = rq.EngagementGame(USERS, 6, "softmax", 1.0)
    plain, table = JaxEngagementEnv(game, table=False), JaxEngagementEnv(game, table=True)
    assert JaxEngagementEnv(game).table  # "auto": a small lattice gets its table
    _, state = plain.reset(jax.random.PRNGKey(2))
    state_t = table.state_from(state.assignment, state.words)
    actions = _actions(plain, [4, 0, 1, 1, 2, 3])
    _, a, ra, _, ia = plain.step_env(jax.random.PRNGKey(0), state, actions)
    _, b, rb, _, ib = table.step_env(jax.random.PRNGKey(0), state_t, actions)
    np.testing.assert_array_equal(np.asarray(a.assignment), np.asarray(b.assignment))
    np.testing.assert_allclose(
        [ra[x] for x in plain.agents], [rb[x] for x in plain.agents], rtol=2e-6
    )
    np.testing.assert_allclose(float(ia["nash_conv"]), float(ib["nash_conv"]), rtol=1e-4)


def test_spaces_masks_and_refusals():
    game = rq.EngagementGame(USERS, 6)
    env = JaxEngagementEnv(game, observe_id=True)
    assert env.action_space("producer_0").n == 5
    assert env.observation_space("producer_3").shape == (env.layout.size,)
    _, state = env.reset(jax.random.PRNGKey(0))
    masks = env.get_avail_actions(state)
    assert set(masks) == set(env.agents) and int(masks["producer_2"].sum()) == 5
    with pytest.raises(ValueError, match="action_type must be 'discrete' for the JAX env"):
        JaxEngagementEnv(game, action_type="simplex")
    with pytest.raises(ValueError, match="dtype='float64' needs JAX's 64-bit mode"):
        JaxEngagementEnv(game, dtype="float64")


def test_float64_matches_numpy_to_1e_12():
    """64-bit mode is process-wide in JAX: in its own process."""
    code = textwrap.dedent(
        """
        import jax, numpy as np
        jax.config.update("jax_enable_x64", True)
        import recsys_eq_env as rq
        from recsys_eq_env.jax import JaxEngagementEnv
        users = rq.synthetic_users("uniform", 200, 4, seed=1)
        for rule, k in (("softmax", None), ("linear", None), ("hardmax", None),
                        ("topk_softmax", 2)):
            game = rq.EngagementGame(users, 5, rule, 0.3, k=k)
            venv = rq.vector_env(1, game=game, action_type="discrete", revision="one")
            venv.reset(seed=0)
            env = JaxEngagementEnv(game, revision="one", dtype="float64")
            state = env.state_from(venv._state.assignment[0], venv._state.words[0])
            rng = np.random.default_rng(1)
            for _ in range(10):
                a = rng.integers(0, 4, size=(1, 5))
                _, r, *_ = venv.step(a)
                _, state, jr, _, _ = env.step_env(jax.random.PRNGKey(0), state,
                                                  {x: a[0, i] for i, x in enumerate(env.agents)})
                assert np.array_equal(np.asarray(state.assignment), venv._state.assignment[0])
                np.testing.assert_allclose([jr[x] for x in env.agents], r[0], rtol=1e-12)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr


def test_a_jax_policy_draws_from_its_own_seeded_stream():
    """predict(deterministic=False) draws from the policy's Generator: the same seed gives the
    same actions, whatever else uses NumPy's global or fresh generators meanwhile."""
    from agents.jax_learners import JaxPolicy, LearnerConfig
    from recsys_eq_env.observations import ObservationLayout

    layout = ObservationLayout(3, 4, "aggregate", False)
    rng = np.random.default_rng(0)
    params = {"actor": [(rng.normal(size=(layout.size, 8)), np.zeros(8)),
                        (rng.normal(size=(8, 4)), np.zeros(4))]}  # fmt: skip
    observations = rng.random((50, layout.size)).astype(np.float32)

    def draws(seed):
        policy = JaxPolicy(params, LearnerConfig(), layout, seed=seed)
        return np.concatenate([policy.predict(observations, deterministic=False)[0]
                               for _ in range(4)])  # fmt: skip

    first = draws(7)
    np.random.default_rng().random(10)  # unrelated draws in between change nothing
    np.testing.assert_array_equal(first, draws(7))
    assert not np.array_equal(first, draws(8))
    greedy = JaxPolicy(params, LearnerConfig(), layout).predict(observations)[0]
    np.testing.assert_array_equal(greedy, JaxPolicy(params, LearnerConfig(), layout).logits(
        observations).argmax(-1))  # fmt: skip
