"""The paper's sections of REPRODUCTION.md: populations, iterations (exp1), equilibria cell by
cell (exp2), disagreements, the headline table and convergence, from the comparison tables."""

from __future__ import annotations

import itertools

import pandas as pd

from .config import serving_order
from .report_common import DASH, HEADLINE_DIM, HEADLINE_NS, NEEDS, _list


# ---------------------------------------------------------------------- populations
def _populations_section(tables) -> list[str]:
    lines = [
        "## Populations: the authors' instances",
        "",
        "The same population gives the same users' mass per feature (`user_dist`); the largest "
        "difference from the authors' over every cell both sides have:",
        "",
        "| dataset | cells compared | largest difference in user_dist | same instances |",
        "|---|---|---|---|",
    ]
    cells = (
        pd.concat(
            [t for k, t in tables.items() if k in ("comparison_exp1", "comparison_exp2")],
            ignore_index=True,
        )
        if any(k in tables for k in ("comparison_exp1", "comparison_exp2"))
        else pd.DataFrame()
    )
    if cells.empty:
        return []
    for dataset, block in cells.groupby("dataset"):
        gaps = block["population_gap"].dropna()
        if gaps.empty:
            lines.append(f"| {dataset} | 0 | {DASH} | not run here{_needs(dataset)} |")
            continue
        same = "yes" if gaps.max() <= 1e-9 else "no"
        lines.append(f"| {dataset} | {len(gaps):,} | {gaps.max():.1e} | {same} |")
    return [*lines, ""]


def _needs(dataset: str) -> str:
    return f" (needs the ratings file `{NEEDS[dataset]}`)" if dataset in NEEDS else ""


