"""The learning section of REPRODUCTION.md, its docs page and its README line.

Every number comes from the committed study tables (``compare.parquet``; ``benchmarl.parquet``
when BenchMARL's learners were run in their own environment, same schema) through the
estimators of :mod:`experiments.stats`; a claim the tables cannot show is not made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .compare import SUCCESS, final_rows, improvement_matrix, leaderboard
from .config import serving_order
from .known_good import known_good_lines

DASH = "—"
#: The issue's targets over >= 10 seeds: a bandit learner's share of runs at an equilibrium
#: (and the lower end of its interval), counterfactual PG's share.
BANDIT_TARGET, BANDIT_LOW, FULL_TARGET = 0.90, 0.85, 0.99
#: The learners the probability-of-improvement table compares, when present.
HEAD_TO_HEAD = ("counterfactual_pg", "shared_ppo", "independent_ppo", "sb3_ppo", "sb3_a2c",
                "sb3_dqn", "benchmarl_mappo", "benchmarl_ippo", "benchmarl_iql")  # fmt: skip


def study_rows(tables: dict) -> pd.DataFrame | None:
    """The study's rows and BenchMARL's imported ones, as one table (``None``: neither)."""
    parts = [tables[name] for name in ("compare", "benchmarl") if name in tables]
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _cell(value) -> str:
    value = float(value)
    if np.isnan(value):
        return DASH
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"


def _interval(value, low, high, percent=False) -> str:
    if percent:
        return f"{value:.0%} [{low:.0%}, {high:.0%}]"
    return f"{_cell(value)} [{_cell(low)}, {_cell(high)}]"


def _list(values) -> str:
    return ", ".join(str(v) for v in sorted(set(values)))


def leaderboard_lines(board: pd.DataFrame) -> list[str]:
    """The leaderboard as a Markdown table."""
    lines = [
        "| learner | feedback | revision | engine | cells | seeds per cell | runs | "
        "runs at an equilibrium (95% CI) | like for like: on the runs every learner of the "
        "revision has (95% CI) | IQM of final nash_conv/user (95% CI) | "
        "median steps trained per run | median training seconds per run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in board.iterrows():
        like = (
            f"{_interval(r['common_reached'], r['common_low'], r['common_high'], percent=True)}"
            f" of {int(r['common_runs'])} ({int(r['common_cells'])} cells x "
            f"{int(r['common_seeds'])} seeds)"
            if r.get("common_runs", 0)
            else DASH
        )
        lines.append(
            f"| {r['learner']} | {r['feedback']} | {r['revision']} | {r['engine']} | "
            f"{r['cells']} | {r['seeds']} | {r['runs']} | "
            f"{_interval(r['reached'], r['reached_low'], r['reached_high'], percent=True)} | "
            f"{like} | {_interval(r['iqm'], r['iqm_low'], r['iqm_high'])} | "
            f"{r['median_steps']:,.0f} {r['step_unit']} | {_cell(r['median_seconds'])} |"
        )
    return lines


def _targets(board: pd.DataFrame) -> list[str]:
    """The issue's targets read off the leaderboard (one revision per step)."""
    main = board[board["revision"] == "one"]
    lines = []
    bandit = main[(main["feedback"] == "bandit") & (main["seeds"] >= 10)]
    if len(bandit):
        best = bandit.sort_values(["reached_low", "reached"], ascending=False).iloc[0]
        met = best["reached"] >= BANDIT_TARGET and best["reached_low"] >= BANDIT_LOW
        lines.append(
            f"- Bandit feedback, learners with >= 10 seeds per cell: the best, {best['learner']}, "
            f"has {_interval(best['reached'], best['reached_low'], best['reached_high'], True)} "
            f"of its runs at an equilibrium; the target (>= {BANDIT_TARGET:.0%} with the lower "
            f"end >= {BANDIT_LOW:.0%}) is {'met' if met else 'not met'}."
        )
    full = main[main["learner"] == "counterfactual_pg"]
    if len(full):
        r = full.iloc[0]
        met = r["reached"] >= FULL_TARGET
        lines.append(
            f"- counterfactual_pg (full information, {int(r['seeds'])} seeds per cell): "
            f"{_interval(r['reached'], r['reached_low'], r['reached_high'], True)} of runs at "
            f"an equilibrium; the target (>= {FULL_TARGET:.0%}) is {'met' if met else 'not met'}."
        )
    return lines


