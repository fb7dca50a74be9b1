"""A results table written incrementally and atomically, safe under concurrent writers.

Finished rows go to small Parquet *parts* (``<name>.parts/part-*.parquet``), each written to a
temporary file and renamed into place, so a part is either whole or absent whatever moment the
process dies. On the next run the finished keys are read back and skipped. ``consolidate``
merges the parts into the final table ``<name>.parquet`` (one row per run, sorted), again
atomically.

Several processes (and threads) may write into one folder at once: grids with different or
identical cells, a Dask client beside a local run. Every read of the table and the parts and
every consolidation holds an exclusive file lock (``<name>.lock``, via ``filelock``); a
consolidation deletes a part only after reading the new table back and finding every row of
the part in it; temporary files are swept only when the process that wrote them (named in the
file name: host and pid) is dead. Appending a part needs no lock: it is a new file, renamed
into place, that the next consolidation picks up.

Every row carries a ``fingerprint`` of the settings that made it beyond its key (seeds,
iteration budget, engine, tolerances, population generator): a finished key whose fingerprint
differs from the new run's is *stale*, never silently reused (:func:`plan`).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from filelock import FileLock

from recsys_eq_env._io import atomic_path, writer_is_dead

SORT = ["experiment", "dataset", "n_users", "dim", "n_producers", "embedding_seed", "rule",
        "temperature", "run"]  # fmt: skip
#: Seconds to wait for another process's consolidation before giving up with an error.
LOCK_TIMEOUT = 600.0


class StaleResultsError(ValueError):
    """Finished rows were made with other settings than the run that wants to reuse them."""


class ResultStore:
    """Parts under ``<name>.parts``, the final table ``<name>.parquet``.

    A row is identified by its ``unique`` columns (the run's ``key`` for grids; a study that
    writes many rows per unit of work adds columns); ``sort`` fixes the final order;
    ``required`` columns must be present in every part and table read back (a file of another
    schema is refused with an error naming it); ``validate`` checks every row of every part
    when it is read (it returns a description of the first bad row, or None), so a damaged or
    forged part is refused, never taken for finished work.
    """

    def __init__(
        self,
        directory,
        name: str,
        unique=("key",),
        sort=tuple(SORT),
        required: Iterable[str] = ("key", "fingerprint"),
        validate: Callable[[pd.DataFrame], str | None] | None = None,
    ):
        self.directory = Path(directory)
        self.validate = validate
        self.name = name
        self.unique = list(unique)
        self.sort = list(sort)
        self.required = sorted({*required, *unique})
        self.parts = self.directory / f"{name}.parts"
        self.table = self.directory / f"{name}.parquet"
        self.parts.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.directory / f"{name}.lock"
        with self._locked():
            for folder in (self.directory, self.parts):
                for tmp in folder.glob("*.tmp"):
                    if writer_is_dead(tmp):  # left by a process killed mid-write
                        tmp.unlink(missing_ok=True)

    def _locked(self):
        return FileLock(self._lock_path, timeout=LOCK_TIMEOUT)

    # ------------------------------------------------------------------ reading
    def _read(self, path: Path, columns=None) -> pd.DataFrame:
        frame = pd.read_parquet(path)
        missing = [c for c in self.required if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{path} lacks the columns {missing} of a {self.name!r} results table: it was "
                "written by something else or an older version; move it away or choose "
                "another --out"
            )
        if self.validate is not None and path != self.table:
            problem = self.validate(frame)
            if problem:
                raise ValueError(
                    f"{path} holds a row no run of {self.name!r} can produce ({problem}): it is "
                    "damaged or was edited; delete it and run again to recompute its rows"
                )
        return frame if columns is None else frame[list(columns)]

    def _frames(self, columns=None) -> tuple[list[Path], list[pd.DataFrame]]:
        """(parts read, frames): the table first, then every part in the order written."""
        parts = sorted(self.parts.glob("part-*.parquet"))
        sources = ([self.table] if self.table.exists() else []) + parts
        return parts, [self._read(path, columns) for path in sources]

    def finished(self, columns=("key", "fingerprint")) -> pd.DataFrame:
        """The given columns of every finished row (table and parts), newest last."""
        with self._locked():
            _, frames = self._frames(columns)
        if not frames:
            return pd.DataFrame(columns=list(columns))
        return pd.concat(frames, ignore_index=True)

    def finished_keys(self) -> set[str]:
        return set(self.finished(("key",))["key"])

    # ------------------------------------------------------------------ writing
    def append(self, rows: list[dict]) -> None:
        """Write rows as one new part, atomically (no lock: a new file, renamed into place)."""
        if not rows:
            return
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        atomic_parquet(pd.DataFrame(rows), self.parts / name)

    def consolidate(self, keys=None) -> pd.DataFrame:
        """Merge the parts into the final table; return its rows (only ``keys`` if given).

        Under the store's lock: read the table and every part, keep the newest row of each
        unique id (a recomputed stale row replaces the old one), write the table atomically,
        read it back, and delete only the parts whose rows are all in it. Nothing finished is
        ever deleted, also not the rows of other grids run into the same folder.
        """
        table = self._rewrite()
        if keys is not None:
            table = table[table["key"].isin(set(keys))].reset_index(drop=True)
        return table

    def drop(self, keys) -> None:
        """Delete every row of these keys (before they are computed again)."""
        self._rewrite(drop=set(keys))

    def _rewrite(self, drop=frozenset()) -> pd.DataFrame:
        with self._locked():
            merged, frames = self._frames()
            if not frames:
                return pd.DataFrame()
            table = pd.concat(frames, ignore_index=True).drop_duplicates(self.unique, keep="last")
            if drop:
                table = table[~table["key"].isin(drop)]
            table = table.sort_values([*self.sort, *self.unique], kind="stable")
            table = table.reset_index(drop=True)
            atomic_parquet(table, self.table)
            written = self._ids(self._read(self.table, self.unique))
            for path, frame in zip(merged, frames[len(frames) - len(merged) :], strict=True):
                kept = frame[~frame["key"].isin(drop)] if drop else frame
                if self._ids(kept) <= written:
                    path.unlink(missing_ok=True)
        return table

    def _ids(self, frame: pd.DataFrame) -> set[tuple]:
        return set(frame[self.unique].astype(str).itertuples(index=False, name=None))


def validate_grid_rows(frame: pd.DataFrame) -> str | None:
    """The first impossible row of a grid part (exp1, exp2, variants), or None: iterations
    within 0..max_iter, a run that did not converge used its whole budget, counts of the
    run's producers over its features, finite utilities."""
    need = ("iterations", "max_iter", "converged", "counts", "n_producers", "dim")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        return f"no column(s) {', '.join(missing)}"
    for i, row in enumerate(frame.itertuples(index=False)):
        iterations, budget = row.iterations, row.max_iter
        where = f"row {i} ({getattr(row, 'key', '?')})"
        if not 0 <= iterations <= budget:
            return f"{where}: iterations {iterations} outside 0..max_iter={budget}"
        if not row.converged and iterations != budget:
            return f"{where}: not converged after {iterations} of {budget} switches"
        counts = list(row.counts)
        if len(counts) != row.dim or sum(counts) != row.n_producers or min(counts) < 0:
            return f"{where}: counts {counts} are not {row.n_producers} producers on {row.dim}"
        for column in ("producer_utility_mean", "user_utility_mean"):
            value = getattr(row, column, 0.0)
            if not pd.notna(value) or abs(value) == float("inf"):
                return f"{where}: {column} is {value}"
    return None


