"""The ``recsys-eq`` command line: thin wrappers over the package's functions.

=============  ==============================================================================
equilibrium    one run of best-response dynamics on a synthetic population, printed
exp1           iterations to equilibrium (paper's experiment 1), a results table
exp2           the equilibria themselves over every serving rule (experiment 2), a table
certify        continuous deviations at sampled equilibria (the structural result)
reproduce      exp1 + exp2 + variants + the authors' comparison + certify + figures + report
compare        learning producers against best-response dynamics
sweep          the PPO hyperparameter sweep behind the compare study
welfare        welfare at the optimum and at every equilibrium of a small game, per rule
design         which serving rule a platform should pick: welfare and diversity per rule
scenarios      the scenario zoo: every other paper's headline result, reproduced, a table
plot           the figures from the tables (never recomputes)
report         REPRODUCTION.md (and the README's summary) from the tables
=============  ==============================================================================
"""

from __future__ import annotations

import argparse
import errno
import math
import os
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
    eq.add_argument(
        "--deviations",
        choices=("basis", "simplex"),
        default=None,
        help="what producers may move to: basis vectors (the paper's heuristic) or the whole "
        "simplex; default: the game's (simplex for exposure under linear or softmax serving)",
    )
    eq.add_argument(
        "--tol",
        type=float,
        default=None,
        help="relative improvement a move needs (default 1e-9 basis, 1e-6 simplex)",
    )
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
    compare.add_argument(
        "--study",
        default="compare",
        help="compare, compare-quick, compare-sb3, compare-benchmarl or a YAML file",
    )
    compare.add_argument("--quick", action="store_true", help="the small study")
    _run_arguments(compare, None)
    compare.add_argument(
        "--recompute",
        action="store_true",
        help="run again the cells of --out made with another study configuration",
    )
    compare.add_argument("--marl-eval", type=Path, help="also write marl-eval's JSON here")
    compare.add_argument(
        "--table",
        default="compare",
        choices=("compare", "benchmarl"),
        help="the table of --out the rows go to: 'benchmarl' for BenchMARL's learners, run in "
        "their own environment (the report reads both)",
    )
    compare.set_defaults(func=run_compare)

    welfare = commands.add_parser(
        "welfare",
        help="user welfare at the optimum and at every equilibrium, per serving rule",
        description="For a small game: every pure equilibrium, the symmetric mixed one and the "
        "social optimum of user welfare per serving rule and temperature; prices of anarchy "
        "and stability, cycles of better responses and basins. A table and a figure.",
    )
    _population_arguments(welfare, n_users=1000, dim=5, n_producers=10)
    welfare.add_argument(
        "--temperatures", type=float, nargs="+", default=[0.01, 0.1, 1.0, 10.0, 100.0]
    )
    _run_arguments(welfare, Path("results") / "analysis", jobs="threads")
    welfare.set_defaults(func=run_welfare)

    design = commands.add_parser(
        "design",
        help="which serving rule maximises user welfare at equilibrium (and its diversity)",
        description="Sweep serving rules (softmax over an adaptive temperature search, linear, "
        "top-k softmax, uniform, hardmax) on a population; equilibria from several random "
        "starts; user welfare and diversity per rule. A table and a figure.",
    )
    _population_arguments(design, n_users=10_000, dim=10, n_producers=50)
    design.add_argument("--starts", type=int, default=8, help="random starts per rule")
    _run_arguments(design, Path("results") / "analysis", jobs=None)
    design.set_defaults(func=run_design)

    zoo = commands.add_parser(
        "scenarios",
        help="the scenario zoo: each registered scenario's headline result (a table)",
        description="Run every registered scenario's reproduction (recsys_eq_env.scenarios()) "
        "into scenarios.parquet, resuming finished scenarios unless --recompute; a figure and "
        "the report's zoo section (SCENARIOS.md, the docs page).",
    )
    zoo.add_argument("--only", nargs="+", default=None, help="scenario ids (default: all)")
    zoo.add_argument("--recompute", action="store_true", help="redo finished scenarios")
    _run_arguments(zoo, Path("reproduction"), jobs=None)
    zoo.set_defaults(func=run_scenarios_cmd)

    report = commands.add_parser(
        "report",
        help="REPRODUCTION.md (and the README's summary) from the tables in --out",
        description="Rebuild the report from a results folder without running anything; "
        "with --readme also rewrite the README's reproduction summary.",
    )
    report.add_argument("--out", type=Path, default=Path("reproduction"), help="results folder")
    report.add_argument("--readme", type=Path, default=None, help="README to update")
    report.set_defaults(func=run_report)

    sweep = commands.add_parser(
        "sweep",
        help="the PPO hyperparameter sweep behind the compare study (a table)",
        description="Shared PPO over learning rate x entropy schedule x rollout shape x epochs "
        "on fixed cells; writes sweep.parquet and prints the configurations, best first.",
    )
    sweep.add_argument("--quick", action="store_true", help="two configurations, one cell")
    _run_arguments(sweep, None)
    sweep.set_defaults(func=run_sweep_cmd)

    plot = commands.add_parser("plot", help="the figures, from the tables in --out")
    plot.add_argument("--out", type=Path, default=None, help="results folder (with the tables)")
    plot.add_argument("--quick", action="store_true", help="default --out of the quick grid")
    plot.set_defaults(func=run_plot)
    return parser


