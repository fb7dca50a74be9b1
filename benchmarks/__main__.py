"""``python -m benchmarks``: the fast core against a naive implementation, same input, same run.

Best-response dynamics: :func:`recsys_eq_env.best_response_dynamics` against
:func:`benchmarks.naive.naive_best_response_dynamics` (which rebuilds the users x producers
score matrix for every candidate basis vector, as the authors' code does), same users and
seed; both make the same moves (checked), so the ratio compares equal work. Where the naive
run to convergence would take too long, both stop after the same ``naive_iters`` switches and
the ratio is per iteration over those switches. The fast time is the best of at least
``--repeats`` runs and of as many as fill one second, as ``timeit`` does; the naive run is timed
once (it takes seconds).

Env throughput: steps per second of the PettingZoo env with random actions, against a naive
step that computes the same rewards and regrets from full users x producers matrices.

Vector env throughput: producer-steps per second of ``vector_env(B, ...)`` with random actions,
against the single env (same settings, regrets off) measured in the same process.

Training throughput: stable-baselines3 PPO on the vector env (``SB3VecEnv``) against the same
PPO (same settings, same rollout size) on the single env through SuperSuit, producer-steps per
second of ``learn()``, same process; and of acting alone (policy forward pass and env step).

BLAS settings: single-env simplex steps per second with the envs' BLAS cap (one thread inside a
step, the default) and without it (``RECSYS_EQ_BLAS_THREADS=none``), each on an idle machine
and beside a neighbour process that keeps a core busy with NumPy products.

Equilibrium analysis: seconds of the lattice enumeration, the response graph, the symmetric
mixed equilibrium and the platform-design study; the enumeration against the per-vector check
of ``pure_nash_equilibria``, timed on 2,000 count vectors and extrapolated.

NMF at Amazon scale: the paper's embedding protocol (5-fold NMF, scikit-surprise) on a generated
ratings file with the Amazon Digital Music file's size and shape (``benchmarks/ratings.py``),
through the real loader; seconds and peak memory (no baseline: it is what a user waits).

``--write`` merges the rows into ``benchmarks/results.json`` and regenerates
``benchmarks/RESULTS.md`` and the README's benchmark block from that file.

Every case runs in its own process; its peak memory (max RSS) is read after the fast run,
before the naive one starts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __name__ == "__main__":  # `python -m benchmarks`: one core per timing unless the caller says
    # otherwise; set before NumPy is first imported (below), and only when run, not imported
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_ML = SHARED_DATA / "embeddings" / "ml100k_nmf_dim5_seed5.npy"


#: Fast dynamics runs are repeated until they fill this many seconds (at most MAX_REPEATS).
MIN_TIMING_S = 1.0
MAX_REPEATS = 500


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "dynamics" or "env"
    n_users: int
    dim: int
    n_producers: int
    rule: str = "softmax"
    temperature: float = 1.0
    naive_iters: int | None = None  # dynamics: None runs the naive dynamics to convergence
    action_type: str = "discrete"  # env
    revision: str = "simultaneous"  # env
    info_regrets: bool = True  # env
    precision: str = "float64"
    population: str = "uniform"  # "movielens" uses the authors' MovieLens embedding
    num_envs: int = 1  # vector env: games
    dtype: str = "float64"  # vector env
    threads: int = 1  # vector env: threads the batch is split over
    blas: str = "1"  # RECSYS_EQ_BLAS_THREADS of the case's process
    neighbour: bool = False  # run beside a process that keeps a core busy
    utility_cache: str = "off"  # vector and JAX envs: "off", "table" or "lazy"
    warm: bool = False  # vector env: time a replay of the same episode (every lookup a hit)
    device: str = "cpu"  # JAX: "cpu" or "gpu"


CASES = [
    Case("brd-movielens943-d5-n100-softmax1", "dynamics", 943, 5, 100, population="movielens"),
    Case("brd-10k-d20-n100-softmax1", "dynamics", 10_000, 20, 100),
    Case("brd-10k-d20-n100-linear", "dynamics", 10_000, 20, 100, rule="linear"),
    Case("brd-714k-d20-n100-softmax1", "dynamics", 714_000, 20, 100, naive_iters=2),
    Case(
        "brd-714k-d20-n100-softmax1-float32",
        "dynamics",
        714_000,
        20,
        100,
        naive_iters=2,
        precision="float32",
    ),
    *[
        Case(
            f"env-10k-d10-n20-{action}-{revision}{'' if regrets else '-noregrets'}",
            "env",
            10_000,
            10,
            20,
            action_type=action,
            revision=revision,
            info_regrets=regrets,
        )
        for action in ("discrete", "simplex")
        for revision in ("simultaneous", "one")
        for regrets in (True, False)
    ],
]
CASES += [
    Case("vector-10k-d10-n20-discrete-B256-float32", "vector", 10_000, 10, 20, num_envs=256,
         dtype="float32", info_regrets=False),
    Case("vector-10k-d10-n20-discrete-B256-float32-2threads", "vector", 10_000, 10, 20,
         num_envs=256, dtype="float32", threads=2, info_regrets=False),
    Case("vector-10k-d10-n20-discrete-B256-float64", "vector", 10_000, 10, 20, num_envs=256,
         info_regrets=False),
    Case("vector-10k-d10-n20-simplex-B64-float32", "vector", 10_000, 10, 20, num_envs=64,
         dtype="float32", action_type="simplex", info_regrets=False),
    Case("vector-10k-d10-n20-simplex-B64-float32-2threads", "vector", 10_000, 10, 20,
         num_envs=64, dtype="float32", threads=2, action_type="simplex", info_regrets=False),
    # issue 21: the training path (revision "one") beside "simultaneous", and the utility cache
    Case("vector-10k-d10-n20-discrete-B256-float32-one", "vector", 10_000, 10, 20, num_envs=256,
         dtype="float32", info_regrets=False, revision="one"),
    *[
        Case(f"vector-10k-d10-n20-discrete-B256-float32-cache{'-one' if rev == 'one' else ''}",
             "vector", 10_000, 10, 20, num_envs=256, dtype="float32", info_regrets=False,
             revision=rev, utility_cache="table")
        for rev in ("simultaneous", "one")
    ],
    Case("vector-1m-d10-n20-discrete-B256-float32-cache", "vector", 1_000_000, 10, 20,
         num_envs=256, dtype="float32", info_regrets=False, utility_cache="lazy", warm=True),
    *[
        Case(f"jax-10k-d10-n20-discrete-B{b}", "jax", 10_000, 10, 20, num_envs=b,
             revision="one", info_regrets=False)
        for b in (64, 256, 1024, 4096)
    ],
    Case("jax-1k-d5-n5-discrete-B256", "jax", 1_000, 5, 5, num_envs=256, revision="one",
         info_regrets=False),
    *[
        Case(f"jax-{name}-discrete-B256-table", "jax", users, dim, n, num_envs=256,
             revision="one", info_regrets=False, utility_cache="table")
        for name, users, dim, n in (("10k-d10-n20", 10_000, 10, 20), ("1k-d5-n5", 1_000, 5, 5))
    ],
    Case("jax-gpu-10k-d10-n20-discrete-B4096", "jax", 10_000, 10, 20, num_envs=4096,
         revision="one", info_regrets=False, device="gpu"),
    Case("train-ppo-2k-d5-n10", "training", 2_000, 5, 10, num_envs=64),
    Case("act-ppo-2k-d5-n10", "training", 2_000, 5, 10, num_envs=64),
    # issue 22: PPO compiled with the env against SB3 on the vector env, same settings
    Case("train-jaxppo-2k-d5-n10", "jaxtrain", 2_000, 5, 10, num_envs=64),
    Case("train-jaxppo-2k-d5-n10-10seeds", "jaxtrain", 2_000, 5, 10, num_envs=64),
    *[
        Case(f"blas-10k-d10-n20-simplex-noregrets-cap{blas}{'-neighbour' if busy else ''}",
             "blas", 10_000, 10, 20, action_type="simplex", info_regrets=False, blas=blas,
             neighbour=busy)
        for blas in ("1", "none")
        for busy in (False, True)
    ],
]  # fmt: skip
CASES += [
    Case("equilibria-1000-d10-n20-softmax1", "analysis", 1000, 10, 20),
    Case("graph-1000-d10-n10-softmax1", "analysis", 1000, 10, 10),
    Case("mixed-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    # issue 25: the game theory over count vectors
    Case("symmetric-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("alpharank-1000-d10-n20-softmax1", "analysis", 1000, 10, 20),
    Case("qre-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("cce-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("design-movielens-d10-n50", "analysis", 0, 10, 50, population="movielens-nmf"),
    Case("nmf-amazon-1.58M-d10", "nmf", 0, 10, 0, population="amazon-shaped"),
]
QUICK = [
    Case("brd-2k-d10-n30-softmax1", "dynamics", 2_000, 10, 30),
    Case("env-2k-d5-n10-discrete-one", "env", 2_000, 5, 10, revision="one"),
    Case("vector-2k-d5-n10-discrete-B32", "vector", 2_000, 5, 10, num_envs=32,
         info_regrets=False),
]  # fmt: skip
TARGETS = {  # from the issues: what each measured number must reach
    "brd-movielens943-d5-n100-softmax1": ("speed-up", 1000.0),
    "brd-714k-d20-n100-softmax1": ("fast_s", 15.0),
    "vector-10k-d10-n20-discrete-B256-float32-2threads": ("ratio", 20.0),
    "vector-10k-d10-n20-discrete-B256-float32-cache": ("ratio", 50.0),
    "vector-10k-d10-n20-discrete-B256-float32-one": ("ratio_to_simultaneous", 0.8),
    "jax-10k-d10-n20-discrete-B256": ("ratio_to_vector", 1.3),
    "jax-1k-d5-n5-discrete-B256": ("ratio_to_vector", 3.0),
    "jax-10k-d10-n20-discrete-B256-table": ("ratio_to_vector", 1.0),
    "jax-1k-d5-n5-discrete-B256-table": ("ratio_to_vector", 1.0),
    "vector-10k-d10-n20-simplex-B64-float32-2threads": ("ratio", 2.0),
    "env-10k-d10-n20-discrete-simultaneous-noregrets": ("steps_per_s", 2000.0),
    "env-10k-d10-n20-simplex-simultaneous-noregrets": ("steps_per_s", 500.0),
    "env-10k-d10-n20-discrete-simultaneous": ("steps_per_s", 1000.0),
    "env-10k-d10-n20-simplex-simultaneous": ("steps_per_s", 300.0),
    "train-ppo-2k-d5-n10": ("ratio", 5.0),
    "train-jaxppo-2k-d5-n10": ("cpu_ratio", 3.0),
    "train-jaxppo-2k-d5-n10-10seeds": ("cpu_ratio", 4.0),
    "equilibria-1000-d10-n20-softmax1": ("seconds", 120.0),
    "graph-1000-d10-n10-softmax1": ("seconds", 30.0),
    "design-movielens-d10-n50": ("seconds", 120.0),
    "alpharank-1000-d10-n20-softmax1": ("seconds", 10.0),
    "qre-1000-d5-n20-softmax1": ("seconds", 10.0),
    "cce-1000-d5-n20-softmax1": ("seconds", 10.0),
}
ABSOLUTE = {
    "vector-10k-d10-n20-discrete-B256-float32-2threads": ("producer_steps_per_s", 1e6),
    "vector-10k-d10-n20-discrete-B256-float32-cache": ("producer_steps_per_s", 20e6),
}


# ---------------------------------------------------------------------- one case, in-process
def users_for(case: Case):
    import numpy as np

    import recsys_eq_env as rq

    if case.population == "movielens" and SHARED_ML.exists():
        factors = np.load(SHARED_ML)  # the authors' committed MovieLens-100k embedding
        return factors / factors.sum(axis=1, keepdims=True), "movielens-100k (authors' NMF)"
    return rq.synthetic_users("uniform", case.n_users, case.dim, seed=1), "synthetic uniform"


def run_dynamics(case: Case, repeats: int) -> dict:
    import recsys_eq_env as rq

    from .naive import naive_best_response_dynamics

    users, population = users_for(case)

    def fast(max_iter=500):
        game = rq.EngagementGame(
            users, case.n_producers, case.rule, case.temperature, precision=case.precision
        )
        return rq.best_response_dynamics(game, seed=0, max_iter=max_iter)

    # Best of at least ``repeats`` runs, and of as many as fit in MIN_TIMING_S (as timeit
    # does): a run of a few milliseconds is otherwise at the mercy of one scheduler hiccup.
    times, result = [], None
    while len(times) < repeats or (sum(times) < MIN_TIMING_S and len(times) < MAX_REPEATS):
        start = time.perf_counter()
        result = fast()
        times.append(time.perf_counter() - start)
    peak_mb = _peak_mb()
    limit = case.naive_iters if case.naive_iters is not None else 500
    start = time.perf_counter()
    part = fast(limit)
    fast_part = time.perf_counter() - start
    if case.naive_iters is None:
        fast_part = min(times)
    game = rq.EngagementGame(users, case.n_producers, case.rule, case.temperature)
    start = time.perf_counter()
    _, moves, _ = naive_best_response_dynamics(
        game.users, case.n_producers, case.rule, case.temperature, seed=0, max_iter=limit
    )
    naive_time = time.perf_counter() - start
    same = [list(m) for m in moves] == part.moves.tolist()
    if not same and case.precision == "float64":
        raise RuntimeError(f"{case.name}: naive and fast dynamics made different moves")
    return {
        "population": population,
        "iterations": result.iterations,
        "converged": result.converged,
        "fast_s": min(times),
        "fast_runs": len(times),
        "naive_s": naive_time,
        "naive_scope": "full run" if case.naive_iters is None else f"first {limit} iterations",
        "speed-up": naive_time / fast_part,
        "same_moves": same,
        "peak_mb": peak_mb,
    }


def run_env(case: Case, steps: int) -> dict:
    import numpy as np

    from recsys_eq_env import serving

    from .naive import naive_deviation_row

    users, population = users_for(case)
    env = _single_env(users, case)
    fast = 1.0 / _steps_per_second(env, steps)
    peak_mb = _peak_mb()

    # The same step, naively: full matrices for rewards, a rebuild per candidate for regrets.
    game = env.game
    profile = env.profile.copy()
    naive_steps = max(3, min(steps // 20, 20))
    start = time.perf_counter()
    for _ in range(naive_steps):
        scores = game.users @ profile.T
        p = serving.serving_probabilities(scores, case.rule, case.temperature)
        utilities = (p * scores).sum(axis=0)
        if case.info_regrets:
            regrets = np.array(
                [
                    naive_deviation_row(game.users, profile, i, case.rule, case.temperature).max()
                    - utilities[i]
                    for i in range(case.n_producers)
                ]
            )
            assert np.isfinite(regrets).all()
    naive = (time.perf_counter() - start) / naive_steps
    return {
        "population": population,
        "steps_per_s": 1.0 / fast,
        "naive_steps_per_s": 1.0 / naive,
        "speed-up": naive / fast,
        "peak_mb": peak_mb,
    }


def _random_steps(env_or_spaces, steps, seed=0):
    """Pre-drawn random action dicts of a single env (drawing is not part of the timing)."""
    spaces = [env_or_spaces.action_space(a) for a in env_or_spaces.possible_agents]
    for i, space in enumerate(spaces):
        space.seed(seed + i)
    return [
        {a: s.sample() for a, s in zip(env_or_spaces.possible_agents, spaces, strict=True)}
        for _ in range(steps)
    ]


def _env_kwargs(users, case: Case) -> dict:
    """The env arguments a case fixes, for the single and the vector env alike (episodes
    never end inside a benchmark)."""
    return dict(
        users=users,
        n_producers=case.n_producers,
        rule=case.rule,
        temperature=case.temperature,
        action_type=case.action_type,
        revision=case.revision,
        info_regrets=case.info_regrets,
        max_cycles=10**9,
    )


def _single_env(users, case: Case):
    """The single env of a case."""
    import recsys_eq_env as rq

    env = rq.parallel_env(**_env_kwargs(users, case))
    env.reset(seed=0)
    return env


def _steps_per_second(env, steps: int) -> float:
    """Steps per second of ``env`` with pre-drawn random actions, after one warm-up step."""
    batches = _random_steps(env, steps)
    env.step(batches[0])
    start = time.perf_counter()
    for actions in batches:
        env.step(actions)
    return steps / (time.perf_counter() - start)


def _single_rate(users, case: Case, steps: int) -> float:
    """Steps per second of the single env with random actions (regrets as the case says)."""
    return _steps_per_second(_single_env(users, case), steps)


def _game(users, case: Case, utility_cache: str):
    import recsys_eq_env as rq

    return rq.EngagementGame(users, case.n_producers, case.rule, case.temperature,
                             utility_cache=utility_cache)  # fmt: skip


def _vector(game, case: Case, revision: str | None = None):
    """The vector env of a case on ``game`` (the case's settings; episodes never end)."""
    import numpy as np

    import recsys_eq_env as rq

    return rq.vector_env(
        case.num_envs,
        game=game,
        action_type=case.action_type,
        revision=revision or case.revision,
        info_regrets=case.info_regrets,
        max_cycles=10**9,
        dtype=np.dtype(case.dtype),
        threads=case.threads,
    )


def _vector_rate(venv, batched: int, warm: bool = False) -> float:
    """Producer-steps per second of ``venv`` with pre-drawn random actions after a warm-up
    step; ``warm`` first plays the same episode once (a warm cache), then times its replay."""
    venv.reset(seed=0)
    venv.action_space.seed(0)
    actions = [venv.action_space.sample() for _ in range(batched)]
    if warm:
        for a in actions:
            venv.step(a)
        venv.reset(seed=0)
    venv.step(actions[0])
    start = time.perf_counter()
    for a in actions:
        venv.step(a)
    return venv.num_envs * venv.n_producers * batched / (time.perf_counter() - start)


def run_vector(case: Case, steps: int) -> dict:
    users, population = users_for(case)
    # at least 200 timed steps: a few steps time cold gathers into a large table, not the step
    batched = max(200, steps // (10 * case.num_envs) * 4)
    venv = _vector(_game(users, case, case.utility_cache), case)
    fill = 0.0
    if case.utility_cache == "table":
        start = time.perf_counter()
        venv.game.cache.fill()
        fill = time.perf_counter() - start
    vector = _vector_rate(venv, batched, case.warm)
    peak_mb = _peak_mb()
    row = {"population": population, "producer_steps_per_s": vector, "peak_mb": peak_mb}
    if case.n_users <= 100_000:  # the single env at a million users takes minutes per step
        single = _single_rate(users, case, max(200, steps // 5)) * case.n_producers
        row.update(single_producer_steps_per_s=single, ratio=vector / single)
    if case.utility_cache != "off":
        off = _vector_rate(_vector(_game(users, case, "off"), case), max(4, batched // 8))
        row.update(cache_off_producer_steps_per_s=off, ratio_to_cache_off=vector / off,
                   fill_s=fill)  # fmt: skip
    if case.revision == "one" and case.utility_cache == "off":
        simultaneous = _vector_rate(_vector(venv.game, case, "simultaneous"), batched)
        row.update(simultaneous_producer_steps_per_s=simultaneous,
                   ratio_to_simultaneous=vector / simultaneous)  # fmt: skip
    return row


def run_jax(case: Case, steps: int) -> dict:
    """Producer-steps per second of ``jax.jit(jax.vmap(env.step))`` over B games (random
    actions drawn inside the compiled step, revision "one"), compile time apart, against the
    NumPy vector env with the same cache setting in the same run."""
    import jax

    from recsys_eq_env.jax import JaxEngagementEnv

    if case.device == "gpu":
        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if not gpus:
            return {"skipped": f"no GPU: jax.devices() lists {jax.devices()}"}
    users, population = users_for(case)
    game = _game(users, case, case.utility_cache)
    fill = 0.0
    if case.utility_cache == "table":
        start = time.perf_counter()
        game.cache.fill()
        fill = time.perf_counter() - start
    env = JaxEngagementEnv(game, revision=case.revision, info_regrets=case.info_regrets,
                           max_cycles=10**9, table=case.utility_cache == "table")  # fmt: skip
    b, n, dim = case.num_envs, case.n_producers, case.dim

    def one(key, state, start):
        key, act_key, step_key = jax.random.split(key, 3)
        draws = jax.random.randint(act_key, (n,), 0, dim)
        actions = {a: draws[i] for i, a in enumerate(env.agents)}
        state = env.step(step_key, state, actions, reset_state=start)[1]
        return key, state

    step = jax.jit(jax.vmap(one))
    keys = jax.random.split(jax.random.PRNGKey(0), b)
    _, starts = jax.vmap(env.reset)(keys)  # autoreset to these (JaxMARL's reset_state)
    states = starts
    start = time.perf_counter()
    keys, states = step(keys, states, starts)
    jax.block_until_ready(states)
    first = time.perf_counter() - start
    iterations = max(10, min(400, steps * 64 // b))
    start = time.perf_counter()
    for _ in range(iterations):
        keys, states = step(keys, states, starts)
    jax.block_until_ready(states)
    per = (time.perf_counter() - start) / iterations
    jax_rate = b * n / per
    peak_mb = _peak_mb()
    row = {"population": population, "producer_steps_per_s": jax_rate,
           "compile_s": max(first - per, 0.0), "fill_s": fill,
           "device": str(jax.devices()[0])}  # fmt: skip
    if case.device == "cpu":  # the NumPy vector env on the same game (and its cache)
        vector_case = Case(case.name, "vector", case.n_users, dim, n, num_envs=b,
                           dtype="float32", info_regrets=case.info_regrets,
                           revision=case.revision)  # fmt: skip
        numpy_rate = _vector_rate(_vector(game, vector_case), 40)
        row.update(vector_producer_steps_per_s=numpy_rate, ratio_to_vector=jax_rate / numpy_rate,
                   vector_cache=game.utility_cache)  # fmt: skip
    row["peak_mb"] = peak_mb
    return row


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
    import os
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


def run_analysis(case: Case, steps: int) -> dict:
    """Equilibrium analysis: time of the lattice pass against the per-vector enumeration
    (``pure_nash_equilibria``, timed on a sample of count vectors and extrapolated)."""
    import numpy as np

    import recsys_eq_env as rq
    from recsys_eq_env import analysis
    from recsys_eq_env.lattice import Lattice

    if case.name.startswith("design"):
        from experiments.design import design_study
        from experiments.populations import population as load

        if SHARED_DATA.is_dir():  # the raw MovieLens file beside the project (tests, benchmarks)
            os.environ.setdefault("RECSYS_EQ_DATA", str(SHARED_DATA))

        users = load("movielens-100k", 0, case.dim, 13)
        start = time.perf_counter()
        table = design_study(users, case.n_producers, progress=False)
        seconds = time.perf_counter() - start
        best = table.loc[table["user_welfare_mean"].idxmax(), "serving"]
        return {"population": "movielens-100k (NMF, seed 13)", "seconds": seconds,
                "result": f"{len(table)} rules; best {best}", "peak_mb": _peak_mb()}  # fmt: skip
    users, population = users_for(case)
    game = rq.EngagementGame(users, case.n_producers, case.rule, case.temperature)
    start = time.perf_counter()
    if case.name.startswith("equilibria"):
        found = analysis.pure_equilibria(game, threads=2)
        result = f"{len(found.counts)} equilibria of {found.examined:,} count vectors"
    elif case.name.startswith("graph"):
        graph = analysis.response_graph(game)
        _, never = graph.basins()
        result = (
            f"{len(graph.counts):,} count vectors, cycle: {graph.has_cycle}, "
            f"{len(graph.equilibria)} equilibria, basins computed ({never:.0e} never end)"
        )
    elif case.name.startswith("symmetric"):
        found = analysis.classify_symmetric_equilibria(game, certify=False)
        stable = sum(e.stability.stable for e in found)
        result = (f"{len(found)} symmetric equilibria, {stable} stable, indices sum to "
                  f"{sum(e.stability.index for e in found)}")  # fmt: skip
    elif case.name.startswith("alpharank"):
        sweep = analysis.alpha_rank(game)
        result = f"{len(sweep)} alphas; top feature {int(sweep[-1].ranking[0])}"
    elif case.name.startswith("qre"):
        path = analysis.qre_path(game)
        result = (
            f"{len(path.lambdas)} points to lambda {path.lambdas[-1]:.2g}, end nash_conv "
            f"{path.nash_conv[-1]:.1e}, selects one: {path.selected is not None}"
        )
    elif case.name.startswith("cce"):
        ce = analysis.correlated_equilibria(game, "coarse")
        result = (f"CCE welfare [{ce.worst.welfare:.6g}, {ce.best.welfare:.6g}] over "
                  f"{ce.variables:,} count vectors")  # fmt: skip
    else:
        mixed = analysis.symmetric_mixed_equilibrium(game, certify=False)
        result = f"nash_conv {mixed.nash_conv:.1e} ({mixed.method})"
    seconds = time.perf_counter() - start
    peak_mb = _peak_mb()
    row = {"population": population, "seconds": seconds, "result": result, "peak_mb": peak_mb}
    if case.name.startswith("equilibria"):
        lattice = Lattice(case.n_producers, case.dim)
        sample = lattice.unrank(np.random.default_rng(0).integers(0, lattice.size, 2000))
        oracle = game.oracle
        begin = time.perf_counter()
        for counts in sample:  # the per-vector work of pure_nash_equilibria
            for a in np.flatnonzero(counts):
                oracle._row(counts, int(a), None)
        naive = (time.perf_counter() - begin) / len(sample) * lattice.size
        row.update({"naive_s": naive, "speed-up": naive / seconds})
    return row


def run_nmf(case: Case, steps: int) -> dict:
    """The paper's embedding protocol (5-fold NMF) on a generated file of the Amazon Digital
    Music shape and size, through the real loader: read, check, factorise, cache."""
    import tempfile

    import recsys_eq_env as rq

    from .ratings import AMAZON_RATINGS, write_amazon_csv

    with tempfile.TemporaryDirectory() as folder:
        raw = write_amazon_csv(Path(folder) / "amazon-digital-music" / "Digital_Music.csv")
        before = _peak_mb()
        start = time.perf_counter()
        users = rq.load_users(
            "amazon-digital-music", case.dim, 13, data_home=folder, cache_home=folder
        )
        seconds = time.perf_counter() - start
        size_mb = raw.stat().st_size / 2**20
    return {
        "population": f"Amazon-shaped ratings ({AMAZON_RATINGS:,}, {size_mb:.0f} MB CSV)",
        "seconds": seconds,
        "result": f"{len(users):,} users embedded",
        "peak_mb": _peak_mb(),
        "peak_before_mb": before,
    }


def run_blas(case: Case, steps: int) -> dict:
    users, population = users_for(case)
    return {
        "population": population,
        "steps_per_s": _single_rate(users, case, max(100, steps // 10)),
        "peak_mb": _peak_mb(),
    }


NEIGHBOUR = (
    "import numpy as np\na = np.random.default_rng(0).random((600, 600))\nwhile True:\n    a @ a\n"
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------- the table
def format_table(rows) -> str:
    dynamics = [r for r in rows if r["kind"] == "dynamics"]
    env = [r for r in rows if r["kind"] == "env"]
    lines = []
    if dynamics:
        lines += [
            "| best-response dynamics | users | iterations | fast (s) | naive (s) | naive scope "
            "| speed-up | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in dynamics:
            lines.append(
                f"| {r['case']} | {r['population']} | {r['iterations']}"
                f"{'' if r['converged'] else ' (not converged)'} | {r['fast_s']:.3f} "
                f"| {r['naive_s']:.1f} | {r['naive_scope']} | {r['speed-up']:,.0f}x "
                f"| {r['peak_mb']:,.0f} |"
            )
    if env:
        lines += [
            "",
            "| env step throughput | steps/s | naive steps/s | speed-up | peak memory (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in env:
            lines.append(
                f"| {r['case']} | {r['steps_per_s']:,.0f} | {r['naive_steps_per_s']:,.1f} "
                f"| {r['speed-up']:,.0f}x | {r['peak_mb']:,.0f} |"
            )
    batched = [r for r in rows if r["kind"] in ("vector", "training")]
    if batched:
        lines += [
            "",
            "| batched throughput | producer-steps/s | baseline producer-steps/s (same run) "
            "| ratio | cache off (same run) | simultaneous (same run) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in batched:
            base = "single env" if r["kind"] == "vector" else "SuperSuit + single env"
            single = (
                f"{r['single_producer_steps_per_s']:,.0f} ({base}) | {r['ratio']:,.1f}x"
                if "single_producer_steps_per_s" in r
                else "not run (a single-env step takes seconds here) | —"
            )
            off = (
                f"{r['cache_off_producer_steps_per_s']:,.0f}: {r['ratio_to_cache_off']:,.1f}x "
                f"(table filled in {r['fill_s']:.0f} s)"
                if "cache_off_producer_steps_per_s" in r
                else "—"
            )
            if "cache_off_producer_steps_per_s" in r and not r.get("fill_s"):
                off = off.replace(" (table filled in 0 s)", " (warm lazy cache)")
            simultaneous = (
                f"{r['simultaneous_producer_steps_per_s']:,.0f}: {r['ratio_to_simultaneous']:.2f}x"
                if "simultaneous_producer_steps_per_s" in r
                else "—"
            )
            lines.append(
                f"| {r['case']} | {r['producer_steps_per_s']:,.0f} | {single} | {off} "
                f"| {simultaneous} | {r['peak_mb']:,.0f} |"
            )
    jax_rows = [r for r in rows if r["kind"] == "jax"]
    if jax_rows:
        lines += [
            "",
            "| JAX env (jit + vmap, revision one) | producer-steps/s | NumPy vector env, same "
            "game and cache (same run) | ratio | compile (s) | peak memory (MB) |",
            "|---|---|---|---|---|---|",
        ]
        for r in jax_rows:
            if "skipped" in r:
                lines.append(f"| {r['case']} | skipped: {r['skipped']} | | | | |")
                continue
            numpy = (
                f"{r['vector_producer_steps_per_s']:,.0f} (cache {r['vector_cache']}) | "
                f"{r['ratio_to_vector']:.1f}x"
                if "vector_producer_steps_per_s" in r
                else "— | —"
            )
            lines.append(
                f"| {r['case']} | {r['producer_steps_per_s']:,.0f} | {numpy} | "
                f"{r['compile_s']:.1f} | {r['peak_mb']:,.0f} |"
            )
    trainers = [r for r in rows if r["kind"] == "jaxtrain"]
    if trainers:
        lines += [
            "",
            "| PPO training, same settings and samples | seeds | producer-steps per CPU s "
            "(JAX) | SB3 on the vector env (same run) | SuperSuit (same run) | CPU ratio to SB3 "
            "| wall s (JAX / SB3) | compile (s) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in trainers:
            lines.append(
                f"| {r['case']} | {r['seeds']} | {r['producer_steps_per_cpu_s']:,.0f} | "
                f"{r['sb3_producer_steps_per_cpu_s']:,.0f} | "
                f"{r['supersuit_producer_steps_per_cpu_s']:,.0f} | {r['cpu_ratio']:.1f}x | "
                f"{r['wall_s']:.1f} / {r['sb3_wall_s']:.1f} | {r['compile_s']:.1f} | "
                f"{r['peak_mb']:,.0f} |"
            )
    studies = [r for r in rows if r["kind"] in ("analysis", "nmf")]
    if studies:
        lines += [
            "",
            "| analysis and data | seconds | what it found | per-vector enumeration "
            "(extrapolated) | peak memory (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in studies:
            naive = f"{r['naive_s']:,.0f} s ({r['speed-up']:,.0f}x)" if "naive_s" in r else "—"
            lines.append(
                f"| {r['case']} | {r['seconds']:,.1f} | {r['result']} | {naive} "
                f"| {r['peak_mb']:,.0f} |"
            )
    blas = [r for r in rows if r["kind"] == "blas"]
    if blas:
        lines += [
            "",
            "| BLAS setting (single env, simplex, regrets off) | steps/s |",
            "|---|---|",
        ]
        for r in blas:
            lines.append(f"| {r['case']} | {r['steps_per_s']:,.0f} |")
        rates = [r["steps_per_s"] for r in blas]
        lines.append(f"| largest / smallest | {max(rates) / min(rates):.1f}x |")
    return "\n".join(lines)


def _one(name: str, repeats: int, steps: int) -> dict:
    case = next(c for c in CASES + QUICK if c.name == name)
    runner = {
        "dynamics": lambda: run_dynamics(case, repeats),
        "env": lambda: run_env(case, steps),
        "vector": lambda: run_vector(case, steps),
        "jax": lambda: run_jax(case, steps),
        "training": lambda: run_training(case, steps),
        "jaxtrain": lambda: run_jax_training(case, steps),
        "blas": lambda: run_blas(case, steps),
        "analysis": lambda: run_analysis(case, steps),
        "nmf": lambda: run_nmf(case, steps),
    }[case.kind]
    return {"case": case.name, "kind": case.kind, **runner(), "config": asdict(case)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="two small cases (seconds)")
    parser.add_argument("--case", action="append", help="run only these cases (by name)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="at least this many fast dynamics runs per case, more to fill 1 s (best of)",
    )
    parser.add_argument("--steps", type=int, default=2000, help="env steps per case")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--write",
        action="store_true",
        help=(
            "merge the results (by case) into benchmarks/results.json, regenerate "
            "benchmarks/RESULTS.md and the README's benchmark block from it"
        ),
    )
    parser.add_argument("--in-process", dest="child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one case, in this (fresh) process: print its result as JSON
        print(json.dumps(_one(args.child, args.repeats, args.steps)))
        return 0
    if args.write and (args.quick or any(c.name == n for c in QUICK for n in args.case or ())):
        parser.error("--write records the real cases; the --quick cases are a smoke test")
    cases = QUICK if args.quick else CASES
    if args.case:
        cases = [c for c in CASES + QUICK if c.name in args.case]
    rows, failed = [], []
    for case in cases:
        neighbour = None
        if case.neighbour:
            neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
            time.sleep(1.0)
        command = [
            sys.executable,
            "-m",
            "benchmarks",
            "--in-process",
            case.name,
            "--repeats",
            str(args.repeats),
            "--steps",
            str(args.steps),
        ]
        try:
            output = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env={**os.environ, "RECSYS_EQ_BLAS_THREADS": case.blas},
                cwd=Path(__file__).resolve().parents[1],
            )
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()
        if output.returncode != 0:  # report it, keep the other cases' results
            failed.append(case.name)
            print(f"FAILED: {case.name}\n{output.stderr.strip()[-2000:]}", flush=True)
            continue
        row = json.loads(output.stdout.strip().splitlines()[-1])
        rows.append(row)
        if args.write:  # every finished case is saved at once: an interruption loses none
            write_results([row])
        print(f"done: {case.name}", flush=True)
    print(format_table(rows))
    for line in target_lines(rows):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if failed:
        print(f"{len(failed)} case(s) failed: {', '.join(failed)}")
        return 1
    return 0


def target_lines(rows) -> list[str]:
    """One line per target the rows measure: the number, the bound, met or not."""
    lines = []
    for name, (metric, bound) in [*TARGETS.items(), *ABSOLUTE.items()]:
        row = next((r for r in rows if r["case"] == name), None)
        if row is not None and metric in row:
            at_least = metric not in ("fast_s", "seconds")
            ok = row[metric] >= bound if at_least else row[metric] <= bound
            lines.append(
                f"target {name}: {metric} {row[metric]:,.2f} (target "
                f"{'>=' if at_least else '<='} {bound:,g}) "
                f"{'met' if ok else 'NOT met'}"
            )
    return lines


# ---------------------------------------------------------------------- committed results
HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
README = HERE.parent / "README.md"
README_BEGIN, README_END = "<!-- benchmarks: begin -->", "<!-- benchmarks: end -->"


def _machine() -> str:
    import platform

    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"
    )


def render_results(rows) -> str:
    """``benchmarks/RESULTS.md`` from the committed rows (every number comes from them)."""
    machines = sorted({r.get("machine", "unrecorded") for r in rows})
    dates = sorted(r["measured"] for r in rows if "measured" in r)
    span = (
        "on unrecorded dates"
        if not dates
        else f"on {dates[0]}"
        if dates[0] == dates[-1]
        else f"from {dates[0]} to {dates[-1]}"
    )
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python -m benchmarks --write` from `benchmarks/results.json`; do not edit.",
        f"Measured {span} on {'; '.join(machines)}.",
        "Every ratio compares two implementations measured in the same process on the same",
        "input; what each baseline is, is in `python -m benchmarks --help`.",
        "",
        format_table(rows),
        "",
        "## Against the targets in the issues",
        "",
        *[f"* {line.removeprefix('target ')}" for line in target_lines(rows)],
        "",
    ]
    return "\n".join(lines)


def readme_block(rows) -> str:
    """The README's benchmark block: the tables and the targets, from the same rows."""
    return "\n".join(
        [
            format_table(rows),
            "",
            *[f"* {line.removeprefix('target ')}" for line in target_lines(rows)],
        ]
    )


def write_results(rows, json_path=RESULTS_JSON, markdown=RESULTS_MD, readme=README) -> None:
    """Merge ``rows`` (by case name, keeping the order of CASES) into the committed results and
    regenerate the Markdown page and the README block from them."""
    from recsys_eq_env._io import atomic_write_text

    stamp = time.strftime("%Y-%m-%d")
    machine = _machine()
    old = json.loads(Path(json_path).read_text()) if Path(json_path).exists() else []
    merged = {r["case"]: r for r in old}
    for r in rows:
        merged[r["case"]] = {**r, "measured": stamp, "machine": machine}
    order = {c.name: i for i, c in enumerate(CASES + QUICK)}
    kept = sorted(merged.values(), key=lambda r: order.get(r["case"], len(order)))
    atomic_write_text(Path(json_path), json.dumps(kept, indent=1) + "\n")
    atomic_write_text(Path(markdown), render_results(kept))
    readme = Path(readme)
    if readme.exists():
        text = readme.read_text()
        if README_BEGIN in text and README_END in text:
            head, rest = text.split(README_BEGIN, 1)
            _, tail = rest.split(README_END, 1)
            new = f"{head}{README_BEGIN}\n{readme_block(kept)}\n{README_END}{tail}"
            if new != text:
                atomic_write_text(readme, new)


if __name__ == "__main__":
    raise SystemExit(main())
