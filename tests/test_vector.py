"""The vector env: game b is step for step parallel_env reset with seed s + b.

Every action type x revision x rule, 60 steps with short episodes (so autoresets happen),
integers and episode ends exactly, floats to 1e-9 relative. Then the autoreset modes, bad
input, and float32.
"""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import recsys_eq_env as rq

USERS = rq.synthetic_users("uniform", 400, 4, seed=3)
B, N, DIM, SEED = 5, 6, 4, 11
RULES = [
    dict(rule="softmax", temperature=0.5),
    dict(rule="linear"),
    dict(rule="topk_softmax", temperature=1.0, k=3),
    dict(rule="hardmax"),
    dict(rule="uniform"),
]


def _actions(rng, action_type, steps):
    if action_type == "discrete":
        return rng.integers(0, DIM, (steps, B, N))
    if action_type == "simplex":
        out = rng.dirichlet(np.ones(DIM), (steps, B, N))
        out[rng.random((steps, B, N)) < 0.3] = 0.0  # "stay" requests
        return out
    out = rng.uniform(-1, 1, (steps, B, N, DIM))
    out[rng.random((steps, B, N)) < 0.3] = -1.0
    return out


def _single_rollout(kwargs, actions, b):
    """Game b as a user drives one parallel_env: reset(seed + b), step, reset() when done."""
    env = rq.parallel_env(**kwargs)
    obs, infos = env.reset(seed=SEED + b)
    trace = [(_stack(obs, env), None, False, False, _info(infos, env))]
    for step in actions:
        if not env.agents:  # the vector env's NEXT_STEP autoreset
            obs, infos = env.reset()
            trace.append((_stack(obs, env), np.zeros(N), False, False, _info(infos, env)))
            continue
        if kwargs.get("action_type") == "discrete":
            request = {a: int(step[b, i]) for i, a in enumerate(env.possible_agents)}
        else:
            request = {a: step[b, i] for i, a in enumerate(env.possible_agents)}
        obs, rewards, terms, truncs, infos = env.step(request)
        reward = np.array([rewards[a] for a in env.possible_agents])
        term, trunc = terms["producer_0"], truncs["producer_0"]
        trace.append((_stack(obs, env), reward, term, trunc, _info(infos, env)))
    return trace


def _stack(obs, env):
    return np.stack([obs[a] for a in env.possible_agents])


def _info(infos, env):
    first = infos["producer_0"]
    out = {
        "utility": np.array([infos[a]["utility"] for a in env.possible_agents]),
        "counts": np.asarray(first["counts"]),
        "moved": np.array([infos[a]["moved"] for a in env.possible_agents]),
    }
    if "regret" in first:
        out["regret"] = np.array([infos[a]["regret"] for a in env.possible_agents])
        out["nash_conv"] = first["nash_conv"]
    if "deviation_rewards" in first:
        out["deviation_rewards"] = np.stack(
            [infos[a]["deviation_rewards"] for a in env.possible_agents]
        )
    return out


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["rule"])
@pytest.mark.parametrize("revision", ["simultaneous", "one"])
@pytest.mark.parametrize("action_type", ["discrete", "simplex", "signed"])
def test_game_b_is_parallel_env_seeded_s_plus_b(action_type, revision, rule):
    kwargs = dict(
        users=USERS,
        n_producers=N,
        action_type=action_type,
        revision=revision,
        terminate_at_equilibrium=True,
        max_cycles=7,
        info_deviations=True,
        **rule,
    )
    actions = _actions(np.random.default_rng(0), action_type, 60)
    venv = rq.vector_env(B, **kwargs)
    obs, infos = venv.reset(seed=SEED)
    traces = [_single_rollout(kwargs, actions, b) for b in range(B)]
    ends = 0
    for t in range(61):
        if t > 0:
            obs, rewards, terminated, truncated, infos = venv.step(actions[t - 1])
        for b, trace in enumerate(traces):
            s_obs, s_reward, s_term, s_trunc, s_info = trace[t]
            _close(obs[b], s_obs)
            if t > 0:
                _close(rewards[b], s_reward)
                assert bool(terminated[b]) == s_term and bool(truncated[b]) == s_trunc
                ends += s_term or s_trunc
            np.testing.assert_array_equal(infos["counts"][b], s_info["counts"])
            np.testing.assert_array_equal(infos["moved"][b], s_info["moved"])
            for key in ("utility", "regret", "deviation_rewards"):
                _close(infos[key][b], s_info[key])
            _close(infos["nash_conv"][b], s_info["nash_conv"])
    assert ends >= B  # episodes ended and games were reset along the way


