"""The engagement game of Acharya, Vangala, Wang and Ziani (TMLR 2025), as a facade.

K users with embeddings ``c_k`` on the simplex, ``n`` producers choosing content ``s_i`` on the
simplex, a serving rule ``p_i(c, S)`` and a producer utility (MODEL.md section 1):

* engagement ``u_i(S) = sum_k p_i(c_k, S) <c_k, s_i>`` (the paper's), or
* exposure ``u_i(S) = sum_k p_i(c_k, S)``.

:class:`EngagementGame` validates its inputs once and delegates the mathematics to
:mod:`recsys_eq_env.serving` (arbitrary profiles) and :mod:`recsys_eq_env.counts` (basis-vector
profiles, from the count vector).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks, serving
from .counts import CountOracle, improvement

#: Tables and analyses kept per game (an env step and its agents look at the same counts).
CACHE_SIZE = 16


class CountAnalysis(NamedTuple):
    """Per-feature summary of a basis-vector profile; entries of empty features are 0/False."""

    #: (dim,) utility of a producer on each feature.
    utilities: np.ndarray
    #: (dim,) its best basis-vector gain, >= 0.
    regrets: np.ndarray
    #: (dim,) its best feature (lowest index on ties).
    best: np.ndarray
    #: (dim,) whether it strictly improves by moving there (MODEL.md section 3 tolerance).
    improving: np.ndarray


class EngagementGame:
    """Producers compete for users' engagement under a serving rule.

    Parameters
    ----------
    users:
        (n_users, dim) non-negative embeddings; rows are L1-normalised (a copy is kept).
    n_producers:
        Number of producers, >= 1.
    rule:
        ``"softmax"`` (default), ``"linear"``, ``"topk_softmax"``, ``"uniform"`` or ``"hardmax"``.
    temperature:
        Softmax temperature ``tau > 0`` (used by ``softmax`` and ``topk_softmax``).
    utility:
        ``"engagement"`` (the paper's) or ``"exposure"``.
    k:
        Size of each user's shortlist for ``topk_softmax`` (1..n_producers); only that rule takes
        it.
    precision:
        ``"float64"`` (default) or ``"float32"`` for the count-vector engine (basis-vector
        profiles, the dynamics): half the memory and about half the time on very large
        populations, utilities accurate to about 1e-6 relative (use ``tol >= 1e-5``).
    """

    def __init__(
        self,
        users,
        n_producers: int,
        rule: str = "softmax",
        temperature: float = 1.0,
        utility: str = "engagement",
        k: int | None = None,
        precision: str = "float64",
    ):
        self.users = _checks.as_users(users)
        self.n_producers = _checks.check_int(n_producers, "n_producers", minimum=1)
        self.rule, self.k = _checks.check_rule(rule, self.n_producers, k)
        self.temperature = _checks.check_positive_float(temperature, "temperature")
        self.utility = _checks.check_choice(utility, "utility", _checks.UTILITIES)
        self.precision = _checks.check_choice(precision, "precision", ("float64", "float32"))
        self.n_users, self.dim = self.users.shape
        self._oracle: CountOracle | None = None
        self._cache: dict[tuple, object] = {}
        self._work: tuple | None = None

    def __repr__(self) -> str:
        extra = f", k={self.k}" if self.k is not None else ""
        return (
            f"EngagementGame(n_users={self.n_users}, dim={self.dim}, "
            f"n_producers={self.n_producers}, rule={self.rule!r}, "
            f"temperature={self.temperature}, utility={self.utility!r}{extra})"
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_oracle"] = None  # rebuilt on demand; keeps pickles small
        state["_cache"] = {}
        state["_work"] = None
        return state

    # ------------------------------------------------------------------ arbitrary profiles
    def serving_probabilities(self, profile) -> np.ndarray:
        """(n_users, n_producers) probability that each user is shown each producer."""
        scores = self._scores(profile)
        return self._probabilities(scores)

    def producer_utilities(self, profile) -> np.ndarray:
        """(n_producers,) utility of every producer."""
        S = self.check_profile(profile)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            per_feature = self.count_utilities(counts)
            return per_feature[assignment]
        if self.rule in ("softmax", "linear"):
            users_t, *work = self._workspace()
            return serving.smooth_producer_utilities(
                users_t, S, self.rule, self.temperature, self.utility, work
            )
        scores = serving.score_matrix(self.users, S)
        return serving.producer_utilities(scores, self._probabilities(scores), self.utility)

    def user_utilities(self, profile) -> np.ndarray:
        """(n_users,) engagement of every user, ``v_k = sum_i p_i(c_k, S) <c_k, s_i>``."""
        scores = self._scores(profile)
        return serving.user_utilities(scores, self._probabilities(scores))

    def deviation_utilities(self, profile, i: int) -> np.ndarray:
        """(dim,) utility of producer ``i`` at each basis vector, the others fixed."""
        S = self.check_profile(profile)
        i = self._check_producer(i)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return self.oracle.row(counts, int(assignment[i]))
        scores = serving.score_matrix(self.users, S)
        others = np.delete(scores, i, axis=1)
        return self.utilities_against(others, np.ones(others.shape[1]))

    def utilities_against(self, others, weights, candidates=None) -> np.ndarray:
        """Utility of one producer against others given by their scores, not their identities.

        ``others`` (n_users, m) are the other producers' scores with multiplicities ``weights``
        (m,) (``weights.sum() == n_producers - 1`` for an exact answer); ``candidates``
        (n_users, c) are the scores of the content vectors to evaluate, by default every basis
        vector (``candidates = users``). Returns (c,).
        """
        others = np.asarray(others, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        keep = weights > 0
        candidates = self.users if candidates is None else np.asarray(candidates, float)
        p = serving.deviation_probabilities(
            candidates, others[:, keep], weights[keep], self.rule, self.temperature, self.k
        )
        return (p * candidates).sum(axis=0) if self.utility == "engagement" else p.sum(axis=0)

    def regrets(self, profile) -> np.ndarray:
        """(n_producers,) best basis-vector gain of every producer, >= 0."""
        S = self.check_profile(profile)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return self.count_regrets(counts)[assignment]
        current = self.producer_utilities(S)
        return np.maximum(self.best_deviations(S) - current, 0.0)

    def nash_conv(self, profile) -> float:
        """Sum of regrets: 0 exactly at a Nash equilibrium over basis-vector deviations."""
        return float(self.regrets(profile).sum())

    def is_nash(self, profile, tol: float = 1e-9) -> bool:
        """No producer gains more than ``tol`` (relative) by moving to a basis vector.

        For ``linear`` serving (and softmax with tau >= 1/2) basis vectors are best responses
        over the whole simplex (MODEL.md section 2), so this is the full Nash condition there.
        """
        S = self.check_profile(profile)
        assignment = basis_assignment(S)
        if assignment is not None:
            return self.count_is_nash(np.bincount(assignment, minlength=self.dim), tol)
        current = self.producer_utilities(S)
        slack = tol * np.maximum(np.abs(current), 1e-12)
        return not (self.best_deviations(S) > current + slack).any()

    def _workspace(self):
        """Users feature-major and two (n_producers, n_users) buffers, reused by the
        mixed-profile fast paths (they run once per env step)."""
        if self._work is None:
            self._work = (
                np.ascontiguousarray(self.users.T),
                np.empty((self.n_producers, self.n_users)),
                np.empty((self.n_producers, self.n_users)),
            )
        return self._work

    def best_deviations(self, profile) -> np.ndarray:
        """(n_producers,) each producer's best basis-vector utility, the others fixed."""
        S = self.check_profile(profile)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return self.deviation_table(counts).max(axis=1)[assignment]
        table = serving.all_deviation_utilities(
            self._workspace()[0], S, self.rule, self.temperature, self.utility
        )
        if table is not None:
            return table.max(axis=1)
        return np.array([self.deviation_utilities(S, i).max() for i in range(self.n_producers)])

    # ------------------------------------------------------------------ count vectors
    @property
    def oracle(self) -> CountOracle:
        """The count-vector engine (built on first use, O(n_users * dim))."""
        if self._oracle is None:
            self._oracle = CountOracle(
                self.users, self.rule, self.temperature, self.k, self.utility, self.precision
            )
        return self._oracle

    def deviation_table(self, counts) -> np.ndarray:
        """(dim, dim): row ``a`` is :meth:`deviation_utilities` of a producer on feature ``a``.

        Rows of unoccupied features are 0. The last few tables are cached (read-only), so an
        environment step and every agent looking at the same counts share one computation.
        """
        counts = _checks.as_counts(counts, self.n_producers, self.dim)
        return self._cached(("table", counts.tobytes()), lambda: self.oracle.table(counts))

    def analyse_counts(self, counts, tol: float = 1e-9) -> CountAnalysis:
        """Utility, regret, best response and improvement of a producer on each feature."""
        if isinstance(counts, np.ndarray) and counts.dtype == np.int64 and counts.ndim == 1:
            # A hit means these exact bytes were validated when the entry was made.
            hit = self._cache.get(("analysis", counts.tobytes(), float(tol)))
            if hit is not None:
                return hit
        counts = _checks.as_counts(counts, self.n_producers, self.dim)
        return self._cached(
            ("analysis", counts.tobytes(), float(tol)), lambda: self._analyse(counts, tol)
        )

    def _analyse(self, counts, tol):
        utilities = np.zeros(self.dim)
        best = np.arange(self.dim)
        improving = np.zeros(self.dim, dtype=bool)
        regrets = np.zeros(self.dim)
        for a in np.flatnonzero(counts):
            row = self.oracle.row(counts, int(a))
            improving[a], best[a] = improvement(row, int(a), tol)
            utilities[a] = row[a]
            regrets[a] = max(row.max() - row[a], 0.0)
        for array in (utilities, regrets, best, improving):
            array.setflags(write=False)
        return CountAnalysis(utilities, regrets, best, improving)

    def _cached(self, key, compute):
        """Small FIFO cache of results keyed by count vector (read-only arrays)."""
        value = self._cache.get(key)
        if value is None:
            value = compute()
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            if len(self._cache) >= CACHE_SIZE:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = value
        return value

    def count_utilities(self, counts) -> np.ndarray:
        """(dim,) utility of a producer on each feature; 0 where no producer sits."""
        counts = _checks.as_counts(counts, self.n_producers, self.dim)
        return self.oracle.utilities(counts)

    def count_regrets(self, counts) -> np.ndarray:
        """(dim,) best basis-vector gain of a producer on each feature; 0 where none sits."""
        return self.analyse_counts(counts).regrets.copy()

    def count_is_nash(self, counts, tol: float = 1e-9) -> bool:
        """Whether the basis-vector profile with these counts is a pure Nash equilibrium."""
        return not self.analyse_counts(counts, tol).improving.any()

    # ------------------------------------------------------------------ helpers
    def check_profile(self, profile) -> np.ndarray:
        """Validate a (n_producers, dim) profile with rows on the simplex."""
        return _checks.as_profile(profile, self.n_producers, self.dim)

    def _check_producer(self, i) -> int:
        i = _checks.check_int(i, "i", minimum=0)
        if i >= self.n_producers:
            raise ValueError(f"i must be a producer index in 0..{self.n_producers - 1}, got {i}")
        return i

    def _scores(self, profile) -> np.ndarray:
        return serving.score_matrix(self.users, self.check_profile(profile))

    def _probabilities(self, scores) -> np.ndarray:
        return serving.serving_probabilities(scores, self.rule, self.temperature, self.k)


def basis_assignment(profile: np.ndarray) -> np.ndarray | None:
    """The feature of every producer if all rows are exact basis vectors, else ``None``."""
    if not np.all((profile == 0.0) | (profile == 1.0)):
        return None
    if not np.all(profile.sum(axis=1) == 1.0):
        return None
    return profile.argmax(axis=1)


def profile_from_assignment(assignment, dim: int) -> np.ndarray:
    """(n, dim) basis-vector profile with producer ``i`` on feature ``assignment[i]``."""
    return np.eye(dim)[np.asarray(assignment, dtype=np.int64)]
