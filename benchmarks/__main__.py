"""``python -m benchmarks``: the fast core against the naive implementation, same input.

Every case times :func:`recsys_eq_env.best_response_dynamics` and
:func:`benchmarks.naive.naive_best_response_dynamics` on the same users and seed; both make the
same moves, so the ratio compares equal work. When ``naive_iters`` is set, both are stopped after
that many switches (the naive run to convergence would take too long) and the ratio is per
iteration over those switches.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import recsys_eq_env as rq

from .naive import naive_best_response_dynamics


@dataclass(frozen=True)
class Case:
    name: str
    n_users: int
    dim: int
    n_producers: int
    rule: str
    temperature: float = 1.0
    naive_iters: int | None = None  # None: run the naive dynamics to convergence


CASES = [
    Case("brd-10k-d20-n100-softmax1", 10_000, 20, 100, "softmax", 1.0),
    Case("brd-10k-d20-n100-linear", 10_000, 20, 100, "linear"),
]
QUICK = [Case("brd-2k-d10-n30-softmax1", 2_000, 10, 30, "softmax", 1.0)]


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def run_case(case: Case, seed: int = 0, repeats: int = 3) -> dict:
    users = rq.synthetic_users("uniform", case.n_users, case.dim, seed=1)
    game = rq.EngagementGame(users, case.n_producers, case.rule, case.temperature)

    def fast(max_iter=500):
        fresh = rq.EngagementGame(users, case.n_producers, case.rule, case.temperature)
        return rq.best_response_dynamics(fresh, seed=seed, max_iter=max_iter)

    fast_time, result = best_time(fast, repeats)
    limit = case.naive_iters if case.naive_iters is not None else 500
    fast_part, part = best_time(lambda: fast(limit), repeats)
    start = time.perf_counter()
    _, moves, _ = naive_best_response_dynamics(
        game.users, case.n_producers, case.rule, case.temperature, seed=seed, max_iter=limit
    )
    naive_time = time.perf_counter() - start
    if [list(m) for m in moves] != part.moves.tolist():
        raise RuntimeError(f"{case.name}: naive and fast dynamics made different moves")
    return {
        "case": case.name,
        "iterations": result.iterations,
        "converged": result.converged,
        "fast_s": fast_time,
        "naive_s": naive_time,
        "naive_scope": "full run" if case.naive_iters is None else f"first {limit} iterations",
        "speedup": naive_time / fast_part,
    }


def format_table(rows) -> str:
    lines = [
        "| case | iterations | fast (s) | naive (s) | naive scope | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['iterations']}{'' if r['converged'] else ' (not converged)'} "
            f"| {r['fast_s']:.3f} | {r['naive_s']:.1f} | {r['naive_scope']} "
            f"| {r['speedup']:,.0f}x |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small case (seconds)")
    parser.add_argument("--case", action="append", help="run only these cases (by name)")
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else CASES
    if args.case:
        cases = [c for c in CASES + QUICK if c.name in args.case]
    rows = []
    for case in cases:
        rows.append(run_case(case))
        print(f"done: {case.name}", flush=True)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
