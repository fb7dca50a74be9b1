"""The logit quantal-response path of the symmetric game over basis vectors.

A symmetric logit QRE at precision ``lambda`` (McKelvey and Palfrey 1995, eq. 5 for the logit
form) is shares ``x = softmax(lambda f(x))``, with ``f`` the expected utilities of
:class:`recsys_eq_env.evolution.SymmetricPayoffs` (exact over the opponents' count vectors).
At ``lambda = 0`` it is the uniform mixture; as ``lambda`` grows the principal branch ends at
a Nash equilibrium, the one the QRE *selects* (McKelvey and Palfrey 1995, theorem 3).

:func:`qre_path` traces that branch by pseudo-arclength predictor-corrector continuation
(Allgower and Georg 1990, ch. 2; as Turocy 2005 does for the logit path) in
``(u, mu)``: ``u_i = log x_i - log x_0`` and ``mu = log(1 + lambda S)`` (``S`` the payoff
scale: ``lambda`` grows exponentially along the path while the shares settle), on
``H_i(u, mu) = u_i - lambda(mu) (f_i(x) - f_0(x)) = 0`` with the exact Jacobian, so the path
may turn back in ``lambda`` without being lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .evolution import SymmetricPayoffs
from .game import EngagementGame
from .mixed import MixedEquilibrium
from .supports import _symmetric_equilibria


@dataclass(frozen=True)
class QREPath:
    """The traced branch: every accepted point, in path order."""

    #: (m,) precision lambda of each point (in 1 / utility units).
    lambdas: np.ndarray
    #: (m, d) the QRE shares at each point.
    shares: np.ndarray
    #: (m,) nash_conv of each point's shares (sum of regrets over producers).
    nash_conv: np.ndarray
    #: The symmetric Nash equilibrium the path ends nearest to (None: none within 1e-3).
    selected: MixedEquilibrium | None
    #: Whether the path reached ``lambda_max``.
    complete: bool

    @property
    def limit(self) -> np.ndarray:
        """(d,) the last point's shares."""
        return self.shares[-1]


def _softmax(u):
    z = np.concatenate([[0.0], u])
    z = np.exp(z - z.max())
    return z / z.sum()


def _system(payoffs, scale, z):
    """H(z) and its (d - 1, d) Jacobian at z = (u_1..u_{d-1}, mu)."""
    u, mu = z[:-1], z[-1]
    x = _softmax(u)
    lam = np.expm1(mu) / scale
    dlam = np.exp(mu) / scale
    f, df = payoffs.expected(x), payoffs.jacobian(x)
    gaps = f[1:] - f[0]
    h = u - lam * gaps
    dx_du = (np.diag(x) - np.outer(x, x))[:, 1:]  # (d, d - 1): x depends on u_1..u_{d-1}
    dgaps = (df[1:] - df[0]) @ dx_du  # (d - 1, d - 1)
    jac = np.hstack([np.eye(len(u)) - lam * dgaps, -dlam * gaps[:, None]])
    return h, jac


def _tangent(jac, previous):
    _, _, vt = np.linalg.svd(jac)
    t = vt[-1]
    if previous is None:
        return t if t[-1] > 0 else -t
    return t if t @ previous > 0 else -t


