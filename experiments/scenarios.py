"""``recsys-eq scenarios``: every registered scenario's headline result, as one table.

Each scenario's rows (``recsys_eq_env.zoo.COLUMNS``) come from its ``reproduce()``; the table
``scenarios.parquet`` is rewritten atomically after every scenario, so an interrupted run
keeps the scenarios it finished and a rerun does only the rest (``recompute`` redoes them).
The figure puts each scenario's measured quantity in one panel.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_eq_env import zoo

from .store import atomic_parquet

__all__ = ["run_scenarios", "scenarios_figure"]


def run_scenarios(out, only=None, recompute: bool = False, progress: bool = True):
    """(table, seconds per scenario run now) for the scenarios ``only`` (default: all).

    Several runs may write into one folder at once: each scenario's rows are merged into the
    table on disk under the folder's lock (read, merge, replace atomically), so no run loses
    another's rows.
    """
    from filelock import FileLock
    from tqdm.auto import tqdm

    ids = list(zoo.scenarios()) if only is None else [zoo.spec(name).id for name in only]
    path = Path(out) / "scenarios.parquet"
    order = {s: i for i, s in enumerate(zoo.scenarios())}
    table = _read(path)
    seconds = {}
    for name in tqdm(ids, desc="scenarios", unit="scenario", disable=not progress):
        if not recompute and (table["scenario"] == name).any():
            continue
        start = time.perf_counter()
        rows = pd.DataFrame(zoo.spec(name).reproduce(), columns=list(zoo.COLUMNS))
        seconds[name] = time.perf_counter() - start
        with FileLock(Path(out) / "scenarios.lock", timeout=600):
            table = _read(path)  # what other runs wrote meanwhile
            kept = table[table["scenario"] != name]
            table = pd.concat([kept, rows], ignore_index=True) if len(kept) else rows
            table = table.sort_values("scenario", key=lambda s: s.map(order), kind="stable")
            table = table.reset_index(drop=True)
            atomic_parquet(table, path)
    return table, seconds


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.exists() else pd.DataFrame(columns=list(zoo.COLUMNS))


def _panel(ax, rows, metric, title, ylabel, reduce="mean"):
    settings = list(dict.fromkeys(rows.loc[rows["metric"] == metric, "setting"]))
    heights = []
    for s in settings:
        v = rows.loc[(rows["metric"] == metric) & (rows["setting"] == s), "value"].to_numpy()
        heights.append(np.nanmax(v) if reduce == "max" else np.nanmean(v))
    ax.bar(range(len(settings)), heights, color="tab:blue")
    ax.set_xticks(range(len(settings)), settings, rotation=60, ha="right", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)


def _jagadeesan(ax, rows):
    finest = rows["setting"].str.extract(r"levels=(\d+)")[0].astype(float).max()
    for genres, metric, label in (
        (2, "worst correlated profit", "two genres: worst CE"),
        (1, "best correlated profit", "homogeneous: best CE"),
    ):
        keep = (rows["metric"] == metric) & rows["setting"].str.contains(
            f"levels={int(finest)}, genres={genres}"
        )
        part = rows[keep]
        betas = part["setting"].str.extract(r"beta=([\d.]+)")[0].astype(float)
        ax.plot(betas, part["value"], "o-", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("cost exponent beta", fontsize=8)
    ax.set_ylabel("profit per producer per user", fontsize=8)
    ax.set_title(f"jagadeesan-supply-v0 ({int(finest)} norms)", fontsize=9)
    ax.legend(fontsize=7)


def scenarios_figure(table: pd.DataFrame):
    """One panel per scenario: the quantity its verdict reads."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5, figsize=(20, 4.2), constrained_layout=True)
    panels = {
        "acharya-engagement-v0": ("features occupied", "acharya-engagement-v0", "features"),
        "yao-topk-v0": ("random price of anarchy", "yao-topk-v0: worst PoA", "price of anarchy"),
        "benporat-top-v0": ("no pure equilibrium", "benporat-top-v0", "instances without NE"),
        "hron-exposure-simplex-v0": (
            "features occupied", "hron-exposure-simplex-v0", "features"
        ),
    }  # fmt: skip
    for ax, name in zip(axes, zoo.scenarios(), strict=False):
        rows = table[table["scenario"] == name]
        if rows.empty:
            ax.set_axis_off()
        elif name == "jagadeesan-supply-v0":
            _jagadeesan(ax, rows)
        else:
            metric, title, ylabel = panels[name]
            _panel(ax, rows, metric, title, ylabel, "max" if name == "yao-topk-v0" else "mean")
            if name == "yao-topk-v0":
                ax.axhline(2.0, color="grey", ls="--", lw=1, label="threshold tested")
                ax.legend(fontsize=7)
    fig.suptitle("The scenario zoo: each paper's headline quantity, as measured here")
    return fig
