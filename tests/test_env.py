"""The PettingZoo environment: determinism, parity with the dynamics, content of observations,
rewards, renders and state (PettingZoo's own checkers run in tests/test_pettingzoo.py)."""

import pickle

import numpy as np
import pytest

import recsys_eq_env as rq

USERS = rq.synthetic_users("uniform", 300, 4, seed=0)
VARIANTS = [
    dict(action_type=a, revision=r, observation=o)
    for a in ("simplex", "signed", "discrete")
    for r in ("simultaneous", "one")
    for o in ("aggregate", "full")
]


def make(**kwargs):
    kwargs.setdefault("users", USERS)
    kwargs.setdefault("n_producers", 5)
    kwargs.setdefault("max_cycles", 40)
    return rq.parallel_env(**kwargs)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v.values()))
def test_observations_stay_in_their_space(variant):
    env = make(**variant, init="simplex", observe_id=True, reward_scale="raw")
    obs, _ = env.reset(seed=3)
    for _ in range(25):
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o), (agent, o)
            assert o.dtype == np.float32
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, *_ = env.step(actions)
        assert all(np.isfinite(r) for r in rewards.values())
        if not env.agents:
            break


def test_pickle_round_trip_continues_identically():
    env = make(action_type="discrete", revision="one")
    env.reset(seed=4)
    env.step({a: 1 for a in env.agents})
    clone = pickle.loads(pickle.dumps(env))
    actions = {a: i % 4 for i, a in enumerate(env.agents)}
    first = env.step(actions)
    second = clone.step(actions)
    for x, y in zip(first, second, strict=True):
        assert x.keys() == y.keys()
    np.testing.assert_array_equal(env.profile, clone.profile)
    assert first[1] == second[1]


def test_same_seed_same_episode_and_different_seeds_differ():
    def episode(seed):
        env = make(action_type="simplex", revision="one", init="basis")
        env.reset(seed=seed)
        for agent in env.possible_agents:
            env.action_space(agent).seed(seed)
        trace = [env.profile.copy()]
        while env.agents:
            env.step({a: env.action_space(a).sample() for a in env.agents})
            trace.append(env.profile.copy())
        return np.array(trace)

    np.testing.assert_array_equal(episode(1), episode(1))
    assert not np.array_equal(episode(1)[0], episode(2)[0])


def test_initial_profile_uses_the_same_draw_as_the_dynamics():
    game = rq.EngagementGame(USERS, 6, "softmax", 1.0)
    env = rq.parallel_env(game=game, action_type="discrete")
    env.reset(seed=11)
    start = rq.best_response_dynamics(game, seed=11, max_iter=0).initial_assignment
    np.testing.assert_array_equal(env.profile.argmax(axis=1), start)


def best_response_actions(env, infos):
    """Every agent asks for its best basis vector when it strictly improves, else stays."""
    counts = next(iter(infos.values()))["counts"]
    analysis = env.game.analyse_counts(counts, env.tol)
    actions = {}
    for agent in env.agents:
        feature = int(env.profile[env.agent_name_mapping[agent]].argmax())
        improving = analysis.improving[feature]
        actions[agent] = int(analysis.best[feature]) if improving else feature
    return actions


@pytest.mark.parametrize(
    ("rule", "temperature", "dim", "n"),
    [
        ("softmax", 1.0, 5, 10),
        ("linear", 1.0, 6, 12),
        ("softmax", 0.01, 4, 6),
        ("softmax", 100.0, 5, 9),
    ],
)
def test_revision_one_with_best_responses_is_the_papers_dynamics(rule, temperature, dim, n):
    users = rq.synthetic_users("uniform", 400, dim, seed=2)
    game = rq.EngagementGame(users, n, rule, temperature)
    for seed in range(4):
        reference = rq.best_response_dynamics(game, seed=seed, max_iter=100)
        env = rq.parallel_env(
            game=game,
            action_type="discrete",
            revision="one",
            terminate_at_equilibrium=True,
            max_cycles=101,
        )
        _, infos = env.reset(seed=seed)
        moves = []
        while env.agents:
            before = env.profile.argmax(axis=1)
            _, _, terminated, _, infos = env.step(best_response_actions(env, infos))
            after = env.profile.argmax(axis=1)
            for i in np.flatnonzero(before != after):
                moves.append([int(i), int(before[i]), int(after[i])])
        assert moves == reference.moves.tolist()
        assert all(terminated.values()) == reference.converged


