"""Real user populations from ratings, by the paper's NMF protocol (MODEL.md section 4).

``load_users(name, dim, seed)`` returns L1-normalised user embeddings for MovieLens-100k,
RentTheRunway or Amazon Digital Music; ``users_from_ratings(ratings, dim, seed)`` does the same
for any table of (user, item, rating).

The protocol, exactly as the authors ran it: seed NumPy's *global legacy* RNG with the
embedding seed, run ``surprise.NMF(n_factors=dim)`` under
``surprise.model_selection.cross_validate(algo, data, cv=5)`` and keep ``algo.pu`` of the last
fold (users absent from that fold's training set drop out); then L1-normalise the rows. On
MovieLens-100k with dim 5 and seed 5 this reproduces the authors' committed factors bit for bit.
The global RNG state is restored afterwards, so callers' RNG streams are not disturbed.

Raw files live in a data folder (``data_home``, else ``$RECSYS_EQ_DATA``, else
``~/.cache/recsys-eq-env/data``), one sub-folder per dataset. Missing files are downloaded from
their official sources with a progress bar and verified: against a published checksum where
one exists, and always by row count; the SHA-256 of what was accepted is recorded beside it
and checked on every later load. Embeddings are cached per (dataset, dim, seed, protocol
version) in ``cache_home`` (else ``$RECSYS_EQ_CACHE``, else ``~/.cache/recsys-eq-env``); cache
writes are atomic and a cached file whose SHA-256 does not match its manifest is rebuilt.

MovieLens may not be redistributed: nothing here ships rating data.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _checks
from ._io import atomic_path, atomic_write_bytes

PROTOCOL_VERSION = 1
DUPLICATE_POLICIES = ("keep", "mean", "last", "error")


class DatasetUnavailableError(FileNotFoundError):
    """A raw data file is missing and could not be downloaded."""


@dataclass(frozen=True)
class RawFile:
    """One way to obtain a dataset's ratings."""

    path: str  # relative to the data folder
    urls: tuple[str, ...]  # official source first, then mirrors
    rows: int  # ratings after parsing (an integrity check)
    sha256: str | None = None  # of the file itself, when known
    archive_md5: str | None = None  # of the downloaded archive, when published
    archive_member: str | None = None  # the file inside a zip archive
    kind: str = "csv"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    files: tuple[RawFile, ...] = field(repr=False)  # the first one present is used
    rating_scale: tuple[float, float] = (1.0, 5.0)


