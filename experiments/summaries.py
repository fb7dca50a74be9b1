"""Summaries of a learning study's rows: each run's last checkpoint, the leaderboard (reach
and IQM with stratified bootstrap 95% intervals, :mod:`experiments.stats`), pairwise
improvement probabilities, curve bands and training seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agents.evaluation import SUCCESS

from . import stats
from .learners import LEARNERS


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """Each run's last checkpoint: one row per (cell, learner, seed)."""
    return curves.sort_values("step").groupby(["key", "seed"]).tail(1)


def _wide(curves: pd.DataFrame, learner: str, revision: str) -> pd.DataFrame:
    last = final_rows(curves[(curves["learner"] == learner) & (curves["revision"] == revision)])
    wide = last.pivot_table(index="seed_index", columns="task", values="nash_conv_per_user")
    return wide.dropna(axis=0, how="any")  # seeds every cell has


def run_scores(curves: pd.DataFrame, learner: str, revision: str = "one"):
    """(nash_conv per user, success) of a learner's runs as (seeds, cells) arrays: column c is
    a cell, row s its s-th training seed."""
    wide = _wide(curves, learner, revision)
    return wide.to_numpy(), (wide.to_numpy() <= SUCCESS).astype(float), list(wide.columns)


def leaderboard(curves: pd.DataFrame, reps: int = stats.REPS) -> pd.DataFrame:
    """Per (learner, revision): runs, the share that reach an equilibrium and the IQM of the
    final nash_conv per user, each with a stratified bootstrap 95% interval over seeds
    within cells; feedback, engine, the median training seconds per run and the median
    steps trained per run (in the learner's ``step_unit``).

    ``common_*``: the same share on the runs every learner of the revision has (the cells
    and seed indices they share; a cell's k-th seed is the same seed for every learner), so
    that learners run on different cells or seed counts are compared like with like."""
    wides = {key: _wide(curves, *key) for key in curves.groupby(["learner", "revision"]).groups}
    wides = {key: w for key, w in wides.items() if w.size}
    common = {}
    for revision in {r for _, r in wides}:
        blocks = [w for (_, r), w in wides.items() if r == revision]
        tasks = set.intersection(*(set(w.columns) for w in blocks))
        seeds = set.intersection(*(set(w.index) for w in blocks))
        common[revision] = (sorted(tasks), sorted(seeds))
    rows = []
    for (learner, revision), block in curves.groupby(["learner", "revision"]):
        wide = wides.get((learner, revision))
        if wide is None:
            continue
        scores, success, tasks = wide.to_numpy(), (wide.to_numpy() <= SUCCESS), list(wide.columns)
        reached = stats.rate(success.astype(float), reps)
        quality = stats.iqm(scores, reps)
        shared_tasks, shared_seeds = common[revision]
        shared = wide.loc[shared_seeds, shared_tasks].to_numpy()
        if shared.size:
            like = stats.rate((shared <= SUCCESS).astype(float), reps)
        else:
            like = stats.Estimate(float("nan"), float("nan"), float("nan"))
        last = final_rows(block)
        rows.append({
            "learner": learner, "revision": revision, "feedback": block["feedback"].iloc[0],
            "engine": block["engine"].iloc[0], "cells": len(tasks), "seeds": scores.shape[0],
            "runs": scores.size, "reached": reached.value, "reached_low": reached.low,
            "reached_high": reached.high, "iqm": quality.value, "iqm_low": quality.low,
            "iqm_high": quality.high, "median_seconds": float(last["seconds"].median()),
            "median_steps": float(last["step"].median()), "step_unit": block["step_unit"].iloc[0],
            "common_runs": shared.size, "common_cells": len(shared_tasks),
            "common_seeds": len(shared_seeds), "common_reached": like.value,
            "common_low": like.low, "common_high": like.high,
        })  # fmt: skip
    order = {name: i for i, name in enumerate(LEARNERS)}
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    rank = table["learner"].map(lambda name: order.get(name, len(order)))
    return (table.assign(rank=rank).sort_values(["revision", "rank", "learner"])
            .drop(columns="rank").reset_index(drop=True))  # fmt: skip


def improvement_matrix(curves: pd.DataFrame, learners, revision="one", reps=stats.REPS):
    """P(row learner's run ends nearer an equilibrium than the column's, on the same cell),
    over the cells both ran: a (len, len) frame of :class:`experiments.stats.Estimate`."""
    data = {}
    for learner in learners:
        last = final_rows(curves[(curves["learner"] == learner) & (curves["revision"] == revision)])
        data[learner] = last.pivot_table(index="seed_index", columns="task",
                                         values="nash_conv_per_user")  # fmt: skip
    out = pd.DataFrame(index=list(learners), columns=list(learners), dtype=object)
    for a in learners:
        for b in learners:
            if a == b:
                continue
            tasks = sorted(set(data[a].columns) & set(data[b].columns))
            x = data[a][tasks].dropna().to_numpy()
            y = data[b][tasks].dropna().to_numpy()
            if x.size and y.size:
                out.loc[a, b] = stats.probability_of_improvement(x, y, reps)
    return out


def curve_bands(curves: pd.DataFrame, learner: str, revision: str = "one", reps: int = 500):
    """(checkpoint index, median nash_conv per user over runs, low, high): a learner's curve
    over checkpoints (the i-th checkpoint of every run), with a bootstrap band."""
    block = curves[(curves["learner"] == learner) & (curves["revision"] == revision)]
    block = block.sort_values("step").assign(
        checkpoint=lambda t: t.groupby(["key", "seed"]).cumcount()
    )
    out = []
    for c, rows in block.groupby("checkpoint"):
        values = rows["nash_conv_per_user"].to_numpy()
        rng = np.random.default_rng(0)
        draws = np.median(rng.choice(values, size=(reps, values.size)), axis=1)
        low, high = np.quantile(draws, [0.025, 0.975])
        out.append((int(c), float(np.median(values)), float(low), float(high)))
    return out


def seconds_summary(curves: pd.DataFrame) -> dict:
    """Median training seconds per run, per learner."""
    last = final_rows(curves)
    return last.groupby("learner")["seconds"].median().to_dict()
