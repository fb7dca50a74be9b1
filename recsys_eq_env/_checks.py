"""Argument validation at the package boundary.

Every check raises ``ValueError`` (bad value) or ``TypeError`` (bad type) with a message that
starts with the argument's name, so a user can tell at once what to fix. Inside the package the
arrays are trusted.
"""

from __future__ import annotations

import numbers

import numpy as np

RULES = ("softmax", "linear", "topk_softmax", "uniform", "hardmax")
UTILITIES = ("engagement", "exposure")
#: Rows of a profile must sum to 1 within this tolerance.
L1_TOL = 1e-6
#: Smallest softmax temperature: below it ``1 / tau`` leaves the range where scores divided by
#: tau stay finite and distinct (use ``rule="hardmax"`` for the limit tau -> 0).
MIN_TEMPERATURE = 1e-100


def check_int(value, name: str, minimum: int | None = None) -> int:
    """An integer (bools refused) with an optional lower bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_positive_float(value, name: str) -> float:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def check_temperature(value, name: str = "temperature") -> float:
    """A softmax temperature: finite, and at least :data:`MIN_TEMPERATURE`."""
    value = check_positive_float(value, name)
    if value < MIN_TEMPERATURE:
        raise ValueError(
            f"{name} must be >= {MIN_TEMPERATURE:g} (use rule='hardmax' for the limit "
            f"tau -> 0), got {value:g}"
        )
    return value


def check_tol(value, name: str = "tol") -> float:
    """A relative tolerance: a finite real number >= 0 (NaN or inf would make any profile
    pass an equilibrium check)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def as_float_matrix(array, name: str) -> np.ndarray:
    """A finite, non-negative 2-D float64 array with at least one row and one column."""
    try:
        out = np.array(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if out.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {out.shape}")
    if out.shape[0] < 1 or out.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column, got {out.shape}")
    if np.isnan(out).any():
        raise ValueError(f"{name} contains NaN (row {int(np.argwhere(np.isnan(out))[0, 0])})")
    if np.isinf(out).any():
        raise ValueError(f"{name} contains inf (row {int(np.argwhere(np.isinf(out))[0, 0])})")
    if (out < 0).any():
        row = int(np.argwhere(out < 0)[0, 0])
        raise ValueError(f"{name} has negative entries (row {row}); embeddings must be >= 0")
    return out


def as_users(users, name: str = "users") -> np.ndarray:
    """Validate a user matrix and L1-normalise its rows (a copy; the input is untouched)."""
    out = as_float_matrix(users, name)
    zero = np.flatnonzero(out.max(axis=1) == 0)
    if zero.size:
        raise ValueError(
            f"{name} row {int(zero[0])} is all zeros ({zero.size} such rows); every user needs "
            "a non-zero embedding"
        )
    normalise_rows(out)
    out.setflags(write=False)
    return out


def normalise_rows(array: np.ndarray) -> np.ndarray:
    """L1-normalise the rows of a non-negative array in place, without overflow.

    Each row is first divided by its largest entry, so a row near the largest float (whose
    plain sum would be inf and turn the row into zeros) or of subnormal numbers normalises
    like any other. Rows must have a positive entry.
    """
    array /= array.max(axis=-1, keepdims=True)
    array /= array.sum(axis=-1, keepdims=True)
    return array


def as_profile(profile, n_producers: int, dim: int, name: str = "profile") -> np.ndarray:
    """A (n_producers, dim) matrix whose rows are points of the simplex."""
    out = as_float_matrix(profile, name)
    if out.shape != (n_producers, dim):
        raise ValueError(
            f"{name} must have shape (n_producers, dim) = ({n_producers}, {dim}), got {out.shape}"
        )
    sums = out.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > L1_TOL)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name} row {i} sums to {sums[i]:.6g}; content vectors must have unit L1 norm"
        )
    return out


def as_counts(counts, n_producers: int, dim: int, name: str = "counts") -> np.ndarray:
    """A count vector: dim non-negative integers summing to n_producers."""
    arr = np.asarray(counts)
    if arr.ndim != 1 or arr.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim},), got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)):
        raise ValueError(f"{name} must hold whole numbers, got {arr!r}")
    out = arr.astype(np.int64)
    if (out < 0).any():
        raise ValueError(f"{name} must be >= 0, got {out.tolist()}")
    if out.sum() != n_producers:
        raise ValueError(f"{name} must sum to n_producers={n_producers}, got {int(out.sum())}")
    return out


def check_costs(costs, dim: int) -> np.ndarray | None:
    """Per-feature production costs: None (no costs), or a finite non-negative (dim,) vector
    (read-only copy; all zeros is None, so a game without costs runs the same code)."""
    if costs is None:
        return None
    try:
        out = np.array(costs, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"costs must be a vector of {dim} numbers, got {costs!r}") from error
    if out.shape != (dim,):
        raise ValueError(f"costs must have shape ({dim},) (one per feature), got {out.shape}")
    if not np.isfinite(out).all() or (out < 0).any():
        raise ValueError(f"costs must be finite and non-negative, got {out.tolist()}")
    if not out.any():
        return None
    out.setflags(write=False)
    return out


def check_rule(rule, n_producers: int, k) -> tuple[str, int | None]:
    """Validate the serving rule and its ``k`` (only ``topk_softmax`` takes one)."""
    rule = check_choice(rule, "rule", RULES)
    if rule == "topk_softmax":
        if k is None:
            raise ValueError("k is required for rule='topk_softmax' (1 <= k <= n_producers)")
        k = check_int(k, "k")
        if not 1 <= k <= n_producers:
            raise ValueError(f"k must be in 1..n_producers={n_producers}, got {k}")
    elif k is not None:
        raise ValueError(f"k is only used by rule='topk_softmax', got k={k!r} with rule={rule!r}")
    return rule, k


def as_assignment(assignment, n_producers: int, dim: int, name: str) -> np.ndarray:
    """A (n_producers,) integer array of features in 0..dim-1."""
    arr = np.asarray(assignment)
    if arr.shape != (n_producers,):
        raise ValueError(f"{name} must have shape ({n_producers},), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer feature indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= dim):
        raise ValueError(f"{name} must hold features in 0..{dim - 1}, got {arr.tolist()}")
    return arr.astype(np.int64)