# ---------------------------------------------------------------------- run identity
def fingerprint(settings: dict) -> str:
    """A short stable hash of the settings that change a row beyond its key."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    """What a run has to do against a store."""

    todo: list
    resumed: int
    stale: int


def plan(
    store: ResultStore,
    items: list,
    key: Callable[[object], str],
    print_of: Callable[[object], str],
    recompute: bool = False,
    describe: Callable[[pd.DataFrame, object], str] | None = None,
) -> Plan:
    """Split ``items`` into finished (same key and fingerprint), stale and new.

    A stale item (finished under another fingerprint) raises :class:`StaleResultsError` naming
    what differs, unless ``recompute`` is true: then it is run again and its new row replaces
    the old one.
    """
    finished = store.finished()
    known = dict(zip(finished["key"], finished["fingerprint"], strict=True))
    todo, resumed, stale = [], 0, []
    for item in items:
        seen = known.get(key(item))
        if seen == print_of(item):
            resumed += 1
        else:
            todo.append(item)
            if seen is not None:
                stale.append(item)
    if stale and not recompute:
        detail = describe(store.finished(None), stale[0]) if describe else ""
        raise StaleResultsError(
            f"{len(stale)} of the {len(items)} runs are already in {store.table.parent} "
            f"({store.name}) but were made with other settings{detail}; pass --recompute to "
            "run them again and replace those rows, or choose another --out"
        )
    return Plan(todo, resumed, len(stale))


# ---------------------------------------------------------------------- files
def atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file so that it is either whole or absent, whatever happens."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


#: The columns the report and the figures read from each table: a table without them was
#: written by another version (or is another table under this name).
_GRID = ("dataset", "dim", "n_producers", "embedding_seed", "serving", "converged", "iterations")
_STUDY = ("key", "task", "revision", "learner", "feedback", "engine", "step", "step_unit",
          "seed", "seed_index", "nash_conv_per_user", "seconds", "dim", "n_producers",
          "serving")  # fmt: skip
REQUIRED_COLUMNS = {
    "exp1": _GRID,
    "exp2": (*_GRID, "counts", "producer_dist", "user_dist", "user_utility_mean"),
    "variants": (*_GRID, "features_occupied", "tvd", "certificate", "certificate_gain"),
    "certify": ("utility", "equilibrium", "serving", "relative_continuous_gain"),
    "compare": _STUDY,
    "benchmarl": _STUDY,
    "welfare": (
        "serving", "equilibria", "certified_equilibria", "mixed_equilibria", "mixed_checks",
        "certified_mixed_equilibria", "optimum", "best_equilibrium", "worst_equilibrium",
        "price_of_anarchy", "pure_price_of_anarchy", "price_of_stability",
        "pure_price_of_stability", "better_response_cycle",
    ),
    "design": ("serving", "rule", "runs", "converged", "certified", "check", "user_welfare_mean"),
    "scenarios": ("scenario", "setting", "metric", "value"),
    "comparison_exp1": ("dataset", "serving", "z"),
    "comparison_exp2": ("dataset", "serving", "identical", "ours_counts", "theirs_counts"),
}  # fmt: skip
#: The command that writes each table.
WRITTEN_BY = {"exp1": "reproduce", "exp2": "reproduce", "variants": "reproduce",
              "certify": "reproduce", "comparison_exp1": "reproduce",
              "comparison_exp2": "reproduce", "benchmarl": "compare --table benchmarl"}  # fmt: skip


def check_schema(frame: pd.DataFrame, path, name: str) -> pd.DataFrame:
    """``frame``, or a ValueError naming the file and the columns it lacks."""
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in frame.columns]
    if missing:
        command = WRITTEN_BY.get(name, name)
        raise ValueError(
            f"{path} lacks the columns {', '.join(missing)}: it was written by another version "
            f"of recsys-eq or is not a {name} table; rerun `recsys-eq {command}` into that "
            "folder with --recompute, or choose another --out"
        )
    return frame


def load_table(directory, name: str) -> pd.DataFrame:
    """The consolidated table of an experiment; a clear error when it was never run or was
    written with another schema."""
    path = Path(directory) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"no results table {path}: run `recsys-eq {name} --out {directory}` first"
        )
    return check_schema(pd.read_parquet(path), path, name)
