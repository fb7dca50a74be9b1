"""Utilities of basis-vector profiles computed from the count vector alone.

On a basis-vector profile every producer on feature ``a`` is in the same position (MODEL.md
section 2): its utility, and its utility after moving to any feature ``b``, depend only on the
counts ``n_j``. :class:`CountOracle` computes one such *deviation row* ``row(counts, a)[b]`` in
O(n_users * dim) time; ``row[a]`` is the producer's current utility. Nothing here rebuilds a
users x producers matrix.

Softmax-family rules use exponentials precomputed once per population,
``A[k, j] = exp((c_kj - max_j c_kj) / tau)``, so a row costs one mat-vec and a few elementwise
passes. That is exact as long as ``A`` cannot underflow, i.e. for users whose score range over
features is below ``690 * tau``; the remaining users (only at tau below ~1.5e-3) go through the
log-space formulas of :func:`recsys_eq_env.serving.deviation_probabilities`.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy.special import expit, logsumexp

from . import _checks
from .moves import Improvement, best_move, strictly_improves  # noqa: F401 (where they were)

#: exp(-690) ~ 2e-300 is still a normal double: sums and ratios of such terms keep full precision.
SAFE_EXPONENT = 690.0
#: The same for float32: exp(-80) ~ 1.8e-35, a normal float32 whose reciprocal (5e34) is finite.
SAFE_EXPONENT_32 = 80.0
#: Users per chunk in the hot paths: a (dim, CHUNK) buffer stays in cache for large populations.
CHUNK = 1 << 16
#: Deviation rows an oracle remembers: runs of one game revisit the same count vectors (they
#: converge to the same few equilibria), so the last rows are worth keeping (17-31% less time
#: for 10 runs on 90,000 users), where a row costs more than looking it up: from this many
#: users x features on.
ROW_CACHE = 4096
ROW_CACHE_MIN_WORK = 20_000
PRECISIONS = {"float64": np.float64, "float32": np.float32}
#: Elements of the (count vectors x users) intermediate of the batched kernel per block of
#: users: 2^17 (1 MiB in float64) stays in a core's L2 cache.
BATCH_BLOCK = 1 << 17


class CountOracle:
    """Deviation rows of basis-vector profiles for one population and serving rule.

    ``precision="float32"`` halves the memory and time of the softmax and linear hot paths
    (sums are still accumulated in float64 per chunk); utilities are then accurate to about
    1e-6 relative, so compare them with a tolerance of that order (``tol >= 1e-5``).

    The constructor validates its arguments (as :class:`EngagementGame` does); :meth:`row` and
    :meth:`utilities` trust theirs (they are the dynamics' hot loop): counts of length ``dim``,
    non-negative, with ``counts[a] >= 1``. One oracle may serve several threads: its scratch
    buffer is per thread.
    """

    def __init__(
        self,
        users: np.ndarray,
        rule: str,
        temperature: float = 1.0,
        k: int | None = None,
        utility: str = "engagement",
        precision: str = "float64",
        costs=None,
    ):
        rule = _checks.check_choice(rule, "rule", _checks.RULES)
        users = _checks.as_users(users)
        if rule == "topk_softmax":
            k = _checks.check_int(k, "k", minimum=1)
        elif k is not None:
            raise ValueError(f"k is only used by rule='topk_softmax', got k={k!r}")
        self._setup(
            users,
            rule,
            _checks.check_temperature(temperature),
            k,
            _checks.check_choice(utility, "utility", _checks.UTILITIES),
            _checks.check_choice(precision, "precision", tuple(PRECISIONS)),
            _checks.check_costs(costs, users.shape[1]),
        )

    @classmethod
    def _trusted(cls, users, rule, temperature, k, utility, precision, costs=None):
        """An oracle from arguments a game has validated already (no second copy of users)."""
        oracle = cls.__new__(cls)
        oracle._setup(users, rule, temperature, k, utility, precision, costs)
        return oracle

    def _setup(self, users, rule, temperature, k, utility, precision, costs=None):
        self.users = users
        #: (dim,) production cost of each feature, charged to the producers on it (None: free).
        self.costs = costs
        self.rule = rule
        self.temperature = temperature
        self.k = k
        self.utility = utility
        self.precision = precision
        dtype = PRECISIONS[precision]
        self.n_users, self.dim = users.shape
        engaged = users if utility == "engagement" else None
        # What a producer on each feature earns when it is served every user with probability 1.
        self._served_all = (
            users.sum(axis=0) if engaged is not None else np.full(self.dim, float(self.n_users))
        )
        # Hot paths (softmax, linear) work on feature-major (dim, n_users) arrays, chunk by chunk
        # through one reused buffer per thread: broadcasting along contiguous rows, no fresh
        # temporaries, and no thread ever writes into another's numbers.
        self._dtype = dtype
        self._buffer_shape = (self.dim, min(CHUNK, self.n_users))
        self._local = threading.local()
        self._rows: dict[tuple, np.ndarray] = {}
        if rule == "linear":
            self._u_t = np.ascontiguousarray(users.T, dtype=dtype)
            self._num_t = self._u_t * self._u_t if engaged is not None else self._u_t
        if rule in ("softmax", "topk_softmax"):
            z = users / temperature
            z_max = z.max(axis=1)
            spread = z_max - z.min(axis=1)
            # Users whose exponentials fit float32 (the batched float32 kernel needs every one).
            self._fits_float32 = bool((spread < SAFE_EXPONENT_32).all())
            limit = SAFE_EXPONENT if dtype == np.float64 else SAFE_EXPONENT_32
            safe = spread < limit
            self._safe = np.flatnonzero(safe)
            self._unsafe = np.flatnonzero(~safe)
            a = np.exp(z[self._safe] - z_max[self._safe, None])
            self._a_t = np.ascontiguousarray(a.T, dtype=dtype)
            wa = a if engaged is None else engaged[self._safe] * a
            self._wa_t = np.ascontiguousarray(wa.T, dtype=dtype)
            # Log-space users keep scores relative to their best feature (0 there, exactly):
            # differences of numbers of order 1/tau would lose digits.
            self._z_unsafe = z[self._unsafe] - z_max[self._unsafe, None]
            self._f_unsafe = None if engaged is None else engaged[self._unsafe]
            # Users summed by a mat-vec, which costs less than a reduction on small arrays.
            small = self._safe.size <= CHUNK and self._unsafe.size == 0 and dtype == np.float64
            self._ones = np.ones(self._safe.size) if small else None
        if rule == "topk_softmax":
            self._prepare_topk(engaged)

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in ("_local", "_rows"):
            del state[name]
        state.pop("_batch_cache", None)  # rebuilt on demand
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()
        self._rows = {}

    @property
    def _buffer(self) -> np.ndarray:
        """This thread's (dim, chunk) scratch buffer."""
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = np.empty(self._buffer_shape, dtype=self._dtype)
        return buffer

    # ------------------------------------------------------------------ public API
    def row(self, counts: np.ndarray, a: int, n_total: float | None = None) -> np.ndarray:
        """(dim,) utility of a producer now on feature ``a`` after moving to each feature.

        ``counts`` must include the producer itself (``counts[a] >= 1``); ``n_total``, their
        sum, may be passed by callers that know it (the dynamics' hot loop), else it is computed.
        On large populations the last :data:`ROW_CACHE` rows are remembered (read-only).
        """
        if self.n_users * self.dim < ROW_CACHE_MIN_WORK:
            return self._charged(self._row(counts, a, n_total))
        key = (counts.tobytes(), a)
        row = self._rows.get(key)
        if row is None:
            row = self._charged(self._row(counts, a, n_total))
            row.setflags(write=False)
            # Single dict operations are atomic: threads can at worst drop an entry.
            if len(self._rows) >= ROW_CACHE:
                self._rows.clear()
            self._rows[key] = row
        return row

    def _charged(self, served: np.ndarray) -> np.ndarray:
        """A deviation row net of production costs (each column pays its feature's cost)."""
        if self.costs is not None:
            served = served - self.costs
        return self._finite(served)

    def _finite(self, values: np.ndarray) -> np.ndarray:
        """``values``, or a clear error where arithmetic left the finite numbers: nothing
        downstream (an equilibrium check, the dynamics) may read NaN as "no gain"."""
        if not np.isfinite(values).all():
            raise FloatingPointError(
                f"utilities are not finite for rule={self.rule!r}, temperature="
                f"{self.temperature:g}, precision={self.precision!r}: the exponentials left "
                "the range of the precision; use precision='float64'"
            )
        return values

    def _row(self, counts: np.ndarray, a: int, n_total: float | None) -> np.ndarray:
        others = counts.astype(np.float64)
        others[a] -= 1.0
        if n_total is None:
            n_total = float(counts.sum())
        rule = self.rule
        if n_total == 1.0:
            return self._served_all.copy()
        if rule == "uniform":
            return self._served_all / n_total
        if rule == "linear":
            return self._linear_row(others, n_total)
        if rule == "hardmax":
            return self._hardmax_row(others)
        if rule == "softmax" or self.k >= n_total:
            return self._softmax_row(others)
        return self._topk_row(others)

    def batch_utilities(self, counts: np.ndarray, dtype=np.float64) -> np.ndarray:
        """(B, dim) :meth:`utilities` of B count vectors (B, dim) at once.

        For softmax and linear serving this is two (B x dim x n_users) matrix products and one
        (B x n_users) division, in ``dtype`` (``np.float32`` halves the memory traffic; sums
        over users then carry about 1e-6 relative error); other rules go row by row. Where a
        user's scores span more than 80 temperatures, exponentials underflow float32: the
        kernel then runs in float64 (same numbers as ``dtype=np.float64``, never NaN).
        """
        counts = np.asarray(counts)
        b, n_total = counts.shape[0], float(counts[0].sum()) if len(counts) else 0.0
        if np.dtype(dtype) == np.float32 and not getattr(self, "_fits_float32", True):
            dtype = np.float64
        smooth = self.rule == "linear" or (
            self.rule in ("softmax", "topk_softmax")
            and self._unsafe.size == 0
            and (self.rule == "softmax" or self.k >= n_total)
        )
        if not smooth or n_total == 1.0:
            return np.array([self.utilities(c) for c in counts]).reshape(b, self.dim)
        left, right = self._batch_arrays(np.dtype(dtype))
        weights = counts.astype(left.dtype)
        out = np.zeros((b, self.dim), dtype=left.dtype)
        n_users = left.shape[1]
        # Users in blocks whose (B x block) intermediate stays in cache (BATCH_BLOCK elements),
        # but at least 256 users per block so the products stay products.
        step = max(1, min(n_users, max(256, BATCH_BLOCK // max(b, 1))))
        scratch = self._batch_scratch(b, step, left.dtype)
        for lo in range(0, n_users, step):
            hi = min(lo + step, n_users)
            total = np.matmul(weights, left[:, lo:hi], out=scratch[:, : hi - lo])
            if self.rule == "linear":
                empty = total == 0  # users nobody reaches: served uniformly
                np.divide(1.0, total, out=total, where=~empty)
                total[empty] = 0.0
                if self.utility == "exposure":
                    out += empty.sum(axis=1, keepdims=True) / n_total
            else:
                np.divide(1.0, total, out=total)
            out += total @ right[lo:hi]
        out = out.astype(np.float64)
        if self.costs is not None:
            out -= self.costs
        return self._finite(np.where(counts > 0, out, 0.0))

    def _batch_arrays(self, dtype):
        """(left (dim, n_users), right (n_users, dim)) of the batched kernel, per dtype."""
        cache = self.__dict__.setdefault("_batch_cache", {})
        arrays = cache.get(dtype)
        if arrays is None:
            if self.rule == "linear":
                left = self._u_t
                right = self._num_t
            else:
                left, right = self._a_t, self._wa_t
            arrays = (
                np.ascontiguousarray(left, dtype=dtype),
                np.ascontiguousarray(right.T, dtype=dtype),
            )
            cache[dtype] = arrays  # a race builds two equal copies: harmless
        return arrays

    def _batch_scratch(self, rows, columns, dtype):
        scratch = getattr(self._local, "batch", None)
        if scratch is None or scratch.shape != (rows, columns) or scratch.dtype != dtype:
            scratch = self._local.batch = np.empty((rows, columns), dtype=dtype)
        return scratch

    def table(self, counts: np.ndarray) -> np.ndarray:
        """(dim, dim) deviation rows for every occupied feature; unoccupied rows are 0."""
        out = np.zeros((self.dim, self.dim))
        for a in np.flatnonzero(counts):
            out[a] = self.row(counts, int(a))
        return out

    def utilities(self, counts: np.ndarray) -> np.ndarray:
        """(dim,) current utility of a producer on each occupied feature (0 elsewhere).

        One pass over the users for softmax and linear serving (``row(counts, a)[a]`` for every
        occupied ``a`` would take ``dim`` passes).
        """
        occupied = counts > 0
        n_total = float(counts.sum())
        rule = self.rule
        if n_total == 1.0:
            out = self._served_all.copy()
        elif rule == "uniform":
            out = self._served_all / n_total
        elif rule == "linear":
            out = self._linear_utilities(counts.astype(np.float64), n_total)
        elif rule == "softmax" or (rule == "topk_softmax" and self.k >= n_total):
            out = self._softmax_utilities(counts.astype(np.float64))
        else:  # from the rows, which are net of costs already
            out = np.zeros(self.dim)
            for a in np.flatnonzero(occupied):
                out[a] = self.row(counts, int(a))[a]
            return self._finite(np.where(occupied, out, 0.0))
        if self.costs is not None:
            out = out - self.costs
        return self._finite(np.where(occupied, out, 0.0))

    # ------------------------------------------------------------------ rules
    def _chunks(self, size: int):
        return ((lo, min(lo + CHUNK, size)) for lo in range(0, size, CHUNK))

    def _linear_row(self, others, n_total):
        weights = others.astype(self._u_t.dtype)
        scratch = self._buffer
        # Users with zero affinity to every other producer are served by the deviator alone
        # when it scores > 0, else uniformly (MODEL.md: the zero-denominator case).
        fill = 0.0 if self.utility == "engagement" else 1.0 / n_total
        out = np.zeros(self.dim)
        for lo, hi in self._chunks(self.n_users):
            u, num = self._u_t[:, lo:hi], self._num_t[:, lo:hi]
            rest = weights @ u  # total score of the other producers, per user
            den = np.add(u, rest, out=scratch[:, : hi - lo])
            if (rest == 0.0).any():
                p = np.divide(num, den, out=np.full(den.shape, fill, den.dtype), where=den > 0)
            else:
                p = np.divide(num, den, out=den)
            out += p.sum(axis=1, dtype=np.float64)
        return out

    def _linear_utilities(self, counts, n_total):
        weights = counts.astype(self._u_t.dtype)
        out = np.zeros(self.dim)
        for lo, hi in self._chunks(self.n_users):
            total = weights @ self._u_t[:, lo:hi]  # everybody's score, per user
            positive = total > 0
            inverse = np.divide(1.0, total, out=np.zeros_like(total), where=positive)
            out += (self._num_t[:, lo:hi] @ inverse).astype(np.float64)
            if self.utility == "exposure":
                out += (~positive).sum() / n_total  # uniform serving of zero-affinity users
        return out

    def _hardmax_row(self, others):
        u = self.users
        present = others > 0
        best = np.where(present, u, -np.inf).max(axis=1, keepdims=True)
        n_best = ((u == best) @ others)[:, None]
        p = (u > best) + (u == best) / (n_best + 1.0)
        if self.utility == "engagement":
            p = p * u
        return p.sum(axis=0)

    def _softmax_row(self, others):
        weights = others.astype(self._dtype, copy=False)
        scratch = self._buffer
        if self._ones is not None:  # one float64 chunk (small populations): fewest NumPy calls
            buf = np.add(self._a_t, weights @ self._a_t, out=scratch)
            return np.divide(self._wa_t, buf, out=buf) @ self._ones
        out = np.zeros(self.dim)
        for lo, hi in self._chunks(self._safe.size):
            a, wa = self._a_t[:, lo:hi], self._wa_t[:, lo:hi]
            rest = weights @ a  # shifted partition function of the others, per user
            buf = np.add(a, rest, out=scratch[:, : hi - lo])
            out += np.divide(wa, buf, out=buf).sum(axis=1, dtype=np.float64)
        if self._unsafe.size:
            present = others > 0
            z = self._z_unsafe
            log_rest = logsumexp(z[:, present], b=others[present], axis=1)
            out += self._weigh_unsafe(expit(z - log_rest[:, None]))
        return out

    def _softmax_utilities(self, counts):
        out = np.zeros(self.dim)
        weights = counts.astype(self._dtype)
        for lo, hi in self._chunks(self._safe.size):
            partition = weights @ self._a_t[:, lo:hi]
            out += (self._wa_t[:, lo:hi] @ (1.0 / partition)).astype(np.float64)
        if self._unsafe.size:  # log space; only occupied features (others could overflow)
            present = counts > 0
            z = self._z_unsafe[:, present]
            log_all = logsumexp(z, b=counts[present], axis=1)
            p = np.exp(z - log_all[:, None])
            if self._f_unsafe is not None:
                p = p * self._f_unsafe[:, present]
            out[present] += p.sum(axis=0)
        return out

    def _weigh_unsafe(self, p):
        if self._f_unsafe is not None:
            p = p * self._f_unsafe
        return p.sum(axis=0)

    # ------------------------------------------------------------------ top-k
    def _prepare_topk(self, engaged):
        """Sort every user's features once; tie groups of equal scores never change."""
        u = self.users
        order = np.argsort(-u, axis=1, kind="stable")
        u_sorted = np.take_along_axis(u, order, axis=1)
        positions = np.arange(self.dim)
        starts = np.ones(u.shape, dtype=bool)
        starts[:, 1:] = u_sorted[:, 1:] != u_sorted[:, :-1]
        ends = np.ones(u.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        self._order = order
        self._group_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
        self._group_end = np.minimum.accumulate(
            np.where(ends, positions, self.dim - 1)[:, ::-1], axis=1
        )[:, ::-1]
        values = u_sorted if engaged is not None else np.ones_like(u_sorted)
        z_sorted = u_sorted / self.temperature
        self._z_sorted = z_sorted - z_sorted[:, :1]  # relative to each user's best, as above
        self._f_sorted = values
        # Exponentials in sorted order, shifted by each user's maximum (the first column).
        self._a_sorted = np.exp(z_sorted - z_sorted[:, :1])
        self._topk_safe = (z_sorted[:, 0] - z_sorted[:, -1]) < SAFE_EXPONENT

    def _topk_row(self, others):
        k = self.k
        w = others[self._order]  # (K, d) other producers' multiplicities in sorted order
        through = np.cumsum(w, axis=1)
        before = through - w
        above = np.take_along_axis(before, self._group_start, axis=1)
        tied = np.take_along_axis(through, self._group_end, axis=1) - above
        inclusion = np.clip((k - above) / (tied + 1.0), 0.0, 1.0)
        if k == 1:
            p = inclusion
        else:
            take = np.clip((k - 1) - before, 0.0, w)
            p = np.empty_like(inclusion)
            safe = self._topk_safe
            a = self._a_sorted[safe]
            rest = (take[safe] * a).sum(axis=1, keepdims=True)
            p[safe] = inclusion[safe] * a / (a + rest)
            if not safe.all():
                z = self._z_sorted[~safe]
                log_rest = logsumexp(z, b=take[~safe], axis=1)
                p[~safe] = inclusion[~safe] * expit(z - log_rest[:, None])
        return np.bincount(
            self._order.ravel(), weights=(p * self._f_sorted).ravel(), minlength=self.dim
        )
