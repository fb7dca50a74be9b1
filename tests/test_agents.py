"""Agents: the interface, the best-response agent and the rollout loop."""

import numpy as np
import pytest

import recsys_eq_env as rq
from agents import BestResponseAgent, FixedAgent, Policy, RandomAgent, rollout

CELLS = [
    ("linear", 1.0, 5, 10),
    ("softmax", 0.01, 4, 6),
    ("softmax", 1.0, 10, 20),
    ("softmax", 100.0, 5, 12),
    ("softmax", 0.1, 8, 30),
    ("hardmax", 1.0, 4, 7),
    ("topk_softmax", 0.5, 5, 9),
]


@pytest.mark.parametrize(("rule", "temperature", "dim", "n"), CELLS)
@pytest.mark.parametrize("action_type", ["discrete", "simplex"])
def test_best_response_rollout_is_the_papers_dynamics(rule, temperature, dim, n, action_type):
    """Same seed: same start, same order of moves, same final profile, same iterations."""
    users = rq.synthetic_users("uniform", 600, dim, seed=dim)
    k = 3 if rule == "topk_softmax" else None
    game = rq.EngagementGame(users, n, rule, temperature, k=k)
    for seed in range(4):
        reference = rq.best_response_dynamics(game, seed=seed, max_iter=60)
        env = rq.parallel_env(
            game=game,
            action_type=action_type,
            revision="one",
            terminate_at_equilibrium=True,
            max_cycles=60,
        )
        trajectory = rollout(env, BestResponseAgent.for_env(env), seed=seed)
        assert trajectory.moves[:, 1:].tolist() == reference.moves.tolist()
        assert trajectory.iterations == reference.iterations
        np.testing.assert_array_equal(trajectory.final_profile, reference.profile)
        assert trajectory.terminated == reference.converged
        np.testing.assert_array_equal(
            trajectory.counts[0], np.bincount(reference.initial_assignment, minlength=dim)
        )


def test_best_response_agent_with_full_observation_and_ids():
    users = rq.synthetic_users("skewed", 400, 5, seed=3)
    game = rq.EngagementGame(users, 8, "softmax", 0.5)
    reference = rq.best_response_dynamics(game, seed=2)
    env = rq.parallel_env(
        game=game,
        observation="full",
        observe_id=True,
        revision="one",
        terminate_at_equilibrium=True,
        action_type="discrete",
    )
    agent = BestResponseAgent(game, action_type="discrete", observation="full")
    trajectory = rollout(env, agent, seed=2)
    assert trajectory.moves[:, 1:].tolist() == reference.moves.tolist()


@pytest.mark.parametrize("rule", ["softmax", "linear"])
def test_best_response_on_mixed_profiles_matches_deviation_utilities(rule):
    """Against mixed content the agent's choice is the argmax of deviation_utilities."""
    users = rq.synthetic_users("uniform", 300, 4, seed=1)
    game = rq.EngagementGame(users, 5, rule, 0.2)
    env = rq.parallel_env(game=game, observation="full", init="simplex")
    observations, _ = env.reset(seed=4)
    agent = BestResponseAgent.for_env(env)
    for i, name in enumerate(env.possible_agents):
        action, _ = agent.predict(observations[name])
        dev = game.deviation_utilities(env.profile, i)
        current = game.producer_utilities(env.profile)[i]
        if dev.max() > current * (1 + 1e-9):
            assert int(np.argmax(action)) == int(np.argmax(dev)) and action.max() == 1.0
        else:
            np.testing.assert_allclose(action, env.profile[i], atol=1e-6)


def test_best_response_aggregate_is_exact_under_linear_for_mixed_content():
    users = rq.synthetic_users("uniform", 300, 4, seed=1)
    game = rq.EngagementGame(users, 5, "linear")
    env = rq.parallel_env(game=game, init="simplex")  # aggregate observation
    observations, _ = env.reset(seed=5)
    agent = BestResponseAgent.for_env(env)
    for i, name in enumerate(env.possible_agents):
        action, _ = agent.predict(observations[name])
        dev = game.deviation_utilities(env.profile, i)
        current = game.producer_utilities(env.profile)[i]
        if dev.max() > current * (1 + 1e-9):
            assert int(np.argmax(action)) == int(np.argmax(dev))


def test_every_agent_satisfies_the_interface():
    users = rq.synthetic_users("uniform", 100, 3, seed=0)
    game = rq.EngagementGame(users, 4)
    env = rq.parallel_env(game=game, max_cycles=5)
    for agent in (
        BestResponseAgent.for_env(env),
        RandomAgent(env.action_space("producer_0"), 1),
        FixedAgent([1.0, 0.0, 0.0]),
    ):
        assert isinstance(agent, Policy)
        observations, _ = env.reset(seed=0)
        action, state = agent.predict(observations["producer_0"], deterministic=True)
        assert env.action_space("producer_0").contains(np.asarray(action, dtype=np.float32))
        assert state is None