def test_same_step_autoreset_returns_final_observations():
    kwargs = dict(users=USERS, n_producers=N, action_type="discrete", max_cycles=3)
    venv = rq.vector_env(B, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs)
    reference = rq.vector_env(B, **kwargs)
    venv.reset(seed=0)
    reference.reset(seed=0)
    actions = np.random.default_rng(1).integers(0, DIM, (3, B, N))
    for step in actions:
        obs, rewards, _, truncated, infos = venv.step(step)
        ref_obs, ref_rewards, *_ = reference.step(step)
    assert truncated.all() and "final_obs" in infos and infos["_final_obs"].all()
    np.testing.assert_array_equal(infos["final_obs"], ref_obs)
    np.testing.assert_array_equal(rewards, ref_rewards)
    following, *_ = reference.step(actions[0])  # NEXT_STEP resets here
    np.testing.assert_array_equal(obs, following)


def test_disabled_autoreset_refuses_finished_games_and_resets_by_mask():
    venv = rq.vector_env(
        B,
        users=USERS,
        n_producers=N,
        action_type="discrete",
        max_cycles=1,
        autoreset_mode=AutoresetMode.DISABLED,
    )
    venv.reset(seed=0)
    actions = np.zeros((B, N), dtype=np.int64)
    *_, truncated, _ = venv.step(actions)
    assert truncated.all()
    before = venv.profile.copy()
    with pytest.raises(ValueError, match=r"games \[0, 1, 2, 3, 4\] have finished"):
        venv.step(actions)
    np.testing.assert_array_equal(venv.profile, before)  # nothing half-applied
    mask = np.array([True, False, False, False, False])
    venv.reset(options={"reset_mask": mask})
    with pytest.raises(ValueError, match=r"games \[1, 2, 3, 4\] have finished"):
        venv.step(actions)


@pytest.mark.parametrize(
    ("kwargs", "actions", "error", "message"),
    [
        ({}, np.zeros((B, N + 1), int), ValueError, r"actions must have shape .* = \(5, 6\)"),
        ({}, np.zeros((B, N)), TypeError, "actions must be integer feature indices"),
        ({}, np.full((B, N), DIM), ValueError, r"actions must be in 0..3, got 4"),
        ({}, np.full((B, N), -1), ValueError, r"actions must be in 0..3, got -1"),
        (
            dict(action_type="simplex"),
            np.full((B, N, DIM), np.nan),
            ValueError,
            r"actions contain NaN or inf \(producer 0 of game 0\)",
        ),
        (
            dict(action_type="simplex"),
            -np.ones((B, N, DIM)),
            ValueError,
            "actions have negative entries",
        ),
        (
            dict(action_type="signed"),
            np.zeros((B, N, DIM - 1)),
            ValueError,
            r"actions must have shape \(num_envs, n_producers, dim\)",
        ),
    ],
)
def test_bad_batched_actions_change_nothing(kwargs, actions, error, message):
    kwargs = {"action_type": "discrete", **kwargs}
    venv = rq.vector_env(B, users=USERS, n_producers=N, **kwargs)
    venv.reset(seed=0)
    before = venv.profile.copy()
    with pytest.raises(error, match=message):
        venv.step(actions)
    np.testing.assert_array_equal(venv.profile, before)
    assert (venv.steps == 0).all()


@pytest.mark.parametrize(
    ("num_envs", "error", "message"),
    [
        (0, ValueError, "num_envs must be >= 1, got 0"),
        (2.0, TypeError, "num_envs must be an integer"),
        ("4", TypeError, "num_envs must be an integer"),
    ],
)
def test_bad_num_envs(num_envs, error, message):
    with pytest.raises(error, match=message):
        rq.vector_env(num_envs, users=USERS)


def test_bad_vector_arguments():
    with pytest.raises(ValueError, match=r"dtype must be np\.float64 or np\.float32"):
        rq.vector_env(2, users=USERS, dtype=np.int32)
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        rq.vector_env(2, users=USERS, autoreset_mode="sometimes")
    with pytest.raises(ValueError, match=r"seed must be an int or a list of 2 seeds"):
        rq.vector_env(2, users=USERS).reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="tol must be a finite number"):
        rq.vector_env(2, users=USERS, tol=float("nan"))


@pytest.mark.parametrize("action_type", ["discrete", "simplex"])
def test_float32_rewards_match_float64(action_type):
    kwargs = dict(users=USERS, n_producers=N, action_type=action_type, info_regrets=False)
    fast = rq.vector_env(B, dtype=np.float32, threads=2, **kwargs)
    exact = rq.vector_env(B, **kwargs)
    fast.reset(seed=0)
    exact.reset(seed=0)
    for step in _actions(np.random.default_rng(2), action_type, 10):
        _, r32, *_ = fast.step(step)
        _, r64, *_ = exact.step(step)
        np.testing.assert_allclose(r32, r64, rtol=1e-5)
    np.testing.assert_array_equal(fast.profile, exact.profile)


def test_spaces_describe_the_batch():
    venv = rq.vector_env(B, users=USERS, n_producers=N, action_type="discrete")
    obs, _ = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    assert venv.action_space.shape == (B, N)
    assert venv.single_observation_space == rq.parallel_env(
        users=USERS, n_producers=N
    ).observation_space("producer_0")
