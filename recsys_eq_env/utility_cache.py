"""Count-vector utilities, remembered: on basis-vector profiles a producer's utility is a
function of the count vector alone (MODEL.md section 2), so a step that revisits a count vector
need not touch the users at all.

``U(c)`` is the (dim,) utility of a producer on each feature at count vector ``c`` (0 where
nobody sits). A deviation of a producer on ``a`` to ``b`` lands in ``c - e_a + e_b`` and earns
``U(c - e_a + e_b)[b]``, so every deviation table, regret and ``nash_conv`` of basis profiles
is a gather from the same ``U``.

Modes (``EngagementGame(..., utility_cache=...)``):

* ``"table"``: ``U`` of every count vector of the lattice, filled at first use by the batched
  kernel (C(n + d - 1, d - 1) x d numbers: 0.2 MB at n = 20, d = 5; 400 MB in float32 at
  n = 20, d = 10), then a step is a gather by lattice rank whose cost does not grow with the
  number of users. Refused (a ValueError with the numbers) above :data:`TABLE_BYTES`.
* ``"lazy"``: the count vectors met so far, up to :data:`LAZY_ENTRIES` (then it starts
  afresh), misses computed in one batch.
* ``"auto"`` (default): ``"table"`` where the table has at most :data:`AUTO_TABLE_ENTRIES`
  count vectors, fits :data:`AUTO_TABLE_BYTES` and filling it costs at most
  :data:`AUTO_FILL_WORK` operations (for hardmax, top-k with k < n and uniform serving, whose
  fill runs one count vector at a time: at most :data:`AUTO_UNBATCHED_ENTRIES`), else
  ``"off"`` (a lazy map pays only where count vectors recur, as in training loops: ask for
  it).
* ``"off"``: every call computes (the batched kernel, blocked over users).

One cache serves every env and thread on its game: the table is filled once under a lock,
the lazy map changes by single dict operations (atomic in CPython) and is cleared under the
lock. Values are float64 (float32 where a float64 table would not fit but a float32 one
does); they equal the kernel's to its rounding.
"""

from __future__ import annotations

import threading

import numpy as np

from ._budget import human
from .lattice import Lattice
from .lattice import size as lattice_size

MODES = ("auto", "table", "lazy", "off")
#: The largest table ``"table"`` builds (bytes).
TABLE_BYTES = 2 * 2**30
#: ``"auto"`` takes a table of at most this many count vectors...
AUTO_TABLE_ENTRIES = 1 << 20
#: ...up to this size (bytes)...
AUTO_TABLE_BYTES = 64 * 2**20
#: ...and this much work to fill (count vectors x users x features).
AUTO_FILL_WORK = 2e10
#: ...or, for a rule filled one count vector at a time (:func:`batched_rule`), this many
#: (about a second of filling).
AUTO_UNBATCHED_ENTRIES = 2_000
#: Count vectors the lazy map holds before it starts afresh.
LAZY_ENTRIES = 1 << 20
#: Count vectors per batch when a table is filled.
FILL_CHUNK = 8192


def batched_rule(rule: str, n_producers: int, k: int | None = None) -> bool:
    """Whether the kernel fills a table for ``rule`` in batched array operations (linear,
    softmax, top-k with k >= n); the other rules (hardmax, top-k with k < n, uniform) compute
    one count vector at a time in Python, about a thousand times slower per entry."""
    return rule in ("linear", "softmax") or (rule == "topk_softmax" and k >= n_producers)


def choose(mode: str, n_producers: int, dim: int, n_users: int, batched: bool = True) -> str:
    """The mode ``"auto"`` stands for on this game (module docstring); ``batched``: see
    :func:`batched_rule` (an unbatched rule gets a table only where it has at most
    :data:`AUTO_UNBATCHED_ENTRIES` count vectors)."""
    if mode != "auto":
        return mode
    size = lattice_size(n_producers, dim)
    if not batched:
        return "table" if size <= AUTO_UNBATCHED_ENTRIES else "off"
    small = size <= AUTO_TABLE_ENTRIES and size * dim * 8 <= AUTO_TABLE_BYTES
    if small and size * n_users * dim <= AUTO_FILL_WORK:
        return "table"
    return "off"


def check_table(n_producers: int, dim: int) -> None:
    """Refuse a table that cannot be built (a ValueError with the numbers and the way out)."""
    size = lattice_size(n_producers, dim)
    if size * dim * 4 > TABLE_BYTES:
        raise ValueError(
            f"utility_cache='table' needs {size:,} count vectors x {dim} features, "
            f"{human(size * dim * 4)} even in float32, more than {human(TABLE_BYTES)}; use "
            "utility_cache='lazy' (the count vectors met so far) or 'off'"
        )