def _run_arguments(sub, out: Path | None, jobs: str | None = "worker processes"):
    """The options every long command takes: --out, --jobs (when it runs in parallel) and
    --no-progress."""
    sub.add_argument("--out", type=Path, default=out, help="results folder")
    if jobs is not None:
        sub.add_argument("--jobs", type=int, default=None, help=f"{jobs} (default: all cores)")
    sub.add_argument("--no-progress", action="store_true", help="no progress bar")


def _population_arguments(sub, n_users, dim, n_producers):
    from .populations import dataset_names

    sub.add_argument(
        "--dataset",
        default="synthetic-uniform",
        choices=dataset_names(),
        help="the population (real ones by the paper's NMF protocol; see --data-home)",
    )
    sub.add_argument("--n-users", type=int, default=n_users, help="synthetic populations' size")
    sub.add_argument("--dim", type=int, default=dim)
    sub.add_argument("--n-producers", type=int, default=n_producers)
    sub.add_argument("--embedding-seed", type=int, default=13, help="the population's seed")
    sub.add_argument(
        "--generator",
        choices=("default", "paper"),
        default="paper",
        help="synthetic uniform/skewed users: the authors' instances (paper) or ours",
    )
    sub.add_argument("--data-home", type=Path, default=None, help="folder with rating files")


