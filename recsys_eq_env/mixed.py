"""Symmetric mixed equilibria over basis vectors, and what they are over the whole simplex.

Every producer draws its feature from shares ``x``. With ``V(o)[b] = U(o + e_b)[b]``, the
utility of joining feature ``b`` against opponents ``o`` (a count vector of ``n - 1``), a
producer on ``b`` expects ``f_b(x) = E_{o ~ Multinomial(n - 1, x)} V(o)[b]``, a polynomial in
``x``, exact over the lattice of ``n - 1``. ``x`` is a symmetric equilibrium over basis vectors
iff ``f`` is equal on the support of ``x`` and no larger off it.

* :func:`symmetric_mixed_equilibrium` finds *one*: the one the replicator dynamics reach
  from ``start``, finished by a root finder. A game may have several.
* :func:`symmetric_equilibria` finds *every* one, by support enumeration: on each of the
  ``2^d - 1`` supports, "equal expected utility on the support" solved from several starts,
  kept where the shares are positive and no feature off the support earns more. Features
  the game cannot tell apart (:func:`tied_features`) make continua of equilibria (any split
  of a share among them); each continuum is reported once, as its even split, with
  :attr:`MixedEquilibrium.continuum` naming the classes (other non-isolated equilibria, of
  non-generic games, show as ``regular=False`` in :func:`recsys_eq_env.analysis.stability`).

A mixture over basis vectors is an equilibrium of the game as specified (content on the
simplex) only if no content ``s`` earns more against it: :func:`mixed_certificate` says
``"exact"`` where a producer's utility is convex in its own content (a basis vector is then a
best response to any mixture), ``"certified by search"`` where a search over the simplex of
the expected utility found no gain (SLSQP with the exact gradient for softmax and linear
serving; :func:`recsys_eq_env.nonsmooth.search` for hardmax and top-k softmax), and
``"fails: gain g"`` where it found one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize
from scipy.special import gammaln

from . import _checks, continuous
from .game import EngagementGame
from .lattice import Lattice
from .lattice import size as lattice_size

#: Opponents' count vectors above which expectations over them are sampled, not exact.
EXACT_OPPONENTS = 300_000
#: Replicator steps between attempts to finish with the root finder.
REFINE_EVERY = 250
#: Count vectors per batch.
CHUNK = 4096
#: (opponents, user) rows above which a mixture is not checked over the simplex (a search's
#: cost grows with them: about a minute at this many).
MAX_CERTIFICATE_ROWS = 1_000_000
#: Operations (steps x draws x features x users x features) the sampled replicator may take
#: unless given a larger ``max_work``: about a minute on 2 cores.
SAMPLED_WORK = 1e11
#: Share vectors closer than this (max norm) are one equilibrium.
SAME = 1e-7


def _utilities(game: EngagementGame, counts: np.ndarray) -> np.ndarray:
    return game.batch_count_utilities(counts, np.float64)


def _log_multinomial(counts: np.ndarray, shares: np.ndarray, total: int) -> np.ndarray:
    """log of the multinomial probability of each count vector (rows) under ``shares``."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a root finder's trial may go < 0
        log_shares = np.log(shares)
    terms = np.multiply(counts, log_shares, out=np.zeros(counts.shape), where=counts > 0)
    return gammaln(total + 1) - gammaln(counts + 1).sum(axis=1) + terms.sum(axis=1)


@dataclass(frozen=True)
class MixedEquilibrium:
    """A symmetric mixed equilibrium over basis vectors: every producer draws its feature
    from ``shares``."""

    #: (dim,) probability of each feature.
    shares: np.ndarray
    #: (dim,) expected utility of a producer on each feature against n - 1 opponents.
    expected: np.ndarray
    #: Sum over producers of (best feature's expected utility - the strategy's).
    nash_conv: float
    #: ``"exact"`` (expectations over every opponents' count vector) or ``"sampled"``.
    method: str
    #: Half-width of a 99.7% (3 sigma) confidence bound on ``expected`` (0 when exact).
    bound: float
    #: What the equilibrium is over the whole simplex (:func:`mixed_certificate`):
    #: ``"exact"``, ``"certified by search"``, ``"fails: gain g"`` (g relative to the best
    #: basis vector's expected utility), or ``"not checked"`` (sampled expectations, or not
    #: asked).
    continuous: str = "not checked"
    #: The best continuous deviation's expected utility minus the best basis vector's, when
    #: searched (<= 0: no gain found).
    continuous_gain: float = float("nan")
    iterations: int = 0
    #: (dim,) bool: the features drawn with positive probability.
    support: np.ndarray | None = None
    #: ``()`` for an isolated equilibrium. Else it is one point of a continuum: the classes of
    #: tied features (identical for every user, and in cost, :func:`tied_features`) it spreads
    #: over, where every split of a class's share is an equilibrium too (the even split stands
    #: for them); or ``((a, b),)`` for an end of a segment of equilibria on the edge between
    #: features a and b, where the two earn the same all along the edge (a degenerate game;
    #: both ends are reported).
    continuum: tuple = ()

    @property
    def certified(self) -> bool:
        """Whether this is an equilibrium of the game over the simplex by its certificate."""
        return self.continuous in ("exact", "certified by search")