DATASETS = {
    "movielens-100k": DatasetInfo(
        "movielens-100k",
        "MovieLens-100k (GroupLens): 100,000 ratings, 943 users, 1,682 movies",
        (
            RawFile(
                "ml-100k/u.data",
                ("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
                rows=100_000,
                sha256="06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                archive_md5="0e33842e24a9c977be4e0107933c0723",
                archive_member="ml-100k/u.data",
                kind="movielens",
            ),
        ),
    ),
    "rentrunway": DatasetInfo(
        "rentrunway",
        "RentTheRunway (McAuley lab): 192,462 ratings after the paper's preprocessing",
        (
            RawFile(
                "rentrunway/rentrunway_preproc.csv",
                (),  # the authors' preprocessed file; made from the raw JSON below
                rows=192_462,
                sha256="2bffe96bf27b5022230b17e386be2b8d47eb1341639689b10956365facf67ca5",
            ),
            RawFile(
                "rentrunway/renttherunway_final_data.json.gz",
                (
                    "https://mcauleylab.ucsd.edu/public_datasets/data/renttherunway/"
                    "renttherunway_final_data.json.gz",
                    "http://jmcauley.ucsd.edu/data/renttherunway/renttherunway_final_data.json.gz",
                ),
                rows=192_462,
                kind="rentrunway-json",
            ),
        ),
    ),
    "amazon-digital-music": DatasetInfo(
        "amazon-digital-music",
        "Amazon Digital Music ratings (McAuley 2018, ratings only): 1,584,082 ratings",
        (
            RawFile(
                "amazon-digital-music/Digital_Music.csv",
                (
                    "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_v2/"
                    "categoryFilesSmall/Digital_Music.csv",
                    "http://deepyeti.ucsd.edu/jianmo/amazon/categoryFilesSmall/Digital_Music.csv",
                ),
                rows=1_584_082,
                kind="amazon",
            ),
        ),
    ),
}


# ------------------------------------------------------------------ public API
def load_users(
    name: str,
    dim: int,
    seed: int,
    data_home=None,
    cache_home=None,
    download: bool = True,
    progress: bool = True,
) -> np.ndarray:
    """(n_users, dim) L1-normalised user embeddings of a real dataset (cached)."""
    factors, _ = load_factors(name, dim, seed, data_home, cache_home, download, progress)
    return _normalise(factors)


def load_factors(
    name: str,
    dim: int,
    seed: int,
    data_home=None,
    cache_home=None,
    download: bool = True,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw NMF user factors ``pu`` (before normalisation) and the users' raw ids."""
    info = _dataset(name)
    dim = _checks.check_int(dim, "dim", minimum=1)
    seed = _checks.check_int(seed, "seed", minimum=0)
    raw, raw_sha = _raw_file(info, data_path(data_home), download, progress)
    stem = _cache_stem(info, dim, seed, cache_home)
    cached = _read_cache(stem, raw_sha)
    if cached is not None:
        return cached
    ratings = read_ratings(info, raw)
    factors, ids = nmf_factors(
        ratings,
        dim,
        seed,
        info.rating_scale,
        progress=progress,
        label=f"{info.name} NMF dim={dim} seed={seed}",
    )
    _write_cache(stem, factors, ids, raw_sha)
    return factors, ids


def users_from_ratings(
    ratings,
    dim: int,
    seed: int,
    rating_scale: tuple[float, float] = (1.0, 5.0),
    duplicates: str = "keep",
) -> np.ndarray:
    """(n_users, dim) L1-normalised embeddings from any (user, item, rating) table.

    ``ratings`` is a DataFrame (columns ``user_id``, ``item_id``, ``rating`` if present, else
    the first three) or anything with three columns. Duplicate (user, item) pairs: ``"keep"``
    (default; every rating is a separate observation, which is what scikit-surprise and the
    paper do), ``"mean"`` or ``"last"`` (collapse them), or ``"error"``. Users whose factors
    are all zero are dropped (there are none in practice: NMF factors stay positive).
    """
    table = check_ratings(ratings, rating_scale, duplicates)
    factors, _ = nmf_factors(table, dim, seed, rating_scale)
    return _normalise(factors)


def is_cached(name: str, dim: int, seed: int, cache_home=None) -> bool:
    """Whether an embedding is in the cache (its checksum is verified when it is loaded)."""
    stem = _cache_stem(_dataset(name), dim, seed, cache_home)
    return stem.with_suffix(".npz").exists() and stem.with_suffix(".json").exists()


def _cache_stem(info: DatasetInfo, dim: int, seed: int, cache_home=None) -> Path:
    folder = cache_path(cache_home) / "embeddings" / info.name / f"protocol-v{PROTOCOL_VERSION}"
    return folder / f"nmf_dim{dim}_seed{seed}"


def raw_file(name: str, data_home=None, download: bool = True, progress: bool = True) -> Path:
    """The verified raw ratings file of a dataset, downloading it if it is missing."""
    info = _dataset(name)
    return _raw_file(info, data_path(data_home), download, progress)[0]


def dataset_names() -> tuple[str, ...]:
    return tuple(DATASETS)


def data_path(data_home=None) -> Path:
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("RECSYS_EQ_DATA")
    return Path(env).expanduser() if env else cache_path() / "data"


def cache_path(cache_home=None) -> Path:
    if cache_home is not None:
        return Path(cache_home).expanduser()
    env = os.environ.get("RECSYS_EQ_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recsys-eq-env"


# ------------------------------------------------------------------ NMF protocol
def nmf_factors(
    ratings,
    dim: int,
    seed: int,
    rating_scale=(1.0, 5.0),
    progress: bool = False,
    label: str = "NMF",
):
    """The paper's protocol on a validated (user, item, rating) DataFrame: (pu, user ids)."""
    from surprise import NMF, Dataset, Reader
    from surprise.model_selection import cross_validate

    dim = _checks.check_int(dim, "dim", minimum=1)
    seed = _checks.check_int(seed, "seed", minimum=0)
    bar = _bar(total=5, desc=label, unit="fold", disable=not progress)

    class _CountedNMF(NMF):  # same algorithm; counts folds for the progress bar
        def fit(self, trainset):
            out = super().fit(trainset)
            bar.update()
            return out

    data = Dataset.load_from_df(
        ratings[["user_id", "item_id", "rating"]], Reader(rating_scale=tuple(rating_scale))
    )
    # The protocol seeds NumPy's global legacy RNG (surprise draws from it); restore it after.
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(seed)  # noqa: NPY002
        algo = _CountedNMF(n_factors=dim)
        cross_validate(algo, data, measures=["RMSE", "MAE"], cv=5, verbose=False)
    finally:
        np.random.set_state(state)  # noqa: NPY002
        bar.close()
    trainset = algo.trainset
    ids = np.array([trainset.to_raw_uid(i) for i in range(trainset.n_users)], dtype=object)
    return np.asarray(algo.pu, dtype=np.float64), ids


def _normalise(factors: np.ndarray) -> np.ndarray:
    sums = factors.sum(axis=1)
    keep = sums > 0
    if not keep.all():
        warnings.warn(
            f"dropping {int((~keep).sum())} users whose NMF factors are all zero", stacklevel=3
        )
    users = factors[keep] / sums[keep, None]
    return users


# ------------------------------------------------------------------ ratings tables
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
    frame = check_ratings(frame[["user_id", "item_id", "rating"]], info.rating_scale)
    if len(frame) != spec.rows:
        raise ValueError(
            f"{path}: expected {spec.rows:,} ratings, found {len(frame):,}; the file is "
            "incomplete or not the dataset's official release"
        )
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


# ------------------------------------------------------------------ raw files
def _dataset(name) -> DatasetInfo:
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return DATASETS[name]


def _raw_file(info: DatasetInfo, home: Path, download: bool, progress: bool):
    """The first raw file present (verified), else one downloaded; returns (path, sha256)."""
    for spec in info.files:
        path = home / spec.path
        if path.exists():
            return path, _verify(path, spec, info)
    errors = []
    if download:
        for spec in info.files:
            for url in spec.urls:
                try:
                    path = _download(url, spec, home, progress)
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    errors.append(f"{url}: {exc}")
                    continue
                return path, _verify(path, spec, info)
    wanted = info.files[0] if info.files[0].urls else info.files[-1]
    sources = "; ".join(
        f"{home / f.path}" + (f" (from {f.urls[0]})" if f.urls else " (the authors' file)")
        for f in info.files
    )
    reason = "download failed: " + " | ".join(errors) if errors else "downloads are disabled"
    raise DatasetUnavailableError(
        f"{info.name}: {wanted.path} is missing from {home} and {reason}. Put one of these "
        f"files in place: {sources}; or point data_home (or RECSYS_EQ_DATA) at a folder that "
        "has it."
    )


def _verify(path: Path, spec: RawFile, info: DatasetInfo) -> str:
    """SHA-256 of an accepted raw file; a ValueError if it is not what it should be."""
    digest = _sha256(path)
    if spec.sha256 is not None:
        if digest != spec.sha256:
            raise ValueError(
                f"{path}: SHA-256 {digest} does not match the official file ({spec.sha256}); "
                "delete it to download it again"
            )
        return digest
    record = path.with_name(path.name + ".sha256")
    if record.exists():
        if record.read_text().split()[0] != digest:
            raise ValueError(
                f"{path} changed since it was verified (SHA-256 {digest} vs {record}); "
                "delete both to download it again"
            )
        return digest
    read_ratings(info, path)  # no published checksum: the row count is the check
    atomic_write_bytes(record, f"{digest}  {path.name}\n".encode())
    return digest


def _download(url: str, spec: RawFile, home: Path, progress: bool) -> Path:
    """Download ``url`` into the dataset's file (extracting a zip member), atomically."""
    target = home / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "recsys-eq-env"})
    with atomic_path(target) as tmp:
        with urllib.request.urlopen(request, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            md5 = hashlib.md5()
            with (
                open(tmp, "wb") as out,
                _bar(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=f"download {Path(url).name}",
                    disable=not progress,
                ) as bar,
            ):
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    md5.update(chunk)
                    bar.update(len(chunk))
        if spec.archive_md5 is not None and md5.hexdigest() != spec.archive_md5:
            raise ValueError(
                f"MD5 {md5.hexdigest()} does not match the published {spec.archive_md5}"
            )
        if spec.archive_member is not None:
            with zipfile.ZipFile(tmp) as archive, archive.open(spec.archive_member) as member:
                data = member.read()
            tmp.write_bytes(data)
    return target


# ------------------------------------------------------------------ embedding cache
def _read_cache(stem: Path, raw_sha: str):
    array_path, manifest_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if not (array_path.exists() and manifest_path.exists()):
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("sha256") != _sha256(array_path) or manifest.get("raw_sha256") != raw_sha:
            raise ValueError("checksum mismatch")
        with np.load(array_path, allow_pickle=False) as data:
            return data["pu"], data["user_ids"].astype(object)
    except (ValueError, OSError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        warnings.warn(
            f"cached embedding {array_path} is corrupt ({exc}); rebuilding it", stacklevel=3
        )
        return None


def _write_cache(stem: Path, factors: np.ndarray, ids: np.ndarray, raw_sha: str) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, pu=factors, user_ids=ids.astype(str))
    payload = buffer.getvalue()
    atomic_write_bytes(stem.with_suffix(".npz"), payload)
    manifest = {
        "sha256": hashlib.sha256(payload).hexdigest(),
        "raw_sha256": raw_sha,
        "protocol": PROTOCOL_VERSION,
        "shape": list(factors.shape),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    atomic_write_bytes(stem.with_suffix(".json"), json.dumps(manifest, indent=1).encode())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _bar(**kwargs):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the core install has no tqdm: no bar
        return _NoBar()
    return tqdm(**kwargs)


class _NoBar:
    def update(self, *args):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


__all__ = [
    "DATASETS",
    "DatasetUnavailableError",
    "check_ratings",
    "data_path",
    "dataset_names",
    "load_factors",
    "load_users",
    "nmf_factors",
    "raw_file",
    "users_from_ratings",
]
