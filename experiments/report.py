"""REPRODUCTION.md: our numbers beside the authors' own tables, from the results tables.

Every number and every sentence of the report is generated here from the committed tables
(``exp1/exp2/variants/certify/compare/sweep.parquet``, the comparison CSVs that
``recsys-eq reproduce`` writes, ``report.json`` for commands and stage times); a claim the
tables cannot show is not made. The README's reproduction summary is the same generator's
:func:`readme_summary`, kept in the README between markers and checked by a test.
"""

from __future__ import annotations

import itertools
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock

from recsys_eq_env._io import atomic_write_text

from .config import serving_order
from .report_learning import leaderboard_page, learning_section, readme_line, study_rows

DASH = "—"
REAL = ("movielens-100k", "rentrunway", "amazon-digital-music")
#: The raw file a dataset needs, for rows we could not run here.
NEEDS = {"amazon-digital-music": "amazon-digital-music/Digital_Music.csv"}
HEADLINE_DIM, HEADLINE_NS = 10, (10, 50, 100)
README_BEGIN, README_END = (
    "<!-- reproduction summary: begin -->",
    "<!-- reproduction summary: end -->",
)
KNOWN_BEGIN, KNOWN_END = (
    "<!-- known-good settings: begin -->",
    "<!-- known-good settings: end -->",
)


def record_invocation(folder, command: str, stages: dict[str, float]):
    """Add a command and its stage times to ``report.json`` (kept across invocations).

    Several commands may finish into one folder at once: the read-modify-write holds the
    folder's report lock and the file is replaced atomically.
    """
    path = Path(folder) / "report.json"
    with FileLock(Path(folder) / "report.lock", timeout=600):
        record = json.loads(path.read_text()) if path.exists() else {}
        record.setdefault("commands", [])
        if command not in record["commands"]:
            record["commands"].append(command)
        record.setdefault("stages", {}).update({k: round(v, 1) for k, v in stages.items()})
        record["machine"] = (
            f"{platform.python_implementation()} {platform.python_version()}, {_cores()} cores"
        )
        atomic_write_text(path, json.dumps(record, indent=1) + "\n")


#: The results tables a report reads (``<name>.parquet``), when present.
TABLES = (
    "exp1", "exp2", "variants", "certify", "compare", "benchmarl", "sweep", "welfare", "design",
)  # fmt: skip


def _read(folder: Path) -> dict:
    from .store import check_schema

    tables = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if path.exists():
            tables[name] = check_schema(pd.read_parquet(path), path, name)
    for name in ("comparison_exp1", "comparison_exp2", "disagreements"):
        path = folder / f"{name}.csv"
        if path.exists():
            tables[name] = check_schema(pd.read_csv(path), path, name)
    return tables


