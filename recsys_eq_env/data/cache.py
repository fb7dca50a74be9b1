"""The embedding cache: one file per (dataset, dim, seed, protocol version), written
atomically, with a manifest holding its SHA-256 and the raw file's; a cached file that fails
its checksum is rebuilt."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from .registry import PROTOCOL_VERSION, DatasetInfo


def cache_path(cache_home=None) -> Path:
    """The cache folder: ``cache_home``, else ``$RECSYS_EQ_CACHE``, else
    ``$XDG_CACHE_HOME/recsys-eq-env`` (``~/.cache/recsys-eq-env``)."""
    if cache_home is not None:
        return Path(cache_home).expanduser()
    env = os.environ.get("RECSYS_EQ_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recsys-eq-env"


def cache_stem(info: DatasetInfo, dim: int, seed: int, cache_home=None) -> Path:
    folder = cache_path(cache_home) / "embeddings" / info.name / f"protocol-v{PROTOCOL_VERSION}"
    return folder / f"nmf_dim{dim}_seed{seed}"


def request(info: DatasetInfo, dim: int, seed: int) -> dict:
    """What an embedding is: its manifest records it, and a read checks it (a file copied
    over another request's, with its manifest, must not answer for it)."""
    return {"dataset": info.name, "dim": int(dim), "seed": int(seed), "protocol": PROTOCOL_VERSION}


def read_cache(stem: Path, raw_sha: str, asked: dict):
    """(factors, user ids) from the cache, or None (missing, or corrupt or made for another
    request: then rebuilt, with a warning)."""
    array_path, manifest_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    if not (array_path.exists() and manifest_path.exists()):
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("sha256") != sha256(array_path) or manifest.get("raw_sha256") != raw_sha:
            raise ValueError("checksum mismatch")
        if manifest.get("request") != asked:
            raise ValueError(f"made for {manifest.get('request')}, asked for {asked}")
        with np.load(array_path, allow_pickle=False) as data:
            factors, ids = data["pu"], data["user_ids"].astype(object)
        if factors.ndim != 2 or factors.shape[1] != asked["dim"] or len(ids) != len(factors):
            raise ValueError(f"factors of shape {factors.shape} for dim={asked['dim']}")
        return factors, ids
    except (ValueError, OSError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        warnings.warn(
            f"cached embedding {array_path} is corrupt ({exc}); rebuilding it", stacklevel=3
        )
        return None


def write_cache(stem: Path, factors: np.ndarray, ids: np.ndarray, raw_sha: str, asked: dict):
    stem.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, pu=factors, user_ids=ids.astype(str))
    payload = buffer.getvalue()
    atomic_write_bytes(stem.with_suffix(".npz"), payload)
    manifest = {
        "sha256": hashlib.sha256(payload).hexdigest(),
        "raw_sha256": raw_sha,
        "request": asked,
        "protocol": PROTOCOL_VERSION,
        "shape": list(factors.shape),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    atomic_write_bytes(stem.with_suffix(".json"), json.dumps(manifest, indent=1).encode())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