def _groups(curves: pd.DataFrame) -> list[str]:
    """Runs at an equilibrium per learner and serving rule, and per number of producers."""
    last = final_rows(curves[curves["revision"] == "one"]).assign(
        reached=lambda t: t["nash_conv_per_user"] <= SUCCESS
    )
    board_order = list(dict.fromkeys(leaderboard(curves, reps=1)["learner"]))
    lines = []
    for column, label in (("serving", "serving rule"), ("n_producers", "number of producers")):
        values = (
            serving_order(last["serving"].unique())
            if column == "serving"
            else sorted(last[column].unique())
        )
        heads = [str(v) if column == "serving" else f"n = {v}" for v in values]
        lines += [
            "",
            f"Runs at an equilibrium by {label} (reached / runs):",
            "",
            "| learner | " + " | ".join(heads) + " |",
            "|---" * (len(values) + 1) + "|",
        ]
        for learner in board_order:
            mine = last[last["learner"] == learner]
            if mine.empty:
                continue
            cells = []
            for v in values:
                block = mine[mine[column] == v]
                cells.append(f"{int(block['reached'].sum())}/{len(block)}" if len(block) else DASH)
            lines.append(f"| {learner} | " + " | ".join(cells) + " |")
    return lines


def _improvement(curves: pd.DataFrame, reps: int) -> list[str]:
    present = set(curves[curves["revision"] == "one"]["learner"])
    names = [name for name in HEAD_TO_HEAD if name in present]
    if len(names) < 2:
        return []
    matrix = improvement_matrix(curves, names, reps=reps)
    lines = [
        "",
        "Probability of improvement: how often a run of the row's learner ends nearer an "
        "equilibrium (lower final nash_conv/user) than a run of the column's on the same cell, "
        "ties counted half, over the cells both ran (95% CI):",
        "",
        "| P(row beats column) | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for a in names:
        cells = []
        for b in names:
            value = matrix.loc[a, b]
            cells.append(DASH if not isinstance(value, stats.Estimate) else value.text(2))
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    return lines


def _hardest(curves: pd.DataFrame, count: int = 12) -> list[str]:
    """The (cell, learner) pairs with the fewest runs at an equilibrium, largest miss first."""
    last = final_rows(curves[curves["revision"] == "one"])
    last = last[last["learner"] != "best_response"]
    grouped = last.groupby(["task", "learner"]).agg(
        reached=("nash_conv_per_user", lambda v: int((v <= SUCCESS).sum())),
        runs=("nash_conv_per_user", "size"),
        median=("nash_conv_per_user", "median"),
        worst=("nash_conv_per_user", "max"),
    )
    missed = grouped[grouped["reached"] < grouped["runs"]].assign(
        share=lambda t: t["reached"] / t["runs"]
    )
    if missed.empty:
        return ["", "Every run of every learner ends at an equilibrium."]
    missed = missed.sort_values(["share", "median"], ascending=[True, False]).head(count)
    lines = [
        "",
        f"Where learners miss (the {len(missed)} (cell, learner) pairs with the smallest share "
        "of runs at an equilibrium, largest miss first; cell = dim|n|serving):",
        "",
        "| cell | learner | runs at an equilibrium | median final nash_conv/user | worst |",
        "|---|---|---|---|---|",
    ]
    for (task, learner), r in missed.iterrows():
        lines.append(
            f"| {task} | {learner} | {int(r['reached'])}/{int(r['runs'])} | "
            f"{_cell(r['median'])} | {_cell(r['worst'])} |"
        )
    return lines


def provenance_lines(curves: pd.DataFrame) -> list[str]:
    """What made the rows (versions, processor, threads): what a rerun needs."""
    if "versions" not in curves.columns:
        return []
    lines = []
    made = curves[["engine", "versions", "cpu", "torch_threads"]].drop_duplicates()
    for (versions, cpu, threads), block in made.groupby(["versions", "cpu", "torch_threads"]):
        lines.append(
            f"Rows of the {', '.join(sorted(block['engine'].unique()))} learners made with "
            f"{versions} on {cpu}, torch on {int(threads)} thread(s), BLAS and XLA on 1."
        )
    lines += [
        "A rerun with these versions on this processor gives the same rows bit for bit "
        "(`tests/test_compare.py`); another processor or version may round the sums "
        "differently, and the learners amplify rounding into other policies.",
        "",
    ]
    return lines


def learning_section(curves: pd.DataFrame, sweep=None, reps: int = stats.REPS) -> list[str]:
    """The learning study: leaderboard, targets, groups, head-to-head, misses, herding."""
    main = curves[curves["revision"] == "one"]
    board = leaderboard(curves, reps=reps)
    seeds = board.groupby("engine")["seeds"].max().to_dict() if len(board) else {}
    lines = [
        "## Learning producers: a benchmark with exact equilibria",
        "",
        "`recsys-eq compare`: on each cell (dim, n, serving rule) every learner trains on the "
        f"same game ({main['task'].nunique()} cells with one revision per step: dims "
        f"{_list(main['dim'])}, n = {_list(main['n_producers'])}, serving "
        f"{', '.join(serving_order(main['serving'].unique()))}), once per training seed "
        "(seeds per cell by engine: "
        + ", ".join(f"{engine} {int(count)}" for engine, count in sorted(seeds.items()))
        + "). Full-information learners see every basis vector's utility; bandit learners see "
        "only their own reward. Every policy is evaluated the same way: deterministic episodes "
        "of the NumPy env from the seed's fixed random starts (until an equilibrium or 10 n "
        "steps). A run is *at an equilibrium* when its last checkpoint's median evaluation "
        f"episode ends with nash_conv per user <= {SUCCESS:g} (every step's nash_conv is exact). "
        "Intervals are stratified bootstrap 95% intervals (seeds resampled within cells, "
        f"{reps} resamples); IQM is the interquartile mean.",
        "",
        *provenance_lines(curves),
        "### Leaderboard",
        "",
        *leaderboard_lines(board),
        "",
        "Targets (issue 22), read off the table:",
        "",
        *_targets(board),
    ]
    lines += _groups(curves)
    lines += _improvement(curves, reps)
    lines += _hardest(curves)
    if sweep is not None and len(sweep):
        lines += _sweep_lines(sweep)
    return [*lines, ""]


def _sweep_lines(sweep: pd.DataFrame) -> list[str]:
    from .sweep import summary as sweep_summary

    table = sweep_summary(sweep).reset_index()
    cells = sweep[["dim", "n_producers", "serving"]].drop_duplicates().shape[0]
    lines = [
        "",
        "### The PPO sweep behind these settings",
        "",
        f"`recsys-eq sweep`: SB3 shared PPO on {cells} cells, one seed, "
        f"{int(sweep['timesteps'].iloc[0]):,} producer-steps each, evaluated like the study; "
        "best first (shared_ppo, independent_ppo and sb3_ppo use the first row's learning rate, "
        "entropy, rollout, epochs and discount).",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|---" * len(table.columns) + "|",
    ]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(v if isinstance(v, str) else _cell(v)
                                       for v in row.to_numpy()) + " |")  # fmt: skip
    return lines


