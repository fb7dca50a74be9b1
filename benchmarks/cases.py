"""The benchmark cases: what each measures, its size, and the issues' targets.

Data beside the project (the authors' MovieLens-100k embedding) is found under
``$RECSYS_EQ_SHARED_DATA`` (default ``../shared/data``); without it the MovieLens cases run on
synthetic users and say so in their rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The data folder beside the project (an option for where it lives elsewhere).
SHARED_DATA = Path(
    os.environ.get("RECSYS_EQ_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SHARED_ML = SHARED_DATA / "embeddings" / "ml100k_nmf_dim5_seed5.npy"


#: Fast dynamics runs are repeated until they fill this many seconds (at most MAX_REPEATS).
MIN_TIMING_S = 1.0
MAX_REPEATS = 500


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "dynamics" or "env"
    n_users: int
    dim: int
    n_producers: int
    rule: str = "softmax"
    temperature: float = 1.0
    naive_iters: int | None = None  # dynamics: None runs the naive dynamics to convergence
    action_type: str = "discrete"  # env
    revision: str = "simultaneous"  # env
    info_regrets: bool = True  # env
    precision: str = "float64"
    population: str = "uniform"  # "movielens" uses the authors' MovieLens embedding
    num_envs: int = 1  # vector env: games
    dtype: str = "float64"  # vector env
    threads: int = 1  # vector env: threads the batch is split over
    blas: str = "1"  # RECSYS_EQ_BLAS_THREADS of the case's process
    neighbour: bool = False  # run beside a process that keeps a core busy
    utility_cache: str = "off"  # vector and JAX envs: "off", "table" or "lazy"
    warm: bool = False  # vector env: time a replay of the same episode (every lookup a hit)
    device: str = "cpu"  # JAX: "cpu" or "gpu"


CASES = [
    Case("brd-movielens943-d5-n100-softmax1", "dynamics", 943, 5, 100, population="movielens"),
    Case("brd-10k-d20-n100-softmax1", "dynamics", 10_000, 20, 100),
    Case("brd-10k-d20-n100-linear", "dynamics", 10_000, 20, 100, rule="linear"),
    Case("brd-714k-d20-n100-softmax1", "dynamics", 714_000, 20, 100, naive_iters=2),
    Case(
        "brd-714k-d20-n100-softmax1-float32",
        "dynamics",
        714_000,
        20,
        100,
        naive_iters=2,
        precision="float32",
    ),
    *[
        Case(
            f"env-10k-d10-n20-{action}-{revision}{'' if regrets else '-noregrets'}",
            "env",
            10_000,
            10,
            20,
            action_type=action,
            revision=revision,
            info_regrets=regrets,
        )
        for action in ("discrete", "simplex")
        for revision in ("simultaneous", "one")
        for regrets in (True, False)
    ],
]
CASES += [
    Case("vector-10k-d10-n20-discrete-B256-float32", "vector", 10_000, 10, 20, num_envs=256,
         dtype="float32", info_regrets=False),
    Case("vector-10k-d10-n20-discrete-B256-float32-2threads", "vector", 10_000, 10, 20,
         num_envs=256, dtype="float32", threads=2, info_regrets=False),
    Case("vector-10k-d10-n20-discrete-B256-float64", "vector", 10_000, 10, 20, num_envs=256,
         info_regrets=False),
    Case("vector-10k-d10-n20-simplex-B64-float32", "vector", 10_000, 10, 20, num_envs=64,
         dtype="float32", action_type="simplex", info_regrets=False),
    Case("vector-10k-d10-n20-simplex-B64-float32-2threads", "vector", 10_000, 10, 20,
         num_envs=64, dtype="float32", threads=2, action_type="simplex", info_regrets=False),
    # issue 21: the training path (revision "one") beside "simultaneous", and the utility cache
    Case("vector-10k-d10-n20-discrete-B256-float32-one", "vector", 10_000, 10, 20, num_envs=256,
         dtype="float32", info_regrets=False, revision="one"),
    *[
        Case(f"vector-10k-d10-n20-discrete-B256-float32-cache{'-one' if rev == 'one' else ''}",
             "vector", 10_000, 10, 20, num_envs=256, dtype="float32", info_regrets=False,
             revision=rev, utility_cache="table")
        for rev in ("simultaneous", "one")
    ],
    Case("vector-1m-d10-n20-discrete-B256-float32-cache", "vector", 1_000_000, 10, 20,
         num_envs=256, dtype="float32", info_regrets=False, utility_cache="lazy", warm=True),
    *[
        Case(f"jax-10k-d10-n20-discrete-B{b}", "jax", 10_000, 10, 20, num_envs=b,
             revision="one", info_regrets=False)
        for b in (64, 256, 1024, 4096)
    ],
    Case("jax-1k-d5-n5-discrete-B256", "jax", 1_000, 5, 5, num_envs=256, revision="one",
         info_regrets=False),
    *[
        Case(f"jax-{name}-discrete-B256-table", "jax", users, dim, n, num_envs=256,
             revision="one", info_regrets=False, utility_cache="table")
        for name, users, dim, n in (("10k-d10-n20", 10_000, 10, 20), ("1k-d5-n5", 1_000, 5, 5))
    ],
    Case("jax-gpu-10k-d10-n20-discrete-B4096", "jax", 10_000, 10, 20, num_envs=4096,
         revision="one", info_regrets=False, device="gpu"),
    Case("train-ppo-2k-d5-n10", "training", 2_000, 5, 10, num_envs=64),
    Case("act-ppo-2k-d5-n10", "training", 2_000, 5, 10, num_envs=64),
    # issue 22: PPO compiled with the env against SB3 on the vector env, same settings
    Case("train-jaxppo-2k-d5-n10", "jaxtrain", 2_000, 5, 10, num_envs=64),
    Case("train-jaxppo-2k-d5-n10-10seeds", "jaxtrain", 2_000, 5, 10, num_envs=64),
    *[
        Case(f"blas-10k-d10-n20-simplex-noregrets-cap{blas}{'-neighbour' if busy else ''}",
             "blas", 10_000, 10, 20, action_type="simplex", info_regrets=False, blas=blas,
             neighbour=busy)
        for blas in ("1", "none")
        for busy in (False, True)
    ],
]  # fmt: skip
CASES += [
    Case("equilibria-1000-d10-n20-softmax1", "analysis", 1000, 10, 20),
    Case("graph-1000-d10-n10-softmax1", "analysis", 1000, 10, 10),
    Case("mixed-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    # issue 25: the game theory over count vectors
    Case("symmetric-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("alpharank-1000-d10-n20-softmax1", "analysis", 1000, 10, 20),
    Case("qre-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("cce-1000-d5-n20-softmax1", "analysis", 1000, 5, 20),
    Case("design-movielens-d10-n50", "analysis", 0, 10, 50, population="movielens-nmf"),
    Case("nmf-amazon-1.58M-d10", "nmf", 0, 10, 0, population="amazon-shaped"),
]
QUICK = [
    Case("brd-2k-d10-n30-softmax1", "dynamics", 2_000, 10, 30),
    Case("env-2k-d5-n10-discrete-one", "env", 2_000, 5, 10, revision="one"),
    Case("vector-2k-d5-n10-discrete-B32", "vector", 2_000, 5, 10, num_envs=32,
         info_regrets=False),
]  # fmt: skip
TARGETS = {  # from the issues: what each measured number must reach
    "brd-movielens943-d5-n100-softmax1": ("speed-up", 1000.0),
    "brd-714k-d20-n100-softmax1": ("fast_s", 15.0),
    "vector-10k-d10-n20-discrete-B256-float32-2threads": ("ratio", 20.0),
    "vector-10k-d10-n20-discrete-B256-float32-cache": ("ratio", 50.0),
    "vector-10k-d10-n20-discrete-B256-float32-one": ("ratio_to_simultaneous", 0.8),
    "jax-10k-d10-n20-discrete-B256": ("ratio_to_vector", 1.3),
    "jax-1k-d5-n5-discrete-B256": ("ratio_to_vector", 3.0),
    "jax-10k-d10-n20-discrete-B256-table": ("ratio_to_vector", 1.0),
    "jax-1k-d5-n5-discrete-B256-table": ("ratio_to_vector", 1.0),
    "vector-10k-d10-n20-simplex-B64-float32-2threads": ("ratio", 2.0),
    "env-10k-d10-n20-discrete-simultaneous-noregrets": ("steps_per_s", 2000.0),
    "env-10k-d10-n20-simplex-simultaneous-noregrets": ("steps_per_s", 500.0),
    "env-10k-d10-n20-discrete-simultaneous": ("steps_per_s", 1000.0),
    "env-10k-d10-n20-simplex-simultaneous": ("steps_per_s", 300.0),
    "train-ppo-2k-d5-n10": ("ratio", 5.0),
    "train-jaxppo-2k-d5-n10": ("cpu_ratio", 3.0),
    "train-jaxppo-2k-d5-n10-10seeds": ("cpu_ratio", 4.0),
    "equilibria-1000-d10-n20-softmax1": ("seconds", 120.0),
    "graph-1000-d10-n10-softmax1": ("seconds", 30.0),
    "design-movielens-d10-n50": ("seconds", 120.0),
    "alpharank-1000-d10-n20-softmax1": ("seconds", 10.0),
    "qre-1000-d5-n20-softmax1": ("seconds", 10.0),
    "cce-1000-d5-n20-softmax1": ("seconds", 10.0),
}
ABSOLUTE = {
    "vector-10k-d10-n20-discrete-B256-float32-2threads": ("producer_steps_per_s", 1e6),
    "vector-10k-d10-n20-discrete-B256-float32-cache": ("producer_steps_per_s", 20e6),
}


def users_for(case: Case):
    import numpy as np

    import recsys_eq_env as rq

    if case.population == "movielens" and SHARED_ML.exists():
        factors = np.load(SHARED_ML)  # the authors' committed MovieLens-100k embedding
        return factors / factors.sum(axis=1, keepdims=True), "movielens-100k (authors' NMF)"
    return rq.synthetic_users("uniform", case.n_users, case.dim, seed=1), "synthetic uniform"
