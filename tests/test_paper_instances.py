"""The authors' synthetic populations, regenerated bit for bit (MODEL.md section 4).

Oracle: the ``user_dist`` of every synthetic population in the authors' saved tables
(``../shared/data/authors-results``, 12 decimals), 40 (kind, dim, seed) instances.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recsys_eq_env as rq

AUTHORS = Path(__file__).resolve().parents[2] / "shared" / "data" / "authors-results"


def _instances():
    table = pd.read_csv(AUTHORS / "exp2_equilibria.csv.gz")
    table = table[table["dataset"].str.startswith("synthetic")]
    table = table.drop_duplicates(["dataset", "embedding_seed", "dim"])
    return [
        (r.dataset.split("-")[1], int(r.dim), int(r.embedding_seed), json.loads(r.user_dist))
        for r in table.itertuples()
    ]


@pytest.mark.skipif(not AUTHORS.exists(), reason="../shared/data/authors-results is absent")
def test_every_synthetic_user_dist_of_the_authors_tables():
    instances = _instances()
    assert len(instances) == 40
    worst = 0.0
    for kind, dim, seed, expected in instances:
        users = rq.synthetic_users(kind, 10_000, dim, seed=seed, generator="paper")
        worst = max(worst, np.abs(rq.user_distribution(users) - expected).max())
    assert worst <= 1e-11


def test_the_legacy_rng_is_restored_and_draws_go_user_by_user():
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()  # noqa: NPY002
    users = rq.synthetic_users("skewed", 50, 4, seed=17, generator="paper")
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) for a, b in zip(before[1:2], after[1:2], strict=True))
    assert before[2:] == after[2:]
    # The authors' loop: one weight vector, then one user after another.
    np.random.seed(17)  # noqa: NPY002

    def one():
        points = np.sort(np.random.uniform(size=3))  # noqa: NPY002
        return np.diff(np.concatenate([[0.0], points, [1.0]]))

    weights = np.sort(one())
    loop = np.array([one() for _ in range(50)]) * weights
    np.testing.assert_array_equal(users, loop / loop.sum(axis=1, keepdims=True))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kind="sparse"), "their tables hold no sparse one"),
        (dict(seed=-1), "seed must be >= 0"),
        (dict(seed=2**32), r"seed must be < 2\*\*32"),
        (dict(generator="legacy"), "generator must be one of default, paper"),
    ],
)
def test_paper_generator_errors(kwargs, message):
    args = {"kind": "uniform", "n_users": 10, "dim": 3, "seed": 1, "generator": "paper", **kwargs}
    with pytest.raises(ValueError, match=message):
        rq.synthetic_users(**args)
