"""The paper's improvement rule (MODEL.md section 3): when a move counts as a strict gain, and
the best move of a producer from its deviation row."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


def strictly_improves(best, current, tol: float = 1e-9):
    """The paper's strict-improvement rule (MODEL.md section 3), elementwise:
    ``best > current + tol * max(|current|, 1e-12)``. Every check in the package calls this."""
    if isinstance(current, float):  # the dynamics' hot loop: plain Python arithmetic
        return best > current + tol * max(abs(current), 1e-12)
    return best > current + tol * np.maximum(np.abs(current), 1e-12)


class Improvement(NamedTuple):
    """What a producer on one feature can gain by moving to a basis vector."""

    #: Whether the best move strictly improves (:func:`strictly_improves`).
    improves: bool
    #: The best feature (lowest index on ties); the producer's own when nothing is better.
    best: int
    #: The best utility minus the current one (>= 0; may be below the tolerance).
    gain: float


def best_move(row: np.ndarray, a: int, tol: float = 1e-9) -> Improvement:
    """:class:`Improvement` of a producer on feature ``a`` from its deviation row."""
    best = int(row.argmax())
    current = float(row[a])
    value = float(row[best])
    if not (math.isfinite(value) and math.isfinite(current)):  # NaN would read as "no gain"
        raise FloatingPointError(f"utilities are not finite in the deviation row {row.tolist()}")
    return Improvement(bool(strictly_improves(value, current, tol)), best, value - current)
