"""The paper's embedding protocol and the public loaders.

Seed NumPy's *global legacy* RNG with the embedding seed, run ``surprise.NMF(n_factors=dim)``
under ``surprise.model_selection.cross_validate(algo, data, cv=5)`` and keep ``algo.pu`` of the
last fold (users absent from that fold's training set drop out); then L1-normalise the rows.
On MovieLens-100k with dim 5 and seed 5 this reproduces the authors' committed factors bit for
bit. The global RNG state is restored afterwards, so callers' RNG streams are not disturbed.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from .._progress import progress_bar
from .cache import cache_stem, read_cache, request, write_cache
from .fetch import data_path, find_raw_file
from .ratings import check_ratings, read_ratings
from .registry import dataset


def load_users(
    name: str,
    dim: int,
    seed: int,
    data_home=None,
    cache_home=None,
    download: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """(n_users, dim) L1-normalised user embeddings of a real dataset (cached)."""
    factors, _ = load_factors(name, dim, seed, data_home, cache_home, download, progress)
    return normalise(factors)


def load_factors(
    name: str,
    dim: int,
    seed: int,
    data_home=None,
    cache_home=None,
    download: bool = True,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw NMF user factors ``pu`` (before normalisation) and the users' raw ids."""
    info = dataset(name)
    dim = _checks.check_int(dim, "dim", minimum=1)
    seed = _checks.check_int(seed, "seed", minimum=0)
    raw, raw_sha = find_raw_file(info, data_path(data_home), download, progress)
    stem = cache_stem(info, dim, seed, cache_home)
    asked = request(info, dim, seed)
    cached = read_cache(stem, raw_sha, asked)
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
    write_cache(stem, factors, ids, raw_sha, asked)
    return factors, ids


def is_cached(name: str, dim: int, seed: int, cache_home=None) -> bool:
    """Whether an embedding is in the cache (its checksum is verified when it is loaded)."""
    stem = cache_stem(dataset(name), dim, seed, cache_home)
    return stem.with_suffix(".npz").exists() and stem.with_suffix(".json").exists()


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
    return normalise(factors)


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
    bar = progress_bar(5, progress, desc=label, unit="fold")

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


def normalise(factors: np.ndarray) -> np.ndarray:
    sums = factors.sum(axis=1)
    keep = sums > 0
    if not keep.all():
        warnings.warn(
            f"dropping {int((~keep).sum())} users whose NMF factors are all zero", stacklevel=3
        )
    users = factors[keep] / sums[keep, None]
    return users
