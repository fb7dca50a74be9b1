"""Count vectors as a lattice: ranking, unranking and neighbours, vectorised.

A count vector of ``total`` producers over ``dim`` features is a composition of ``total``
into ``dim`` parts; there are C(total + dim - 1, dim - 1) of them. Writing it as the positions
of ``dim - 1`` bars among ``total + dim - 1`` slots, ``s_j = c_0 + ... + c_{j-1} + j - 1``
(``j = 1 .. dim - 1``, strictly increasing), turns it into a combination, whose colexicographic
rank ``sum_j C(s_j, j)`` (the combinatorial number system) is a bijection onto
``0 .. C(total + dim - 1, dim - 1) - 1``. This numbers every count vector without a lookup
table, so the neighbour ``c - e_a + e_b`` of a whole batch of count vectors is found by
arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from ._budget import check_bytes


def size(total: int, dim: int) -> int:
    """How many count vectors of ``total`` producers over ``dim`` features."""
    return math.comb(total + dim - 1, dim - 1)


#: Binomials above this are stored as this: a valid rank sums terms below the lattice's size
#: (< 2**62), so no rank reads one, and the int64 table cannot overflow (few producers over
#: many features: C(97, 48) > 2**63 while the lattice of 2 producers over 97 has 4,753).
_CAP = 2**62


def _binomials(slots: int, dim: int) -> np.ndarray:
    """(slots + 1, dim) table of C(s, j) as int64, exact up to :data:`_CAP`."""
    table = np.zeros((slots + 1, dim), dtype=np.int64)
    for j in range(dim):
        for s in range(slots + 1):
            table[s, j] = min(math.comb(s, j), _CAP)
    return table


class Lattice:
    """Every count vector of ``total`` producers over ``dim`` features, numbered 0..size-1."""

    def __init__(self, total: int, dim: int):
        self.total, self.dim = int(total), int(dim)
        self.size = size(self.total, self.dim)
        self._slots = self.total + self.dim - 1
        if self.size >= 2**62:  # ranks are int64
            raise ValueError(
                f"{self.size:.3e} count vectors of {self.total:,} producers over {self.dim} "
                "features: too many to number (ranks are 64-bit integers)"
            )
        check_bytes(
            (self._slots + 1) * self.dim * 8,
            f"numbering the count vectors of {self.total:,} producers over {self.dim} features",
            way_out="use fewer producers",
        )
        self._table = _binomials(self._slots, self.dim)

    def rank(self, counts: np.ndarray) -> np.ndarray:
        """(m,) ranks of (m, dim) count vectors summing to ``total``."""
        counts = np.asarray(counts, dtype=np.int64)
        if self.dim == 1:
            return np.zeros(counts.shape[0], dtype=np.int64)
        bars = np.cumsum(counts[:, :-1], axis=1) + np.arange(self.dim - 1)
        return self._table[bars, np.arange(1, self.dim)].sum(axis=1)

    def unrank(self, ranks: np.ndarray) -> np.ndarray:
        """(m, dim) count vectors of (m,) ranks."""
        ranks = np.asarray(ranks, dtype=np.int64).copy()
        m = ranks.shape[0]
        if self.dim == 1:
            return np.full((m, 1), self.total, dtype=np.int64)
        bars = np.empty((m, self.dim - 1), dtype=np.int64)
        for j in range(self.dim - 1, 0, -1):
            column = self._table[:, j]  # increasing in s for s >= j
            s = np.searchsorted(column, ranks, side="right") - 1
            bars[:, j - 1] = s
            ranks -= column[s]
        edges = np.concatenate([np.full((m, 1), -1), bars, np.full((m, 1), self._slots)], axis=1)
        return np.diff(edges, axis=1) - 1

    def chunks(self, step: int):
        """(first rank, count vectors) of consecutive ranks, ``step`` at a time."""
        for lo in range(0, self.size, step):
            yield lo, self.unrank(np.arange(lo, min(lo + step, self.size)))
