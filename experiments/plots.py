"""The paper's figures (and one new one) from the results tables; nothing is recomputed."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from recsys_eq_env._io import atomic_path

from .config import serving_order

FIGURES = {
    "fig1_iterations": "Iterations to equilibrium vs number of producers",
    "fig2_distributions": "Average user weight vs fraction of producers per feature",
    "fig3_utilities": "Average producer and user utility vs temperature",
    "fig4_specialization": "Specialisation vs temperature",
}
UTILITY_NS = (5, 10, 50)
USER_COLOUR, PRODUCER_COLOUR = "tab:blue", "tab:orange"


def plot_all(exp1: pd.DataFrame, exp2: pd.DataFrame, out) -> list[Path]:
    """Write every figure as PNG and PDF into ``out``; return the PNG paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    figures = [("fig1_iterations", lambda: iterations_figure(exp1))]
    for dataset in sorted(exp2["dataset"].unique()):  # one file per dataset: readable sizes
        part = exp2[exp2["dataset"] == dataset]
        figures += [
            (f"fig2_distributions_{dataset}", lambda part=part: distributions_figure(part)),
            (f"fig3_utilities_{dataset}", lambda part=part: utilities_figure(part)),
            (f"fig4_specialization_{dataset}", lambda part=part: specialization_figure(part)),
        ]
    for name, draw in figures:
        save(draw(), out / name)
        written.append(out / f"{name}.png")
    return written


def save(fig, stem: Path) -> None:
    """Write a figure as PNG (100 dpi: the committed figures stay small) and PDF, each
    atomically (several commands may plot into one folder), and close it."""
    for ext in ("png", "pdf"):
        with atomic_path(stem.with_name(f"{stem.name}.{ext}")) as tmp:
            fig.savefig(tmp, format=ext, dpi=100 if ext == "png" else None, bbox_inches="tight")
    plt.close(fig)


def iterations_figure(exp1: pd.DataFrame):
    """Figure 1: mean iterations (converged runs) vs n, a line per dim, standard-error bars."""
    datasets = sorted(exp1["dataset"].unique())
    servings = serving_order(exp1["serving"].unique())
    fig, axes = plt.subplots(
        len(datasets),
        len(servings),
        squeeze=False,
        layout="constrained",
        figsize=(4.2 * len(servings), 3.3 * len(datasets)),
    )
    for r, dataset in enumerate(datasets):
        for c, serving in enumerate(servings):
            ax = axes[r, c]
            cell = exp1[(exp1["dataset"] == dataset) & (exp1["serving"] == serving)]
            for dim, group in cell.groupby("dim"):
                done = group[group["converged"]]
                stats = done.groupby("n_producers")["iterations"].agg(["mean", "sem"])
                ax.errorbar(
                    stats.index,
                    stats["mean"],
                    yerr=stats["sem"].fillna(0),
                    marker="o",
                    ms=3,
                    capsize=2,
                    label=f"d = {dim}",
                )
            failed = int((~cell["converged"]).sum())
            title = f"{dataset}, {serving}"
            ax.set_title(title + (f" ({failed} not converged)" if failed else ""), fontsize=9)
            ax.set_xlabel("number of producers")
            ax.set_ylabel("iterations to equilibrium")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(
        "Best-response dynamics: iterations to a pure Nash equilibrium (mean ± s.e. over runs)",
        fontsize=11,
    )
    return fig


def distributions_figure(exp2: pd.DataFrame, n_producers: int | None = None):
    """Figure 2: per feature, average user weight beside the fraction of producers there."""
    n = n_producers or int(exp2["n_producers"].max())
    data = exp2[exp2["n_producers"] == n]
    datasets = sorted(data["dataset"].unique())
    dims = sorted(data["dim"].unique())
    servings = serving_order(data["serving"].unique())
    rows = [(ds, d) for ds in datasets for d in dims]
    fig, axes = plt.subplots(
        len(rows),
        len(servings),
        squeeze=False,
        layout="constrained",
        figsize=(2.9 * len(servings), 2.2 * len(rows)),
    )
    for r, (dataset, dim) in enumerate(rows):
        for c, serving in enumerate(servings):
            ax = axes[r, c]
            cell = data[
                (data["dataset"] == dataset) & (data["dim"] == dim) & (data["serving"] == serving)
            ]
            if cell.empty:
                ax.axis("off")
                continue
            users = np.mean(np.stack(cell["user_dist"].to_numpy()), axis=0)
            producers = np.mean(np.stack(cell["producer_dist"].to_numpy()), axis=0)
            x = np.arange(dim)
            ax.bar(x - 0.2, users, 0.4, color=USER_COLOUR, label="user weight")
            ax.bar(x + 0.2, producers, 0.4, color=PRODUCER_COLOUR, label="producers")
            ax.set_xticks(x if dim <= 10 else x[::5])
            if r == 0:
                ax.set_title(serving, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{dataset.replace('synthetic-', '')}\nd = {dim}", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        f"User weight vs fraction of producers per feature at equilibrium "
        f"(n = {n}, mean over embedding seeds)",
        fontsize=11,
    )
    return fig


