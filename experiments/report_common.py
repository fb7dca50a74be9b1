"""What the report's modules share: the tables they read, and how a number is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DASH = "—"
REAL = ("movielens-100k", "rentrunway", "amazon-digital-music")
#: The raw file a dataset needs, for rows we could not run here.
NEEDS = {"amazon-digital-music": "amazon-digital-music/Digital_Music.csv"}
HEADLINE_DIM, HEADLINE_NS = 10, (10, 50, 100)


def markdown_table(header, rows) -> list[str]:
    """A Markdown table: ``header`` a sequence of column names, ``rows`` sequences of cells
    (already strings)."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


#: The results tables a report reads (``<name>.parquet``), when present.
TABLES = (
    "exp1", "exp2", "variants", "certify", "compare", "benchmarl", "sweep", "welfare", "design",
    "scenarios",
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


def _count(value) -> str:
    value = float(value)
    return DASH if np.isnan(value) else f"{value:.0f}"


def _fixed(value, digits: int) -> str:
    value = float(value)
    return DASH if np.isnan(value) else f"{value:.{digits}f}"