def _population(args):
    import os

    from .config import population_size
    from .populations import population

    if args.data_home is not None:
        if not args.data_home.is_dir():
            raise ValueError(f"--data-home {args.data_home} is not a folder")
        os.environ["RECSYS_EQ_DATA"] = str(args.data_home)
    for flag in ("n_users", "dim", "n_producers"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    synthetic = args.dataset in ("synthetic-uniform", "synthetic-skewed")
    return population(
        args.dataset,
        population_size(args.dataset, args.n_users),
        args.dim,
        args.embedding_seed,
        args.generator if synthetic else "default",
    )


def run_welfare(args) -> int:
    from .design import welfare_study
    from .grid import default_jobs
    from .plots import save, welfare_figure
    from .report import build_report, record_invocation
    from .store import atomic_parquet

    users = _population(args)
    out = check_out(args.out)
    start = time.perf_counter()
    table = welfare_study(
        users,
        args.n_producers,
        args.temperatures,
        threads=args.jobs or default_jobs(),
        progress=not args.no_progress,
    )
    table.insert(0, "dataset", args.dataset)
    table.insert(1, "embedding_seed", args.embedding_seed)
    atomic_parquet(table, out / "welfare.parquet")
    (out / "figures").mkdir(exist_ok=True)
    save(welfare_figure(table), out / "figures" / "fig7_welfare")
    seconds = time.perf_counter() - start
    with pd_options():
        columns = ["serving", "equilibria", "certified_equilibria", "mixed_equilibria",
                   "certified_mixed_equilibria", "optimum", "best_equilibrium",
                   "worst_equilibrium", "price_of_anarchy", "pure_price_of_anarchy",
                   "better_response_cycle"]  # fmt: skip
        print(table[columns].to_string(index=False))
    record_invocation(out, _command("welfare"), {f"welfare [{args.dataset}]": seconds})
    print(f"welfare: {len(table)} serving rules in {seconds:.1f}s; report {build_report(out)}")
    return 0


def run_design(args) -> int:
    from .design import design_study, pick
    from .plots import design_figure, save
    from .report import build_report, record_invocation
    from .store import atomic_parquet

    if args.starts < 1:
        raise ValueError(f"--starts must be >= 1, got {args.starts}")
    users = _population(args)
    out = check_out(args.out)
    start = time.perf_counter()
    table = design_study(users, args.n_producers, args.starts, progress=not args.no_progress)
    table.insert(0, "dataset", args.dataset)
    table.insert(1, "dim", args.dim)
    table.insert(2, "n_producers", args.n_producers)
    table.insert(3, "n_users", len(users))
    atomic_parquet(table, out / "design.parquet")
    (out / "figures").mkdir(exist_ok=True)
    save(design_figure(table), out / "figures" / "fig8_design")
    seconds = time.perf_counter() - start
    picked = pick(table)
    with pd_options():
        print(table.drop(columns=["dataset"]).to_string(index=False))
    if picked.empty:
        print("best for users: no rule converged to a certified equilibrium in every run")
    else:
        names = " = ".join(picked["serving"])
        welfare = picked["user_welfare_mean"].max()
        print(f"best for users: {names} ({welfare:.4f} per user at a certified equilibrium)")
    record_invocation(out, _command("design"), {f"design [{args.dataset}]": seconds})
    print(f"design: {len(table)} serving rules in {seconds:.1f}s; report {build_report(out)}")
    return 0


def run_scenarios_cmd(args) -> int:
    from .plots import save
    from .report import build_report, record_invocation
    from .scenarios import run_scenarios, scenarios_figure

    out = check_out(args.out)
    table, seconds = run_scenarios(out, args.only, args.recompute, not args.no_progress)
    (out / "figures").mkdir(exist_ok=True)
    save(scenarios_figure(table), out / "figures" / "fig9_scenarios")
    if seconds:
        stages = {f"scenario [{name}]": value for name, value in seconds.items()}
        record_invocation(out, _command("scenarios"), stages)
    from recsys_eq_env import zoo

    for name in dict.fromkeys(table["scenario"]):
        text, holds = zoo.spec(name).verdict(table[table["scenario"] == name])
        print(f"{name}: {'holds' if holds else 'does not hold'}: {text}")
    print(f"scenarios: {len(seconds)} run now; report {build_report(out)}")
    return 0


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


# ------------------------------------------------------------------ equilibrium
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


# ------------------------------------------------------------------ grids
def _config(args):
    import os

    from .config import load_config
    from .populations import dataset_names

    _check_run_flags(args)
    if getattr(args, "data_home", None) is not None:
        if not args.data_home.is_dir():
            raise ValueError(f"--data-home {args.data_home} is not a folder")
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
    """The results folder, created and checked writable before any work starts."""
    return check_out(args.out if args.out is not None else Path("results") / config.name)


def check_out(out: Path) -> Path:
    """Create ``out`` if needed and prove it writable (a clear error names the path)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"--out {out} is not writable: {exc.strerror or exc}") from None
    return out


def _check_run_flags(args) -> None:
    """Flags that argparse cannot check alone (``--jobs`` is checked for every command by
    :func:`main`)."""
    flush = getattr(args, "flush_seconds", None)
    if flush is not None and not (math.isfinite(flush) and flush >= 0):
        raise ValueError(f"--flush-seconds must be a finite number >= 0, got {flush}")
    if getattr(args, "scheduler", None) is not None and args.backend != "dask":
        raise ValueError("--scheduler needs --backend dask (it names a Dask scheduler)")


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


def run_compare(args) -> int:
    """The learning study; curves, figures and the report's learning section; with
    ``--marl-eval`` also marl-eval's JSON of the curves."""
    import json

    from .compare import leaderboard, load_study, run_study
    from .grid import default_jobs
    from .plots import plot_compare
    from .report import build_report, record_invocation
    from .stats import marl_eval

    _check_run_flags(args)
    study = load_study("compare-quick" if args.quick else args.study)
    out = check_out(args.out if args.out is not None else Path("results") / study.name)
    start = time.perf_counter()
    curves, ran = run_study(
        study,
        out,
        n_jobs=args.jobs or default_jobs(),
        progress=not args.no_progress,
        recompute=args.recompute,
        table=args.table,
    )
    seconds = time.perf_counter() - start
    plot_compare(_study_rows(out), out / "figures")  # with the other table's rows, if any
    with pd_options():
        board = leaderboard(curves)
        columns = ["learner", "revision", "runs", "reached", "reached_low", "reached_high",
                   "iqm", "median_seconds"]  # fmt: skip
        print(board[columns].to_string(index=False))
    if args.marl_eval is not None:
        from recsys_eq_env._io import atomic_write_text

        atomic_write_text(Path(args.marl_eval), json.dumps(marl_eval(curves), indent=1) + "\n")
    units = curves["key"].nunique()
    stage = f"compare ({study.name}, {units} units)"
    table = "" if args.table == "compare" else f" --table {args.table}"
    record_invocation(
        out, _command(f"compare --study {study.name}{table}"), {stage: seconds} if ran else {}
    )  # a resumed study keeps its time
    report = build_report(out)
    print(f"compare: {units} units (cell x learner) in {seconds:.1f}s; report {report}")
    return 0


def _study_rows(out: Path):
    from .report import _read
    from .report_learning import study_rows

    return study_rows(_read(out))


def run_report(args) -> int:
    from .report import build_report, update_readme

    if not args.out.is_dir():
        raise ValueError(f"--out {args.out} is not a folder with results")
    print(f"report {build_report(args.out)}")
    if args.readme is not None:
        changed = update_readme(args.readme, args.out)
        print(f"{args.readme}: summary {'updated' if changed else 'unchanged'}")
    return 0


def run_sweep_cmd(args) -> int:
    from .grid import default_jobs
    from .store import atomic_parquet
    from .sweep import run_sweep, summary

    _check_run_flags(args)
    out = check_out(args.out if args.out is not None else Path("results") / "sweep")
    start = time.perf_counter()
    table = run_sweep(args.quick, n_jobs=args.jobs or default_jobs(), progress=not args.no_progress)
    atomic_parquet(table, out / "sweep.parquet")
    with pd_options():
        print(summary(table).to_string())
    seconds = time.perf_counter() - start
    print(f"sweep: {len(table)} runs in {seconds:.0f}s; table {out / 'sweep.parquet'}")
    return 0


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20)


def _command(fallback: str) -> str:
    if len(sys.argv) > 1 and sys.argv[1] in (
        "reproduce",
        "compare",
        "welfare",
        "design",
        "scenarios",
    ):
        return "recsys-eq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"recsys-eq {fallback}"


def main(argv=None) -> int:
    import matplotlib

    matplotlib.use("Agg")  # figures are written to files, never shown
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        jobs = getattr(args, "jobs", None)
        if jobs is not None and jobs < 1:  # every command that runs in parallel
            raise ValueError(f"--jobs must be >= 1, got {jobs}")
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:
        # User errors (bad input, a path that cannot be read or written, a full disk, an
        # unreachable scheduler): one line naming the path or flag, never a traceback.
        message = str(exc) or type(exc).__name__
        if isinstance(exc, OSError) and (
            exc.errno == errno.ENOSPC or "No space left on device" in str(exc)
        ):
            message = (
                f"no space left on the device{f' writing {exc.filename}' if exc.filename else ''}: "
                "the runs finished so far are saved; free some space and run the same command "
                "again to resume"
            )
        elif isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"recsys-eq {args.command}: error: {message}", file=sys.stderr)
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