def build_report(folder) -> Path:
    """Write ``REPRODUCTION.md`` from everything in the folder: tables, figures, report.json."""
    folder = Path(folder)
    record = (
        json.loads((folder / "report.json").read_text())
        if (folder / "report.json").exists()
        else {}
    )
    tables = _read(folder)
    stages = record.get("stages", {})
    commands = record.get("commands", [])
    lines = [
        "# Reproduction: Producers Equilibria and Dynamics in Engagement-Driven Recommender "
        "Systems",
        "",
        f"Generated on {time.strftime('%Y-%m-%d %H:%M')} ({record.get('machine', '')}) by "
        + ", ".join(f"`{c}`" for c in commands)
        + ". Every run is an episode of the PettingZoo env in which every producer is a "
        "best-response agent, unless its command says `--engine direct` (the core dynamics, "
        "which give identical rows: tested). The authors' numbers are their own saved tables "
        "(`experiments/paper/`, with provenance). Times are wall-clock on this machine.",
        "",
    ]
    if stages:
        lines += [
            "| stage | time |",
            "|---|---|",
            *[f"| {name} | {_duration(sec)} |" for name, sec in stages.items()],
            f"| all stages | {_duration(sum(stages.values()))} |",
            "",
        ]
    exp1, exp2 = tables.get("exp1"), tables.get("exp2")
    if exp1 is not None and exp2 is not None:
        lines += [
            f"Runs: exp1 {len(exp1):,} ({int(exp1['converged'].sum()):,} converged), exp2 "
            f"{len(exp2):,} ({int(exp2['converged'].sum()):,} converged). Datasets: "
            f"{', '.join(sorted(set(exp1['dataset']) | set(exp2['dataset'])))}.",
            "",
        ]
        lines += _populations_section(tables)
        if "comparison_exp1" in tables:
            lines += _exp1_section(tables["comparison_exp1"])
        if "comparison_exp2" in tables:
            lines += _exp2_section(tables["comparison_exp2"])
            lines += _disagreements_section(
                tables["comparison_exp2"],
                tables.get("disagreements"),
                tables.get("comparison_exp1"),
            )
            lines += _headline_section(tables["comparison_exp2"])
        lines += _convergence_section(exp2, tables.get("comparison_exp2"))
    if "variants" in tables:
        lines += _variants_section(tables["variants"])
    if "certify" in tables:
        from .certify import summarise

        lines += _certify_section(tables["certify"], summarise(tables["certify"]))
        lines += _certify_populations(tables["certify"])
    study = study_rows(tables)
    if study is not None:
        lines += learning_section(study, tables.get("sweep"))
        atomic_write_text(folder / "LEADERBOARD.md", leaderboard_page(study))
    if "welfare" in tables:
        lines += _welfare_section(tables["welfare"])
    if "design" in tables:
        lines += _design_section(tables["design"])
    figures = sorted((folder / "figures").glob("*.png"))
    if figures:
        lines += ["## Figures", ""]
        for fig in figures:
            lines += [f"![{fig.stem}]({fig.relative_to(folder).as_posix()})", ""]
    path = folder / "REPRODUCTION.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


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


