"""Evolutionary game theory of the symmetric game over basis vectors, over count vectors.

Every producer draws a feature from shares ``x``; a producer on ``b`` expects
``f_b(x) = sum_o P_{n-1}(o; x) V(o)[b]`` over the opponents' count vectors ``o`` of ``n - 1``
(``V(o)[b] = U(o + e_b)[b]``, :mod:`recsys_eq_env.mixed`). Its derivative is again such a sum,
one lattice down: ``d f_b / d x_j = (n - 1) sum_{o'} P_{n-2}(o'; x) V(o' + e_j)[b]`` over count
vectors ``o'`` of ``n - 2`` (differentiate the multinomial probability:
``o_j (n-1)! / prod o! = (n - 1) (n-2)! / prod (o - e_j)!``), exact on the boundary of the
simplex too. Everything here is built on those two sums, never on the ``d^n`` profiles:

* :func:`replicator_jacobian` and :func:`stability`: the replicator dynamics
  ``dx_i/dt = x_i (f_i(x) - x . f(x))`` (Taylor and Jonker 1978; Hofbauer and Sigmund 1998,
  eq. 7.1) linearised at a rest point on the tangent space of the simplex; a symmetric
  equilibrium is asymptotically stable when every eigenvalue has a negative real part, and
  its index is ``sign det(-J)`` (Hofbauer and Sigmund 1998, section 13.2: over the regular
  saturated rest points, i.e. the symmetric Nash equilibria of a generic game, the indices
  sum to +1; tested).
* :func:`alpha_rank`: single-population alpha-rank (Omidshafiei et al. 2019, eqs. 2-5) on the
  d x d chain of monomorphic populations; the fixation probability of ``r`` invading ``s``
  needs only the ``n + 1`` count vectors on the edge from ``n e_s`` to ``n e_r``.
* :func:`replicator`, :func:`fictitious_play`, :func:`logit_dynamics`: the classic dynamics as
  small pure functions, each with its nash_conv curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from . import _checks
from .game import EngagementGame
from .lattice import Lattice
from .lattice import size as lattice_size
from .mixed import (
    EXACT_OPPONENTS,
    MixedEquilibrium,
    _Opponents,
    multinomial_weights,
)
from .supports import _symmetric_equilibria


class SymmetricPayoffs:
    """``f(x)`` and its exact Jacobian for a game, from one pass over the lattice of ``n``.

    ``f(x)[b]`` is a producer's expected utility on feature ``b`` when the ``n - 1`` others
    draw their features from ``x`` (module docstring): the exact expectations of
    :mod:`recsys_eq_env.mixed` (``opponents``), whose lattice pass also gives the Jacobian's
    terms. Exact: refuses games with more than :data:`recsys_eq_env.mixed.EXACT_OPPONENTS`
    opponents' count vectors.
    """

    def __init__(self, game: EngagementGame):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        n, dim = game.n_producers, game.dim
        if lattice_size(n - 1, dim) > EXACT_OPPONENTS:
            raise ValueError(
                f"exact expectations need at most {EXACT_OPPONENTS:,} opponents' count vectors; "
                f"the game has {lattice_size(n - 1, dim):,} (n_producers={n}, dim={dim})"
            )
        self.game, self.n, self.dim = game, n, dim
        self.opponents = _Opponents(game, 0, 0)
        if n >= 2:
            self.lower = Lattice(n - 2, dim).unrank(np.arange(lattice_size(n - 2, dim)))
            self._lower_coef = gammaln(n - 1) - gammaln(self.lower + 1).sum(axis=1)
            # shifted[j][o', b] = V(o' + e_j)[b] = U(o' + e_j + e_b)[b]
            eye = np.eye(dim, dtype=np.int64)
            self.shifted = np.stack(
                [self.opponents.lookup(self.lower + eye[j]) for j in range(dim)]
            )

    def expected(self, x) -> np.ndarray:
        """(d,) f(x)."""
        return self.opponents.expected(x)[0]

    def jacobian(self, x) -> np.ndarray:
        """(d, d) d f_b / d x_j (rows b, columns j)."""
        if self.n == 1:
            return np.zeros((self.dim, self.dim))
        p = multinomial_weights(self._lower_coef, self.lower, x)
        return (self.n - 1) * np.einsum("m,jmb->bj", p, self.shifted)

    def nash_conv(self, x) -> float:
        """Sum over producers of (best feature's expected utility - the strategy's)."""
        f = self.expected(x)
        return max(float(self.n * (f.max() - x @ f)), 0.0)


def _tangent(dim: int) -> np.ndarray:
    """(d, d - 1) orthonormal basis of {v : sum v = 0}."""
    q, _ = np.linalg.qr(np.eye(dim)[:, :-1] - 1.0 / dim)
    return q


def replicator_jacobian(payoffs: SymmetricPayoffs, x) -> np.ndarray:
    """(d - 1, d - 1) Jacobian of the replicator field at ``x``, on the simplex's tangent
    space (basis :func:`_tangent`)."""
    x = np.asarray(x, dtype=np.float64)
    f, df = payoffs.expected(x), payoffs.jacobian(x)
    phi = x @ f
    dphi = f + x @ df  # d (x . f) / d x_j
    full = np.diag(f - phi) + x[:, None] * (df - dphi[None, :])
    basis = _tangent(payoffs.dim)
    return basis.T @ full @ basis


@dataclass(frozen=True)
class Stability:
    """A symmetric equilibrium under the replicator dynamics."""

    shares: np.ndarray
    #: Eigenvalues of the replicator Jacobian on the tangent space (complex).
    eigenvalues: np.ndarray
    #: Every eigenvalue has a negative real part (asymptotically stable).
    stable: bool
    #: ``sign det(-J)``: +1 or -1 where the rest point is regular, 0 where J is singular
    #: (a zero eigenvalue: a continuum of equilibria or a degenerate one).
    index: int
    #: No eigenvalue within ``tol`` of zero.
    regular: bool


def stability(game_or_payoffs, shares, tol: float = 1e-9) -> Stability:
    """The replicator dynamics' linearisation at the symmetric equilibrium ``shares``.

    ``tol`` is relative to the payoff scale (the largest ``abs(f)``): eigenvalues smaller than that
    count as zero (not regular; a continuum of equilibria, e.g. two tied features, has one).
    """
    payoffs = (
        game_or_payoffs
        if isinstance(game_or_payoffs, SymmetricPayoffs)
        else SymmetricPayoffs(game_or_payoffs)
    )
    x = _check_shares(shares, payoffs.dim)
    tol = _checks.check_tol(tol)
    jac = replicator_jacobian(payoffs, x)
    eigenvalues = np.linalg.eigvals(jac) if jac.size else np.zeros(0, complex)
    scale = max(float(np.abs(payoffs.expected(x)).max()), 1e-300)
    regular = bool((np.abs(eigenvalues) > tol * scale).all())
    stable = bool(regular and (eigenvalues.real < 0).all())
    index = int(np.sign(np.prod(-eigenvalues).real)) if regular else 0
    return Stability(x, eigenvalues, stable, index, regular)


def _check_shares(shares, dim: int) -> np.ndarray:
    x = np.asarray(shares, dtype=np.float64)
    if x.shape != (dim,) or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError(f"shares must be {dim} non-negative finite numbers, got {x.tolist()}")
    if not np.isclose(x.sum(), 1.0, atol=1e-9):
        raise ValueError(f"shares must sum to 1, got {x.sum()!r}")
    return x / x.sum()


@dataclass(frozen=True)
class ClassifiedEquilibrium:
    """A symmetric equilibrium with its replicator stability."""

    equilibrium: MixedEquilibrium
    stability: Stability

    @property
    def shares(self) -> np.ndarray:
        return self.equilibrium.shares


def classify_symmetric_equilibria(game: EngagementGame, certify: bool = True, seed=0, **kw):
    """Every symmetric equilibrium (:func:`recsys_eq_env.mixed.symmetric_equilibria`) with its
    stability and index under the replicator dynamics."""
    payoffs = SymmetricPayoffs(game)  # one lattice pass for the equilibria and their Jacobians
    found = _symmetric_equilibria(game, payoffs.opponents, certify=certify, seed=seed, **kw)
    return [ClassifiedEquilibrium(eq, stability(payoffs, eq.shares)) for eq in found]


# ---------------------------------------------------------------------- alpha-rank
@dataclass(frozen=True)
class AlphaRank:
    """Single-population alpha-rank over the ``d`` monomorphic populations."""

    alpha: float
    #: (d,) stationary distribution of the chain: each feature's share of time.
    pi: np.ndarray
    #: Features by ``pi``, highest first.
    ranking: np.ndarray
    #: (d, d) fixation probability of a mutant on column ``r`` in a population on row ``s``.
    fixation: np.ndarray
    #: (d, d) the chain's transition matrix.
    transitions: np.ndarray


def _edge_fitness(game: EngagementGame, n: int) -> np.ndarray:
    """(d, d, n - 1, 2): for resident s, mutant r and k = 1..n-1 mutants, the mutants' and the
    residents' utilities at the count vector k e_r + (n - k) e_s."""
    dim = game.dim
    out = np.zeros((dim, dim, max(n - 1, 0), 2))
    k = np.arange(1, n)
    for s in range(dim):
        for r in range(dim):
            if r == s or n < 2:
                continue
            counts = np.zeros((n - 1, dim), dtype=np.int64)
            counts[:, r] = k
            counts[:, s] = n - k
            u = game.batch_count_utilities(counts, np.float64)
            out[s, r, :, 0] = u[:, r]
            out[s, r, :, 1] = u[:, s]
    return out