def multinomial_weights(log_coef, counts, shares) -> np.ndarray:
    """(m,) multinomial probabilities of (m, d) count vectors under ``shares``, given the log
    multinomial coefficients ``log_coef``; 0 ** 0 = 1 on the simplex's boundary."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a root finder may try x < 0
        log_shares = np.log(np.asarray(shares, dtype=np.float64))
    log_shares = np.where(np.isneginf(log_shares), -1e300, log_shares)  # 0 * log 0 = 0
    return np.exp(log_coef + counts @ log_shares)


class _Opponents:
    """V(o)[b] for every count vector o of n - 1 opponents (exact), or samples of them."""

    def __init__(self, game: EngagementGame, samples: int, seed):
        self.game = game
        n, dim = game.n_producers, game.dim
        self.lattice = Lattice(n - 1, dim)
        self.exact = self.lattice.size <= EXACT_OPPONENTS
        self.samples = samples
        self.rng = np.random.default_rng(seed)
        if self.exact:
            self.others = self.lattice.unrank(np.arange(self.lattice.size))
            # log of the multinomial coefficient of each opponents' count vector: fixed, so
            # an expectation costs one mat-vec and one exp per count vector
            self._log_coef = gammaln(n) - gammaln(self.others + 1).sum(axis=1)
            self.values = self._join_all()

    def _join_all(self):
        """(m, dim) V(o)[b] for every o: o + e_b is a count vector of n producers, so one pass
        over the lattice of n gives every column (d times fewer than joining feature by
        feature); the pass is kept (``utilities``) for :meth:`lookup`."""
        game = self.game
        self.full = Lattice(game.n_producers, game.dim)
        self.utilities = np.concatenate(
            [_utilities(game, c) for _, c in self.full.chunks(CHUNK)]
        )  # U(c) for every count vector c of n
        return self.lookup(self.others)

    def lookup(self, others):
        """(m, dim) V(o)[b] = U(o + e_b)[b] for count vectors ``o`` of ``n - 1``, read from the
        lattice pass (exact mode)."""
        out = np.empty((len(others), self.game.dim))
        for b in range(self.game.dim):
            joined = others.copy()
            joined[:, b] += 1
            out[:, b] = self.utilities[self.full.rank(joined), b]
        return out

    def _join(self, others):
        """(m, dim): utility of joining each feature against each opponents' count vector."""
        dim = self.game.dim
        out = np.empty((len(others), dim))
        for b in range(dim):
            joined = others.copy()
            joined[:, b] += 1
            for lo in range(0, len(others), CHUNK):
                out[lo : lo + CHUNK, b] = _utilities(self.game, joined[lo : lo + CHUNK])[:, b]
        return out

    def weights(self, shares):
        """(m,) the multinomial probability of every opponents' count vector (exact mode)."""
        return multinomial_weights(self._log_coef, self.others, shares)

    def expected(self, shares):
        """(dim,) expected utilities, and the 3-sigma half-width (0 when exact)."""
        n = self.game.n_producers
        if self.exact:
            return self.weights(shares) @ self.values, 0.0
        draws = self.rng.multinomial(n - 1, shares, size=self.samples)
        values = self._join(draws)
        return values.mean(axis=0), float(3 * values.std(axis=0).max() / math.sqrt(len(draws)))

    def jacobian(self, shares, support):
        """d expected[b] / d shares[j] for j in the support (exact mode)."""
        weights = self.weights(shares)
        columns = [
            (weights * self.others[:, j] / shares[j]) @ self.values for j in support
        ]  # d P(o) / d x_j = P(o) o_j / x_j
        return np.stack(columns, axis=1)


