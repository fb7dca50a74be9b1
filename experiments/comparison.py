"""Our results beside the authors' own tables, cell by cell (``experiments/paper/``).

* exp1 (iterations to equilibrium): per (dataset, serving, dim, n, embedding seed), the mean
  number of switches of converged runs on both sides, their standard errors and the two-sample
  z-score ``(ours - theirs) / sqrt(se_ours^2 + se_theirs^2)``; the runs are independent draws
  of the same dynamics on the same population, so |z| > 3 should be rare (0.27% of cells by
  chance).
* exp2 (equilibria): per (dataset, serving, dim, n, embedding seed), whether both runs ended
  on the same count vector (the same population has the same feature labels), and the
  relative differences of the average producer and user utility, features occupied and the
  total variation distance between producer and user distributions.
* Disagreements: every exp2 cell whose equilibria differ, with the reason the data give
  (one side did not converge; both count vectors are equilibria of our game, so the game
  has several and the two runs found different ones; or the authors' end state is not an
  equilibrium of our game), largest utility difference first; and the exp1 cells with
  |z| > 3, largest first.

Same populations are checked, not assumed: every cell records the largest difference between
our and the authors' ``user_dist``.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd

import recsys_eq_env as rq

from .config import serving_label

#: Their column -> ours.
UTILITY_COLUMNS = {
    "total_prod_util": "producer_utility_total",
    "avg_prod_util": "producer_utility_mean",
    "max_prod_util": "producer_utility_max",
    "min_prod_util": "producer_utility_min",
    "total_user_util": "user_utility_total",
    "avg_user_util": "user_utility_mean",
    "max_user_util": "user_utility_max",
    "min_user_util": "user_utility_min",
}
CELL = ["dataset", "serving", "dim", "n_producers", "embedding_seed"]
#: Populations whose user_dist differ by more than this are different instances.
SAME_POPULATION = 1e-9


def load_authors(name: str) -> pd.DataFrame:
    """The authors' ``exp1`` or ``exp2`` table, with our column names and serving labels."""
    path = resources.files("experiments") / "paper" / f"{name}_{_FILES[name]}.csv.gz"
    with path.open("rb") as handle:
        table = pd.read_csv(handle, compression="gzip")
    table = table.rename(columns=UTILITY_COLUMNS)
    # The authors store -1 as every utility of a run that did not converge: not a number.
    stuck = ~table["converged"].astype(bool)
    table.loc[stuck, list(UTILITY_COLUMNS.values())] = np.nan
    table["serving"] = [
        serving_label(r, None if np.isnan(t) else float(t))
        for r, t in zip(table["rule"], table["temperature"], strict=True)
    ]
    table["counts"] = table["counts"].map(json.loads)
    table["user_dist"] = table["user_dist"].map(json.loads)
    return table


_FILES = {"exp1": "iterations", "exp2": "equilibria"}


