"""What a symmetric mixture over basis vectors is over the whole simplex: no content ``s``
may earn more against it (:func:`mixed_certificate`; the module docstring of
:mod:`recsys_eq_env.mixed` says what each label proves)."""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from . import continuous, nonsmooth
from .certificate import TOL as CERTIFICATE_TOL
from .certificate import label_for
from .game import EngagementGame
from .mixed import MAX_CERTIFICATE_ROWS, _Opponents


def _rows(game, shares, opponents):
    """The opponents' count vectors drawn with probability > 1e-15 under ``shares``, and
    their probabilities (exact over the lattice of n - 1)."""
    weights = opponents.weights(shares)
    keep = weights > 1e-15
    return opponents.others[keep], weights[keep]


def mixed_certificate(game: EngagementGame, shares, opponents=None, tol=CERTIFICATE_TOL, seed=0):
    """(label, gain): whether any content beats every basis vector against opponents drawn
    from ``shares``, by more than ``tol`` relative (module docstring).

    ``gain`` is the best expected utility found minus the best basis vector's (absolute);
    the label is ``"not checked"`` where the (opponents, user) rows exceed
    :data:`MAX_CERTIFICATE_ROWS`.
    """
    shares = np.asarray(shares, dtype=np.float64)
    if continuous.vertex_is_optimal(game):
        return "exact", 0.0
    if game.costs is not None:  # the simplex searches do not charge production costs
        return "not checked", float("nan")
    if opponents is None:
        opponents = _Opponents(game, 0, seed)
    if not opponents.exact or game.n_producers == 1:
        return "not checked", float("nan")
    f = opponents.expected(shares)[0]
    base = float(f.max())
    others, weights = _rows(game, shares, opponents)
    if others.shape[0] * game.n_users > MAX_CERTIFICATE_ROWS:
        return "not checked", float("nan")
    if continuous.smooth_rule(game) is None:
        value = _nonsmooth_expected(game, others, weights, seed)
    else:
        value = _smooth_expected(game, others, weights, seed)
    gain = value - base
    return label_for(False, gain / max(abs(base), 1e-12), tol), float(gain)


def _nonsmooth_expected(game, others, weights, seed) -> float:
    """Best expected utility found over the simplex, hardmax and top-k: every (opponents,
    user) pair is a row weighted by the opponents' probability."""
    parts = [
        nonsmooth.thresholds(
            game.users,
            game.users,
            o,
            game.rule,
            game.temperature,
            game.k,
            game.utility == "engagement",
        )
        for o in others.astype(np.float64)
    ]
    value, _ = nonsmooth.search(nonsmooth.stack(parts, weights), seed=seed)
    return float(value)


def _smooth_expected(game, others, weights, seed) -> float:
    """Best expected utility found over the simplex, softmax and linear: multi-start SLSQP
    with the exact gradient of ``sum_o P(o) sum_k phi(<c_k, s>; o)``."""
    users = game.users
    o = others.astype(np.float64)
    rule = continuous.smooth_rule(game)
    if rule == "softmax":
        z = users / game.temperature
        rest = logsumexp(z[None, :, :], b=o[:, None, :], axis=2)  # (m, n_users)
    else:
        rest = o @ users.T
    m, n_users = rest.shape
    summary = continuous._Others(rule, game.temperature, float(game.n_producers), rest.ravel())
    engagement = game.utility == "engagement"
    scale = 1.0 / n_users

    def objective(s):
        x = np.tile(users @ s, m)
        phi, slope = continuous._phi(x, summary, engagement, 1)
        value = weights @ phi.reshape(m, n_users).sum(axis=1)
        grad = users.T @ (weights @ slope.reshape(m, n_users))
        return -value * scale, -grad * scale

    dim = game.dim
    rng = np.random.default_rng(seed)
    starts = [*np.eye(dim), np.full(dim, 1.0 / dim), *rng.dirichlet(np.ones(dim), 3)]
    best = -np.inf
    for s0 in starts:
        res = optimize.minimize(
            objective,
            s0,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * dim,
            constraints=[{"type": "eq", "fun": lambda s: s.sum() - 1.0}],
            options={"maxiter": 200, "ftol": 1e-12},
        )
        s = np.clip(res.x, 0.0, None)
        best = max(best, -objective(s / s.sum())[0] / scale)
    return float(best)
