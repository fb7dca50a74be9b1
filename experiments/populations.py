"""Dataset names used by the experiments, mapped to user matrices (cached per process)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import recsys_eq_env as rq

SYNTHETIC = {f"synthetic-{kind}": kind for kind in rq.POPULATIONS}


def dataset_names() -> tuple[str, ...]:
    return tuple(SYNTHETIC)


@lru_cache(maxsize=8)
def population(dataset: str, n_users: int, dim: int, seed: int) -> np.ndarray:
    """(n_users, dim) users of a dataset; synthetic ones come from ``synthetic_users``."""
    if dataset in SYNTHETIC:
        users = rq.synthetic_users(SYNTHETIC[dataset], n_users, dim, seed=seed)
        users.setflags(write=False)
        return users
    raise ValueError(f"dataset must be one of {', '.join(dataset_names())}; got {dataset!r}")


@lru_cache(maxsize=16)
def game(dataset, n_users, dim, seed, n_producers, rule, temperature) -> rq.EngagementGame:
    """The game of a cell; cached so the runs of a cell share its deviation tables."""
    users = population(dataset, n_users, dim, seed)
    tau = 1.0 if temperature is None else temperature
    return rq.EngagementGame(users, n_producers, rule, tau)