def symmetric_mixed_equilibrium(
    game: EngagementGame,
    start=None,
    tol: float = 1e-12,
    samples: int = 20_000,
    seed=0,
    max_iter: int = 20_000,
    certify: bool = True,
    max_work: float = SAMPLED_WORK,
) -> MixedEquilibrium:
    """A symmetric mixed equilibrium over basis vectors (module docstring).

    Replicator dynamics from ``start`` (default: the users' distribution) find the support;
    a root finder (SciPy's ``hybr`` with the exact Jacobian) then solves "equal expected
    utility on the support" to ``tol``, adding back a feature that earns more and dropping one
    whose share turns negative. Expectations are exact over every opponents' count vector
    while there are at most 300,000 of them, else sampled (``samples`` draws; the result then
    states a 3-sigma confidence bound; the sampled replicator's cost is bounded by
    ``max_work`` before it starts). ``certify`` searches continuous deviations where a
    producer's utility is not convex in its own content (:func:`mixed_certificate`).

    This is *one* symmetric equilibrium, the one the replicator reaches from ``start``:
    others may exist (:func:`symmetric_equilibria` finds every one).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    dim, n = game.dim, game.n_producers
    tol = _checks.check_tol(tol)
    samples = _checks.check_int(samples, "samples", minimum=1)
    max_iter = _checks.check_int(max_iter, "max_iter", minimum=1)
    max_work = _checks.check_positive_float(max_work, "max_work")
    if lattice_size(n - 1, dim) > EXACT_OPPONENTS:
        # Sampled expectations: every replicator step joins every feature for every draw.
        work = float(max_iter) * samples * dim * game.n_users * dim
        if work > max_work:
            raise ValueError(
                f"symmetric_mixed_equilibrium samples its expectations here "
                f"({lattice_size(n - 1, dim):,} opponents' count vectors): up to {max_iter:,} "
                f"steps x {samples:,} draws x {dim} features x {game.n_users:,} users x {dim} "
                f"features, about {work:.1e} operations, more than max_work={max_work:.1e}; "
                "lower max_iter or samples, use fewer users, or raise max_work"
            )
    opponents = _Opponents(game, samples, seed)
    if start is None:
        x = game.users.sum(axis=0) / game.users.sum()
    else:
        x = _checks.as_float_matrix(np.atleast_2d(start), "start")[0]
        if x.shape != (dim,) or not np.isclose(x.sum(), 1.0):
            raise ValueError(f"start must be {dim} shares summing to 1, got {x.tolist()}")
    x = np.clip(x, 1e-12, None)
    x /= x.sum()
    iterations = 0
    # The discrete replicator needs non-negative payoffs: with production costs, utilities are
    # at least -max(costs), so shift by it (a constant shift keeps every rest point).
    shift = 0.0 if game.costs is None else float(game.costs.max())
    top = max(float(opponents.expected(np.full(dim, 1.0 / dim))[0].max()) + shift, 1e-300)
    scale = 1.0 / top
    while iterations < max_iter:  # discrete replicator dynamics
        iterations += 1
        f = (opponents.expected(x)[0] + shift) * scale
        new = x * f / (x @ f)
        converged = np.abs(new - x).max() < 1e-12
        x = new
        if converged:
            break
        if opponents.exact and iterations % REFINE_EVERY == 0:
            # Near a face the replicator crawls (a feature earning 1e-4 less decays by 1e-4
            # per step): try the root finder on the support it suggests, keep it if exact.
            y = _refine(opponents, x, tol)
            if _regret(opponents, y) <= tol * top:
                x = y
                break
    if opponents.exact:
        x = _refine(opponents, x, tol)
    f, bound = opponents.expected(x)
    nash_conv = float(n * (f.max() - x @ f))
    result = MixedEquilibrium(
        shares=x,
        expected=f,
        nash_conv=max(nash_conv, 0.0),
        method="exact" if opponents.exact else "sampled",
        bound=bound,
        iterations=iterations,
    )
    return _certified(game, opponents, result, certify, seed)


def _certified(game, opponents, result, certify: bool, seed) -> MixedEquilibrium:
    result = replace(result, support=result.shares > 0)
    if continuous.vertex_is_optimal(game):
        return replace(result, continuous="exact", continuous_gain=0.0)
    if certify and opponents.exact:
        from .mixed_certificate import mixed_certificate

        label, gain = mixed_certificate(game, result.shares, opponents, seed=seed)
        return replace(result, continuous=label, continuous_gain=gain)
    return result


def _regret(opponents: _Opponents, y: np.ndarray) -> float:
    """Best feature's expected utility minus the mixture's, per producer (inf if not a
    distribution)."""
    if not np.isfinite(y).all() or y.min() < 0 or not np.isclose(y.sum(), 1.0):
        return math.inf
    f = opponents.expected(y)[0]
    return float(f.max() - y @ f)


def _refine(opponents: _Opponents, x: np.ndarray, tol: float) -> np.ndarray:
    """Solve "equal expected utility on the support" and fix the support until consistent.

    Starts from the support the replicator suggests (shares above 1e-7). A solution with a
    negative share drops that feature; a failed solve drops the support's feature that earns
    least at ``x`` (the one the replicator is removing); a feature off the support that earns
    more joins it. Every candidate is scored by its exact regret, and the best one found
    (``x`` itself included) is returned, so the refinement never makes ``x`` worse.
    """
    dim = x.size
    f_x = opponents.expected(x)[0]
    best, best_regret = x, _regret(opponents, x)
    support = [int(j) for j in np.flatnonzero(x > 1e-7)]
    seen = set()
    for _ in range(3 * dim):
        if not support or tuple(support) in seen:
            break
        seen.add(tuple(support))
        if len(support) == 1:
            y, solved = np.zeros(dim), True
            y[support[0]] = 1.0
        else:
            y, solved = _solve_support(opponents, x, support, tol)
        regret = _regret(opponents, y)
        if regret < best_regret:
            best, best_regret = y, regret
        negative = [j for j in support if y[j] < 0]
        if negative:
            support.remove(min(negative, key=lambda j: y[j]))
            continue
        if not solved:
            support.remove(min(support, key=lambda j: f_x[j]))
            continue
        f = opponents.expected(y)[0]
        on = f[support].max()
        outside = [j for j in range(dim) if j not in support and f[j] > on * (1 + 1e-12)]
        if outside:
            support = sorted([*support, max(outside, key=lambda j: f[j])])
            x = np.clip(y, 1e-6, None) / np.clip(y, 1e-6, None).sum()
            continue
        break
    return np.clip(best, 0.0, None) / np.clip(best, 0.0, None).sum()


def _solve_support(opponents, x, support, tol):
    dim = x.size
    anchor, rest = support[0], support[1:]

    def unpack(z):
        y = np.zeros(dim)
        y[rest] = z
        y[anchor] = 1.0 - z.sum()
        return y

    def equations(z):
        f = opponents.expected(unpack(z))[0]
        return f[rest] - f[anchor]

    def jacobian(z):
        y = unpack(z)
        full = opponents.jacobian(np.where(y > 0, y, 1e-300), support)  # (dim, |support|)
        # z moves shares on rest, and the anchor's share by minus their sum
        d = full[:, 1:] - full[:, [0]]
        return d[rest] - d[[anchor]]

    start = x[rest] / max(x[support].sum(), 1e-300)
    solution = optimize.root(equations, start, jac=jacobian, method="hybr", options={"xtol": tol})
    y = unpack(solution.x)
    scale = max(float(np.abs(opponents.expected(np.clip(y, 0, None))[0]).max()), 1e-300)
    residual = np.abs(equations(solution.x)).max() if np.isfinite(y).all() else np.inf
    return y, bool(solution.success and residual <= 1e-9 * scale)


#: Names of recsys_eq_env.supports (every symmetric equilibrium, which builds on this module)
#: that this module serves too, where its docstring describes them (PEP 562: no import cycle);
#: mixed_certificate likewise, from recsys_eq_env.mixed_certificate.
_SUPPORTS = ("symmetric_equilibria", "tied_features", "_symmetric_equilibria")


def __getattr__(name):
    if name in _SUPPORTS:
        from . import supports

        return getattr(supports, name)
    if name == "mixed_certificate":  # in its own module, which builds on this one
        from .mixed_certificate import mixed_certificate

        return mixed_certificate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
