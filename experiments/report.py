"""REPRODUCTION.md: our numbers beside the authors' own tables, from the results tables.

Every number and every sentence of the report is generated here from the committed tables
(``exp1/exp2/variants/certify/compare/sweep.parquet``, the comparison CSVs that
``recsys-eq reproduce`` writes, ``report.json`` for commands and stage times); a claim the
tables cannot show is not made. The README's reproduction summary is the same generator's
:func:`readme_summary`, kept in the README between markers and checked by a test.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from filelock import FileLock

from recsys_eq_env._io import atomic_write_text

from .report_analysis import _design_section, _welfare_section
from .report_certify import _certify_populations, _certify_section, _variants_section
from .report_common import TABLES, _cores, _duration, _read
from .report_learning import leaderboard_page, learning_section, study_rows
from .report_paper import (
    _convergence_section,
    _disagreements_section,
    _exp1_section,
    _exp2_section,
    _headline_section,
    _populations_section,
)
from .report_readme import (
    KNOWN_BEGIN,
    KNOWN_END,
    README_BEGIN,
    README_END,
    readme_known_good,
    readme_summary,
    update_readme,
)
from .report_scenarios import scenarios_page, scenarios_section


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
    if "scenarios" in tables:
        lines += scenarios_section(tables["scenarios"])
        atomic_write_text(folder / "SCENARIOS.md", scenarios_page(tables["scenarios"]))
    figures = sorted((folder / "figures").glob("*.png"))
    if figures:
        lines += ["## Figures", ""]
        for fig in figures:
            lines += [f"![{fig.stem}]({fig.relative_to(folder).as_posix()})", ""]
    path = folder / "REPRODUCTION.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


__all__ = [
    "KNOWN_BEGIN",
    "KNOWN_END",
    "README_BEGIN",
    "README_END",
    "TABLES",
    "build_report",
    "readme_known_good",
    "readme_summary",
    "record_invocation",
    "update_readme",
]
