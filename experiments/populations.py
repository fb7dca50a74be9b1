"""Dataset names used by the experiments, mapped to user matrices (cached per process).

``synthetic-uniform``, ``synthetic-skewed`` and ``synthetic-sparse`` come from
:func:`recsys_eq_env.synthetic_users`; ``movielens-100k``, ``rentrunway`` and
``amazon-digital-music`` from :func:`recsys_eq_env.load_users` (the paper's NMF protocol, cached
on disk; raw files from ``$RECSYS_EQ_DATA`` or downloaded).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import recsys_eq_env as rq
from recsys_eq_env import data as datasets

SYNTHETIC = {f"synthetic-{kind}": kind for kind in rq.POPULATIONS}


def dataset_names() -> tuple[str, ...]:
    return (*SYNTHETIC, *datasets.dataset_names())


#: Populations handed to this process (e.g. broadcast to a Dask worker), by population key.
_PROVIDED: dict[tuple, np.ndarray] = {}


def population_key(spec) -> tuple:
    return (spec.dataset, spec.n_users, spec.dim, spec.embedding_seed, spec.population_generator)


def provide(key: tuple, users: np.ndarray) -> None:
    """Use these users for this population key in this process (no load, no recompute)."""
    if key not in _PROVIDED:
        _PROVIDED[key] = users


def population(
    dataset: str, n_users: int, dim: int, seed: int, generator: str = "default"
) -> np.ndarray:
    """(n_users, dim) users of a dataset (real datasets keep all their users).

    ``generator="paper"`` makes the authors' synthetic uniform and skewed instances.
    """
    key = (dataset, n_users, dim, seed, generator)
    provided = _PROVIDED.get(key)
    return provided if provided is not None else _build(*key)


@lru_cache(maxsize=8)
def _build(dataset: str, n_users: int, dim: int, seed: int, generator: str) -> np.ndarray:
    if dataset in SYNTHETIC:
        users = rq.synthetic_users(SYNTHETIC[dataset], n_users, dim, seed=seed, generator=generator)
    elif dataset in datasets.DATASETS:
        users = rq.load_users(dataset, dim, seed, progress=False)
    else:
        raise ValueError(f"dataset must be one of {', '.join(dataset_names())}; got {dataset!r}")
    users.setflags(write=False)
    return users


def prepare(specs, n_jobs: int = 1, progress: bool = True) -> int:
    """Compute (and cache on disk) every real-data embedding the specs need, in parallel.

    Returns how many had to be computed (not already cached). Synthetic populations are cheap
    and skipped.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    needed = sorted(
        {(s.dataset, s.dim, s.embedding_seed) for s in specs if s.dataset in datasets.DATASETS}
    )
    missing = [key for key in needed if not datasets.is_cached(*key)]
    if not missing:
        return 0
    for name in {d for d, _, _ in missing}:  # fetch/verify raw files once, in this process
        datasets.raw_file(name)
    bar = tqdm(total=len(missing), desc="embeddings", unit="emb", disable=not progress)
    jobs = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for _ in jobs(delayed(_embed)(*key) for key in missing):
        bar.update()
    bar.close()
    return len(missing)


def _embed(dataset, dim, seed):
    datasets.load_factors(dataset, dim, seed, progress=False)


def spec_game(spec) -> rq.EngagementGame:
    """The game of a run spec's cell (cached)."""
    return game(
        spec.dataset,
        spec.n_users,
        spec.dim,
        spec.embedding_seed,
        spec.n_producers,
        spec.rule,
        spec.temperature,
        spec.utility,
        spec.k,
        spec.population_generator,
    )


@lru_cache(maxsize=16)
def game(
    dataset,
    n_users,
    dim,
    seed,
    n_producers,
    rule,
    temperature,
    utility="engagement",
    k=None,
    generator="default",
) -> rq.EngagementGame:
    """The game of a cell; cached so the runs of a cell share its deviation tables."""
    users = population(dataset, n_users, dim, seed, generator)
    tau = 1.0 if temperature is None else temperature
    return rq.EngagementGame(users, n_producers, rule, tau, utility, k)
