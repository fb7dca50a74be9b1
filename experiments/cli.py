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
import sys
from pathlib import Path

import recsys_eq_env as rq

from .cli_analysis import (
    run_compare,
    run_design,
    run_scenarios_cmd,
    run_sweep_cmd,
    run_welfare,
)
from .cli_common import _population_arguments, _run_arguments
from .cli_paper import (
    _grid_arguments,
    run_certify_cmd,
    run_equilibrium,
    run_exp,
    run_plot,
    run_report,
    run_reproduce,
)


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
    except (ValueError, OSError) as exc:
        # User errors (bad input, a path that cannot be read or written, a full disk, an
        # unreachable scheduler): one line naming the path or flag, never a traceback. A
        # TypeError is a programming error: it keeps its traceback.
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
    raise SystemExit(main())