# ---------------------------------------------------------------------- exp1
def _exp1_section(cells: pd.DataFrame) -> list[str]:
    from .comparison import summarise_exp1

    summary = summarise_exp1(cells)
    lines = [
        "## Iterations to equilibrium (exp1), every cell",
        "",
        "Per (dataset, serving, dim, n, embedding seed): mean switches of converged runs on "
        "both sides and the z-score of the difference, `(ours - theirs) / sqrt(se_ours^2 + "
        "se_theirs^2)`. By chance alone |z| > 2 in about 4.6% of cells and |z| > 3 in 0.27%. "
        "Every cell is in `comparison_exp1.csv`.",
        "",
        "| dataset | serving | cells (authors) | cells compared | share with abs(z) > 2 | "
        "share with abs(z) > 3 | mean relative difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        if row["cells compared"] == 0:
            lines.append(
                f"| {row['dataset']} | {row['serving']} | {row['cells (authors)']} | 0 | "
                f"ours: not run here{_needs(row['dataset'])} | | |"
            )
            continue
        lines.append(
            f"| {row['dataset']} | {row['serving']} | {row['cells (authors)']} | "
            f"{row['cells compared']} | {row['|z| > 2']:.1%} | {row['|z| > 3']:.1%} | "
            f"{row['mean relative difference']:+.1%} |"
        )
    compared = cells[cells["z"].notna()]
    if len(compared):
        by_dataset = compared.groupby("dataset")["z"].apply(lambda z: (z.abs() > 3).mean())
        worst = by_dataset.idxmax()
        lines += [
            "",
            f"Over all {len(compared):,} compared cells, {(compared['z'].abs() > 3).mean():.1%} "
            f"have |z| > 3; the most in one dataset: {worst}, {by_dataset.max():.1%}.",
            "",
            f"The paper's headline cells (dim {HEADLINE_DIM}, embedding seed 17, 40 runs each "
            "side):",
            "",
            "| dataset | serving | n | ours | authors | z |",
            "|---|---|---|---|---|---|",
        ]
        head = compared[
            (compared["dim"] == HEADLINE_DIM)
            & (compared["embedding_seed"] == 17)
            & compared["n_producers"].isin(HEADLINE_NS)
        ]
        for _, row in head.sort_values(["dataset", "serving", "n_producers"]).iterrows():
            lines.append(
                f"| {row['dataset']} | {row['serving']} | {row['n_producers']} | "
                f"{row['ours_mean']:.1f} ± {row['ours_se']:.1f} | "
                f"{row['theirs_mean']:.1f} ± {row['theirs_se']:.1f} | {row['z']:+.1f} |"
            )
    return [*lines, ""]


# ---------------------------------------------------------------------- exp2
def _exp2_section(cells: pd.DataFrame) -> list[str]:
    from .comparison import summarise_exp2

    summary = summarise_exp2(cells)
    order = {s: i for i, s in enumerate(serving_order(summary["serving"].unique()))}
    summary = summary.sort_values(
        ["dataset", "serving"], key=lambda c: c.map(order) if c.name == "serving" else c
    )
    lines = [
        "## Equilibria (exp2), every cell",
        "",
        "Per (dataset, serving, dim, n, embedding seed), one run on each side: whether both "
        "ended on the same count vector, and how far apart the average producer and user "
        "utilities are (relative to the authors'); like for like, over the cells where both "
        "runs converged. Every cell is in `comparison_exp2.csv`.",
        "",
        "| dataset | serving | cells | both converged | identical equilibria | mean abs. rel. "
        "diff. producer utility | mean abs. rel. diff. user utility | features occupied: "
        "ours / authors | TV distance: ours / authors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        if row["both converged"] == 0:
            lines.append(
                f"| {row['dataset']} | {row['serving']} | {row['cells (authors)']} | 0 | "
                f"ours: not run here{_needs(row['dataset'])} | | | | |"
            )
            continue
        lines.append(
            f"| {row['dataset']} | {row['serving']} | {row['cells (authors)']} | "
            f"{row['both converged']} | {row['identical equilibria']:.1%} | "
            f"{row['mean |rel. diff.| producer utility']:.2%} | "
            f"{row['mean |rel. diff.| user utility']:.2%} | "
            f"{row['features occupied: ours']:.2f} / {row['features occupied: theirs']:.2f} | "
            f"{row['TV distance: ours']:.3f} / {row['TV distance: theirs']:.3f} |"
        )
    both = cells[(cells["ours_converged"] == True) & cells["theirs_converged"]]  # noqa: E712
    if len(both):
        lines += ["", "Identical equilibria, per dataset, over converged cells:", ""]
        for dataset, block in both.groupby("dataset"):
            lines.append(
                f"- {dataset}: {int(block['identical'].sum()):,} of {len(block):,} "
                f"({block['identical'].mean():.1%})."
            )
    return [*lines, ""]


def _signed_share(value) -> str:
    return DASH if pd.isna(value) else f"{value:+.2%}"


def _disagreements_section(cells, disagreements, exp1_cells) -> list[str]:
    lines = ["## Where we and the authors disagree, largest first", ""]
    if disagreements is not None and len(disagreements):
        counts = disagreements["reason"].value_counts()
        lines += [
            f"{len(disagreements):,} exp2 cells end on different count vectors. What the data "
            "say about them (the authors' end state checked in our game, basis-vector "
            "deviations, the paper's rule):",
            "",
            "| reason | cells |",
            "|---|---|",
            *[f"| {reason} | {count:,} |" for reason, count in counts.items()],
            "",
            (
                f"The 20 of {len(disagreements)} with the largest"
                if len(disagreements) > 20
                else f"All {len(disagreements)}, by"
            )
            + " relative difference of average producer utility (— where a run did not "
            "converge, so its utility is not an equilibrium's):",
            "",
            "| dataset | serving | dim | n | seed | ours | authors | producer utility rel. diff. "
            "| reason |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for _, row in disagreements.head(20).iterrows():
            lines.append(
                f"| {row['dataset']} | {row['serving']} | {row['dim']} | {row['n_producers']} "
                f"| {row['embedding_seed']} | {row['ours_counts']} | {row['theirs_counts']} | "
                f"{_signed_share(row['producer_utility_mean_relative_difference'])} "
                f"| {row['reason']} |"
            )
        lines.append("")
    else:
        lines += ["No exp2 cell of ours ends on another count vector than the authors'.", ""]
    if exp1_cells is not None:
        far = exp1_cells[exp1_cells["z"].abs() > 3].copy()
        far = far.reindex(far["z"].abs().sort_values(ascending=False).index)
        lines += [
            f"exp1 cells with |z| > 3: {len(far)} of {int(exp1_cells['z'].notna().sum()):,}"
            + (", largest first:" if len(far) else "."),
            "",
        ]
        if len(far):
            lines += [
                "| dataset | serving | dim | n | seed | ours | authors | z |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for _, row in far.head(20).iterrows():
                lines.append(
                    f"| {row['dataset']} | {row['serving']} | {row['dim']} | "
                    f"{row['n_producers']} | {row['embedding_seed']} | "
                    f"{row['ours_mean']:.1f} ± {row['ours_se']:.1f} ({int(row['ours_converged'])}) "
                    f"| {row['theirs_mean']:.1f} ± {row['theirs_se']:.1f} "
                    f"({int(row['theirs_converged'])}) | {row['z']:+.1f} |"
                )
            lines.append("")
    return lines


def _headline_section(cells: pd.DataFrame) -> list[str]:
    """The paper's headline quantities, like for like: mean over the same seeds each side."""
    both = cells[(cells["ours_converged"] == True) & cells["theirs_converged"]]  # noqa: E712
    lines = [
        "## Specialisation and utilities at the paper's headline cells",
        "",
        "Mean over the embedding seeds where both runs converged (the same seeds on both "
        "sides): features occupied and TV distance between producer and user distributions at "
        "dim 15 and n = 100, and average user utility at dim 15 and n = 50.",
        "",
        "| dataset | serving | seeds | features occupied: ours / authors | TV distance: ours / "
        "authors | seeds (n = 50) | avg user utility: ours / authors |",
        "|---|---|---|---|---|---|---|",
    ]
    reading = []
    for dataset, block in both.groupby("dataset"):
        spec = block[(block["dim"] == 15) & (block["n_producers"] == 100)]
        util = block[(block["dim"] == 15) & (block["n_producers"] == 50)]
        falls = {}
        for serving in serving_order(block["serving"].unique()):
            s = spec[spec["serving"] == serving]
            u = util[util["serving"] == serving]
            lines.append(
                f"| {dataset} | {serving} | {len(s)} | "
                f"{s['ours_features_occupied'].mean():.1f} / "
                f"{s['theirs_features_occupied'].mean():.1f} | {s['ours_tvd'].mean():.3f} / "
                f"{s['theirs_tvd'].mean():.3f} | {len(u)} | "
                f"{u['ours_user_utility_mean'].mean():.3f} / "
                f"{u['theirs_user_utility_mean'].mean():.3f} |"
            )
            if serving.startswith("softmax@"):
                falls.setdefault("ours", []).append(u["ours_user_utility_mean"].mean())
                falls.setdefault("theirs", []).append(u["theirs_user_utility_mean"].mean())
        if falls:
            verdict = {
                side: all(b <= a + 1e-12 for a, b in itertools.pairwise(v))
                for side, v in falls.items()
            }
            reading.append(
                f"- {dataset}: average user utility at dim 15, n = 50 falls as the temperature "
                f"rises: ours {'yes' if verdict['ours'] else 'no'}, the authors' "
                f"{'yes' if verdict['theirs'] else 'no'}."
            )
    return [*lines, "", *reading, ""]


def _convergence_section(exp2, cells) -> list[str]:
    lines = [
        "## Runs that did not converge within the iteration budget",
        "",
        "exp2 runs that hit the 500-switch budget, ours and the authors' over the cells both "
        "sides ran:",
        "",
        "| dataset | serving | not converged: ours | authors | n of ours | n of the authors' |",
        "|---|---|---|---|---|---|",
    ]
    if cells is None:
        return []
    ran = cells[cells["ours_converged"].notna()]  # cells both sides have
    stuck = ran[(ran["ours_converged"] == False) | ~ran["theirs_converged"]]  # noqa: E712
    for (dataset, serving), block in stuck.groupby(["dataset", "serving"]):
        ours = block[block["ours_converged"] == False]  # noqa: E712
        theirs = block[~block["theirs_converged"]]
        lines.append(
            f"| {dataset} | {serving} | {len(ours)} | {len(theirs)} | "
            f"{_list(ours['n_producers']) or DASH} | {_list(theirs['n_producers']) or DASH} |"
        )
    if stuck.empty:
        lines.append(f"| {DASH} | every run converged on both sides | | | | |")
    return [*lines, ""]
