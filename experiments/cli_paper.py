"""The ``recsys-eq`` commands of the paper's study: equilibrium, exp1/exp2, certify, reproduce,
plot and report."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import recsys_eq_env as rq

from .cli_common import _command, _config, _out


def _grid_arguments(sub):
    sub.add_argument("--config", default="paper", help="'paper', 'quick' or a YAML file")
    sub.add_argument("--quick", action="store_true", help="the small grid (same as --config quick)")
    sub.add_argument(
        "--dataset", nargs="+", default=None, help="datasets to run (default: the config's)"
    )
    sub.add_argument(
        "--out", type=Path, default=None, help="results folder (default: results/<config>)"
    )  # grids name their default folder after the config
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
    sub.add_argument(
        "--recompute",
        action="store_true",
        help="run again the finished runs of --out that were made with other settings "
        "(iteration budget, seeds, engine) and replace their rows; without it they are refused",
    )


def run_equilibrium(args) -> int:
    users = rq.synthetic_users(args.population, args.n_users, args.dim, seed=args.users_seed)
    game = rq.EngagementGame(
        users, args.n_producers, args.rule, args.temperature, args.utility, args.k
    )
    start = time.perf_counter()
    result = rq.best_response_dynamics(
        game, seed=args.seed, max_iter=args.max_iter, tol=args.tol, deviations=args.deviations
    )
    elapsed = time.perf_counter() - start
    print(format_equilibrium(game, result, elapsed))
    return 0


CHECKS = {
    "exact": "exact: no deviation over the whole simplex gains more",
    "certificate": "certificate: a multi-start search over the simplex found no better content "
    "(evidence, not proof)",
    "basis only": "basis vectors only: continuous deviations were not checked and could gain",
}


def format_equilibrium(game: rq.EngagementGame, result: rq.DynamicsResult, elapsed: float) -> str:
    """A human-readable report of one run."""
    producer_u = game.producer_utilities(result.profile)
    user_u = game.user_utilities(result.profile)
    user_dist = rq.user_distribution(game.users)
    producer_dist = result.profile.sum(axis=0) / game.n_producers  # content mass per feature
    status = "converged" if result.converged else "did NOT converge"
    over = "the simplex" if result.deviations == "simplex" else "basis vectors"
    lines = [
        f"{game!r}",
        f"best-response dynamics over {over} {status} after {result.iterations} iterations "
        f"({elapsed:.3f} s; relative tolerance {result.tol:g})",
        "",
        f"{'feature':>7}  {'users':>7}  {'producers':>9}  {'count':>5}",
    ]
    if result.deviations == "simplex":
        lines[-1] = f"{'feature':>7}  {'users':>7}  {'producers':>9}  {'peaks':>5}"
        lines.insert(
            -1,
            "producers: content mass per feature / n; peaks: producers whose "
            "content is largest there",
        )
    for j in range(game.dim):
        lines.append(
            f"{j:>7}  {user_dist[j]:7.3f}  {producer_dist[j]:9.3f}  {int(result.counts[j]):>5}"
        )
    tvd = rq.total_variation(user_dist, producer_dist)
    regrets = game.regrets(result.profile, result.deviations)
    lines += [
        "",
        f"features occupied        {int((result.counts > 0).sum())} of {game.dim}",
        f"total variation distance {tvd:.4f}  (producer vs user distribution)",
        f"producer utility         total {producer_u.sum():.4f}  mean {producer_u.mean():.4f}  "
        f"min {producer_u.min():.4f}  max {producer_u.max():.4f}",
        f"user utility             total {user_u.sum():.4f}  mean {user_u.mean():.6f}  "
        f"min {user_u.min():.6f}  max {user_u.max():.6f}",
        f"nash_conv                {regrets.sum():.3e}  (largest regret relative to utility "
        f"{(regrets / np.maximum(np.abs(producer_u), 1e-300)).max():.1e})",
        f"equilibrium check        {CHECKS[result.check]}",
    ]
    if result.deviations == "simplex":
        peak = result.profile.max(axis=1)
        lines[lines.index(next(x for x in lines if x.startswith("features occupied")))] = (
            f"content peaks            mean largest coordinate {peak.mean():.3f} "
            f"(1 = a basis vector), smallest {peak.min():.3f}"
        )
    return "\n".join(lines)


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
    from .store import ResultStore, validate_grid_rows

    specs = expand(config, name)
    if prepare:
        _prepare(specs, args)
    summary = run_grid(
        specs,
        ResultStore(out, name, validate=validate_grid_rows),
        engine=args.engine,
        n_jobs=args.jobs,
        progress=not args.no_progress,
        flush_seconds=args.flush_seconds,
        backend=args.backend,
        scheduler=args.scheduler,
        recompute=args.recompute,
    )
    print(summary.line(out / f"{name}.parquet"), flush=True)
    return summary


def run_exp(args) -> int:
    config = _config(args)
    out = _out(args, config)
    _experiment(args.command, config, out, args)
    return 0


def _certify(config, out, args):
    from .certify import run_certify, summarise
    from .grid import default_jobs

    start = time.perf_counter()
    table = run_certify(
        config, out, n_jobs=args.jobs or default_jobs(), recompute=getattr(args, "recompute", False)
    )
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
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    paths = plot_all(load_table(out, "exp1"), load_table(out, "exp2"), out / "figures", out)
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
        ("variants", "variants (the later revision's serving rules)"),
    ):
        if name not in config.experiments:
            continue
        grid = config.experiments[name]
        names = config.datasets if grid.datasets is None else grid.datasets
        start = time.perf_counter()
        summary = _experiment(name, config, out, args, prepare=False)
        if summary.new:
            stages[f"{label} [{', '.join(names)}]"] = time.perf_counter() - start
    start = time.perf_counter()
    from .comparison import write_comparisons

    write_comparisons(out, config.generator)
    stages["comparison with the authors' tables"] = time.perf_counter() - start
    start = time.perf_counter()
    _certify(config, out, args)
    stages[f"certify (continuous deviations){tag}"] = time.perf_counter() - start
    exp1, exp2 = load_table(out, "exp1"), load_table(out, "exp2")
    start = time.perf_counter()
    plot_all(exp1, exp2, out / "figures", out)
    stages["figures"] = time.perf_counter() - start
    record_invocation(out, _command(f"reproduce --config {config.name}"), stages)
    report = build_report(out)
    print(f"reproduce: {sum(stages.values()):.1f}s in all; report {report}")
    return 0


def run_report(args) -> int:
    from .report import build_report, update_readme

    if not args.out.is_dir():
        raise ValueError(f"--out {args.out} is not a folder with results")
    print(f"report {build_report(args.out)}")
    if args.readme is not None:
        changed = update_readme(args.readme, args.out)
        print(f"{args.readme}: summary {'updated' if changed else 'unchanged'}")
    return 0
