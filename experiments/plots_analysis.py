"""Figures beyond the paper: welfare, platform design, the learning study and its leaderboard."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .config import serving_order
from .plots_common import _grid, save


def welfare_figure(table: pd.DataFrame):
    """User welfare at the optimum, the best and worst certified pure and symmetric
    equilibrium, vs temperature (linear serving as horizontal lines), and the prices of
    anarchy (over every certified equilibrium, and over the pure ones) and stability."""
    soft = table[table["rule"] == "softmax"].sort_values("temperature")
    fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(10, 3.6))
    styles = [
        ("optimum", "optimum (basis profiles)", "black"),
        ("best_pure_equilibrium", "best pure equilibrium (certified)", "tab:green"),
        ("worst_pure_equilibrium", "worst pure equilibrium (certified)", "tab:red"),
        ("best_mixed_equilibrium", "best symmetric equilibrium (certified)", "tab:purple"),
        ("worst_mixed_equilibrium", "worst symmetric equilibrium (certified)", "tab:pink"),
    ]
    for column, label, colour in styles:
        axes[0].plot(soft["temperature"], soft[column], marker="o", ms=3, color=colour,
                     label=label)  # fmt: skip
        for _, row in table[table["rule"] != "softmax"].iterrows():
            axes[0].axhline(row[column], color=colour, ls="--", lw=0.8)
    axes[0].axhline(
        table["upper_bound"].iloc[0], color="grey", ls=":", label="upper bound (any content)"
    )
    axes[0].set_xscale("log")
    axes[0].set_xlabel("softmax temperature (linear serving dashed)")
    axes[0].set_ylabel("user welfare (sum of engagement)")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3)
    for column, label, colour in (
        ("price_of_anarchy", "price of anarchy (every certified equilibrium)", "tab:red"),
        ("pure_price_of_anarchy", "price of anarchy (pure equilibria)", "tab:orange"),
        ("price_of_stability", "price of stability", "tab:green"),
    ):
        axes[1].plot(soft["temperature"], soft[column], marker="o", ms=3, color=colour,
                     label=label)  # fmt: skip
    axes[1].set_xscale("log")
    axes[1].set_xlabel("softmax temperature")
    axes[1].set_ylabel("optimum / equilibrium welfare")
    axes[1].legend(fontsize=7)
    axes[1].grid(alpha=0.3)
    row = table.iloc[0]
    fig.suptitle(
        f"{row['dataset']}: user welfare at the optimum and at equilibria "
        f"(n = {row['n_producers']}, d = {row['dim']}, {row['n_users']:,} users)",
        fontsize=10,
    )
    return fig


def design_figure(table: pd.DataFrame):
    """Platform design: user welfare at equilibrium vs temperature (with the other rules as
    lines), and the welfare-diversity trade-off of every rule."""
    soft = table[table["rule"] == "softmax"].sort_values("temperature")
    others = table[table["rule"] != "softmax"]
    fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(10.5, 3.8))
    ax = axes[0]
    ax.fill_between(soft["temperature"], soft["user_welfare_min"], soft["user_welfare_max"],
                    alpha=0.2, color="tab:blue")  # fmt: skip
    ax.plot(soft["temperature"], soft["user_welfare_mean"], marker="o", ms=3, color="tab:blue",
            label="softmax (mean; band: min-max over starts)")  # fmt: skip
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"][1:]
    for (_, row), colour in zip(others.iterrows(), colours, strict=False):
        ax.axhline(row["user_welfare_mean"], ls="--", lw=1, color=colour, label=row["serving"])
    ax.set_xscale("log")
    ax.set_xlabel("softmax temperature")
    ax.set_ylabel("user welfare per user at equilibrium")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1]
    eligible = (table["converged"] == table["runs"]) & (table["certified"] == table["runs"])
    ok = soft[eligible[soft.index]]
    points = ax.scatter(ok["features_occupied"], ok["user_welfare_mean"],
                        c=np.log10(ok["temperature"]), cmap="viridis", s=18,
                        vmin=np.log10(soft["temperature"].min()),
                        vmax=np.log10(soft["temperature"].max()))  # fmt: skip
    fig.colorbar(points, ax=ax, label="log10 temperature")
    bad = soft[~eligible[soft.index]]
    if len(bad):
        ax.scatter(bad["features_occupied"], bad["user_welfare_mean"], s=18, facecolors="none",
                   edgecolors="grey", label="softmax, not certified")  # fmt: skip
    for (_, row), colour in zip(others.iterrows(), colours, strict=False):
        certified = bool(eligible[row.name])
        ax.scatter(row["features_occupied"], row["user_welfare_mean"], marker="s", s=30,
                   color=colour if certified else "none", edgecolors=colour,
                   label=row["serving"] + ("" if certified else " (not certified)"))  # fmt: skip
    ax.set_xlabel("features occupied at equilibrium (diversity)")
    ax.set_ylabel("user welfare per user")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    row = table.iloc[0]
    fig.suptitle(
        f"Platform design on {row['dataset']} (d = {row['dim']}, n = {row['n_producers']}): "
        "user welfare and diversity at equilibrium per serving rule (hollow: not every run "
        "reached a certified equilibrium)",
        fontsize=10,
    )
    return fig


def compare_figure(curves: pd.DataFrame, trained: bool = True):
    """Learning curves (one revision per step): per serving rule (rows) and number of
    producers (columns), every learner's median nash_conv per user over its (cell, seed) runs
    at each checkpoint, with a bootstrap 95% band of the median. ``trained``: the learners
    whose budget is counted in producer-steps, against producer-steps; else the others (the
    paper's dynamics and the NumPy full-information learners), against the fraction of their
    own steps (switches, updates or revisions)."""
    from .compare import LEARNERS

    main = curves[curves["revision"] == "one"]
    in_steps = main["step_unit"] == "producer-steps"
    main = main[in_steps if trained else ~in_steps]
    servings = serving_order(main["serving"].unique())
    ns = sorted(main["n_producers"].unique())
    fig, axes = _grid(max(len(servings), 1), max(len(ns), 1), 4.0, 2.8)
    present = set(main["learner"])
    learners = [name for name in LEARNERS if name in present]
    learners += sorted(present - set(learners))  # rows imported from elsewhere (BenchMARL)
    colours = dict(zip(learners, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3,
                       strict=False))  # fmt: skip
    styles = {name: "-" if i < 10 else "--" for i, name in enumerate(learners)}
    rng = np.random.default_rng(0)
    for r, serving in enumerate(servings):
        for c, n in enumerate(ns):
            ax = axes[r, c]
            block = main[(main["serving"] == serving) & (main["n_producers"] == n)]
            for learner in learners:
                runs = block[block["learner"] == learner]
                if runs.empty:
                    continue
                runs = runs.sort_values("step").assign(
                    checkpoint=lambda t: t.groupby(["key", "seed"]).cumcount()
                )
                last = runs["checkpoint"].max()
                x, mid, low, high = [], [], [], []
                for k, rows in runs.groupby("checkpoint"):
                    values = rows["nash_conv_per_user"].to_numpy()
                    draws = np.median(rng.choice(values, size=(300, values.size)), axis=1)
                    x.append(rows["step"].median() if trained else k / max(last, 1))
                    mid.append(np.median(values))
                    low.append(np.quantile(draws, 0.025))
                    high.append(np.quantile(draws, 0.975))
                ax.plot(x, mid, color=colours[learner], ls=styles[learner], label=learner,
                        lw=1.2)  # fmt: skip
                ax.fill_between(x, low, high, color=colours[learner], alpha=0.15)
            ax.set_yscale("symlog", linthresh=1e-5)
            ax.axhline(1e-3, color="grey", ls=":", lw=0.8)
            ax.grid(alpha=0.3)
            ax.set_title(f"{serving}, n = {n}", fontsize=9)
            if c == 0:
                ax.set_ylabel("nash_conv per user", fontsize=8)
            if r == len(servings) - 1:
                label = "producer-steps" if trained else "fraction of the learner's steps"
                ax.set_xlabel(label, fontsize=8)
    axes[0, 0].legend(fontsize=6)
    what = "trained learners" if trained else "the paper's dynamics and NumPy learners"
    fig.suptitle(
        f"Learning curves, {what}: median over (cell, seed) runs, bootstrap 95% band "
        "(dotted: the 1e-3 line of an equilibrium)",
        fontsize=10,
    )
    return fig


def leaderboard_figure(curves: pd.DataFrame):
    """The leaderboard as a picture: the share of runs at an equilibrium with its 95%
    interval per learner (left), and performance profiles (right): the share of runs whose
    final nash_conv per user is at most tau, with bootstrap bands."""
    from . import stats
    from .compare import leaderboard, run_scores

    board = leaderboard(curves, reps=500)
    board = board[board["revision"] == "one"]
    fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(11, 4.2))
    y = np.arange(len(board))
    axes[0].errorbar(board["reached"], y, xerr=[board["reached"] - board["reached_low"],
                     board["reached_high"] - board["reached"]], fmt="o", capsize=3)  # fmt: skip
    axes[0].set_yticks(y, board["learner"], fontsize=7)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("share of (cell, seed) runs at an equilibrium (95% CI)")
    axes[0].grid(alpha=0.3)
    taus = np.logspace(-6, -0.5, 40)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"] * 2
    for colour, learner in zip(colours, board["learner"], strict=False):
        scores, _, _ = run_scores(curves, learner)
        if scores.size == 0:
            continue
        values, low, high = stats.performance_profile(np.maximum(scores, 1e-7), taus, reps=300)
        axes[1].plot(taus, values, color=colour, label=learner, lw=1.2)
        axes[1].fill_between(taus, low, high, color=colour, alpha=0.15)
    axes[1].set_xscale("log")
    axes[1].axvline(1e-3, color="grey", ls=":", lw=0.8)
    axes[1].set_xlabel("tau: final nash_conv per user")
    axes[1].set_ylabel("share of runs with nash_conv per user <= tau")
    axes[1].legend(fontsize=6)
    axes[1].grid(alpha=0.3)
    fig.suptitle("Learners over every (cell, seed) run: reach and performance profiles",
                 fontsize=10)  # fmt: skip
    return fig


def plot_compare(curves: pd.DataFrame, out) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save(compare_figure(curves), out / "fig5_learning")
    save(leaderboard_figure(curves), out / "fig5b_leaderboard")
    save(compare_figure(curves, trained=False), out / "fig5c_full_information")
    return [out / f"{name}.png" for name in ("fig5_learning", "fig5b_leaderboard",
                                             "fig5c_full_information")]  # fmt: skip