# ---------------------------------------------------------------------- variants
def _variants_section(variants: pd.DataFrame) -> list[str]:
    certified = "certificate" in variants.columns
    lines = [
        "## The later revision's serving rules",
        "",
        f"`variants` (exp2-style, one run per cell: dims {_list(variants['dim'])}, n = "
        f"{_list(variants['n_producers'])}, embedding seeds {_list(variants['embedding_seed'])}; "
        f"datasets {_list(variants['dataset'])}): "
        f"{', '.join(serving_order(variants['serving'].unique()))}. Top-k softmax shows each "
        "user its k best producers, `uniform` is round robin, `hardmax` the limit tau -> 0; "
        "synthetic-sparse users have 90% of their coordinates zeroed. The paper's dynamics "
        "stop at equilibria over basis vectors; every one is then certified over the simplex "
        "(`recsys_eq_env.certify_counts`: exact where a producer's utility is convex in its "
        "own content, else a search that includes the tilts off every vertex), and "
        "*certified* counts the runs whose equilibrium passes. Means over cells (iterations "
        "over converged runs):",
        "",
        "| dataset | serving | runs | converged | certified | largest gain found (rel.) "
        "| iterations | features occupied | TV distance | avg producer utility | avg user "
        "utility |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {s: i for i, s in enumerate(serving_order(variants["serving"].unique()))}
    passes = _passes(variants) if certified else variants["converged"]
    for (dataset, serving), block in sorted(
        variants.groupby(["dataset", "serving"]), key=lambda kv: (kv[0][0], order[kv[0][1]])
    ):
        gain = block["certificate_gain"].max() if certified else float("nan")
        lines.append(
            f"| {dataset} | {serving} | {len(block)} | {int(block['converged'].sum())} | "
            f"{int(passes[block.index].sum()) if certified else DASH} | {_cell(gain)} | "
            f"{block[block['converged']]['iterations'].mean():.1f} | "
            f"{block['features_occupied'].mean():.2f} | "
            f"{block['tvd'].mean():.3f} | {block['producer_utility_mean'].mean():.1f} | "
            f"{block['user_utility_mean'].mean():.4f} |"
        )
    lines += ["", "Reading (generated from the table):", ""]
    for dataset, block in variants.groupby("dataset"):
        lines.append(f"- {dataset}: " + _variants_reading(block, passes[block.index]))
    return [*lines, ""]


def _passes(table: pd.DataFrame) -> pd.Series:
    """Whether each run reached an equilibrium certified over the simplex."""
    label = table["certificate"].astype(str)
    return table["converged"] & (label.isin(["exact", "certified by search"]))


def _variants_reading(block: pd.DataFrame, passes: pd.Series) -> str:
    """Rules ranked only where every run reached a certified equilibrium, over the cells
    they share (like with like); the others named with how many runs failed."""
    cell = ["dim", "n_producers", "embedding_seed"]
    ranked, excluded = [], []
    for serving, runs in block.groupby("serving"):
        ok = passes[runs.index]
        if ok.all():
            ranked.append(serving)
        else:
            failed = int((runs["converged"] & ~ok).sum())
            unconverged = int((~runs["converged"]).sum())
            parts = [f"{failed} of {len(runs)} equilibria fail their certificate"] if failed else []
            parts += [f"{unconverged} runs did not converge"] if unconverged else []
            excluded.append(f"{serving} ({', '.join(parts)})")
    out = ""
    if len(ranked) >= 2:
        common = block[block["serving"].isin(ranked)]
        shared = common.groupby(cell)["serving"].nunique()
        shared = shared[shared == len(ranked)].index
        common = common.set_index(cell).loc[shared].reset_index()
        means = common.groupby("serving")["user_utility_mean"].mean()
        spread = common.groupby("serving")["features_occupied"].mean()
        out = (
            f"over the {len(shared)} cells where every run of {', '.join(sorted(ranked))} "
            f"reached a certified equilibrium, users are served best under {means.idxmax()} "
            f"({means.max():.4f} per user) and worst under {means.idxmin()} "
            f"({means.min():.4f}); producers spread most under {spread.idxmax()} "
            f"({spread.max():.2f} features occupied) and least under {spread.idxmin()} "
            f"({spread.min():.2f})."
        )
    elif ranked:
        out = f"only {ranked[0]} reached a certified equilibrium in every run: nothing to rank."
    else:
        out = "no rule reached a certified equilibrium in every run: nothing to rank."
    if excluded:
        out += f" Not ranked: {'; '.join(excluded)}."
    return out


def _certify_section(table, summary):
    lines = [
        "## Structural result: are basis-vector equilibria equilibria over the simplex?",
        "",
        "`recsys-eq certify`: at sampled equilibria, every occupied feature's producer searches "
        "continuous deviations (SciPy SLSQP, exact gradient, from its vertex, the centroid and "
        "random starts). Gains are relative to the producer's utility; the peak is the largest "
        "coordinate of the content (of the best deviation found at basis equilibria, of the "
        "producer's own content at the equilibria of the simplex dynamics; 1 = a basis vector).",
        "",
    ]
    if summary is None or summary.empty:
        return [*lines, "Not run.", ""]
    names = list(summary.index.names)
    lines.append("| " + " | ".join(names) + " | " + " | ".join(summary.columns) + " |")
    lines.append("|---" * (len(summary.columns) + len(names)) + "|")
    for index, row in summary.iterrows():
        cells = [_cell(v) for v in row.to_numpy()]
        lines.append("| " + " | ".join(map(str, index)) + " | " + " | ".join(cells) + " |")
    lines.append("")
    for (utility, equilibrium), block in summary.groupby(level=["utility", "equilibrium"]):
        found = int(block["producers with continuous gain > 1e-6"].sum())
        checked = int(block["producers checked"].sum())
        if equilibrium == "simplex":
            lines.append(
                f"- {utility}, equilibria of the simplex dynamics: the largest relative gain of "
                f"any of {checked} producers by a deviation over the simplex is "
                f"{_cell(block['max continuous gain (rel.)'].max())} (the dynamics stop at a "
                "relative tolerance of 1e-6)."
            )
        elif found == 0:
            lines.append(
                f"- {utility}, basis-vector equilibria: the search found no continuous "
                f"deviation that beats the best basis vector for any of {checked} producers "
                "(gains are at rounding level): evidence, from a local search with many starts, "
                "that these equilibria over basis vectors are equilibria over the simplex."
            )
        else:
            failing = int(block["equilibria that fail"].sum())
            lines.append(
                f"- {utility}, basis-vector equilibria: {found} of {checked} producers gain by "
                "a continuous deviation (up to "
                f"{_cell(block['max continuous gain (rel.)'].max())} of their utility), so "
                f"{failing} of {int(block['equilibria'].sum())} of these equilibria over basis "
                "vectors fail their certificate: they are not equilibria over the simplex."
            )
    return [*lines, ""]


def _certify_populations(table) -> list[str]:
    """The certificate per population and size (real data and large games included), and the
    sampled runs that reached no equilibrium."""
    from .certify import summarise_populations, unreached

    summary = summarise_populations(table)
    if summary.empty:
        return []
    names = ["utility", "equilibrium", "dataset", "users", "dim", "n"]
    lines = [
        "The same search per population and size, over every serving rule:",
        "",
        "| " + " | ".join(names) + " | " + " | ".join(summary.columns) + " |",
        "|---" * (len(summary.columns) + len(names)) + "|",
    ]
    for index, row in summary.iterrows():
        utility, equilibrium, dataset, users, dim, n = index
        cells = [_cell(v) for v in row.to_numpy()]
        head = [utility, equilibrium, dataset, f"{int(users):,}", str(dim), str(n)]
        lines.append("| " + " | ".join(head + cells) + " |")
    lines.append("")
    missing = unreached(table)
    if len(missing):
        which = "; ".join(
            f"{r['dataset']} {r['utility']} {r['serving']} dim {r['dim']} n {r['n_producers']} "
            f"seed {r['embedding_seed']}"
            for _, r in missing.iterrows()
        )
        lines += [
            f"{len(missing)} sampled run(s) reached no equilibrium within the iteration budget "
            f"and are not certified: {which}.",
            "",
        ]
    return lines


def _list(values) -> str:
    return ", ".join(str(v) for v in sorted(set(values)))


def _cell(value):
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if np.isnan(value):
        return DASH
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"


def _duration(seconds):
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)} min {secs:.0f} s" if minutes else f"{secs:.1f} s"


