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
