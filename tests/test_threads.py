"""One game, one env's game, many threads: every answer equals the serial one.

Threaded Dask workers, Ray and a user's ThreadPoolExecutor share a game between threads. Its
scratch buffers are per thread and its result cache is locked, so threads never write into
each other's numbers (before that, 78 of 80 mixed-profile utility calls from two threads were
wrong).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import recsys_eq_env as rq

THREADS = 4


def _game(rule, **kwargs):
    users = rq.synthetic_users("uniform", 3000, 6, seed=5)
    return rq.EngagementGame(users, 12, rule, **kwargs)


def _in_threads(function, items):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(function, items))


@pytest.mark.parametrize("rule", ["softmax", "linear", "topk_softmax"])
def test_mixed_profile_utilities_and_regrets_from_threads_equal_serial(rule):
    game = _game(rule, k=3 if rule == "topk_softmax" else None)
    rng = np.random.default_rng(0)
    profiles = [rng.dirichlet(np.ones(6), 12) for _ in range(40)]

    def evaluate(profile):
        return game.producer_utilities(profile), game.regrets(profile)

    serial = [evaluate(p) for p in profiles]
    for _ in range(3):
        threaded = _in_threads(evaluate, profiles)
        for (u, r), (tu, tr) in zip(serial, threaded, strict=True):
            np.testing.assert_array_equal(tu, u)
            np.testing.assert_array_equal(tr, r)


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("rule", ["softmax", "linear"])
def test_dynamics_from_threads_make_the_serial_moves(rule, precision):
    seeds = list(range(16))

    def run(game, seed):
        result = rq.best_response_dynamics(game, seed=seed)
        return result.moves.tolist(), result.counts.tolist()

    serial_game = _game(rule, precision=precision)
    serial = [run(serial_game, s) for s in seeds]
    shared = _game(rule, precision=precision)  # cold caches, shared from the first call on
    assert _in_threads(lambda s: run(shared, s), seeds) == serial


def test_count_analyses_and_env_steps_from_threads():
    game = _game("softmax")
    rng = np.random.default_rng(1)
    counts = [rng.multinomial(12, np.ones(6) / 6) for _ in range(60)]  # more than the cache
    serial = [game.analyse_counts(c).regrets.copy() for c in counts]
    threaded = _in_threads(lambda c: game.analyse_counts(c).regrets.copy(), counts)
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)

    def episode(seed):  # one env per thread, all on the same game
        env = rq.parallel_env(game=game, action_type="simplex", revision="one", max_cycles=15)
        env.reset(seed=seed)
        for agent in env.possible_agents:
            env.action_space(agent).seed(seed)
        rewards = []
        while env.agents:
            _, r, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
            rewards.append(list(r.values()))
        return rewards

    assert _in_threads(episode, range(8)) == [episode(s) for s in range(8)]


def test_exposure_best_responses_from_threads():
    users = rq.synthetic_users("uniform", 800, 4, seed=2)
    game = rq.EngagementGame(users, 6, "linear", utility="exposure")
    rng = np.random.default_rng(3)
    profiles = [rng.dirichlet(np.ones(4), 6) for _ in range(12)]
    serial = [game.regrets(p) for p in profiles]
    for a, b in zip(serial, _in_threads(game.regrets, profiles), strict=True):
        np.testing.assert_array_equal(a, b)