def test_rollout_records_every_step():
    users = rq.synthetic_users("uniform", 200, 3, seed=0)
    env = rq.parallel_env(users=users, n_producers=4, max_cycles=7, action_type="discrete")
    policies = {
        a: RandomAgent(env.action_space(a), seed=i) for i, a in enumerate(env.possible_agents)
    }
    trajectory = rollout(env, policies, seed=3, record_profiles=True)
    assert trajectory.steps == 7 and trajectory.truncated and not trajectory.terminated
    assert trajectory.counts.shape == (8, 3) and trajectory.nash_conv.shape == (8,)
    assert trajectory.rewards.shape == (7, 4) and trajectory.profiles.shape == (8, 4, 3)
    assert (trajectory.counts.sum(axis=1) == 4).all()
    np.testing.assert_array_equal(trajectory.profiles[-1], trajectory.final_profile)
    # the same seeds give the same episode
    again = rollout(
        env,
        {a: RandomAgent(env.action_space(a), seed=i) for i, a in enumerate(env.possible_agents)},
        seed=3,
    )
    np.testing.assert_array_equal(again.rewards, trajectory.rewards)


def test_rollout_records_frames_that_animate(tmp_path):
    from PIL import Image

    from recsys_eq_env.render import save_gif

    users = rq.synthetic_users("skewed", 300, 4, seed=0)
    env = rq.parallel_env(
        users=users, n_producers=6, action_type="discrete", revision="one",
        render_mode="rgb_array", max_cycles=30, terminate_at_equilibrium=True,
    )  # fmt: skip
    trajectory = rollout(env, BestResponseAgent.for_env(env), seed=1, record_frames=True)
    assert len(trajectory.frames) == trajectory.steps + 1
    assert all(
        f.dtype == np.uint8 and f.shape == trajectory.frames[0].shape for f in trajectory.frames
    )
    # the first frame shows the random start, the last the equilibrium: they differ
    assert trajectory.terminated and (trajectory.frames[0] != trajectory.frames[-1]).any()
    path = tmp_path / "dynamics.gif"
    save_gif(trajectory.frames, path, fps=5, scale=2, hold=3)
    with Image.open(path) as gif:
        height, width = trajectory.frames[0].shape[:2]
        assert gif.size == (2 * width, 2 * height)
        assert gif.n_frames >= 2  # Pillow merges identical consecutive frames
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))[::2, ::2]
    np.testing.assert_array_equal(last, trajectory.frames[-1])
    with pytest.raises(ValueError, match="frames is empty"):
        save_gif([], path)
    with pytest.raises(ValueError, match="fps"):
        save_gif(trajectory.frames, path, fps=0)
    with pytest.raises(ValueError, match="uint8"):
        save_gif([f.astype(float) for f in trajectory.frames], path)


def test_fixed_agents_keep_the_profile():
    users = rq.synthetic_users("uniform", 200, 3, seed=0)
    env = rq.parallel_env(users=users, n_producers=3, max_cycles=3, action_type="discrete")
    trajectory = rollout(env, {a: FixedAgent(1) for a in env.possible_agents}, seed=0)
    assert (trajectory.counts[1:] == [0, 3, 0]).all()


def test_bad_agent_input():
    users = rq.synthetic_users("uniform", 50, 3, seed=0)
    game = rq.EngagementGame(users, 4)
    with pytest.raises(ValueError, match="observation must be a vector of length 7"):
        BestResponseAgent(game).predict(np.zeros(5))
    with pytest.raises(TypeError, match="game must be an EngagementGame"):
        BestResponseAgent(users)
    env = rq.parallel_env(game=game)
    with pytest.raises(ValueError, match=r"policies has no policy for \['producer_3'\]"):
        rollout(env, {a: FixedAgent(0) for a in env.possible_agents[:3]})
    with pytest.raises(TypeError, match="policies must be a dict"):
        rollout(env, 42)


class _Recurrent:
    """A stub with SB3's recurrent interface: its state counts the calls since the episode
    started, and it records what it was given."""

    def __init__(self):
        self.calls = []

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        self.calls.append((None if state is None else int(state[0]), bool(episode_start[0]),
                           deterministic))  # fmt: skip
        step = 0 if episode_start[0] or state is None else int(state[0]) + 1
        return int(step % 3), np.array([step])


def test_rollout_threads_recurrent_state_and_episode_start_like_sb3():
    users = rq.synthetic_users("uniform", 50, 3, seed=0)
    env = rq.parallel_env(users=users, n_producers=2, action_type="discrete", max_cycles=4)
    policy = _Recurrent()
    rollout(env, {"producer_0": policy, "producer_1": _Recurrent()}, seed=0, deterministic=False)
    assert policy.calls == [(None, True, False), (0, False, False), (1, False, False),
                            (2, False, False)]  # fmt: skip
    shared = _Recurrent()  # one policy for both agents: one state per agent
    rollout(env, shared, seed=0)
    states = [c[0] for c in shared.calls]
    assert states == [None, None, 0, 0, 1, 1, 2, 2] and shared.calls[0][2] is True
