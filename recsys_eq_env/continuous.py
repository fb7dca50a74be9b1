"""A producer's utility as a smooth function of its own content, with its exact gradient.

Against fixed others (a weighted multiset of scores, as in
:meth:`EngagementGame.utilities_against`), producer utility is a function of its content ``s``
on the simplex through the scores ``x_k = <c_k, s>``:

* softmax: ``p_k = sigmoid(x_k / tau - L_k)`` with ``L_k`` the log partition of the others, so
  ``d(x p)/dx = p + x p (1 - p) / tau`` and ``dp/dx = p (1 - p) / tau``;
* linear: ``p_k = x_k / (x_k + R_k)``, so ``d(x p)/dx = x (x + 2R) / (x + R)^2`` and
  ``dp/dx = R / (x + R)^2``;
* uniform: ``p = 1 / n``.

``hardmax`` and ``topk_softmax`` are piecewise constant in ``s`` and have no useful gradient.
Used by no-regret learners (exponentiated gradient) and by ``recsys-eq certify``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp

from .game import EngagementGame

SMOOTH_RULES = ("softmax", "linear", "uniform")


def utility_and_gradient(
    game: EngagementGame, content, others, weights
) -> tuple[float, np.ndarray]:
    """Utility of ``content`` (dim,) against ``others`` (n_users, m) with ``weights`` (m,)."""
    if game.rule not in SMOOTH_RULES:
        raise ValueError(
            f"rule must be one of {', '.join(SMOOTH_RULES)} for gradients, got {game.rule!r}"
        )
    users = game.users
    content = np.asarray(content, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    others, weights = np.asarray(others, dtype=np.float64)[:, keep], weights[keep]
    n_total = weights.sum() + 1.0
    x = users @ content
    engagement = game.utility == "engagement"
    if others.shape[1] == 0:  # alone: served every user
        p, dp = np.ones_like(x), np.zeros_like(x)
    elif game.rule == "uniform":
        p, dp = np.full_like(x, 1.0 / n_total), np.zeros_like(x)
    elif game.rule == "softmax":
        tau = game.temperature
        log_rest = logsumexp(others / tau, b=weights, axis=1)
        p = expit(x / tau - log_rest)
        dp = p * (1.0 - p) / tau
    else:  # linear
        rest = others @ weights
        den = x + rest
        positive = den > 0
        safe = np.where(positive, den, 1.0)
        p = np.where(positive, x / safe, 1.0 / n_total)
        dp = np.where(positive, rest / safe**2, 0.0)
        if engagement:  # d(x^2 / (x + R))/dx; the limit 1 where x + R = 0
            slope = np.where(positive, x * (x + 2 * rest) / safe**2, 1.0)
            return float(x @ p), users.T @ slope
    if engagement:
        return float(x @ p), users.T @ (p + x * dp)
    return float(p.sum()), users.T @ dp