def utilities_figure(exp2: pd.DataFrame):
    """Figure 3: average producer and user utility vs temperature, a line per n."""
    return _versus_temperature(
        exp2,
        [
            ("producer_utility_mean", "avg producer utility"),
            ("user_utility_mean", "avg user utility"),
        ],
        [n for n in UTILITY_NS if n in set(exp2["n_producers"])]
        or sorted(exp2["n_producers"].unique())[:3],
        "Average utilities at equilibrium vs temperature (linear serving: dashed)",
    )


def specialization_figure(exp2: pd.DataFrame):
    """Figure 4 (new): features occupied and total variation distance vs temperature."""
    ns = sorted(exp2["n_producers"].unique())
    chosen = sorted({ns[len(ns) // 4], ns[len(ns) // 2], ns[-1]})
    return _versus_temperature(
        exp2,
        [("features_occupied", "features occupied"), ("tvd", "TV distance, producers vs users")],
        chosen,
        "Specialisation at equilibrium vs temperature (linear serving: dashed)",
    )


def _versus_temperature(exp2, metrics, ns, title):
    datasets = sorted(exp2["dataset"].unique())
    dims = sorted(exp2["dim"].unique())
    rows = [(ds, d) for ds in datasets for d in dims]
    fig, axes = plt.subplots(
        len(rows),
        len(metrics),
        squeeze=False,
        layout="constrained",
        figsize=(4.6 * len(metrics), 2.6 * len(rows)),
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, (dataset, dim) in enumerate(rows):
        block = exp2[(exp2["dataset"] == dataset) & (exp2["dim"] == dim)]
        for c, (metric, label) in enumerate(metrics):
            ax = axes[r, c]
            for i, n in enumerate(ns):
                cell = block[block["n_producers"] == n]
                soft = cell[cell["rule"] == "softmax"].groupby("temperature")[metric].mean()
                colour = colours[i % len(colours)]
                ax.plot(soft.index, soft.values, marker="o", ms=3, color=colour, label=f"n = {n}")
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


COMPARE_METRICS = [
    ("nash_conv_per_user", "nash_conv per user", True),
    ("tvd_to_best_response", "TV distance to best-response equilibrium", False),
    ("concentration", "content concentration", False),
    ("user_utility_mean", "avg user utility", False),
]


def compare_figure(curves: pd.DataFrame):
    """Learning curves: each metric vs fraction of each learner's own training, per rule."""
    servings = serving_order(curves["serving"].unique())
    fig, axes = plt.subplots(
        len(COMPARE_METRICS),
        len(servings),
        squeeze=False,
        layout="constrained",
        figsize=(4.3 * len(servings), 2.6 * len(COMPARE_METRICS)),
    )
    learners = [
        name
        for name in (
            "best_response",
            "hedge",
            "exponentiated_gradient",
            "shared_ppo",
            "independent_ppo",
        )
        if name in set(curves["learner"])
    ]
    grid = np.linspace(0.0, 1.0, 41)
    for c, serving in enumerate(servings):
        block = curves[curves["serving"] == serving]
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
                    ax.plot(grid, np.mean(lines, axis=0), label=learner)
            if log:
                ax.set_yscale("symlog", linthresh=1e-6)
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(serving, fontsize=9)
            if r == len(COMPARE_METRICS) - 1:
                ax.set_xlabel("fraction of the learner's training")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Learning producers vs best-response dynamics (mean over cells)", fontsize=11)
    return fig


def plot_compare(curves: pd.DataFrame, out) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save(compare_figure(curves), out / "fig5_learning")
    return [out / "fig5_learning.png"]