def _cores():
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# ---------------------------------------------------------------------- analysis
def _welfare_section(table: pd.DataFrame) -> list[str]:
    row = table.iloc[0]
    lines = [
        "## Equilibria and welfare: every equilibrium of a small game",
        "",
        f"`recsys-eq welfare` on {row['dataset']} (seed {row['embedding_seed']}, "
        f"{row['n_users']:,} users, d = {row['dim']}, n = {row['n_producers']}): every pure "
        "equilibrium over basis vectors and every symmetric equilibrium (support enumeration "
        "over the 2^d - 1 supports), each certified over the simplex; user welfare (the sum "
        "of users' engagement) at the optimum over basis-vector profiles "
        f"({', '.join(sorted(set(table['optimum_method'])))}) and at the equilibria. The prices "
        "of anarchy (optimum / worst equilibrium) and stability (optimum / best equilibrium) "
        "are over every certified equilibrium, pure and mixed, as defined; the pure prices "
        "over the pure ones alone.",
        "",
        "| serving | pure equilibria (certified) | symmetric equilibria (certified) | optimum | "
        "best eq. | worst eq. | price of anarchy | price of stability | pure price of anarchy "
        "| pure price of stability | better-response cycle | runs never at an equilibrium |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        cycle = (
            DASH
            if r["better_response_cycle"] is None
            else ("yes" if r["better_response_cycle"] else "no")
        )
        lines.append(
            f"| {r['serving']} | {r['equilibria']} ({r['certified_equilibria']}) | "
            f"{r['mixed_equilibria']} ({r['certified_mixed_equilibria']}) | "
            f"{r['optimum']:.2f} | {_fixed(r['best_equilibrium'], 2)} | "
            f"{_fixed(r['worst_equilibrium'], 2)} | {_fixed(r['price_of_anarchy'], 4)} | "
            f"{_fixed(r['price_of_stability'], 4)} | {_fixed(r['pure_price_of_anarchy'], 4)} | "
            f"{_fixed(r['pure_price_of_stability'], 4)} | {cycle} | "
            f"{_cell(r['never_at_equilibrium'])} |"
        )
    acyclic = table[table["better_response_cycle"] == False]  # noqa: E712
    lines += [
        "",
        "Reading (generated from the table):",
        "",
        f"- Better-response paths cannot cycle under {len(acyclic)} of {len(table)} serving "
        "rules here (the finite graph over count vectors is acyclic): there the paper's "
        "dynamics reach an equilibrium from every start, a proof for this instance.",
        f"- {_largest(table, 'price_of_anarchy', 'The price of anarchy')}; "
        f"{_largest(table, 'pure_price_of_anarchy', 'over pure equilibria alone').lower()}. "
        f"The upper bound of user welfare over every profile, continuous content included, is "
        f"{row['upper_bound']:.2f}.",
        f"- {_failed_equilibria(table)}",
        "",
    ]
    return lines


