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

Every case runs in its own process; its peak memory (max RSS) is read after the fast run,
before the naive one starts. Timings are single-threaded unless OMP_NUM_THREADS is set.
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

SHARED_ML = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "embeddings"
    / ("ml100k_nmf_dim5_seed5.npy")
)


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
QUICK = [
    Case("brd-2k-d10-n30-softmax1", "dynamics", 2_000, 10, 30),
    Case("env-2k-d5-n10-discrete-one", "env", 2_000, 5, 10, revision="one"),
]
TARGETS = {  # from the issue: what each measured number must reach
    "brd-movielens943-d5-n100-softmax1": ("speed-up", 1000.0),
    "brd-714k-d20-n100-softmax1": ("fast_s", 15.0),
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

    import recsys_eq_env as rq
    from recsys_eq_env import serving

    from .naive import naive_deviation_row

    users, population = users_for(case)
    env = rq.parallel_env(
        users=users,
        n_producers=case.n_producers,
        rule=case.rule,
        temperature=case.temperature,
        action_type=case.action_type,
        revision=case.revision,
        info_regrets=case.info_regrets,
        max_cycles=10**9,
    )
    env.reset(seed=0)
    spaces = [env.action_space(a) for a in env.possible_agents]
    for i, space in enumerate(spaces):
        space.seed(i)
    batches = [
        {a: s.sample() for a, s in zip(env.possible_agents, spaces, strict=True)}
        for _ in range(steps)
    ]
    env.step(batches[0])  # warm-up
    start = time.perf_counter()
    for actions in batches:
        env.step(actions)
    fast = (time.perf_counter() - start) / steps
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
    return "\n".join(lines)


def _one(name: str, repeats: int, steps: int) -> dict:
    case = next(c for c in CASES + QUICK if c.name == name)
    result = run_dynamics(case, repeats) if case.kind == "dynamics" else run_env(case, steps)
    return {"case": case.name, "kind": case.kind, **result, "config": asdict(case)}


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
    parser.add_argument("--in-process", dest="child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one case, in this (fresh) process: print its result as JSON
        print(json.dumps(_one(args.child, args.repeats, args.steps)))
        return 0
    cases = QUICK if args.quick else CASES
    if args.case:
        cases = [c for c in CASES + QUICK if c.name in args.case]
    rows = []
    for case in cases:
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
        output = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
            cwd=Path(__file__).resolve().parents[1],
        )
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
        print(f"done: {case.name}", flush=True)
    print(format_table(rows))
    for name, (metric, bound) in TARGETS.items():
        row = next((r for r in rows if r["case"] == name), None)
        if row is not None:
            ok = row[metric] >= bound if metric == "speed-up" else row[metric] <= bound
            print(
                f"target {name}: {metric} {row[metric]:,.2f} (target "
                f"{'>=' if metric == 'speed-up' else '<='} {bound:g}) "
                f"{'met' if ok else 'NOT met'}"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
