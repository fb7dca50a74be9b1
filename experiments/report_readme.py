"""The README's generated blocks: the reproduction summary and the known-good settings per
library, each between markers, each checked by a test against the committed tables."""

from __future__ import annotations

import json
from pathlib import Path

from recsys_eq_env._io import atomic_write_text

from .config import serving_order
from .report_certify import _passes
from .report_common import _duration, _read
from .report_learning import readme_line, study_rows

README_BEGIN, README_END = (
    "<!-- reproduction summary: begin -->",
    "<!-- reproduction summary: end -->",
)
KNOWN_BEGIN, KNOWN_END = (
    "<!-- known-good settings: begin -->",
    "<!-- known-good settings: end -->",
)


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
        zoo = {k: v for k, v in stages.items() if k.startswith("scenario")}
        grid = sum(
            v for k, v in stages.items() if k not in study and k not in analysis and k not in zoo
        )
        parts = [f"the paper's grid (embeddings, experiments, certify, figures) {_duration(grid)}"]
        if study:
            parts.append(f"the learning study {_duration(sum(study.values()))}")
        if analysis:
            parts.append(f"welfare and design {_duration(sum(analysis.values()))}")
        if zoo:
            parts.append(f"the scenario zoo {_duration(sum(zoo.values()))}")
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
