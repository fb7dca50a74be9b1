"""A results table written incrementally and atomically, so that a killed grid resumes.

Finished rows go to small Parquet *parts* (``<name>.parts/part-*.parquet``), each written to a
temporary file and renamed into place, so a part is either whole or absent whatever moment the
process dies. On the next run the finished keys are read back and skipped. ``consolidate``
writes the final table ``<name>.parquet`` (one row per run, sorted by key, duplicates
dropped), again atomically; a rerun of a finished grid rewrites the same table.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pandas as pd

SORT = ["experiment", "dataset", "n_users", "dim", "n_producers", "embedding_seed", "rule",
        "temperature", "run"]  # fmt: skip


class ResultStore:
    """Parts under ``<name>.parts``, the final table ``<name>.parquet``.

    A row is identified by its ``unique`` columns (the run's ``key`` for grids; a study that
    writes many rows per unit of work adds columns); ``sort`` fixes the final order.
    """

    def __init__(self, directory, name: str, unique=("key",), sort=tuple(SORT)):
        self.directory = Path(directory)
        self.name = name
        self.unique = list(unique)
        self.sort = list(sort)
        self.parts = self.directory / f"{name}.parts"
        self.table = self.directory / f"{name}.parquet"
        self.parts.mkdir(parents=True, exist_ok=True)
        for stale in self.parts.glob("*.tmp"):  # left by a process killed mid-write
            stale.unlink(missing_ok=True)

    def _frames(self) -> list[pd.DataFrame]:
        frames = []
        sources = sorted(self.parts.glob("part-*.parquet"))
        if self.table.exists():
            sources.insert(0, self.table)
        for path in sources:
            frames.append(pd.read_parquet(path))
        return frames

    def finished_keys(self) -> set[str]:
        keys: set[str] = set()
        for frame in self._frames():
            keys.update(frame["key"])
        return keys

    def append(self, rows: list[dict]) -> None:
        """Write rows as one new part, atomically."""
        if not rows:
            return
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        _atomic_parquet(pd.DataFrame(rows), self.parts / name)

    def consolidate(self, keys=None) -> pd.DataFrame:
        """Merge the parts into the final table; return its rows (only ``keys`` if given).

        The file keeps every finished row, also those of other grids run into the same
        directory: nothing finished is ever deleted.
        """
        merged = sorted(self.parts.glob("part-*.parquet"))
        frames = self._frames()
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True).drop_duplicates(self.unique, keep="first")
        table = table.sort_values([*self.sort, *self.unique], kind="stable")
        table = table.reset_index(drop=True)
        _atomic_parquet(table, self.table)
        for path in merged:  # now inside the table
            path.unlink(missing_ok=True)
        if keys is not None:
            table = table[table["key"].isin(set(keys))].reset_index(drop=True)
        return table


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_table(directory, name: str) -> pd.DataFrame:
    """The consolidated table of an experiment; a clear error when it was never run."""
    path = Path(directory) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"no results table {path}: run `recsys-eq {name} --out {directory}` first"
        )
    return pd.read_parquet(path)