def qre_path(
    game_or_payoffs,
    lambda_max: float | None = None,
    step: float = 0.05,
    max_points: int = 5000,
    tol: float = 1e-10,
    equilibria=None,
) -> QREPath:
    """Trace the principal branch of the symmetric logit QRE from ``lambda = 0`` to
    ``lambda_max`` (module docstring).

    ``lambda_max`` defaults to ``1e6 / S``, ``S`` the largest expected utility at the uniform
    mixture (payoff differences of 1e-6 S then move the shares by a factor e). ``step`` is
    the first arclength step (adapted: grown after easy corrections, halved after failed
    ones); ``max_points`` bounds the work. ``equilibria`` (default: every symmetric
    equilibrium, :func:`recsys_eq_env.mixed.symmetric_equilibria`) are matched to the end of
    the path to name the one selected.
    """
    if isinstance(game_or_payoffs, SymmetricPayoffs):
        payoffs = game_or_payoffs
    elif isinstance(game_or_payoffs, EngagementGame):
        payoffs = SymmetricPayoffs(game_or_payoffs)
    else:
        raise TypeError(f"game must be an EngagementGame, got {type(game_or_payoffs).__name__}")
    dim = payoffs.dim
    scale = max(float(np.abs(payoffs.expected(np.full(dim, 1.0 / dim))).max()), 1e-300)
    lam_max = (
        1e6 / scale
        if lambda_max is None
        else _checks.check_positive_float(lambda_max, "lambda_max")
    )
    step = _checks.check_positive_float(step, "step")
    max_points = _checks.check_int(max_points, "max_points", minimum=2)
    tol = _checks.check_tol(tol)
    mu_max = float(np.log1p(lam_max * scale))
    z = np.zeros(dim)  # u = 0 (uniform), mu = 0
    points = [z.copy()]
    complete = dim == 1
    t = None
    h = step
    while not complete and len(points) < max_points and h > 1e-12:
        _, jac = _system(payoffs, scale, z)
        t = _tangent(jac, t)
        guess = z + h * t
        if guess[-1] > mu_max:  # the last step: land on lambda_max
            accepted = _land(payoffs, scale, z, guess, mu_max, tol)
            complete = accepted is not None
            iterations = 0
        else:
            accepted, iterations = _correct(payoffs, scale, guess, t, tol)
        if accepted is None or accepted[-1] < 0.0:
            complete = False
            h /= 2
            continue
        z = accepted
        points.append(z.copy())
        # steps grow with |u| (u grows like lambda once the shares settle): bounded relative
        h = min(h * (1.5 if iterations <= 3 else 1.0), 0.5 * max(1.0, np.abs(z[:-1]).max()))
    zs = np.array(points)
    mus = zs[:, -1]
    lambdas = np.expm1(mus) / scale
    shares = np.array([_softmax(p[:-1]) for p in zs])
    nash_conv = np.array([payoffs.nash_conv(x) for x in shares])
    if equilibria is None:  # on the same expectations as the path
        equilibria = _symmetric_equilibria(payoffs.game, payoffs.opponents, certify=False)
    selected = None
    if equilibria:
        distances = [float(np.abs(e.shares - shares[-1]).max()) for e in equilibria]
        best = int(np.argmin(distances))
        selected = equilibria[best] if distances[best] < 1e-3 else None
    return QREPath(lambdas, shares, nash_conv, selected, complete)


def _correct(payoffs, scale, guess, t, tol, fixed_mu=None):
    """Newton on H = 0 plus the arclength condition t . (z - guess) = 0 (or mu fixed)."""
    z = guess.copy()
    for iteration in range(1, 12):
        if not np.isfinite(z).all() or z[-1] < 0.0:
            return None, iteration
        h, jac = _system(payoffs, scale, z)
        if fixed_mu is None:
            extra, row = t @ (z - guess), t
        else:
            extra, row = z[-1] - fixed_mu, np.eye(len(z))[-1]
        residual = np.concatenate([h, [extra]])
        # lambda (f_i - f_0) carries the rounding of f times lambda: about eps lambda S
        floor = 64 * np.finfo(float).eps * np.expm1(z[-1])
        if np.abs(residual).max() <= tol * max(1.0, np.abs(z[:-1]).max(initial=0.0)) + floor:
            return z, iteration
        try:
            z = z - np.linalg.solve(np.vstack([jac, row]), residual)
        except np.linalg.LinAlgError:
            return None, iteration
    return None, 12


def _land(payoffs, scale, z, beyond, mu_max, tol):
    """The point of the branch at mu = mu_max, between the last point and ``beyond``."""
    w = (mu_max - z[-1]) / (beyond[-1] - z[-1])
    guess = z + w * (beyond - z)
    guess[-1] = mu_max
    landed, _ = _correct(payoffs, scale, guess, None, tol, fixed_mu=mu_max)
    return landed


__all__ = ["QREPath", "qre_path"]
