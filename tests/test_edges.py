"""Issue 20: every input a careless or hostile user tried on the newer surfaces is refused
with a message naming the argument, before any state changes; nothing is silently wrong."""

import re

import numpy as np
import pytest

import recsys_eq_env as rq
from agents import BestResponseAgent, rollout
from recsys_eq_env import analysis
from recsys_eq_env.render import save_gif

USERS = rq.synthetic_users("uniform", 60, 3, seed=0)


def vector(**kwargs):
    return rq.vector_env(num_envs=2, users=USERS, n_producers=3, **kwargs)


def started(env, **reset):
    env.reset(seed=0, **reset)
    return env


def closed(env):
    env.reset(seed=0)
    env.close()
    return env


CASES = [
    # vector env: order of calls
    (lambda: vector().step(np.zeros((2, 3), int)), RuntimeError,
     "step() called before reset(): call reset() first"),
    (lambda: closed(vector()).step(np.zeros((2, 3), int)), RuntimeError,
     "step() called on a closed env"),
    (lambda: vector().render(), NotImplementedError, "the vector env does not render"),
    (lambda: vector().reset(seed=0, options={"reset_mask": np.array([True, False])}),
     ValueError, "the first reset() must reset every game (no reset_mask)"),
    # vector env: options and seeds
    (lambda: vector().reset(options={"reset_masks": np.ones(2, bool)}), ValueError,
     "options has unknown key(s) 'reset_masks'; known keys: 'assignment', 'profile', "
     "'reset_mask'"),
    (lambda: vector().reset(options={"assignment": np.zeros((2, 3), int),
                                     "profile": np.full((2, 3, 3), 1 / 3)}),
     ValueError, "options may hold 'assignment' or 'profile', not both"),
    (lambda: vector().reset(seed=1.5), TypeError,
     "seed must be None or an integer >= 0, got float 1.5"),
    (lambda: vector().reset(seed="ab"), TypeError,
     "seed must be None or an integer >= 0, got str 'ab'"),
    (lambda: vector().reset(seed=True), TypeError,
     "seed must be None or an integer >= 0, got bool True"),
    (lambda: vector().reset(seed=[0, -1]), ValueError, "seed[1] must be an integer >= 0, got -1"),
    # vector env: construction and actions
    (lambda: vector(dtype="bogus"), ValueError,
     "dtype must be np.float64 or np.float32, got 'bogus'"),
    (lambda: rq.vector_env(num_envs=10**9, users=USERS, n_producers=3), ValueError,
     "vector_env(num_envs=1,000,000,000) needs"),
    (lambda: started(vector(action_type="simplex")).step(np.full((2, 3, 3), 1 / 3 + 1j)),
     TypeError, "actions must be real numbers, got complex values"),
    # the single env
    (lambda: rq.parallel_env(users=USERS, n_producers=3, render_mode="ansi").render(),
     RuntimeError, "render() called before reset(): there is no state to draw yet"),
    (lambda: rq.parallel_env(users=USERS, n_producers=3).reset(seed=True), TypeError,
     "seed must be None or an integer >= 0, got bool True"),
    (lambda: rq.parallel_env(users=USERS, n_producers=3).reset(
        options={"assignment": [0, 1, 2], "profile": np.full((3, 3), 1 / 3)}),
     ValueError, "options may hold 'assignment' or 'profile', not both"),
    (lambda: started(rq.parallel_env(users=USERS, n_producers=3, action_type="simplex")).step(
        {f"producer_{i}": np.full(3, 0.5 + 0.5j) for i in range(3)}),
     TypeError, "action of producer_0 must be real numbers, got complex values"),
    (lambda: closed(rq.parallel_env(users=USERS, n_producers=3)).step({}), RuntimeError,
     "step() called on a finished episode; call reset() first"),
    # rendering and rollouts
    (lambda: save_gif([np.zeros((4, 4, 3), np.uint8)], "x.gif", fps="5"), TypeError,
     "fps must be a number, got str '5'"),
    (lambda: rollout(*(lambda env: (env, BestResponseAgent.for_env(env)))(
        rq.parallel_env(users=USERS, n_producers=3)), record_frames=True), ValueError,
     "record_frames needs an env built with render_mode='rgb_array'"),
    # analysis
    (lambda: analysis.welfare(None), TypeError, "game must be an EngagementGame, got NoneType"),
    (lambda: analysis.symmetric_mixed_equilibrium(rq.EngagementGame(USERS, 3), tol=-1),
     ValueError, "tol must be"),
    (lambda: analysis.symmetric_mixed_equilibrium(rq.EngagementGame(USERS, 3), tol=float("nan")),
     ValueError, "tol must be"),
    (lambda: analysis.symmetric_mixed_equilibrium(rq.EngagementGame(USERS, 3), max_iter=-5),
     ValueError, "max_iter must be >= 1, got -5"),
    (lambda: analysis.welfare(rq.EngagementGame(USERS, 3),
                              analysis.pure_equilibria(rq.EngagementGame(USERS, 4))),
     ValueError, "equilibria must be the PureEquilibria of this game (3 producers over 3"),
    (lambda: analysis.response_graph(rq.EngagementGame(USERS, 3)).basins(start=[5.0] * 10),
     ValueError, "start must be a distribution: non-negative, summing to 1 (got sum 50"),
    (lambda: analysis.response_graph(rq.EngagementGame(USERS, 3)).basins(start=[1.0, 0.0]),
     ValueError, "start must be a distribution over the 10 count vectors (shape (10,)), got"),
    (lambda: analysis.pure_equilibria(
        rq.EngagementGame(rq.synthetic_users("uniform", 10, 10, seed=0), 40)), ValueError,
     "pure_equilibria (1,677,106,640 count vectors of the others) needs 25 GiB of memory"),
    (lambda: analysis.pure_equilibria(
        rq.EngagementGame(rq.synthetic_users("uniform", 10, 3, seed=0), 10**12)), ValueError,
     "pure_equilibria needs 1,000,000,000,003,000,000,000,002 count vectors x 10 users"),
    (lambda: analysis.symmetric_mixed_equilibrium(
        rq.EngagementGame(rq.synthetic_users("uniform", 1000, 8, seed=0), 30), samples=2000),
     ValueError, "symmetric_mixed_equilibrium samples its expectations here (8,347,680"),
    (lambda: analysis.symmetric_equilibria(
        rq.EngagementGame(rq.synthetic_users("uniform", 100, 8, seed=0), 30)), ValueError,
     "symmetric_equilibria needs exact expectations: the game has 8,347,680"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), CASES)
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_a_refused_step_changes_nothing():
    env = started(vector(action_type="simplex"))
    before = env.profile.copy()
    with pytest.raises(TypeError):
        env.step(np.full((2, 3, 3), 1 / 3 + 1j))
    np.testing.assert_array_equal(env.profile, before)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.full(6, 2.9), "actions must be whole feature indices, got 2.9"),
        (np.full(6, np.nan), "actions contain NaN or inf; discrete actions are feature indices"),
    ],
)
def test_sb3_adapter_refuses_what_a_cast_would_change(actions, message):
    sb3 = pytest.importorskip("recsys_eq_env.wrappers.sb3")
    venv = sb3.sb3_vec_env(2, users=USERS, n_producers=3, action_type="discrete")
    venv.reset()
    venv.step_async(actions)
    with pytest.raises(ValueError, match=re.escape(message)):
        venv.step_wait()
    venv.step_async(np.full(6, 2.0))  # whole numbers as floats are fine
    venv.step_wait()


def test_torchrl_partial_reset_keeps_a_pending_seed():
    """Issue 20: set_seed then a partial reset dropped the seed; the games reset now are
    seeded (game b with seed + b), the others keep their state."""
    torchrl = pytest.importorskip("recsys_eq_env.wrappers.torchrl")
    from tensordict import TensorDict

    kwargs = {"users": USERS, "n_producers": 3, "action_type": "discrete"}
    env = torchrl.torchrl_env(2, **kwargs)
    env.reset()
    env.set_seed(11)
    mask = TensorDict({"_reset": np.array([[False], [True]])}, batch_size=[2])
    env.reset(mask)
    reference = rq.vector_env(2, **kwargs)
    reference.reset(seed=11)
    np.testing.assert_array_equal(env.venv.profile[1], reference.profile[1])
