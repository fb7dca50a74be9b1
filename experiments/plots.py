"""The paper's figures (and new ones) from the results tables; nothing is recomputed.

Where the authors' own tables (``experiments/paper/``) have the same cells, their numbers are
drawn beside ours (dashed, or black outlines), so a figure is also a comparison.

The functions return matplotlib figures and leave the backend alone, so they show inline in a
notebook; the CLI selects the non-interactive Agg backend (it only writes files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import serving_order
from .plots_analysis import (  # noqa: F401 (the analysis figures, where they were)
    compare_figure,
    design_figure,
    leaderboard_figure,
    plot_compare,
    welfare_figure,
)
from .plots_common import PRODUCER_COLOUR, USER_COLOUR, _colours, _grid, _mean_se, save

UTILITY_NS = (5, 10, 50)
#: The embedding seed the authors plot their distribution figures for.
PAPER_SEED = 17


def plotted_seed(table: pd.DataFrame) -> int:
    """The authors' seed (17) where the table has it, else its smallest embedding seed."""
    seeds = sorted(table["embedding_seed"].unique())
    if not seeds:
        raise ValueError("the table has no runs to plot")
    return PAPER_SEED if PAPER_SEED in seeds else int(seeds[0])


def plot_all(exp1: pd.DataFrame, exp2: pd.DataFrame, out, folder=None) -> list[Path]:
    """Write every figure as PNG and PDF into ``out``; return the PNG paths.

    ``folder`` (the results folder) adds the figures of its other tables (``variants``).
    """
    from .comparison import load_authors

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    authors1, authors2 = load_authors("exp1"), load_authors("exp2")
    figures = [("fig1_iterations", lambda: iterations_figure(exp1, authors1))]
    for dataset in sorted(exp2["dataset"].unique()):  # one file per dataset: readable sizes
        part = exp2[exp2["dataset"] == dataset]
        theirs = authors2[authors2["dataset"] == dataset]
        figures += [
            (
                f"fig2_distributions_{dataset}",
                lambda part=part, theirs=theirs: distributions_figure(part, theirs),
            ),
            (
                f"fig2b_distributions_seed_mean_{dataset}",
                lambda part=part: distributions_figure(part, None, seed=None),
            ),
            (
                f"fig3_utilities_{dataset}",
                lambda part=part, theirs=theirs: utilities_figure(part, theirs),
            ),
            (f"fig4_specialization_{dataset}", lambda part=part: specialization_figure(part)),
        ]
    if folder is not None and (Path(folder) / "variants.parquet").exists():
        variants = pd.read_parquet(Path(folder) / "variants.parquet")
        figures.append(("fig6_variants", lambda: variants_figure(variants)))
    written = []
    for name, draw in figures:
        save(draw(), out / name)
        written.append(out / f"{name}.png")
    return written


def iterations_figure(exp1: pd.DataFrame, authors: pd.DataFrame | None = None):
    """Figure 1: mean iterations (converged runs, the authors' 40-run seed 17) vs n, a line per
    dim with standard-error bars; the authors' as dashed lines of the same colour."""
    seed = plotted_seed(exp1)
    exp1 = exp1[exp1["embedding_seed"] == seed]
    datasets = sorted(exp1["dataset"].unique())
    servings = serving_order(exp1["serving"].unique())
    fig, axes = _grid(len(datasets), len(servings), 4.2, 3.3)
    colours = _colours()
    for r, dataset in enumerate(datasets):
        for c, serving in enumerate(servings):
            ax = axes[r, c]
            cell = exp1[(exp1["dataset"] == dataset) & (exp1["serving"] == serving)]
            for i, (dim, group) in enumerate(cell.groupby("dim")):
                colour = colours[i % len(colours)]
                stats = group[group["converged"]].groupby("n_producers")["iterations"]
                _mean_se(ax, stats, marker="o", ms=3, color=colour, label=f"d = {dim}")
                if authors is not None:
                    theirs = authors[
                        (authors["dataset"] == dataset)
                        & (authors["serving"] == serving)
                        & (authors["dim"] == dim)
                        & (authors["embedding_seed"] == seed)
                        & authors["converged"]
                    ].groupby("n_producers")["iterations"]
                    if len(theirs.size()):
                        _mean_se(ax, theirs, ls="--", lw=1, color=colour)
            failed = int((~cell["converged"]).sum())
            title = f"{dataset}, {serving}"
            ax.set_title(title + (f" ({failed} not converged)" if failed else ""), fontsize=9)
            ax.set_xlabel("number of producers")
            ax.set_ylabel("iterations to equilibrium")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(
        f"Best-response dynamics: iterations to a pure Nash equilibrium, embedding seed {seed} "
        "(mean ± s.e.; ours solid, the authors' dashed)",
        fontsize=11,
    )
    return fig


