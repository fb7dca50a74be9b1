"""The later revision's rules (variants) and the certificates over the simplex (certify): their
sections of REPRODUCTION.md."""

from __future__ import annotations

import pandas as pd

from .config import serving_order
from .report_common import DASH, _cell, _list


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
