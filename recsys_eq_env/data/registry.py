"""The datasets the project knows: where their ratings come from and how to check them."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Bump when the embedding protocol changes: cached embeddings of other versions are unused.
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


def dataset(name) -> DatasetInfo:
    """The registry entry of a dataset; a ValueError naming the known ones otherwise."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return DATASETS[name]


def dataset_names() -> tuple[str, ...]:
    return tuple(DATASETS)
