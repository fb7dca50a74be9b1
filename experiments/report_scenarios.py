"""The report's scenario-zoo section and the docs page (``SCENARIOS.md``), from
``scenarios.parquet``: each scenario's claim (the module's quotation and its source), the
measurable form tested, our number and whether the claim holds, all read from the table by
the scenario's own ``verdict``."""

from __future__ import annotations

import pandas as pd

from recsys_eq_env import zoo

from .report_common import _cell, markdown_table


def _verdicts(table: pd.DataFrame) -> list[tuple]:
    """(spec, rows, our number, holds) per scenario in the table, in registry order."""
    out = []
    for name in zoo.scenarios():
        rows = table[table["scenario"] == name]
        if len(rows):
            spec = zoo.spec(name)
            text, holds = spec.verdict(rows)
            out.append((spec, rows, text, holds))
    return out


def _summary(verdicts) -> list[str]:
    return markdown_table(
        ("id", "model", "paper", "result reproduced", "holds?"),
        [
            (f"`{spec.id}`", spec.model, spec.paper, spec.claim, "yes" if holds else "**no**")
            for spec, _, _, holds in verdicts
        ],
    )


def _rows_table(rows: pd.DataFrame) -> list[str]:
    """Setting x metric, the mean over a setting's runs (with how many)."""
    metrics = list(dict.fromkeys(rows["metric"]))
    body = []
    for setting in dict.fromkeys(rows["setting"]):
        part = rows[rows["setting"] == setting]
        cells = []
        for metric in metrics:
            v = part.loc[part["metric"] == metric, "value"]
            if v.empty:
                cells.append("")
            elif len(v) == 1:
                cells.append(_cell(v.iloc[0]))
            else:
                cells.append(f"{_cell(v.mean())} (mean of {len(v)})")
        body.append((setting, *cells))
    return markdown_table(("setting", *metrics), body)


def scenarios_section(table: pd.DataFrame, heading: str = "##") -> list[str]:
    """The report's section: the summary table, then one subsection per scenario."""
    verdicts = _verdicts(table)
    if not verdicts:
        return []
    held = sum(holds for *_, holds in verdicts)
    lines = [
        f"{heading} The scenario zoo: other papers' models, one headline result each",
        "",
        f"{len(verdicts)} scenarios (`recsys_eq_env.scenarios()`), each a PettingZoo env from "
        f"`recsys_eq_env.make(id)` on this library's game core; the claim of {held} of them "
        "holds in the measurable form stated. Quotations are the papers' words; where a model "
        "here differs from the paper's, the scenario's page says how. Table "
        "`scenarios.parquet`, written by `recsys-eq scenarios`.",
        "",
        *_summary(verdicts),
        "",
    ]
    for spec, rows, text, holds in verdicts:
        lines += [
            f"{heading}# `{spec.id}`",
            "",
            f"{spec.paper}. Claim ({spec.source}): {spec.claim}.",
            "",
            f"Measured: {spec.measure}.",
            "",
            f"Ours: {text}. **{'Holds' if holds else 'Does not hold'}.**",
            "",
            *_rows_table(rows),
            "",
        ]
    return lines


def scenarios_page(table: pd.DataFrame) -> str:
    """``SCENARIOS.md``: the docs page, the same section as a page of its own."""
    lines = scenarios_section(table, heading="#")
    if not lines:
        return "# The scenario zoo\n\nNo scenarios run yet: `recsys-eq scenarios`.\n"
    lines[0] = "# The scenario zoo"
    lines[2:2] = ["![fig9_scenarios](figures/fig9_scenarios.png)", ""]
    return "\n".join(lines) + "\n"


__all__ = ["scenarios_page", "scenarios_section"]