def distributions_figure(
    exp2: pd.DataFrame,
    authors: pd.DataFrame | None,
    n_producers: int | None = None,
    seed: int | None = PAPER_SEED,
):
    """Figure 2: per feature, the users' weight beside the share of producers there.

    ``seed=17`` (default) shows one population, as the authors plot it, with the authors'
    producer shares as black outlines; ``seed=None`` averages the shares over embedding seeds
    (an extra view: an average of equilibria need not look like any equilibrium).
    """
    n = n_producers or int(exp2["n_producers"].max())
    data = exp2[exp2["n_producers"] == n]
    if seed is not None:
        if seed not in set(data["embedding_seed"]):
            seed = plotted_seed(data)  # the authors' seed 17 is not in this grid
        data = data[data["embedding_seed"] == seed]
    dims = sorted(data["dim"].unique())
    servings = serving_order(data["serving"].unique())
    fig, axes = _grid(len(dims), len(servings), 2.9, 2.2)
    for r, dim in enumerate(dims):
        for c, serving in enumerate(servings):
            ax = axes[r, c]
            cell = data[(data["dim"] == dim) & (data["serving"] == serving)]
            if cell.empty:
                ax.axis("off")
                continue
            users = np.mean(np.stack(cell["user_dist"].to_numpy()), axis=0)
            producers = np.mean(np.stack(cell["producer_dist"].to_numpy()), axis=0)
            x = np.arange(dim)
            ax.bar(x - 0.2, users, 0.4, color=USER_COLOUR, label="user weight")
            ax.bar(x + 0.2, producers, 0.4, color=PRODUCER_COLOUR, label="producers (ours)")
            if authors is not None and seed is not None:
                theirs = authors[
                    (authors["n_producers"] == n)
                    & (authors["embedding_seed"] == seed)
                    & (authors["dim"] == dim)
                    & (authors["serving"] == serving)
                ]
                if len(theirs):
                    counts = np.asarray(theirs["counts"].iloc[0], dtype=float)
                    ax.bar(x + 0.2, counts / counts.sum(), 0.4, fill=False, edgecolor="black",
                           lw=0.8, label="producers (authors)")  # fmt: skip
            ax.set_xticks(x if dim <= 10 else x[::5])
            if r == 0:
                ax.set_title(serving, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"d = {dim}", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=6)
    dataset = ", ".join(sorted(exp2["dataset"].unique()))
    what = (
        f"embedding seed {seed} (one population, as the authors plot it)"
        if seed is not None
        else "MEAN over embedding seeds (an extra view: not one equilibrium)"
    )
    fig.suptitle(
        f"{dataset}: user weight vs share of producers per feature at equilibrium, n = {n}, {what}",
        fontsize=10,
    )
    return fig


