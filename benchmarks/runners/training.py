"""Runners of the training cases: SB3 PPO and the JAX trainers (one case in-process)."""

from __future__ import annotations

import os
import time

from ..cases import Case, users_for
from .core import _peak_mb


def run_training(case: Case, steps: int) -> dict:
    """SB3 PPO producer-steps per second: the vector env against SuperSuit on the single env.

    Like for like: the same PPO settings (4 epochs, 4 minibatches per rollout, the study's)
    and the same rollout size in samples (B games x n producers x 8 steps against n
    producers x 8B steps). ``act-`` cases time acting only, the part the env decides: the
    policy's forward pass and the env step, through the same two VecEnvs (``learn`` adds
    PPO's own gradient updates, the same work on both sides).
    """
    import warnings

    import torch

    import recsys_eq_env as rq
    from agents.sb3 import shared_ppo, shared_vec_env
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    users, population = users_for(case)
    game = rq.EngagementGame(users, case.n_producers)
    kwargs = dict(action_type="discrete", revision="one", observe_id=True, info_regrets=False)
    n_steps = 8
    samples = case.num_envs * case.n_producers * n_steps  # per rollout, both sides
    settings = dict(seed=0, batch_size=samples // 4, n_epochs=4)
    venv = sb3_vec_env(case.num_envs, game=game, max_cycles=100, **kwargs)
    vec = shared_ppo(venv, n_steps=n_steps, **settings)
    env = rq.parallel_env(game=game, max_cycles=100, **kwargs)
    single = shared_ppo(env, n_steps=n_steps * case.num_envs, **settings)
    if case.name.startswith("act"):
        vector = _acting_rate(vec, venv, 40 * case.num_envs * case.n_producers)
        supersuit = _acting_rate(single, shared_vec_env(env), 4_000)
    else:
        start = time.perf_counter()
        vec.learn(samples * 8)
        vector = vec.num_timesteps / (time.perf_counter() - start)
        start = time.perf_counter()
        single.learn(samples * 2)
        supersuit = single.num_timesteps / (time.perf_counter() - start)
    return {
        "population": population,
        "producer_steps_per_s": vector,
        "single_producer_steps_per_s": supersuit,
        "ratio": vector / supersuit,
        "peak_mb": _peak_mb(),
    }


def run_jax_training(case: Case, steps: int) -> dict:
    """JAX shared PPO (the env inside one compiled loop) against SB3 PPO on the vector env and
    SuperSuit, the same settings and samples: B games x n producers x 8 steps per rollout, 4
    minibatches, 4 epochs, 8 updates. Costs are CPU seconds (``time.process_time``: every
    thread) per producer-step; JAX's compile is timed apart (its first call, less a second).
    ``-10seeds``: ten seeds vmapped in one program against ten SB3 runs one after another.
    """
    import warnings

    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                          "intra_op_parallelism_threads=1")  # fmt: skip
    import jax
    import torch

    import recsys_eq_env as rq
    from agents import jax_learners as jl
    from agents.sb3 import shared_ppo
    from recsys_eq_env.jax import JaxEngagementEnv
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    seeds = 10 if case.name.endswith("10seeds") else 1
    users, population = users_for(case)
    game = rq.EngagementGame(users, case.n_producers)
    n, b, n_steps, updates = case.n_producers, case.num_envs, 8, 8
    samples = b * n * n_steps
    config = jl.LearnerConfig(kind="shared_ppo", total_timesteps=samples * updates, num_envs=b,
                              n_steps=n_steps, minibatches=4, epochs=4)  # fmt: skip
    env = JaxEngagementEnv(game, revision="one", observe_id=True, max_cycles=100,
                           info_regrets=False)  # fmt: skip

    def run(offset):
        keys = jax.numpy.stack([jax.random.PRNGKey(offset + s) for s in range(seeds)])
        runners = jl.init_seeds(keys, env, config)
        jax.block_until_ready(runners)
        wall, cpu = time.perf_counter(), time.process_time()
        runners, _ = jl.advance_seeds(env, config, runners, updates)
        jax.block_until_ready(runners.params)
        return time.perf_counter() - wall, time.process_time() - cpu

    first_wall, _ = run(0)
    wall, cpu = run(100)  # compiled (in memory; JAX's persistent cache serves a new process)
    jax_steps = seeds * samples * updates
    kwargs = dict(action_type="discrete", revision="one", observe_id=True, info_regrets=False)
    settings = dict(batch_size=samples // 4, n_epochs=4)
    sb3_cpu, sb3_wall, sb3_steps = 0.0, 0.0, 0
    for seed in range(seeds):  # SB3: one run after another
        venv = sb3_vec_env(b, game=game, max_cycles=100, **kwargs)
        model = shared_ppo(venv, seed=seed, n_steps=n_steps, **settings)
        start, begin = time.perf_counter(), time.process_time()
        model.learn(samples * updates)
        sb3_cpu += time.process_time() - begin
        sb3_wall += time.perf_counter() - start
        sb3_steps += model.num_timesteps
    single_env = rq.parallel_env(game=game, max_cycles=100, **kwargs)
    single = shared_ppo(single_env, seed=0, n_steps=n_steps * b, **settings)
    begin = time.process_time()
    single.learn(samples * 2)
    supersuit = single.num_timesteps / (time.process_time() - begin)
    jax_rate, sb3_rate = jax_steps / cpu, sb3_steps / sb3_cpu
    return {
        "population": population,
        "seeds": seeds,
        "producer_steps": jax_steps,
        "cpu_s": cpu,
        "wall_s": wall,
        "compile_s": max(first_wall - wall, 0.0),
        "producer_steps_per_cpu_s": jax_rate,
        "sb3_producer_steps_per_cpu_s": sb3_rate,
        "sb3_cpu_s": sb3_cpu,
        "sb3_wall_s": sb3_wall,
        "supersuit_producer_steps_per_cpu_s": supersuit,
        "cpu_ratio": jax_rate / sb3_rate,
        "ratio_to_supersuit": jax_rate / supersuit,
        "peak_mb": _peak_mb(),
    }


def _acting_rate(model, vec, producer_steps: int) -> float:
    """Producer-steps per second of ``model.predict`` + ``vec.step`` (public SB3 API)."""
    observations = vec.reset()
    actions, _ = model.predict(observations)
    vec.step(actions)  # warm-up
    done, start = 0, time.perf_counter()
    while done < producer_steps:
        actions, _ = model.predict(observations)
        observations, *_ = vec.step(actions)
        done += vec.num_envs
    return done / (time.perf_counter() - start)