def _population_gap(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.Series:
    """Per cell: the largest |user_dist ours - theirs| (inf where a side is missing)."""
    a = ours.drop_duplicates(CELL).set_index(CELL)["user_dist"]
    b = theirs.drop_duplicates(CELL).set_index(CELL)["user_dist"]
    joined = pd.concat([a.rename("ours"), b.rename("theirs")], axis=1, join="inner")
    return pd.Series(
        [
            float(np.abs(np.asarray(o) - np.asarray(t)).max()) if len(o) == len(t) else np.inf
            for o, t in zip(joined["ours"], joined["theirs"], strict=True)
        ],
        index=joined.index,
        name="population_gap",
    )


# ---------------------------------------------------------------------- exp1
def compare_exp1(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """One row per cell present on both sides (theirs alone: ours is NaN)."""

    def stats(table, side):
        done = table[table["converged"]]
        grouped = done.groupby(CELL)["iterations"]
        out = pd.DataFrame(
            {
                f"{side}_mean": grouped.mean(),
                f"{side}_se": grouped.sem(),
                f"{side}_converged": grouped.size(),
            }
        )
        out[f"{side}_runs"] = table.groupby(CELL).size()
        return out

    a, b = stats(ours, "ours"), stats(theirs, "theirs")
    cells = b.join(a, how="left")
    cells["ours_converged"] = cells["ours_converged"].fillna(0)
    spread = np.sqrt(cells["ours_se"].fillna(0) ** 2 + cells["theirs_se"].fillna(0) ** 2)
    diff = cells["ours_mean"] - cells["theirs_mean"]
    z = diff / spread.where(spread > 0)
    z[(spread == 0) & (diff == 0)] = 0.0
    cells["z"] = z
    cells["relative_difference"] = diff / cells["theirs_mean"]
    cells = cells.join(_population_gap(ours, theirs), how="left")
    return cells.reset_index()


def summarise_exp1(cells: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and serving: cells compared, share with |z| > 2 and > 3, mean relative
    difference of the mean iterations."""
    rows = []
    for (dataset, serving), block in cells.groupby(["dataset", "serving"]):
        compared = block[block["z"].notna()]
        rows.append(
            {
                "dataset": dataset,
                "serving": serving,
                "cells (authors)": len(block),
                "cells compared": len(compared),
                "|z| > 2": (compared["z"].abs() > 2).mean() if len(compared) else np.nan,
                "|z| > 3": (compared["z"].abs() > 3).mean() if len(compared) else np.nan,
                "mean relative difference": compared["relative_difference"].mean()
                if len(compared)
                else np.nan,
                "largest population gap": block["population_gap"].max(),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- exp2
def compare_exp2(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """One row per cell of the authors' table; ours joined where we ran it."""
    keep = [
        "converged",
        "iterations",
        "counts",
        "producer_utility_mean",
        "user_utility_mean",
    ]
    a = ours.drop_duplicates(CELL).set_index(CELL)[[*keep, "user_dist", "n_users"]]
    b = theirs.drop_duplicates(CELL).set_index(CELL)[[*keep, "user_dist"]]
    cells = b.add_prefix("theirs_").join(a.add_prefix("ours_"), how="left")
    have = cells["ours_counts"].notna()
    cells["identical"] = [
        bool(h) and list(o) == list(t)
        for h, o, t in zip(have, cells["ours_counts"], cells["theirs_counts"], strict=True)
    ]
    for metric in ("producer_utility_mean", "user_utility_mean"):
        cells[f"{metric}_relative_difference"] = (
            cells[f"ours_{metric}"] - cells[f"theirs_{metric}"]
        ) / cells[f"theirs_{metric}"].abs()
    for side in ("ours", "theirs"):
        counts = cells[f"{side}_counts"]
        users = cells[f"{side}_user_dist"]
        cells[f"{side}_features_occupied"] = [
            np.nan if not isinstance(c, (list, np.ndarray)) else int((np.asarray(c) > 0).sum())
            for c in counts
        ]
        cells[f"{side}_tvd"] = [
            np.nan
            if not isinstance(c, (list, np.ndarray))
            else rq.total_variation(rq.producer_distribution(c), u)
            for c, u in zip(counts, users, strict=True)
        ]
    gap = _population_gap(ours, theirs)
    cells = cells.join(gap, how="left")
    cells = cells.drop(columns=["ours_user_dist", "theirs_user_dist"])
    return cells.reset_index()


def summarise_exp2(cells: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and serving: cells where both converged, the share with identical
    equilibria, mean |relative difference| of average producer and user utility, and mean
    features occupied and TV distance on each side over the same cells."""
    rows = []
    for (dataset, serving), block in cells.groupby(["dataset", "serving"]):
        both = block[(block["ours_converged"] == True) & block["theirs_converged"]]  # noqa: E712
        rows.append(
            {
                "dataset": dataset,
                "serving": serving,
                "cells (authors)": len(block),
                "both converged": len(both),
                "identical equilibria": both["identical"].mean() if len(both) else np.nan,
                "mean |rel. diff.| producer utility": both[
                    "producer_utility_mean_relative_difference"
                ]
                .abs()
                .mean(),
                "mean |rel. diff.| user utility": both["user_utility_mean_relative_difference"]
                .abs()
                .mean(),
                "features occupied: ours": both["ours_features_occupied"].mean(),
                "features occupied: theirs": both["theirs_features_occupied"].mean(),
                "TV distance: ours": both["ours_tvd"].mean(),
                "TV distance: theirs": both["theirs_tvd"].mean(),
                "not converged: ours": int((block["ours_converged"] == False).sum()),  # noqa: E712
                "not converged: theirs": int((~block["theirs_converged"]).sum()),
            }
        )
    return pd.DataFrame(rows)


def explain(cells: pd.DataFrame, game_of) -> pd.DataFrame:
    """The exp2 cells whose equilibria differ, with the reason the data give, largest
    relative difference of average producer utility first.

    ``game_of(row)`` returns our game of a cell; the authors' count vector is checked with it
    (``is_nash`` over basis vectors, the paper's check).
    """
    differ = cells[cells["ours_counts"].notna() & ~cells["identical"]].copy()
    reasons, regrets = [], []
    for _, row in differ.iterrows():
        if row["population_gap"] > SAME_POPULATION:
            reasons.append(
                f"different populations (user_dist differ by {row['population_gap']:.1e})"
            )
            regrets.append(np.nan)
            continue
        if not row["ours_converged"] and not row["theirs_converged"]:
            reasons.append("neither run converged within the iteration budget")
            regrets.append(np.nan)
            continue
        if not row["ours_converged"] or not row["theirs_converged"]:
            side = "ours" if not row["ours_converged"] else "the authors'"
            reasons.append(f"{side} did not converge within the iteration budget")
            regrets.append(np.nan)
            continue
        game = game_of(row)
        theirs = np.asarray(row["theirs_counts"], dtype=np.int64)
        analysis = game.analyse_counts(theirs, deviations="basis")
        regret = float(analysis.regrets.max())
        regrets.append(regret / max(float(analysis.utilities.max()), 1e-300))
        if not analysis.improving.any():
            reasons.append(
                "both are equilibria: the game has several, the runs found different ones"
            )
        else:
            reasons.append("the authors' end state is not an equilibrium of our game")
    differ["reason"] = reasons
    differ["authors_relative_regret"] = regrets
    order = differ["producer_utility_mean_relative_difference"].abs()
    order = order.sort_values(ascending=False, na_position="last")
    return differ.loc[order.index].reset_index(drop=True)


# ---------------------------------------------------------------------- files
FILES = ("comparison_exp1.csv", "comparison_exp2.csv", "disagreements.csv")


def write_comparisons(folder, generator: str = "default") -> list:
    """Compare the folder's exp1 and exp2 tables with the authors', cell by cell, and write
    ``comparison_exp1.csv``, ``comparison_exp2.csv`` and ``disagreements.csv`` (atomically);
    return their paths. ``generator`` names how the folder's synthetic users were drawn."""
    from pathlib import Path

    from recsys_eq_env._io import atomic_write_text

    from .populations import game

    folder = Path(folder)
    ours1 = pd.read_parquet(folder / "exp1.parquet")
    ours2 = pd.read_parquet(folder / "exp2.parquet")
    cells1 = compare_exp1(ours1, load_authors("exp1"))
    cells2 = compare_exp2(ours2, load_authors("exp2"))

    def game_of(row):
        synthetic = row["dataset"] in ("synthetic-uniform", "synthetic-skewed")
        rule = "linear" if row["serving"] == "linear" else "softmax"
        tau = None if rule == "linear" else float(row["serving"].split("@")[1])
        return game(
            row["dataset"],
            int(row["ours_n_users"]) if synthetic else 0,
            int(row["dim"]),
            int(row["embedding_seed"]),
            int(row["n_producers"]),
            rule,
            tau,
            generator=generator if synthetic else "default",
        )

    disagreements = explain(cells2, game_of)
    paths = []
    for name, table in zip(FILES, (cells1, cells2, disagreements), strict=True):
        table = table.copy()
        for column in table.columns:
            if table[column].map(lambda v: isinstance(v, (list, np.ndarray))).any():
                table[column] = table[column].map(
                    lambda v: (
                        json.dumps(np.asarray(v).tolist())
                        if isinstance(v, (list, np.ndarray))
                        else ""
                    )
                )
        atomic_write_text(folder / name, table.to_csv(index=False, float_format="%.6g"))
        paths.append(folder / name)
    return paths