def utilities_figure(exp2: pd.DataFrame, authors: pd.DataFrame | None = None):
    """Figure 3: average producer and user utility vs temperature, a line per n, mean and
    standard error over embedding seeds; the authors' dashed; linear serving as a band at the
    right edge."""
    ns = [n for n in UTILITY_NS if n in set(exp2["n_producers"])] or sorted(
        exp2["n_producers"].unique()
    )[:3]
    metrics = [
        ("producer_utility_mean", "avg producer utility"),
        ("user_utility_mean", "avg user utility"),
    ]
    dims = sorted(exp2["dim"].unique())
    fig, axes = _grid(len(dims), len(metrics), 4.8, 2.7)
    colours = _colours()
    for r, dim in enumerate(dims):
        for c, (metric, label) in enumerate(metrics):
            ax = axes[r, c]
            for i, n in enumerate(ns):
                colour = colours[i % len(colours)]
                for table, style, who in ((exp2, "-", "ours"), (authors, "--", "authors")):
                    if table is None:
                        continue
                    cell = table[(table["dim"] == dim) & (table["n_producers"] == n)]
                    soft = cell[cell["rule"] == "softmax"]
                    if soft.empty:
                        continue
                    stats = soft.groupby("temperature")[metric].agg(["mean", "sem"])
                    ax.errorbar(
                        stats.index,
                        stats["mean"],
                        yerr=stats["sem"].fillna(0),
                        ls=style,
                        marker="o" if who == "ours" else None,
                        ms=3,
                        capsize=2,
                        color=colour,
                        label=f"n = {n}" if who == "ours" else None,
                    )
                    linear = cell[cell["rule"] == "linear"][metric].mean()
                    if np.isfinite(linear):
                        ax.axhline(linear, color=colour, ls=style, lw=0.6, alpha=0.6)
            ax.set_xscale("log")
            ax.set_xlabel("softmax temperature")
            ax.set_ylabel(label, fontsize=8)
            ax.set_title(f"d = {dim}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    dataset = ", ".join(sorted(exp2["dataset"].unique()))
    fig.suptitle(
        f"{dataset}: average utilities at equilibrium vs temperature (mean ± s.e. over "
        "embedding seeds; ours solid, the authors' dashed; thin lines: linear serving)",
        fontsize=10,
    )
    return fig


def specialization_figure(exp2: pd.DataFrame):
    """Figure 4 (new): features occupied and total variation distance vs temperature."""
    ns = sorted(exp2["n_producers"].unique())
    chosen = sorted({ns[len(ns) // 4], ns[len(ns) // 2], ns[-1]})
    return _versus_temperature(
        exp2,
        [("features_occupied", "features occupied"), ("tvd", "TV distance, producers vs users")],
        chosen,
        "Specialisation at equilibrium vs temperature (mean ± s.e. over embedding seeds; "
        "linear serving: dashed)",
    )


def _versus_temperature(exp2, metrics, ns, title):
    datasets = sorted(exp2["dataset"].unique())
    dims = sorted(exp2["dim"].unique())
    rows = [(ds, d) for ds in datasets for d in dims]
    fig, axes = _grid(len(rows), len(metrics), 4.6, 2.6)
    colours = _colours()
    for r, (dataset, dim) in enumerate(rows):
        block = exp2[(exp2["dataset"] == dataset) & (exp2["dim"] == dim)]
        for c, (metric, label) in enumerate(metrics):
            ax = axes[r, c]
            for i, n in enumerate(ns):
                cell = block[block["n_producers"] == n]
                soft = cell[cell["rule"] == "softmax"].groupby("temperature")[metric]
                colour = colours[i % len(colours)]
                _mean_se(ax, soft, marker="o", ms=3, color=colour, label=f"n = {n}")
                linear = cell[cell["rule"] == "linear"][metric]
                if len(linear):
                    ax.axhline(linear.mean(), color=colour, ls="--", lw=1)
            ax.set_xscale("log")
            ax.set_xlabel("softmax temperature")
            ax.set_ylabel(label, fontsize=8)
            ax.set_title(f"{dataset}, d = {dim}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=11)
    return fig


VARIANT_METRICS = [
    ("iterations", "iterations to equilibrium"),
    ("features_occupied", "features occupied"),
    ("tvd", "TV distance, producers vs users"),
    ("user_utility_mean", "avg user utility"),
]


def variants_figure(variants: pd.DataFrame):
    """Figure 6 (the later revision): per serving rule, metrics vs number of producers
    (mean ± s.e. over embedding seeds), a row per dataset and dim."""
    rows = [(ds, d) for ds in sorted(variants["dataset"].unique())
            for d in sorted(variants["dim"].unique())]  # fmt: skip
    servings = serving_order(variants["serving"].unique())
    fig, axes = _grid(len(rows), len(VARIANT_METRICS), 3.8, 2.4)
    colours = _colours()
    for r, (dataset, dim) in enumerate(rows):
        block = variants[(variants["dataset"] == dataset) & (variants["dim"] == dim)]
        for c, (metric, label) in enumerate(VARIANT_METRICS):
            ax = axes[r, c]
            for i, serving in enumerate(servings):
                grouped = block[block["serving"] == serving].groupby("n_producers")[metric]
                _mean_se(ax, grouped, marker="o", ms=2, color=colours[i % len(colours)],
                         label=serving)  # fmt: skip
            ax.set_title(f"{dataset}, d = {dim}", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.set_xlabel("number of producers", fontsize=8)
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(
        "The later revision's serving rules at equilibrium (mean ± s.e. over embedding seeds)",
        fontsize=11,
    )
    return fig
