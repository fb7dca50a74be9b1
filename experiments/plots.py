"""The paper's figures (and new ones) from the results tables; nothing is recomputed.

Where the authors' own tables (``experiments/paper/``) have the same cells, their numbers are
drawn beside ours (dashed, or black outlines), so a figure is also a comparison.

The functions return matplotlib figures and leave the backend alone, so they show inline in a
notebook; the CLI selects the non-interactive Agg backend (it only writes files).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from recsys_eq_env._io import atomic_path

from .config import serving_order

UTILITY_NS = (5, 10, 50)
USER_COLOUR, PRODUCER_COLOUR = "tab:blue", "tab:orange"
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


def _grid(rows: int, columns: int, width: float, height: float):
    """A (rows, columns) grid of axes, ``width`` x ``height`` inches each."""
    return plt.subplots(
        rows, columns, squeeze=False, layout="constrained", figsize=(width * columns, height * rows)
    )


def _colours() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _mean_se(ax, grouped, **style):
    """Mean ± standard error of a grouped series, one point per group."""
    stats = grouped.agg(["mean", "sem"])
    ax.errorbar(stats.index, stats["mean"], yerr=stats["sem"].fillna(0), capsize=2, **style)


def save(fig, stem: Path) -> None:
    """Write a figure as PNG (100 dpi: the committed figures stay small) and PDF, each
    atomically (several commands may plot into one folder), and close it."""
    for ext in ("png", "pdf"):
        with atomic_path(stem.with_name(f"{stem.name}.{ext}")) as tmp:
            fig.savefig(tmp, format=ext, dpi=100 if ext == "png" else None, bbox_inches="tight")
    plt.close(fig)


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


COMPARE_METRICS = [
    ("nash_conv_per_user", "nash_conv per user (median episode)", True),
    ("success", "share of episodes at equilibrium", False),
    ("tvd_to_best_response", "TV distance to best-response equilibrium", False),
    ("concentration", "content concentration", False),
]


def compare_figure(curves: pd.DataFrame):
    """Learning curves (one revision per step): each metric vs fraction of each learner's own
    training, per serving rule; a last column shows the herding question (simultaneous
    revision) as bars."""
    from .compare import LEARNERS

    main = curves[curves["revision"] == "one"] if "revision" in curves else curves
    sim = curves[curves["revision"] == "simultaneous"] if "revision" in curves else curves[:0]
    servings = serving_order(main["serving"].unique())
    columns = len(servings) + (1 if len(sim) else 0)
    fig, axes = _grid(len(COMPARE_METRICS), columns, 4.3, 2.6)
    learners = [name for name in LEARNERS if name in set(main["learner"])]
    colours = dict(
        zip(learners, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 2, strict=False)
    )
    grid = np.linspace(0.0, 1.0, 41)
    for c, serving in enumerate(servings):
        block = main[main["serving"] == serving]
        for r, (metric, label, log) in enumerate(COMPARE_METRICS):
            ax = axes[r, c]
            for learner in learners:
                # Every cell's curve on a common grid of training progress, then the mean:
                # cells differ in length (best response stops at its own equilibrium).
                lines = []
                for _, cell in block[block["learner"] == learner].groupby("key"):
                    steps = cell["step"].to_numpy(dtype=float)
                    progress = steps / steps.max() if steps.max() > 0 else np.zeros_like(steps)
                    lines.append(np.interp(grid, progress, cell[metric].to_numpy(dtype=float)))
                if lines:
                    ax.plot(grid, np.mean(lines, axis=0), label=learner, color=colours[learner])
            if log:
                ax.set_yscale("symlog", linthresh=1e-5)
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(f"{serving}, one revision per step", fontsize=9)
            if r == len(COMPARE_METRICS) - 1:
                ax.set_xlabel("fraction of the learner's training")
    if len(sim):
        from .compare import final_rows

        last = final_rows(sim)
        for r, (metric, _, log) in enumerate(COMPARE_METRICS):
            ax = axes[r, -1]
            means = last.groupby("learner")[metric].mean()
            ax.bar(range(len(means)), means.to_numpy(), color="tab:gray")
            ax.set_xticks(range(len(means)), means.index, rotation=20, fontsize=7)
            if log:
                ax.set_yscale("symlog", linthresh=1e-5)
            ax.grid(alpha=0.3, axis="y")
            if r == 0:
                ax.set_title("simultaneous revision (end of training)", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Learning producers vs best-response dynamics (mean over cells)", fontsize=11)
    return fig


def plot_compare(curves: pd.DataFrame, out) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save(compare_figure(curves), out / "fig5_learning")
    return [out / "fig5_learning.png"]
