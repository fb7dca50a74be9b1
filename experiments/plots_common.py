"""What the figure modules share: grids, colours, error bars, and saving a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from recsys_eq_env._io import atomic_path

USER_COLOUR, PRODUCER_COLOUR = "tab:blue", "tab:orange"


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
