"""Raw rating files: found in the data folder, else downloaded from their official sources,
and verified (a published checksum where one exists, always the row count; the SHA-256 of what
was accepted is recorded beside it and checked on every later load)."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .._io import atomic_path, atomic_write_bytes
from .._progress import progress_bar
from .cache import cache_path, sha256
from .ratings import read_ratings
from .registry import DatasetInfo, DatasetUnavailableError, RawFile, dataset


def data_path(data_home=None) -> Path:
    """The folder of raw files: ``data_home``, else ``$RECSYS_EQ_DATA``, else the cache's."""
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get("RECSYS_EQ_DATA")
    return Path(env).expanduser() if env else cache_path() / "data"


def raw_file(name: str, data_home=None, download: bool = True, progress: bool = False) -> Path:
    """The verified raw ratings file of a dataset, downloading it if it is missing."""
    return find_raw_file(dataset(name), data_path(data_home), download, progress)[0]


def find_raw_file(info: DatasetInfo, home: Path, download: bool, progress: bool):
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
    digest = sha256(path)
    if spec.sha256 is not None:
        if digest != spec.sha256:
            raise ValueError(
                f"{path}: SHA-256 {digest} does not match the official file ({spec.sha256}); "
                "delete it to download it again"
            )
        return digest
    record = path.with_name(path.name + ".sha256")
    recorded = record.read_text().split() if record.exists() else []
    if recorded and len(recorded[0]) == 64:  # an empty or damaged record is verified anew
        if recorded[0] != digest:
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
                progress_bar(
                    total,
                    progress,
                    unit="B",
                    unit_scale=True,
                    desc=f"download {Path(url).name}",
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
