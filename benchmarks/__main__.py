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
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __name__ == "__main__":  # `python -m benchmarks`: one core per timing unless the caller says
    # otherwise; set before NumPy is first imported (below), and only when run, not imported
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from .cases import CASES, QUICK
from .results import format_table, target_lines, write_results
from .runners import (
    NEIGHBOUR,
    run_analysis,
    run_blas,
    run_dynamics,
    run_env,
    run_jax,
    run_jax_training,
    run_nmf,
    run_training,
    run_vector,
)


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


if __name__ == "__main__":
    raise SystemExit(main())