class UtilityCache:
    """``U(c)`` for count vectors ``c`` of one game (module docstring)."""

    def __init__(self, oracle, n_producers: int, dim: int, mode: str = "auto"):
        self.oracle = oracle
        self.n_producers, self.dim = n_producers, dim
        batched = batched_rule(oracle.rule, n_producers, getattr(oracle, "k", None))
        self.mode = choose(mode, n_producers, dim, oracle.n_users, batched)
        self._lock = threading.Lock()
        self._table: np.ndarray | None = None
        self._lazy: dict[int, np.ndarray] = {}
        self.lattice = Lattice(n_producers, dim) if self.mode in ("table", "lazy") else None
        if self.mode == "table":
            check_table(n_producers, dim)
            size = self.lattice.size
            self.dtype = np.float64 if size * dim * 8 <= TABLE_BYTES else np.float32

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_lazy"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def filled(self) -> bool:
        return self._table is not None

    def fill(self, progress: bool = False) -> None:
        """Compute the whole table now (``"table"`` mode; a no-op otherwise)."""
        if self.mode != "table" or self._table is not None:
            return
        with self._lock:
            if self._table is not None:
                return
            from ._progress import progress_bar

            size = self.lattice.size
            table = np.empty((size, self.dim), dtype=self.dtype)
            bar = progress_bar(-(-size // FILL_CHUNK), progress, desc="utility table", unit="chunk")
            for lo, counts in self.lattice.chunks(FILL_CHUNK):
                table[lo : lo + len(counts)] = self._compute(counts)
                bar.update()
            bar.close()
            table.setflags(write=False)
            self._table = table

    def _compute(self, counts: np.ndarray) -> np.ndarray:
        # checked here too: a non-finite value must never be remembered
        return self.oracle._finite(self.oracle.batch_utilities(counts, np.float64))

    def utilities(self, counts: np.ndarray) -> np.ndarray:
        """(m, dim) float64 ``U`` of (m, dim) count vectors (each summing to n)."""
        counts = np.asarray(counts, dtype=np.int64)
        if self.mode == "off":
            return self._compute(counts)
        ranks = self.lattice.rank(counts)
        if self.mode == "table":
            if self._table is None:
                self.fill()
            return self._table[ranks].astype(np.float64, copy=False)
        return self._lazy_rows(ranks, counts)

    def _lazy_rows(self, ranks, counts):
        lazy = self._lazy
        rows = [lazy.get(r) for r in ranks.tolist()]
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            fresh = self._compute(counts[missing])
            if len(lazy) + len(missing) > LAZY_ENTRIES:
                with self._lock:
                    lazy.clear()
            for i, row in zip(missing, fresh, strict=True):
                row.setflags(write=False)
                lazy[int(ranks[i])] = row
                rows[i] = row
        return np.array(rows, dtype=np.float64).reshape(len(ranks), self.dim)

    def row(self, counts: np.ndarray, a: int) -> np.ndarray:
        """(dim,) ``U(c - e_a + e_b)[b]`` for every ``b`` (``counts[a] >= 1``)."""
        dim = self.dim
        moved = np.repeat(np.asarray(counts, dtype=np.int64)[None], dim, axis=0)
        moved[:, a] -= 1
        moved[np.arange(dim), np.arange(dim)] += 1
        return self.utilities(moved)[np.arange(dim), np.arange(dim)]

    def deviation_tables(self, counts: np.ndarray) -> np.ndarray:
        """(m, dim, dim): ``[k, a, b] = U(c_k - e_a + e_b)[b]`` where ``c_k[a] > 0``, else 0:
        the deviation table of every occupied feature of m count vectors, by gathers."""
        counts = np.asarray(counts, dtype=np.int64)
        m, dim = counts.shape
        eye = np.eye(dim, dtype=np.int64)
        # (m, a, b, dim): c - e_a + e_b, for occupied a (else c itself, masked below)
        occupied = counts > 0
        moved = counts[:, None, None, :] - eye[None, :, None, :] + eye[None, None, :, :]
        moved = np.where(occupied[:, :, None, None], moved, counts[:, None, None, :])
        values = self.utilities(moved.reshape(-1, dim)).reshape(m, dim, dim, dim)
        table = np.take_along_axis(
            values, np.broadcast_to(np.arange(dim)[None, None, :, None], (m, dim, dim, 1)), axis=3
        )[..., 0]
        return np.where(occupied[:, :, None], table, 0.0)
