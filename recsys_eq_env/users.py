"""User populations: synthetic generators (MODEL.md section 4) and their summaries.

* ``uniform``: users uniform on the simplex (Dirichlet(1, ..., 1)).
* ``skewed``: one weight vector ``w`` uniform on the simplex, sorted ascending; each user is a
  uniform simplex point multiplied elementwise by ``w``, then L1-normalised.
* ``sparse``: a ``uniform`` (or ``skewed``, with ``base="skewed"``) user with a fraction
  ``sparsity`` of its coordinates zeroed and the rest renormalised; as in the authors' code,
  ``int(sparsity * dim)`` coordinates are zeroed, never all of them.

Generators take their randomness from ``numpy.random.default_rng(seed)`` (``generator=
"default"``), or, with ``generator="paper"``, regenerate the authors' own populations exactly
(MODEL.md section 4, "paper instances"): NumPy's legacy global RNG seeded with the embedding
seed, a uniform user of dimension d being the gaps between consecutive points of
``[0] + sorted(d - 1 uniform draws) + [1]``, users drawn one after another; for ``skewed`` the
first such vector, sorted ascending, is the weight vector. The global RNG's state is restored
afterwards. Their ``user_dist`` equals the authors' saved tables to 5e-13 (the tables keep 12
decimals; tests/test_paper_instances.py).
"""

from __future__ import annotations

import numpy as np

from . import _checks

POPULATIONS = ("uniform", "skewed", "sparse")
GENERATORS = ("default", "paper")


def synthetic_users(
    kind: str = "uniform",
    n_users: int = 10_000,
    dim: int = 10,
    seed=None,
    *,
    sparsity: float = 0.9,
    base: str = "uniform",
    generator: str = "default",
) -> np.ndarray:
    """(n_users, dim) float64 users with rows on the simplex.

    ``generator="paper"`` regenerates the authors' instances (``uniform`` and ``skewed``; the
    seed must be an int in 0..2**32 - 1, the legacy RNG's range).
    """
    kind = _checks.check_choice(kind, "kind", POPULATIONS)
    n_users = _checks.check_int(n_users, "n_users", minimum=1)
    dim = _checks.check_int(dim, "dim", minimum=1)
    generator = _checks.check_choice(generator, "generator", GENERATORS)
    if generator == "paper":
        if kind == "sparse":
            raise ValueError(
                "generator='paper' makes the authors' uniform and skewed populations; their "
                "tables hold no sparse one to regenerate (use generator='default')"
            )
        seed = _checks.check_int(seed, "seed", minimum=0)
        if seed >= 2**32:
            raise ValueError(f"seed must be < 2**32 for generator='paper', got {seed}")
        return _paper(kind, n_users, dim, seed)
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return _uniform(rng, n_users, dim)
    if kind == "skewed":
        return _skewed(rng, n_users, dim)
    base = _checks.check_choice(base, "base", ("uniform", "skewed"))
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)):
        raise TypeError(f"sparsity must be a number in [0, 1), got {sparsity!r}")
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    users = _uniform(rng, n_users, dim) if base == "uniform" else _skewed(rng, n_users, dim)
    n_zero = min(int(sparsity * dim), dim - 1)
    if n_zero:
        # A random subset of n_zero coordinates per user: the first n_zero of a random ranking.
        ranks = np.argsort(rng.random((n_users, dim)), axis=1)
        np.put_along_axis(users, ranks[:, :n_zero], 0.0, axis=1)
        users /= users.sum(axis=1, keepdims=True)
    return users


def _paper(kind, n_users, dim, seed):
    """The authors' generator on NumPy's legacy global RNG, whose state is restored after."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(seed)  # noqa: NPY002
        weights = np.sort(_paper_uniform(1, dim)[0]) if kind == "skewed" else None
        users = _paper_uniform(n_users, dim)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    if weights is not None:
        users *= weights
        users /= users.sum(axis=1, keepdims=True)
    return users


def _paper_uniform(n_users, dim):
    """Gaps between sorted uniform points: the same stream, drawn user after user, as one
    (n_users, dim - 1) call (NumPy fills it row by row)."""
    points = np.sort(np.random.uniform(size=(n_users, dim - 1)), axis=1)  # noqa: NPY002
    edges = np.concatenate([np.zeros((n_users, 1)), points, np.ones((n_users, 1))], axis=1)
    return np.diff(edges, axis=1)


def _uniform(rng, n_users, dim):
    return rng.dirichlet(np.ones(dim), size=n_users)


def _skewed(rng, n_users, dim):
    weights = np.sort(rng.dirichlet(np.ones(dim)))
    users = rng.dirichlet(np.ones(dim), size=n_users) * weights
    return users / users.sum(axis=1, keepdims=True)


def validate_users(users) -> np.ndarray:
    """Check a user matrix (finite, non-negative, no zero rows) and return it L1-normalised."""
    return _checks.as_users(users)


def user_distribution(users) -> np.ndarray:
    """(dim,) share of total user mass on each feature, ``U.sum(0) / U.sum()``."""
    u = np.asarray(users, dtype=np.float64)
    return u.sum(axis=0) / u.sum()


def producer_distribution(counts) -> np.ndarray:
    """(dim,) share of producers on each feature, ``counts / n`` (or of content mass, for a
    profile's mass per feature)."""
    c = np.asarray(counts, dtype=np.float64)
    return c / c.sum(axis=-1, keepdims=True)


def total_variation(p, q) -> np.ndarray | float:
    """Total variation distance ``sum_j |p_j - q_j| / 2`` between distributions over features
    (the last axis; leading axes broadcast): how far producers sit from where users are."""
    distance = 0.5 * np.abs(np.asarray(p, dtype=np.float64) - np.asarray(q, dtype=np.float64))
    distance = distance.sum(axis=-1)
    return float(distance) if np.ndim(distance) == 0 else distance