def _fixed(value, digits: int) -> str:
    value = float(value)
    return DASH if np.isnan(value) else f"{value:.{digits}f}"


def _largest(table: pd.DataFrame, column: str, what: str) -> str:
    """ "<what> is largest under X (v)", every rule tied at the top named."""
    values = table[column].dropna()
    if values.empty:
        return f"{what} is not defined under any rule (no certified equilibrium)"
    top = values.max()
    tied = table.loc[values[values >= top - 1e-12 * abs(top)].index, "serving"]
    names = " and ".join(tied)
    return f"{what} is largest under {names} ({top:.4f}{', tied' if len(tied) > 1 else ''})"


def _failed_equilibria(table: pd.DataFrame) -> str:
    skipped = table[table["mixed_checks"].astype(str).str.startswith("not computed")]
    if len(skipped):
        names = ", ".join(skipped["serving"])
        note = (
            f"Symmetric mixed equilibria were not computed under {names} (too many opponents' "
            "count vectors for exact expectations): their prices count the pure equilibria "
            "alone. "
        )
        return note + _failed_counts(table)
    return _failed_counts(table)


def _failed_counts(table: pd.DataFrame) -> str:
    pure_failed = int((table["equilibria"] - table["certified_equilibria"]).sum())
    mixed_failed = int((table["mixed_equilibria"] - table["certified_mixed_equilibria"]).sum())
    total = int(table["equilibria"].sum()), int(table["mixed_equilibria"].sum())
    if pure_failed == mixed_failed == 0:
        return (
            f"Every one of the {total[0]} pure and {total[1]} symmetric equilibria over basis "
            "vectors passes its certificate over the simplex."
        )
    return (
        f"{pure_failed} of {total[0]} pure and {mixed_failed} of {total[1]} symmetric "
        "equilibria over basis vectors fail (or lack) their certificate over the simplex and "
        "do not count in the prices."
    )


