"""Ratings tables: validation, and the parsing of each dataset's raw file (with the paper's
cleaning)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from .. import _checks
from .registry import DUPLICATE_POLICIES, DatasetInfo


def check_ratings(ratings, rating_scale=(1.0, 5.0), duplicates: str = "keep"):
    """A clean DataFrame[user_id, item_id, rating] or a ValueError/TypeError saying why not."""
    import pandas as pd

    duplicates = _checks.check_choice(duplicates, "duplicates", DUPLICATE_POLICIES)
    low, high = _check_scale(rating_scale)
    if isinstance(ratings, pd.DataFrame):
        frame = ratings
    else:
        try:
            frame = pd.DataFrame(np.asarray(ratings, dtype=object))
        except Exception as exc:
            raise TypeError(f"ratings must be a table of (user, item, rating): {exc}") from None
    if frame.ndim != 2 or frame.shape[1] < 3:
        raise ValueError(f"ratings must have 3 columns (user, item, rating), got {frame.shape}")
    if {"user_id", "item_id", "rating"} <= set(frame.columns):
        frame = frame[["user_id", "item_id", "rating"]]
    else:
        frame = frame.iloc[:, :3]
    frame = frame.set_axis(["user_id", "item_id", "rating"], axis=1)
    if len(frame) == 0:
        raise ValueError("ratings is empty: need at least one (user, item, rating) row")
    values = pd.to_numeric(frame["rating"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"ratings has a non-numeric or missing rating in row {row}: "
            f"{frame['rating'].iloc[row]!r}"
        )
    outside = (values < low) | (values > high)
    if outside.any():
        row = int(np.flatnonzero(outside.to_numpy())[0])
        raise ValueError(
            f"ratings has {int(outside.sum())} values outside the rating scale "
            f"{low:g}..{high:g} (e.g. {float(values.iloc[row]):g} in row {row}); pass "
            "rating_scale=(low, high) if the table uses another scale"
        )
    if frame["user_id"].isna().any() or frame["item_id"].isna().any():
        raise ValueError("ratings has missing user or item ids")
    frame = frame.assign(rating=values.astype(float))
    dup = frame.duplicated(["user_id", "item_id"], keep=False)
    if dup.any():
        if duplicates == "error":
            first = frame[dup].iloc[0]
            raise ValueError(
                f"ratings has {int(frame.duplicated(['user_id', 'item_id']).sum())} duplicate "
                f"(user, item) pairs, e.g. ({first['user_id']!r}, {first['item_id']!r}); pass "
                "duplicates='keep', 'mean' or 'last'"
            )
        if duplicates == "mean":
            frame = frame.groupby(["user_id", "item_id"], sort=False, as_index=False)["rating"]
            frame = frame.mean()
        elif duplicates == "last":
            frame = frame.drop_duplicates(["user_id", "item_id"], keep="last")
    return frame.reset_index(drop=True)


def _check_scale(rating_scale):
    try:
        low, high = (float(v) for v in rating_scale)
    except (TypeError, ValueError):
        raise TypeError(f"rating_scale must be a pair (low, high), got {rating_scale!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"rating_scale must be finite with low < high, got {rating_scale!r}")
    return low, high


def read_ratings(info: DatasetInfo, path: Path):
    """Parse a raw file into DataFrame[user_id, item_id, rating], with the paper's cleaning."""
    import pandas as pd

    spec = next(f for f in info.files if path.as_posix().endswith(f.path))
    try:
        frame = _parse(spec, path)
    except (EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # truncated or non-gzip archives, bad JSON lines: one message naming the file
        raise ValueError(
            f"{path}: cannot be read as the {info.name} raw file ({type(exc).__name__}: "
            f"{exc}); the file is damaged or not the dataset's release: delete it to fetch it "
            "again"
        ) from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: cannot be parsed as {info.name} ratings ({exc})") from exc
    missing = [c for c in ("user_id", "item_id", "rating") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)} in the {info.name} file")
    frame = check_ratings(frame[["user_id", "item_id", "rating"]], info.rating_scale)
    if len(frame) != spec.rows:
        raise ValueError(
            f"{path}: expected {spec.rows:,} ratings, found {len(frame):,}; the file is "
            "incomplete or not the dataset's official release"
        )
    return frame


def _parse(spec, path: Path):
    import pandas as pd

    if spec.kind == "movielens":
        frame = pd.read_csv(
            path, sep="\t", header=None, names=["user_id", "item_id", "rating", "timestamp"]
        )
    elif spec.kind == "rentrunway-json":
        frame = _rentrunway_from_json(path)
    elif spec.kind == "amazon":
        frame = _amazon(path)
    else:
        frame = pd.read_csv(path)
    return frame


def _rentrunway_from_json(path: Path):
    """The paper's preprocessing: drop missing ratings, map the 2..10 scale to 1..5 (r / 2)."""
    import pandas as pd

    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                records.append((entry.get("user_id"), entry.get("item_id"), entry.get("rating")))
    frame = pd.DataFrame(records, columns=["user_id", "item_id", "rating"])
    frame["rating"] = pd.to_numeric(frame["rating"], errors="coerce")
    frame = frame.dropna(subset=["rating"])
    frame["rating"] = frame["rating"] / 2.0
    return frame


def _amazon(path: Path):
    """McAuley's ratings-only CSV: item, user, rating, timestamp; with or without a header."""
    import pandas as pd

    with open(path, encoding="utf-8") as handle:
        first = handle.readline().split(",")
    header = len(first) > 2 and not _is_number(first[2])
    frame = pd.read_csv(
        path,
        header=0 if header else None,
        names=["item_id", "user_id", "rating", "timestamp"],
        dtype={"item_id": str, "user_id": str},
    )
    return frame[["user_id", "item_id", "rating"]]


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
