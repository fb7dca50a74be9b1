"""The ``recsys-eq`` commands beyond the paper: welfare, design, scenarios, the learning study
(compare) and its sweep."""

from __future__ import annotations

import time
from pathlib import Path

from .cli_common import _check_run_flags, _command, _population, check_out, pd_options


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