def test_rewards_and_infos():
    env = make(action_type="discrete")
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({a: 0 for a in env.agents})
    utilities = env.game.producer_utilities(env.profile)
    regrets = env.game.regrets(env.profile)
    for agent, i in env.agent_name_mapping.items():
        assert rewards[agent] == pytest.approx(utilities[i] / env.game.n_users, rel=1e-12)
        assert infos[agent]["utility"] == pytest.approx(utilities[i], rel=1e-12)
        assert infos[agent]["regret"] == pytest.approx(regrets[i], abs=1e-12)
        assert infos[agent]["counts"].tolist() == [5, 0, 0, 0]
    raw = make(action_type="discrete", reward_scale="raw")
    raw.reset(seed=0)
    _, raw_rewards, _, _, _ = raw.step({a: 0 for a in raw.agents})
    assert raw_rewards["producer_0"] == pytest.approx(utilities[0], rel=1e-12)


def test_aggregate_observation_layout():
    env = make(action_type="discrete")
    obs, _ = env.reset(options={"assignment": [0, 0, 1, 3, 3]}, seed=0)
    o = obs["producer_0"]
    np.testing.assert_array_equal(o[:4], [1, 0, 0, 0])  # own content
    np.testing.assert_array_equal(o[4:8], [1, 1, 0, 2])  # others' counts
    assert o[8] == pytest.approx(env.game.producer_utilities(env.profile)[0] / 300, rel=1e-6)


def test_all_zero_simplex_action_keeps_content():
    env = make()
    env.reset(seed=0)
    before = env.profile.copy()
    env.step({a: np.zeros(4, dtype=np.float32) for a in env.agents})
    np.testing.assert_array_equal(env.profile, before)


def test_signed_actions_map_to_the_simplex():
    env = make(action_type="signed")
    env.reset(seed=0)
    before = env.profile.copy()
    env.step(
        {
            "producer_0": np.array([1.0, -1.0, -1.0, -1.0], dtype=np.float32),  # e_0
            "producer_1": np.zeros(4, dtype=np.float32),  # the centroid
            "producer_2": np.array([3.0, 0.0, -5.0, -1.0], dtype=np.float32),  # clipped
            "producer_3": -np.ones(4, dtype=np.float32),  # stay
        }
    )
    np.testing.assert_allclose(env.profile[0], [1, 0, 0, 0])
    np.testing.assert_allclose(env.profile[1], [0.25] * 4)
    np.testing.assert_allclose(env.profile[2], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_array_equal(env.profile[3], before[3])


def test_info_regrets_off_leaves_them_out():
    env = make(info_regrets=False, init="simplex")
    _, infos = env.reset(seed=0)
    _, rewards, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert "regret" not in infos["producer_0"] and "nash_conv" not in infos["producer_0"]
    utilities = env.game.producer_utilities(env.profile)
    assert rewards["producer_1"] == pytest.approx(utilities[1] / 300, rel=1e-12)


def test_simplex_actions_are_normalised():
    env = make(revision="simultaneous")
    env.reset(seed=0)
    env.step({"producer_0": np.array([2.0, 2.0, 0.0, 0.0], dtype=np.float32)})
    np.testing.assert_allclose(env.profile[0], [0.5, 0.5, 0, 0])


def test_terminates_at_equilibrium_and_truncates():
    users = rq.synthetic_users("uniform", 300, 3, seed=1)
    game = rq.EngagementGame(users, 4, "softmax", 1.0)
    counts = rq.pure_nash_equilibria(game)[0]
    eq = np.repeat(np.arange(3), counts)
    env = rq.parallel_env(game=game, action_type="discrete", terminate_at_equilibrium=True)
    env.reset(options={"assignment": eq})
    _, _, term, trunc, _ = env.step({a: int(eq[i]) for i, a in enumerate(env.agents)})
    assert all(term.values()) and not any(trunc.values()) and env.agents == []
    env = rq.parallel_env(game=game, action_type="discrete", max_cycles=2)
    env.reset(seed=0)
    env.step({})
    _, _, term, trunc, _ = env.step({})
    assert all(trunc.values()) and not any(term.values())


@pytest.mark.parametrize("mode", ["human", "ansi", "rgb_array"])
def test_render(mode, capsys):
    env = make(render_mode=mode)
    env.reset(seed=0)
    out = env.render()
    if mode == "human":  # prints the table
        assert out is None
        out = capsys.readouterr().out
    if mode in ("ansi", "human"):
        assert "feature" in out and len(out.strip().splitlines()) == 2 + 4
    else:
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
        assert (out != 255).any()


def test_state():
    env = make()
    env.reset(seed=0)
    state = env.state()
    assert env.state_space.contains(state)
    np.testing.assert_array_equal(state.reshape(5, 4), env.profile.astype(np.float32))
