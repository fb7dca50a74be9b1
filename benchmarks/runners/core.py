"""Runners of the dynamics, env, vector, JAX and BLAS cases (one case in-process)."""

from __future__ import annotations

import resource
import time

from ..cases import MAX_REPEATS, MIN_TIMING_S, Case, users_for


def run_dynamics(case: Case, repeats: int) -> dict:
    import recsys_eq_env as rq

    from ..naive import naive_best_response_dynamics

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

    from ..naive import naive_deviation_row

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