def readme_line(curves: pd.DataFrame, reps: int = stats.REPS) -> str:
    """The README's one line on learning: each learner's share of runs at an equilibrium."""
    board = leaderboard(curves, reps=reps)
    main = board[board["revision"] == "one"]
    return (
        "Learning (compare; share of (cell, seed) runs at an equilibrium, 95% CI, one "
        "revision per step): "
        + ", ".join(
            f"{r['learner']} {_interval(r['reached'], r['reached_low'], r['reached_high'], True)}"
            f" over {int(r['runs'])} runs"
            for _, r in main.iterrows()
        )
        + "."
    )


def leaderboard_page(curves: pd.DataFrame, reps: int = stats.REPS) -> str:
    """``LEADERBOARD.md`` beside REPRODUCTION.md (the docs' leaderboard page includes it):
    the leaderboard and how to add a learner to it."""
    board = leaderboard(curves, reps=reps)
    lines = [
        "# Leaderboard",
        "",
        "Generated by `recsys-eq report` from the study's tables (`compare.parquet`, and "
        "`benchmarl.parquet` where BenchMARL's learners were run); do not edit by hand.",
        "",
        "The engagement game knows its exact answer: every step's nash_conv is exact, so a "
        "learner is scored by how near an equilibrium its producers end, not by its reward. "
        f"A run counts as at an equilibrium when its median evaluation episode ends with "
        f"nash_conv per user <= {SUCCESS:g}. Intervals are stratified bootstrap 95% intervals "
        "over seeds within cells (REPRODUCTION.md has the cells, the "
        "settings and every other table).",
        "",
        *leaderboard_lines(board),
        "",
        *_targets(board),
        "",
        "![leaderboard](figures/fig5b_leaderboard.png)",
        "",
        "## Known-good settings per library",
        "",
        *known_good_lines(curves, reps),
        "",
        "## Adding a learner",
        "",
        "A learner is one record in `experiments/learners.py` (`LEARNERS`): what it sees, the "
        "engine that trains it and a function that trains one cell for every seed, logging "
        "checkpoints through the study's context. Give it a block in a study file and run "
        "`recsys-eq compare --study my-study.yaml --out results`; `--marl-eval results.json` "
        "writes marl-eval's JSON of the same rows. Learners from another library can run in "
        "that library's environment into their own table, as BenchMARL's do "
        "(`recsys-eq compare --study compare-benchmarl --table benchmarl`).",
        "",
    ]
    return "\n".join(lines)
