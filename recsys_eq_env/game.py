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

from . import _checks, continuous, serving
from . import utility_cache as utility_cache_module
from .counts import CountOracle, best_move, strictly_improves
from .game_state import CACHE_SIZE, GameState  # noqa: F401 (CACHE_SIZE: where it was)

#: What an equilibrium check compares a producer's utility with: every basis vector, or the
#: whole simplex (MODEL.md section 2).
DEVIATIONS = ("basis", "simplex")


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
    #: (dim, dim) row ``a``: the best content of a producer on feature ``a`` (a basis vector
    #: under ``deviations="basis"``, any point of the simplex under ``"simplex"``).
    responses: np.ndarray | None = None
    #: What the check proves: ``"exact"``, ``"certificate"`` or ``"basis only"``.
    check: str = "basis only"
    #: (dim,) an upper bound on the best utility of a producer on each feature (``inf`` where
    #: the simplex was only searched).
    bounds: np.ndarray | None = None


class BestResponses(NamedTuple):
    """Every producer's best deviation against the others' current content."""

    #: (n_producers,) the best utility found.
    value: np.ndarray
    #: (n_producers, dim) the content that earns it.
    content: np.ndarray
    #: (n_producers,) an upper bound on the best utility (``inf`` where only searched).
    bound: np.ndarray
    #: What the values prove: ``"exact"``, ``"certificate"`` or ``"basis only"``.
    check: str


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
    utility_cache:
        How basis-profile utilities are remembered (:mod:`recsys_eq_env.utility_cache`):
        ``"auto"`` (default: a table of every count vector where it is small and cheap to
        fill, else none), ``"table"``, ``"lazy"`` (the count vectors met so far) or ``"off"``.
        Every basis-profile quantity (utilities, deviation rows and tables, regrets,
        ``nash_conv``, the dynamics' rows) comes from the same function, so agents, envs and
        the dynamics see the same numbers whatever the mode.
    costs:
        Optional (dim,) non-negative production cost of each feature, in the utility's units
        (summed over users): a producer's utility is what it is served minus ``<costs, s_i>``
        (the cost of its feature on basis content). For models whose producers pay to make
        content (Jagadeesan, Garg, Steinhardt 2023; the ``jagadeesan-supply-v0`` scenario),
        where features are the items of a catalogue. A linear cost keeps a producer's utility
        convex wherever it was, so basis vectors stay best responses there; equilibrium checks
        run over basis vectors (``deviations="simplex"`` is refused: the simplex searches do
        not charge costs).
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
        utility_cache: str = "auto",
        costs=None,
    ):
        self.users = _checks.as_users(users)
        self.n_producers = _checks.check_int(n_producers, "n_producers", minimum=1)
        self.rule, self.k = _checks.check_rule(rule, self.n_producers, k)
        self.temperature = _checks.check_temperature(temperature)
        self.utility = _checks.check_choice(utility, "utility", _checks.UTILITIES)
        self.precision = _checks.check_choice(precision, "precision", ("float64", "float32"))
        mode = _checks.check_choice(utility_cache, "utility_cache", utility_cache_module.MODES)
        self.n_users, self.dim = self.users.shape
        self.costs = _checks.check_costs(costs, self.dim)
        batched = utility_cache_module.batched_rule(self.rule, self.n_producers, self.k)
        self.utility_cache = utility_cache_module.choose(
            mode, self.n_producers, self.dim, self.n_users, batched
        )
        if self.utility_cache == "table":  # refused up front where it cannot be built
            utility_cache_module.check_table(self.n_producers, self.dim)
        # Buffers, caches and the count-vector engine: one object, shared by threads
        self._state = GameState(self)

    def __repr__(self) -> str:
        extra = f", k={self.k}" if self.k is not None else ""
        if self.costs is not None:
            extra += f", costs={np.round(self.costs, 6).tolist()}"
        return (
            f"EngagementGame(n_users={self.n_users}, dim={self.dim}, "
            f"n_producers={self.n_producers}, rule={self.rule!r}, "
            f"temperature={self.temperature}, utility={self.utility!r}{extra})"
        )

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_state")  # rebuilt on demand: keeps pickles small
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._state = GameState(self)

    # ------------------------------------------------------------------ deviations
    @property
    def default_deviations(self) -> str:
        """The right equilibrium check for this game when none is named.

        ``"basis"`` for engagement (under ``linear`` serving a producer's utility is convex in
        its own content, so a basis vector is always a best response: MODEL.md section 2; the
        paper checks basis vectors under softmax too) and for rules without a gradient
        (``hardmax``, ``topk_softmax``: there a basis check is "basis only", and mixing often
        wins; :func:`recsys_eq_env.certify_counts` searches the simplex); ``"simplex"`` for
        exposure under ``linear`` and ``softmax`` serving, where best responses are often
        interior (linear exposure is concave in the producer's content).
        """
        if self.costs is not None:
            return "basis"
        if self.utility == "exposure" and self.rule in ("linear", "softmax"):
            return "simplex"
        return "basis"

    def check_deviations(self, deviations=None) -> str:
        """Validate ``deviations`` (``None``: :attr:`default_deviations`)."""
        if deviations is None:
            return self.default_deviations
        deviations = _checks.check_choice(deviations, "deviations", DEVIATIONS)
        if deviations == "simplex" and self.costs is not None:
            raise ValueError(
                "deviations='simplex' is not available for a game with costs: the simplex "
                "searches do not charge production costs; use deviations='basis' (the "
                "catalogue's items)"
            )
        return deviations

    def deviation_check(self, deviations=None) -> str:
        """What an equilibrium check over ``deviations`` proves about Nash equilibrium.

        * ``"exact"``: it is the full Nash condition over the simplex (basis vectors where the
          utility is convex in own content; the concave linear-exposure maximisation with its
          duality gap);
        * ``"certificate"``: a search over the simplex found nothing better (multi-start
          SLSQP for softmax exposure and softmax engagement below tau = 1/2; the line search
          of :mod:`recsys_eq_env.nonsmooth` for hardmax and top-k softmax): evidence, not
          proof;
        * ``"basis only"``: only basis-vector deviations were checked where continuous ones
          could do better (the equilibria of the game restricted to basis vectors).
        """
        deviations = self.check_deviations(deviations)
        if continuous.vertex_is_optimal(self):
            return "exact"
        if deviations == "basis":
            return "basis only"
        return "exact" if self.rule == "linear" else "certificate"

    # ------------------------------------------------------------------ arbitrary profiles
    def serving_probabilities(self, profile) -> np.ndarray:
        """(n_users, n_producers) probability that each user is shown each producer."""
        scores = self._scores(profile)
        return self._probabilities(scores)

    def producer_utilities(self, profile) -> np.ndarray:
        """(n_producers,) utility of every producer."""
        return self._producer_utilities(self.check_profile(profile))

    def _producer_utilities(self, S) -> np.ndarray:
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return self.count_utilities_of(counts)[assignment]
        if self.rule in ("softmax", "linear"):
            users_t, *work = self._state.workspace()
            served = serving.smooth_producer_utilities(
                users_t, S, self.rule, self.temperature, self.utility, work
            )
        else:
            scores = serving.score_matrix(self.users, S)
            served = serving.producer_utilities(scores, self._probabilities(scores), self.utility)
        return self._net(served, S)

    def _net(self, served, S) -> np.ndarray:
        """Served utilities (n,) of profile ``S`` net of production costs ``S @ costs``."""
        return served if self.costs is None else served - S @ self.costs

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
            return self.deviation_row(counts, int(assignment[i]))
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
        basis = candidates is None
        if not basis and self.costs is not None:
            raise ValueError(
                "utilities_against with candidate scores cannot charge production costs (the "
                "scores do not say which content they come from): pass candidates=None"
            )
        candidates = self.users if basis else np.asarray(candidates, float)
        p = serving.deviation_probabilities(
            candidates, others[:, keep], weights[keep], self.rule, self.temperature, self.k
        )
        served = (p * candidates).sum(axis=0) if self.utility == "engagement" else p.sum(axis=0)
        return served if self.costs is None else served - self.costs

    def best_responses(self, profile, deviations=None) -> BestResponses:
        """Every producer's best deviation, the others fixed: over basis vectors or the simplex.

        ``deviations`` is ``"basis"`` or ``"simplex"`` (default :attr:`default_deviations`);
        the result says what its values prove (:meth:`deviation_check`). Producers with the
        same content share one computation.
        """
        S = self.check_profile(profile)
        return self._best_responses(S, self.check_deviations(deviations))

    def _best_responses(self, S, deviations) -> BestResponses:
        n, dim = S.shape
        check = self.deviation_check(deviations)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            analysis = self._analysis(counts, 1e-9, deviations)
            value = analysis.utilities + analysis.regrets
            return BestResponses(
                value[assignment],
                analysis.responses[assignment],
                analysis.bounds[assignment],
                check,
            )
        if deviations == "simplex" and not continuous.vertex_is_optimal(self):
            unique, inverse = np.unique(S, axis=0, return_inverse=True)
            scores = serving.score_matrix(self.users, unique)
            weights = np.bincount(inverse.reshape(-1), minlength=unique.shape[0]).astype(float)
            value, bound = np.empty(n), np.empty(n)
            content = np.empty((n, dim))
            for u in range(unique.shape[0]):
                others = weights.copy()
                others[u] -= 1.0
                response = continuous.best_simplex_response(self, scores, others, current=unique[u])
                mine = inverse.reshape(-1) == u
                value[mine], bound[mine], content[mine] = (
                    response.value,
                    response.bound,
                    response.content,
                )
            return BestResponses(value, content, bound, check)
        table = self._basis_deviations(S)
        best = table.argmax(axis=1)
        value = table[np.arange(n), best]
        return BestResponses(value, profile_from_assignment(best, dim), value.copy(), check)

    def regrets(self, profile, deviations=None) -> np.ndarray:
        """(n_producers,) best gain of every producer by a deviation, >= 0.

        ``deviations="basis"`` checks basis vectors (MODEL.md section 3), ``"simplex"`` the whole
        simplex; the default is :attr:`default_deviations` (the simplex for exposure games,
        where interior best responses are common).
        """
        S = self.check_profile(profile)
        deviations = self.check_deviations(deviations)
        return self._regrets(S, deviations)

    def _regrets(self, S, deviations) -> np.ndarray:
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return self._analysis(counts, 1e-9, deviations).regrets[assignment].copy()
        current = self._producer_utilities(S)
        return np.maximum(self._best_responses(S, deviations).value - current, 0.0)

    def nash_conv(self, profile, deviations=None) -> float:
        """Sum of regrets: 0 exactly at a Nash equilibrium over the chosen deviations."""
        return float(self.regrets(profile, deviations).sum())

    def is_nash(self, profile, tol: float = 1e-9, deviations=None) -> bool:
        """No producer gains more than ``tol`` (relative) by a deviation.

        The deviations checked are basis vectors or the whole simplex (``deviations``, default
        :attr:`default_deviations`). :meth:`deviation_check` says what the answer proves: with
        engagement under ``linear`` serving (and softmax with tau >= 1/2) basis vectors are best
        responses over the simplex (convexity, MODEL.md section 2), so the basis check is the
        full Nash condition there; it is *not* for exposure, whose linear-serving utility is
        concave in the producer's content (hence the simplex default for exposure).
        """
        S = self.check_profile(profile)
        tol = _checks.check_tol(tol)
        deviations = self.check_deviations(deviations)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            return not self._analysis(counts, tol, deviations).improving.any()
        current = self._producer_utilities(S)
        best = self._best_responses(S, deviations).value
        return not strictly_improves(best, current, tol).any()

    def best_deviations(self, profile, deviations=None) -> np.ndarray:
        """(n_producers,) each producer's best utility by a deviation, the others fixed."""
        return self.best_responses(profile, deviations).value

    def _basis_deviations(self, S) -> np.ndarray:
        """(n_producers, dim) utility of every producer at every basis vector (mixed S)."""
        return self._utilities_and_deviations(S)[1]

    def utilities_and_deviations(self, profile) -> tuple[np.ndarray, np.ndarray]:
        """((n,) utilities, (n, dim) utility of every producer at every basis vector, the
        others fixed) of any profile, from one score matrix where the rule allows (an env step
        with regrets needs both)."""
        S = self.check_profile(profile)
        assignment = basis_assignment(S)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            table = self._count_table(counts)
            return np.diagonal(table)[assignment].copy(), table[assignment]
        return self._utilities_and_deviations(S)

    def mixed_utilities(self, profile, dtype=np.float64) -> np.ndarray:
        """(n,) utilities of a validated profile in ``dtype`` for the softmax and linear fast
        path (float32 halves its memory traffic; about 1e-6 relative error), else float64."""
        if (
            np.dtype(dtype) == np.float64
            or self.rule not in ("softmax", "linear")
            or self.costs is not None
        ):
            return self._producer_utilities(profile)
        work = self._state.workspace32()
        return serving.smooth_producer_utilities(
            work[0], profile.astype(np.float32), self.rule, self.temperature, self.utility,
            work[1:],
        ).astype(np.float64)  # fmt: skip

    def _utilities_and_deviations(self, S) -> tuple[np.ndarray, np.ndarray]:
        """(utilities (n,), basis deviation table (n, dim)) of a validated profile, sharing one
        score matrix where the rule allows (an env step with regrets needs both)."""
        both = serving.utilities_and_deviations(
            self._state.users_t,
            S,
            self.rule,
            self.temperature,
            self.utility,
            self._state.deviation_work(),
        )
        if both is not None:
            if self.costs is not None:
                return self._net(both[0], S), both[1] - self.costs
            return both
        return self._producer_utilities(S), self._slow_deviations(S)

    def _slow_deviations(self, S) -> np.ndarray:
        scores = serving.score_matrix(self.users, S)
        rows = []
        for i in range(self.n_producers):
            others = np.delete(scores, i, axis=1)
            rows.append(self.utilities_against(others, np.ones(others.shape[1])))
        return np.array(rows)

    # ------------------------------------------------------------------ count vectors
    @property
    def cache(self) -> utility_cache_module.UtilityCache | None:
        """The count-vector utility cache (None with ``utility_cache="off"``), built on first
        use and shared by every env and thread on this game."""
        return self._state.cache

    def count_utilities_of(self, counts: np.ndarray) -> np.ndarray:
        """(dim,) ``U(c)`` of validated counts: from the cache, else the oracle."""
        cache = self.cache
        if cache is None:
            return self.oracle.utilities(counts)
        return cache.utilities(counts[None])[0]

    def batch_count_utilities(self, counts, dtype=np.float64) -> np.ndarray:
        """(m, dim) ``U`` of (m, dim) count vectors of this game (trusted: the envs' hot path):
        gathered from the cache, else the batched kernel in ``dtype``."""
        cache = self.cache
        if cache is None:
            return self.oracle.batch_utilities(counts, dtype)
        return cache.utilities(counts)

    def deviation_row(self, counts: np.ndarray, a: int) -> np.ndarray:
        """(dim,) utility of a producer on feature ``a`` after moving to each feature (validated
        counts with ``counts[a] >= 1``): the one function the dynamics, the agents and the envs
        read basis deviations from."""
        cache = self.cache
        if cache is None:
            return self.oracle.row(counts, a)
        return cache.row(counts, a)

    def batch_deviation_tables(self, counts) -> np.ndarray:
        """(m, dim, dim) :meth:`deviation_table` of (m, dim) trusted count vectors."""
        cache = self.cache
        if cache is None:
            return np.array([self._table(np.asarray(c)) for c in counts]).reshape(
                len(counts), self.dim, self.dim
            )
        return cache.deviation_tables(counts)

    def _table(self, counts: np.ndarray) -> np.ndarray:
        cache = self.cache
        if cache is None:
            return self.oracle.table(counts)
        return cache.deviation_tables(counts[None])[0]

    @property
    def oracle(self) -> CountOracle:
        """The count-vector engine (built on first use, O(n_users * dim))."""
        return self._state.oracle

    def _count_table(self, counts) -> np.ndarray:
        """:meth:`deviation_table` of validated counts."""
        return self._state.cached(("table", counts.tobytes()), lambda: self._table(counts))

    def deviation_table(self, counts) -> np.ndarray:
        """(dim, dim): row ``a`` is :meth:`deviation_utilities` of a producer on feature ``a``.

        Rows of unoccupied features are 0. The last few tables are cached (read-only), so an
        environment step and every agent looking at the same counts share one computation.
        """
        return self._count_table(_checks.as_counts(counts, self.n_producers, self.dim))

    def analyse_counts(self, counts, tol: float = 1e-9, deviations=None) -> CountAnalysis:
        """Utility, regret, best response and improvement of a producer on each feature."""
        deviations = self.check_deviations(deviations)
        if isinstance(counts, np.ndarray) and counts.dtype == np.int64 and counts.ndim == 1:
            # A hit means these exact bytes were validated when the entry was made.
            key = ("analysis", counts.tobytes(), float(tol), deviations)
            hit = self._state.get(key)
            if hit is not None:
                return hit
        counts = _checks.as_counts(counts, self.n_producers, self.dim)
        tol = _checks.check_tol(tol)
        return self._analysis(counts, tol, deviations)

    def _analysis(self, counts, tol, deviations) -> CountAnalysis:
        """:meth:`analyse_counts` of validated arguments (cached)."""
        return self._state.cached(
            ("analysis", counts.tobytes(), float(tol), deviations),
            lambda: self._analyse(counts, tol, deviations),
        )

    def _analyse(self, counts, tol, deviations):
        dim = self.dim
        utilities = np.zeros(dim)
        best = np.arange(dim)
        improving = np.zeros(dim, dtype=bool)
        regrets = np.zeros(dim)
        responses = np.zeros((dim, dim))
        upper = np.zeros(dim)
        simplex = deviations == "simplex" and not continuous.vertex_is_optimal(self)
        table = self._count_table(counts)  # shared with deviation_table and the env's infos
        for a in np.flatnonzero(counts):
            row = table[a]
            utilities[a] = row[a]
            if simplex:
                others = counts.astype(np.float64)
                others[a] -= 1.0
                response = continuous.best_simplex_response(
                    self, self.users, others, current=np.eye(dim)[a]
                )
                value = max(response.value, float(row.max()))
                content = response.content if response.value >= row.max() else None
                if content is None:
                    content = np.zeros(dim)
                    content[int(row.argmax())] = 1.0
                improving[a] = strictly_improves(value, row[a], tol)
                best[a] = int(content.argmax()) if improving[a] else a
                responses[a] = content if improving[a] else np.eye(dim)[a]
                regrets[a] = max(value - row[a], 0.0)
                upper[a] = max(response.bound, value)
            else:
                move = best_move(row, int(a), tol)
                improving[a], best[a] = move.improves, move.best
                responses[a, best[a]] = 1.0
                regrets[a] = max(row.max() - row[a], 0.0)
                upper[a] = row.max()
        check = self.deviation_check(deviations)
        for array in (utilities, regrets, best, improving, responses, upper):
            array.setflags(write=False)
        return CountAnalysis(utilities, regrets, best, improving, responses, check, upper)

    def count_utilities(self, counts) -> np.ndarray:
        """(dim,) utility of a producer on each feature; 0 where no producer sits."""
        counts = _checks.as_counts(counts, self.n_producers, self.dim)
        return self.count_utilities_of(counts)

    def count_regrets(self, counts, deviations=None) -> np.ndarray:
        """(dim,) best gain of a producer on each feature by a deviation; 0 where none sits."""
        return self.analyse_counts(counts, deviations=deviations).regrets.copy()

    def count_is_nash(self, counts, tol: float = 1e-9, deviations=None) -> bool:
        """Whether the basis-vector profile with these counts is a Nash equilibrium over the
        chosen deviations (:meth:`is_nash`)."""
        return not self.analyse_counts(counts, tol, deviations).improving.any()

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
    assignment = np.asarray(assignment, dtype=np.int64)
    profile = np.zeros((assignment.size, dim))
    profile[np.arange(assignment.size), assignment] = 1.0
    return profile