def _design_section(table: pd.DataFrame) -> list[str]:
    from .design import pick

    row = table.iloc[0]
    refined = table[table["search"] == "refine"]
    shown = table[table["search"] != "refine"]
    if len(refined):  # the refinement's best point stands for it
        shown = pd.concat([shown, refined.loc[[refined["user_welfare_mean"].idxmax()]]])
    order = shown.sort_values("user_welfare_mean", ascending=False)
    lines = [
        "## Platform design: which serving rule?",
        "",
        f"`recsys-eq design` on {row['dataset']} ({row['n_users']:,} users, d = {row['dim']}, "
        f"n = {row['n_producers']}): per serving rule, the equilibria the paper's dynamics "
        f"reach from {int(row['runs'])} random starts, each certified over the simplex "
        "(*certified*: runs whose equilibrium passes; *check*: the certificate's verdict, the "
        "largest gain found where one fails); softmax over a log-spaced temperature grid "
        f"refined by golden-section search among certified temperatures ({len(refined)} more "
        "temperatures; the best shown). User welfare is per user; diversity is the features "
        "occupied and the TV distance between producer and user distributions. A rule can be "
        "picked only when every run converged to a certified equilibrium.",
        "",
        "| serving | search | converged | certified | check | user welfare (mean) | min | max "
        "| features occupied | TV distance | distinct equilibria |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in order.iterrows():
        lines.append(
            f"| {r['serving']} | {r['search']} | {int(r['converged'])}/{int(r['runs'])} | "
            f"{int(r['certified'])}/{int(r['runs'])} | {r['check']} | "
            f"{r['user_welfare_mean']:.4f} | {r['user_welfare_min']:.4f} | "
            f"{r['user_welfare_max']:.4f} | {r['features_occupied']:.1f} | {r['tvd']:.3f} | "
            f"{int(r['distinct_equilibria'])} |"
        )
    eligible = table[(table["converged"] == table["runs"]) & (table["certified"] == table["runs"])]
    picked = pick(table)
    lines += ["", "Reading (generated from the table):", ""]
    if picked.empty:
        lines.append(
            "- No serving rule converged to a certified equilibrium in every run: none can be "
            "picked."
        )
    else:
        names = " = ".join(picked["serving"])
        tie = f" ({len(picked)} rules tie)" if len(picked) > 1 else ""
        lines.append(
            f"- Among the {len(eligible)} of {len(table)} rules whose every run converged to "
            f"a certified equilibrium, users are served best under {names}{tie} "
            f"({picked['user_welfare_mean'].max():.4f} per user, "
            f"{picked['features_occupied'].max():.1f} features occupied)."
        )
        most = eligible["features_occupied"].max()
        spread = eligible[eligible["features_occupied"] >= most - 1e-12]
        if len(spread) == 1:
            lines.append(
                f"- Producers spread most under {spread['serving'].iloc[0]} ({most:.1f} "
                "features occupied) among them."
            )
        else:
            lines.append(
                f"- {len(spread)} of them tie for the most features occupied ({most:.1f}); "
                f"among those users are served best under "
                f"{spread.loc[spread['user_welfare_mean'].idxmax(), 'serving']}."
            )
        soft = eligible[eligible["rule"] == "softmax"]
        if len(soft):
            top = soft.loc[soft["user_welfare_mean"].idxmax(), "temperature"]
            searched = table[table["rule"] == "softmax"]["temperature"]
            if top in (searched.min(), searched.max()):
                lines.append(
                    f"- Among certified softmax temperatures the best, {top:g}, lies at the "
                    "edge of the range searched."
                )
    excluded = table[~table.index.isin(eligible.index)]
    if len(excluded):
        reasons = [
            f"{r['serving']} ({int(r['converged'])}/{int(r['runs'])} converged, "
            f"{int(r['certified'])}/{int(r['runs'])} certified: {r['check']})"
            for _, r in excluded.iterrows()
        ]
        lines.append(f"- Not eligible: {'; '.join(reasons)}.")
    return [*lines, ""]


# ---------------------------------------------------------------------- README summary
def readme_summary(folder) -> str:
    """The README's reproduction summary, generated from the folder's tables (bullets)."""
    folder = Path(folder)
    tables = _read(folder)
    record = (
        json.loads((folder / "report.json").read_text())
        if (folder / "report.json").exists()
        else {}
    )
    bullets = []
    cells1, cells2 = tables.get("comparison_exp1"), tables.get("comparison_exp2")
    if cells2 is not None:
        gaps = cells2.groupby("dataset")["population_gap"].max().dropna()
        if len(gaps):
            bullets.append(
                "Populations: ours are the authors' instances for "
                + ", ".join(f"{d} (user_dist within {g:.0e})" for d, g in gaps.items())
                + "."
            )
        both = cells2[(cells2["ours_converged"] == True) & cells2["theirs_converged"]]  # noqa: E712
        if len(both):
            per = both.groupby("dataset")["identical"].agg(["sum", "size"])
            bullets.append(
                "Equilibria (exp2): the same count vector as the authors' in "
                + ", ".join(
                    f"{int(r['sum']):,} of {int(r['size']):,} converged cells of {d} "
                    f"({r['sum'] / r['size']:.1%})"
                    for d, r in per.iterrows()
                )
                + "."
            )
    if cells1 is not None:
        compared = cells1[cells1["z"].notna()]
        if len(compared):
            per = compared.groupby("dataset")["z"].apply(lambda z: (z.abs() > 3).mean())
            bullets.append(
                f"Iterations to equilibrium (exp1): {len(compared):,} cells compared by "
                "z-score; |z| > 3 in "
                + ", ".join(f"{v:.1%} of {d}'s" for d, v in per.items())
                + " cells."
            )
    disagreements = tables.get("disagreements")
    if disagreements is not None and len(disagreements):
        counts = disagreements["reason"].value_counts()
        bullets.append(
            f"{len(disagreements):,} exp2 cells end elsewhere than the authors': "
            + "; ".join(f"{count:,}: {reason}" for reason, count in counts.items())
            + "."
        )
    if cells2 is not None:
        ours = int((cells2["ours_converged"] == False).sum())  # noqa: E712
        theirs = int((~cells2["theirs_converged"] & cells2["ours_converged"].notna()).sum())
        bullets.append(
            f"Runs that did not converge within 500 switches (exp2, cells both sides ran): "
            f"{ours} of ours, {theirs} of the authors'."
        )
    certify = tables.get("certify")
    if certify is not None and len(certify):
        column = "equilibrium" if "equilibrium" in certify.columns else None
        basis = certify if column is None else certify[certify[column] == "basis"]
        engagement = (
            basis if "utility" not in basis.columns else basis[basis["utility"] == "engagement"]
        )
        gains = int((engagement["relative_continuous_gain"] > 1e-6).sum())
        servings = ", ".join(serving_order(engagement["serving"].unique()))
        bullets.append(
            f"Structural result (certify): {gains} of {len(engagement):,} producers at sampled "
            f"engagement equilibria ({servings}) gain more than 1e-6 (relative) by a "
            "continuous deviation."
        )
    variants = tables.get("variants")
    if variants is not None and "certificate" in variants.columns:
        passes = _passes(variants)
        parts = []
        for serving, block in sorted(variants.groupby("serving")):
            converged = int(block["converged"].sum())
            parts.append(f"{serving} {int(passes[block.index].sum())}/{converged}")
        bullets.append(
            "Later revision's rules (variants): converged runs whose equilibrium over basis "
            "vectors is certified over the simplex: " + ", ".join(parts) + "."
        )
    study = study_rows(tables)
    if study is not None:
        bullets.append(readme_line(study))
    stages = record.get("stages", {})
    if stages:
        study = {k: v for k, v in stages.items() if k.startswith(("compare", "sweep"))}
        analysis = {k: v for k, v in stages.items() if k.startswith(("welfare", "design"))}
        grid = sum(v for k, v in stages.items() if k not in study and k not in analysis)
        parts = [f"the paper's grid (embeddings, experiments, certify, figures) {_duration(grid)}"]
        if study:
            parts.append(f"the learning study {_duration(sum(study.values()))}")
        if analysis:
            parts.append(f"welfare and design {_duration(sum(analysis.values()))}")
        bullets.append(
            f"Time on {record.get('machine', 'this machine')}: "
            + ", ".join(parts)
            + " (every stage in the report)."
        )
    return "\n".join(f"* {b}" for b in bullets)


def readme_known_good(folder) -> str:
    """The README's known-good settings per library (:mod:`experiments.known_good`)."""
    from .known_good import known_good_lines

    study = study_rows(_read(Path(folder)))
    if study is None:
        return "No study rows in this folder: run `recsys-eq compare` first."
    return "\n".join(known_good_lines(study))


def _replace_block(text: str, begin: str, end: str, body: str, readme) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"{readme} has no '{begin}' ... '{end}' block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def update_readme(readme, folder) -> bool:
    """Rewrite the README's reproduction summary and its known-good settings table between
    their markers; True if either changed."""
    readme = Path(readme)
    text = readme.read_text()
    new = _replace_block(text, README_BEGIN, README_END, readme_summary(folder), readme)
    new = _replace_block(new, KNOWN_BEGIN, KNOWN_END, readme_known_good(folder), readme)
    if new != text:
        atomic_write_text(readme, new)
    return new != text