def _fixation(fitness: np.ndarray, alpha: float) -> np.ndarray:
    """Fixation probabilities under the Fermi rule (Omidshafiei et al. 2019, eq. 4):
    rho = 1 / (1 + sum_{l=1}^{m-1} prod_{k=1}^{l} exp(-alpha (f_r(k) - f_s(k))))."""
    dim = fitness.shape[0]
    m = fitness.shape[2] + 1
    rho = np.zeros((dim, dim))
    for s in range(dim):
        for r in range(dim):
            if r == s:
                continue
            gaps = -alpha * (fitness[s, r, :, 0] - fitness[s, r, :, 1])
            logs = np.cumsum(gaps)  # log prod_{k <= l}
            top = np.logaddexp.reduce(np.concatenate([[0.0], logs]))  # log(1 + sum)
            rho[s, r] = np.exp(-top) if m > 1 else 0.0
    return rho


def alpha_rank(game: EngagementGame, alpha: float | None = None, alphas=None):
    """Single-population alpha-rank of the ``d`` features (module docstring).

    The population is the game's ``n`` producers; a mutation moves the population from
    ``s`` to ``r`` with probability ``rho_{s,r} / (d - 1)``. With ``alpha`` returns one
    :class:`AlphaRank`; with ``alphas`` (an increasing sequence) the sweep as a list, as the
    paper recommends (rank at the largest alpha where the distribution has settled).
    Default: a sweep over ``logspace(-3, 3, 13) / scale`` where ``scale`` is the largest
    utility on the edges.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    n, dim = game.n_producers, game.dim
    fitness = _edge_fitness(game, n)
    if alpha is not None and alphas is not None:
        raise TypeError("give alpha or alphas, not both")
    if alpha is not None:
        return _alpha_rank(fitness, _checks.check_positive_float(alpha, "alpha"), dim)
    if alphas is None:
        scale = max(float(np.abs(fitness).max()), 1e-300)
        alphas = np.logspace(-3, 3, 13) / scale
    values = np.asarray(alphas, dtype=np.float64)
    if values.ndim != 1 or not np.isfinite(values).all() or (values <= 0).any():
        raise ValueError("alphas must be a 1-d sequence of positive finite numbers")
    return [_alpha_rank(fitness, float(a), dim) for a in values]


def _alpha_rank(fitness, alpha, dim) -> AlphaRank:
    rho = _fixation(fitness, alpha)
    eta = 1.0 / max(dim - 1, 1)
    chain = eta * rho
    np.fill_diagonal(chain, 0.0)
    chain[np.diag_indices(dim)] = 1.0 - chain.sum(axis=1)
    # stationary distribution: the left eigenvector of eigenvalue 1 (a linear solve)
    system = np.vstack([chain.T - np.eye(dim), np.ones(dim)])
    rhs = np.zeros(dim + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    pi /= pi.sum()
    return AlphaRank(alpha, pi, np.argsort(-pi, kind="stable"), rho, chain)


# ---------------------------------------------------------------------- dynamics catalogue
@dataclass(frozen=True)
class Trajectory:
    """A run of a dynamics on the shares: every recorded state and its nash_conv."""

    shares: np.ndarray  # (steps + 1, d)
    nash_conv: np.ndarray  # (steps + 1,)
    #: Fictitious play: the empirical frequencies (what converges there); else the shares.
    average: np.ndarray


def _start(payoffs, start):
    if start is None:
        return np.full(payoffs.dim, 1.0 / payoffs.dim)
    return _check_shares(start, payoffs.dim)


def replicator(game_or_payoffs, start=None, steps: int = 1000, dt: float = 0.1) -> Trajectory:
    """Discrete-time replicator ``x_i <- x_i f_i / (x . f)`` on utilities rescaled to
    ``[0, 1]``-ish (``f / max f``; Hofbauer and Sigmund 1998, eq. 7.1 discretised by
    ``x + dt x (f - x.f)`` for ``dt < 1``)."""
    payoffs = _payoffs(game_or_payoffs)
    steps = _checks.check_int(steps, "steps", minimum=0)
    dt = _checks.check_positive_float(dt, "dt")
    x = _start(payoffs, start)
    scale = max(
        float(np.abs(payoffs.expected(np.full(payoffs.dim, 1 / payoffs.dim))).max()), 1e-300
    )
    xs, ncs = [x], [payoffs.nash_conv(x)]
    for _ in range(steps):
        f = payoffs.expected(x) / scale
        x = np.clip(x + dt * x * (f - x @ f), 0.0, None)
        x /= x.sum()
        xs.append(x)
        ncs.append(payoffs.nash_conv(x))
    shares = np.array(xs)
    return Trajectory(shares, np.array(ncs), shares)


def fictitious_play(game_or_payoffs, start=None, steps: int = 1000) -> Trajectory:
    """Symmetric fictitious play (Brown 1951): every producer best-responds to the empirical
    frequency of past play, ``x_{t+1} = x_t + (BR(x_t) - x_t) / (t + 2)``; ``average`` is the
    empirical frequency, the object that converges (to a Nash equilibrium where fictitious
    play converges), and ``nash_conv`` is measured there."""
    payoffs = _payoffs(game_or_payoffs)
    steps = _checks.check_int(steps, "steps", minimum=0)
    x = _start(payoffs, start)
    xs, ncs = [x], [payoffs.nash_conv(x)]
    for t in range(steps):
        best = np.zeros(payoffs.dim)
        best[int(np.argmax(payoffs.expected(x)))] = 1.0
        x = x + (best - x) / (t + 2)
        xs.append(x)
        ncs.append(payoffs.nash_conv(x))
    shares = np.array(xs)
    return Trajectory(shares, np.array(ncs), shares)


def logit_dynamics(
    game_or_payoffs, temperature: float, start=None, steps: int = 1000, dt: float = 0.1
) -> Trajectory:
    """Logit (smoothed best-response) dynamics ``dx/dt = softmax(f(x) / eta) - x``
    (Fudenberg and Levine 1998, ch. 4), Euler steps of ``dt``; its rest points are the logit
    QREs at ``lambda = 1 / temperature``."""
    payoffs = _payoffs(game_or_payoffs)
    eta = _checks.check_positive_float(temperature, "temperature")
    steps = _checks.check_int(steps, "steps", minimum=0)
    dt = _checks.check_positive_float(dt, "dt")
    x = _start(payoffs, start)
    xs, ncs = [x], [payoffs.nash_conv(x)]
    for _ in range(steps):
        z = payoffs.expected(x) / eta
        target = np.exp(z - z.max())
        x = x + dt * (target / target.sum() - x)
        xs.append(x)
        ncs.append(payoffs.nash_conv(x))
    shares = np.array(xs)
    return Trajectory(shares, np.array(ncs), shares)


def _payoffs(game_or_payoffs) -> SymmetricPayoffs:
    if isinstance(game_or_payoffs, SymmetricPayoffs):
        return game_or_payoffs
    return SymmetricPayoffs(game_or_payoffs)


__all__ = [
    "AlphaRank",
    "ClassifiedEquilibrium",
    "Stability",
    "SymmetricPayoffs",
    "Trajectory",
    "alpha_rank",
    "classify_symmetric_equilibria",
    "fictitious_play",
    "logit_dynamics",
    "replicator",
    "replicator_jacobian",
    "stability",
]
