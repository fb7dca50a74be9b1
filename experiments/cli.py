"""The ``recsys-eq`` command line: thin wrappers over the package's functions.

=============  ==============================================================================
equilibrium    one run of best-response dynamics on a synthetic population, printed
exp1           iterations to equilibrium (paper's experiment 1), a results table
exp2           the equilibria themselves over every serving rule (experiment 2), a table
certify        continuous deviations at sampled equilibria (the structural result)
plot           the four figures from the tables (never recomputes)
reproduce      exp1 + exp2 + certify + plot + REPRODUCTION.md
=============  ==============================================================================
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

import recsys_eq_env as rq


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys-eq",
        description="Producers' equilibria in engagement-driven recommender systems.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    eq = commands.add_parser(
        "equilibrium",
        help="run the paper's best-response dynamics once and print the equilibrium",
        description="Build a synthetic population, run best-response dynamics over basis "
        "vectors, and print the equilibrium reached.",
    )
    eq.add_argument("--population", choices=rq.POPULATIONS, default="uniform")
    eq.add_argument("--n-users", type=int, default=10_000)
    eq.add_argument("--dim", type=int, default=10)
    eq.add_argument("--users-seed", type=int, default=13, help="seed of the synthetic users")
    eq.add_argument("--n-producers", type=int, default=20)
    eq.add_argument(
        "--rule",
        choices=("softmax", "linear", "topk_softmax", "uniform", "hardmax"),
        default="softmax",
    )
    eq.add_argument("--temperature", type=float, default=1.0)
    eq.add_argument("--k", type=int, default=None, help="shortlist size for topk_softmax")
    eq.add_argument("--utility", choices=("engagement", "exposure"), default="engagement")
    eq.add_argument("--seed", type=int, default=0, help="seed of the dynamics")
    eq.add_argument("--max-iter", type=int, default=500)
    eq.set_defaults(func=run_equilibrium)

    for name, help_text, func in (
        ("exp1", "iterations to equilibrium over the grid (a table, one row per run)", run_exp),
        ("exp2", "equilibria over the grid and every serving rule (a table)", run_exp),
        ("certify", "search continuous deviations at sampled equilibria", run_certify_cmd),
        ("reproduce", "exp1 + exp2 + certify + plot + REPRODUCTION.md", run_reproduce),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _grid_arguments(sub)
        sub.set_defaults(func=func)

    compare = commands.add_parser(
        "compare",
        help="learning producers (Hedge, exponentiated gradient, PPO) vs best response",
        description="Run the learning study: every learner on every cell of the study config; "
        "curves, a figure and the learning section of REPRODUCTION.md.",
    )
    compare.add_argument("--study", default="compare", help="'compare' or a YAML file")
    compare.add_argument("--quick", action="store_true", help="the small study")
    compare.add_argument("--out", type=Path, default=None, help="results folder")
    compare.add_argument("--jobs", type=int, default=None, help="worker processes")
    compare.add_argument("--no-progress", action="store_true", help="no progress bar")
    compare.set_defaults(func=run_compare)

    plot = commands.add_parser("plot", help="the figures, from the tables in --out")
    plot.add_argument("--out", type=Path, default=None, help="results folder (with the tables)")
    plot.add_argument("--quick", action="store_true", help="default --out of the quick grid")
    plot.set_defaults(func=run_plot)
    return parser


def _grid_arguments(sub):
    sub.add_argument("--config", default="paper", help="'paper', 'quick' or a YAML file")
    sub.add_argument("--quick", action="store_true", help="the small grid (same as --config quick)")
    sub.add_argument(
        "--dataset", nargs="+", default=None, help="datasets to run (default: the config's)"
    )
    sub.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/<config>)"
    )
    sub.add_argument(
        "--engine",
        choices=("rollout", "direct"),
        default="rollout",
        help="env rollouts of best-response agents (default) or the core dynamics",
    )
    sub.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub.add_argument(
        "--backend",
        choices=("joblib", "dask"),
        default="joblib",
        help="local processes (joblib, default) or a dask.distributed cluster",
    )
    sub.add_argument(
        "--scheduler",
        default=None,
        help="dask scheduler address (tcp://host:8786); default: a LocalCluster of --jobs",
    )
    sub.add_argument(
        "--data-home",
        type=Path,
        default=None,
        help="folder with the raw rating files (default: $RECSYS_EQ_DATA, else the user cache)",
    )
    sub.add_argument(
        "--flush-seconds",
        type=float,
        default=2.0,
        help="save finished runs at least this often (0: after every run)",
    )


# ------------------------------------------------------------------ equilibrium
def run_equilibrium(args) -> int:
    users = rq.synthetic_users(args.population, args.n_users, args.dim, seed=args.users_seed)
    game = rq.EngagementGame(
        users, args.n_producers, args.rule, args.temperature, args.utility, args.k
    )
    start = time.perf_counter()
    result = rq.best_response_dynamics(game, seed=args.seed, max_iter=args.max_iter)
    elapsed = time.perf_counter() - start
    print(format_equilibrium(game, result, elapsed))
    return 0


def format_equilibrium(game: rq.EngagementGame, result: rq.DynamicsResult, elapsed: float) -> str:
    """A human-readable report of one run."""
    producer_u = game.producer_utilities(result.profile)
    user_u = game.user_utilities(result.profile)
    user_dist = rq.user_distribution(game.users)
    producer_dist = result.producer_dist
    status = "converged" if result.converged else "did NOT converge"
    lines = [
        f"{game!r}",
        f"best-response dynamics {status} after {result.iterations} iterations ({elapsed:.3f} s)",
        "",
        f"{'feature':>7}  {'users':>7}  {'producers':>9}  {'count':>5}",
    ]
    for j in range(game.dim):
        lines.append(
            f"{j:>7}  {user_dist[j]:7.3f}  {producer_dist[j]:9.3f}  {int(result.counts[j]):>5}"
        )
    tvd = 0.5 * np.abs(user_dist - producer_dist).sum()
    lines += [
        "",
        f"features occupied        {int((result.counts > 0).sum())} of {game.dim}",
        f"total variation distance {tvd:.4f}  (producer vs user distribution)",
        f"producer utility         total {producer_u.sum():.4f}  mean {producer_u.mean():.4f}  "
        f"min {producer_u.min():.4f}  max {producer_u.max():.4f}",
        f"user utility             total {user_u.sum():.4f}  mean {user_u.mean():.6f}  "
        f"min {user_u.min():.6f}  max {user_u.max():.6f}",
        f"nash_conv                {game.nash_conv(result.profile):.3e}",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ grids
def _config(args):
    import os

    from .config import load_config
    from .populations import dataset_names

    if getattr(args, "data_home", None) is not None:
        os.environ["RECSYS_EQ_DATA"] = str(args.data_home)  # worker processes inherit it
    config = load_config("quick" if args.quick else args.config)
    if args.dataset:
        for name in args.dataset:
            if name not in dataset_names():
                raise ValueError(
                    f"--dataset must be among {', '.join(dataset_names())}; got {name!r}"
                )
        config = config.with_datasets(args.dataset)
    return config


def _out(args, config) -> Path:
    return args.out if args.out is not None else Path("results") / config.name


def _prepare(specs, args) -> tuple[float, int]:
    """Compute the real-data embeddings the specs need (once, in parallel).

    Returns the seconds it took and how many had to be computed (0: all were cached).
    """
    from .grid import default_jobs
    from .populations import prepare

    start = time.perf_counter()
    count = prepare(specs, n_jobs=args.jobs or default_jobs(), progress=not args.no_progress)
    seconds = time.perf_counter() - start
    if count:
        print(f"embeddings: {count} computed in {seconds:.1f}s", flush=True)
    return seconds, count


def _experiment(name, config, out, args, prepare: bool = True):
    from .config import expand
    from .grid import run_grid
    from .store import ResultStore

    specs = expand(config, name)
    if prepare:
        _prepare(specs, args)
    summary = run_grid(
        specs,
        ResultStore(out, name),
        engine=args.engine,
        n_jobs=args.jobs,
        progress=not args.no_progress,
        flush_seconds=args.flush_seconds,
        backend=args.backend,
        scheduler=args.scheduler,
    )
    print(summary.line(out / f"{name}.parquet"), flush=True)
    return summary


def run_exp(args) -> int:
    config = _config(args)
    _experiment(args.command, config, _out(args, config), args)
    return 0


def _certify(config, out, args):
    from .certify import run_certify, summarise
    from .grid import default_jobs

    start = time.perf_counter()
    table = run_certify(config, n_jobs=args.jobs or default_jobs())
    out.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out / "certify.parquet", index=False)
    summary = summarise(table)
    print(summary.to_string())
    print(
        f"certify: {len(table)} producers at sampled equilibria in "
        f"{time.perf_counter() - start:.1f}s; table {out / 'certify.parquet'}"
    )
    return table, summary


def run_certify_cmd(args) -> int:
    config = _config(args)
    _certify(config, _out(args, config), args)
    return 0


def run_plot(args) -> int:
    from .plots import plot_all
    from .store import load_table

    default = Path("results") / ("quick" if args.quick else "paper")
    out = args.out if args.out is not None else default
    paths = plot_all(load_table(out, "exp1"), load_table(out, "exp2"), out / "figures")
    print("figures: " + ", ".join(str(p) for p in paths))
    return 0


def run_reproduce(args) -> int:
    """exp1, exp2, certify, figures and REPRODUCTION.md for every dataset run into ``--out``.

    Each invocation adds its datasets' rows to the folder's tables and its command and stage
    times to ``report.json``; the figures and the report cover everything in the folder.
    """
    from .config import expand
    from .plots import plot_all
    from .report import build_report, record_invocation
    from .store import load_table

    config = _config(args)
    out = _out(args, config)
    out.mkdir(parents=True, exist_ok=True)
    tag = f" [{', '.join(config.datasets)}]"
    # Only stages that did work are recorded: a resumed, finished stage keeps its time.
    stages = {}
    seconds, computed = _prepare(expand(config, "exp1") + expand(config, "exp2"), args)
    if computed:
        stages[f"embeddings (NMF, {computed})" + tag] = seconds
    for name, label in (
        ("exp1", "exp1 (iterations to equilibrium)"),
        ("exp2", "exp2 (equilibria over serving rules)"),
    ):
        start = time.perf_counter()
        summary = _experiment(name, config, out, args, prepare=False)
        if summary.new:
            stages[label + tag] = time.perf_counter() - start
    start = time.perf_counter()
    _certify(config, out, args)
    stages["certify (continuous deviations)"] = time.perf_counter() - start
    exp1, exp2 = load_table(out, "exp1"), load_table(out, "exp2")
    start = time.perf_counter()
    plot_all(exp1, exp2, out / "figures")
    stages["figures"] = time.perf_counter() - start
    record_invocation(out, _command(f"reproduce --config {config.name}"), stages)
    report = build_report(out)
    print(f"reproduce: {sum(stages.values()):.1f}s in all; report {report}")
    return 0


def run_compare(args) -> int:
    """The learning study; curves, figure and the report's learning section."""
    from .compare import final_table, load_study, run_study
    from .grid import default_jobs
    from .plots import plot_compare
    from .report import build_report, record_invocation

    study = load_study("compare-quick" if args.quick else args.study)
    out = args.out if args.out is not None else Path("results") / study.name
    start = time.perf_counter()
    curves, ran = run_study(
        study, out, n_jobs=args.jobs or default_jobs(), progress=not args.no_progress
    )
    seconds = time.perf_counter() - start
    plot_compare(curves, out / "figures")
    with pd_options():
        print(final_table(curves).to_string())
    stage = f"compare ({study.name}, {curves['key'].nunique()} cells)"
    record_invocation(
        out, _command(f"compare --study {study.name}"), {stage: seconds} if ran else {}
    )  # a resumed study keeps its time
    report = build_report(out)
    print(f"compare: {curves['key'].nunique()} cells in {seconds:.1f}s; report {report}")
    return 0


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20)


def _command(fallback: str) -> str:
    if len(sys.argv) > 1 and sys.argv[1] in ("reproduce", "compare"):
        return "recsys-eq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"recsys-eq {fallback}"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"recsys-eq {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"recsys-eq {args.command}: interrupted; finished runs are saved, run the same "
            "command again to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
