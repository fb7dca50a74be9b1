"""Real user populations from ratings, by the paper's NMF protocol (MODEL.md section 4).

``load_users(name, dim, seed)`` returns L1-normalised user embeddings for MovieLens-100k,
RentTheRunway or Amazon Digital Music; ``users_from_ratings(ratings, dim, seed)`` does the same
for any table of (user, item, rating). One module per job:

* :mod:`.registry`: the datasets, their files, sources and row counts;
* :mod:`.ratings`: ratings tables, validated, and each raw format parsed with the paper's
  cleaning;
* :mod:`.fetch`: raw files found in the data folder (``data_home``, else ``$RECSYS_EQ_DATA``,
  else ``~/.cache/recsys-eq-env/data``) or downloaded from their official sources, verified;
* :mod:`.cache`: embeddings cached per (dataset, dim, seed, protocol version) in
  ``cache_home`` (else ``$RECSYS_EQ_CACHE``, else ``~/.cache/recsys-eq-env``), written
  atomically, rebuilt when a checksum fails;
* :mod:`.nmf`: the protocol itself and the loaders.

Progress bars are off unless ``progress=True`` (the command line turns them on). MovieLens may
not be redistributed: nothing here ships rating data.
"""

from .cache import cache_path
from .fetch import data_path, raw_file
from .nmf import is_cached, load_factors, load_users, nmf_factors, users_from_ratings
from .ratings import check_ratings, read_ratings
from .registry import (
    DATASETS,
    PROTOCOL_VERSION,
    DatasetInfo,
    DatasetUnavailableError,
    RawFile,
    dataset_names,
)

__all__ = [
    "DATASETS",
    "PROTOCOL_VERSION",
    "DatasetInfo",
    "DatasetUnavailableError",
    "RawFile",
    "cache_path",
    "check_ratings",
    "data_path",
    "dataset_names",
    "is_cached",
    "load_factors",
    "load_users",
    "nmf_factors",
    "raw_file",
    "read_ratings",
    "users_from_ratings",
]
