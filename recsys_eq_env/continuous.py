"""A producer's utility as a smooth function of its own content, and best responses over the
whole simplex.

Against fixed others (a weighted multiset of scores, as in
:meth:`EngagementGame.utilities_against`), a producer's utility is a function of its content
``s`` on the simplex through its scores ``x_k = <c_k, s>``: ``u(s) = sum_k phi_k(x_k)`` with

* softmax: ``p_k = sigmoid(x_k / tau - L_k)``, ``L_k`` the log partition of the others;
  ``p' = p (1 - p) / tau`` and ``p'' = p (1 - p) (1 - 2 p) / tau^2``;
* linear: ``p_k = x_k / (x_k + R_k)``, ``R_k`` the others' total score; engagement
  ``phi = x^2 / (x + R)`` is convex (``phi'' = 2 R^2 / (x + R)^3``), exposure
  ``phi = x / (x + R)`` is concave (``phi'' = -2 R / (x + R)^3``);
* uniform: ``p = 1 / n``;

and ``phi = x p`` (engagement) or ``phi = p`` (exposure). The gradient is ``U^T phi'(x)`` and the
Hessian ``U^T diag(phi''(x)) U`` (MODEL.md section 2). ``hardmax`` and ``topk_softmax`` (with
``k < n``; with ``k >= n`` it is softmax) jump where a score crosses the others' and have no
useful derivatives: their best responses are searched by :mod:`recsys_eq_env.nonsmooth`.

:func:`best_simplex_response` maximises ``u`` over the simplex and says what kind of answer it
gives (MODEL.md section 2, "say which kind of check they made"):

* ``"exact"`` where the structure decides it: a convex utility (linear engagement; softmax
  engagement for ``tau >= 1/2`` or ``e^{1/tau} <= n - 1``; uniform serving) peaks at a vertex;
  a concave one (linear exposure) is maximised by Newton steps on the faces of the simplex and
  certified by the Frank-Wolfe duality gap ``max_j g_j - g . s``, an upper bound on the
  distance to the optimum for a concave function;
* ``"certificate"`` elsewhere: for softmax exposure and softmax engagement at low temperature
  the best of a multi-start local search (SciPy SLSQP with the exact gradient from every
  vertex, the centroid, the current content and random points); for ``hardmax`` and top-k
  softmax the search of :func:`recsys_eq_env.nonsmooth.search` (every edge, the tilts off
  every vertex, a line search from many starts). Evidence, not a proof.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

from . import nonsmooth

SMOOTH_RULES = ("softmax", "linear", "uniform")
#: Relative Frank-Wolfe gap at which the concave (linear exposure) solver stops.
GAP_TOL = 1e-10
#: Random starts of the multi-start search (besides every vertex, the centroid and the current
#: content).
RANDOM_STARTS = 4


class SimplexResponse(NamedTuple):
    """A best response over the simplex and what is known about it."""

    #: The producer's utility at :attr:`content`.
    value: float
    #: (dim,) the best content found, on the simplex.
    content: np.ndarray
    #: An upper bound on the best utility over the simplex (``value`` when a vertex is provably
    #: optimal, ``value + duality gap`` for concave utilities, ``inf`` when only searched).
    bound: float
    #: ``"exact"`` or ``"certificate"`` (see the module docstring).
    kind: str


# ---------------------------------------------------------------------- the utility
class _Others(NamedTuple):
    """What the utility needs to know about the other producers, per user."""

    rule: str
    temperature: float
    n_total: float
    #: softmax: log partition of the others; linear: their total score; None when alone.
    rest: np.ndarray | None


def smooth_rule(game) -> str | None:
    """The rule as the smooth formulas see it: ``topk_softmax`` with ``k >= n`` shows every
    producer, so it is ``softmax``; None for a rule without a gradient."""
    rule = game.rule
    if rule == "topk_softmax" and game.k >= game.n_producers:
        return "softmax"
    return rule if rule in SMOOTH_RULES else None


def _summarise(game, others, weights) -> _Others:
    weights = np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    others, weights = np.asarray(others, dtype=np.float64)[:, keep], weights[keep]
    n_total = float(weights.sum()) + 1.0
    rule = smooth_rule(game)
    if others.shape[1] == 0:
        return _Others(rule, game.temperature, n_total, None)
    if rule == "softmax":
        rest = logsumexp(others / game.temperature, b=weights, axis=1)
    elif rule == "linear":
        rest = others @ weights
    else:
        rest = np.zeros(others.shape[0])
    return _Others(rule, game.temperature, n_total, rest)


def _phi(x, others: _Others, engagement: bool, order: int):
    """Per-user utility ``phi(x)`` and its first ``order`` derivatives, as a list.

    ``x`` is (n_users,) or (n_users, c) for ``c`` candidate contents at once.
    """
    rest = others.rest
    if rest is not None and x.ndim == 2:
        rest = rest[:, None]
    if others.rest is None:  # alone: served every user
        p = [np.ones_like(x), np.zeros_like(x), np.zeros_like(x)]
    elif others.rule == "uniform":
        p = [np.full_like(x, 1.0 / others.n_total), np.zeros_like(x), np.zeros_like(x)]
    elif others.rule == "softmax":
        tau = others.temperature
        q = expit(x / tau - rest)
        spread = q * (1.0 - q)
        p = [q, spread / tau, spread * (1.0 - 2.0 * q) / tau**2]
    else:  # linear; users nobody else reaches (R = 0) are served by the deviator alone
        den = x + rest
        positive = den > 0
        safe = np.where(positive, den, 1.0)
        if engagement:  # x^2 / (x + R), which is x where R = 0
            return [
                np.where(positive, x * x / safe, 0.0),
                np.where(positive, x * (x + 2.0 * rest) / safe**2, 1.0),
                np.where(positive, 2.0 * rest**2 / safe**3, 0.0),
            ][: order + 1]
        p = [
            np.where(positive, x / safe, 1.0 / others.n_total),
            np.where(positive, rest / safe**2, 0.0),
            np.where(positive, -2.0 * rest / safe**3, 0.0),
        ]
    if not engagement:
        return p[: order + 1]
    return [x * p[0], p[0] + x * p[1], 2.0 * p[1] + x * p[2]][: order + 1]


def _check_smooth(game):
    if smooth_rule(game) is None:
        raise ValueError(
            f"rule must be one of {', '.join(SMOOTH_RULES)} for deviations over the simplex "
            f"(a piecewise-constant rule has no gradient), got {game.rule!r}"
        )


def utility_and_gradient(game, content, others, weights) -> tuple[float, np.ndarray]:
    """Utility of ``content`` (dim,) against ``others`` (n_users, m) with ``weights`` (m,),
    and its gradient with respect to ``content``."""
    _check_smooth(game)
    summary = _summarise(game, others, weights)
    x = game.users @ np.asarray(content, dtype=np.float64)
    phi, slope = _phi(x, summary, game.utility == "engagement", 1)
    return float(phi.sum()), game.users.T @ slope


# ---------------------------------------------------------------------- best responses
def vertex_is_optimal(game) -> bool:
    """Whether a basis vector is always a best response over the simplex (MODEL.md section 2).

    True where the utility is convex in the producer's own content: linear engagement, softmax
    engagement with ``tau >= 1/2`` or ``e^{1/tau} <= n - 1``, and uniform serving (linear, or
    constant, in the content).
    """
    rule = smooth_rule(game)
    if rule == "uniform" or game.n_producers == 1:
        return True
    if game.utility != "engagement":
        return False
    if rule == "linear":
        return True
    if rule == "softmax":
        tau = game.temperature
        return tau >= 0.5 or (1.0 / tau <= math.log(max(game.n_producers - 1, 1)))
    return False


def best_simplex_response(
    game,
    others,
    weights,
    current=None,
    seed=0,
    random_starts: int = RANDOM_STARTS,
    stop_above: float | None = None,
) -> SimplexResponse:
    """The best content over the simplex for one producer against fixed others.

    ``others`` (n_users, m) are the other producers' scores with multiplicities ``weights``
    (m,); ``current`` (dim,), the producer's content now, is one of the starts of the
    multi-start search. ``seed`` fixes its random starts, so the answer is deterministic.
    Every serving rule is supported: ``hardmax`` and top-k softmax by
    :func:`recsys_eq_env.nonsmooth.search`, which returns as soon as it finds a content worth
    more than ``stop_above`` (a check that only asks whether the producer gains).
    """
    if getattr(game, "costs", None) is not None:
        raise ValueError(
            "best_simplex_response does not charge production costs: a game with costs is "
            "checked over basis vectors (its catalogue's items) only"
        )
    users = game.users
    if smooth_rule(game) is None and np.asarray(weights, dtype=np.float64).sum() > 0:
        stop = math.inf if stop_above is None else float(stop_above)
        return _nonsmooth_response(game, others, weights, current, seed, random_starts, stop)
    summary = _summarise(game, others, weights)
    engagement = game.utility == "engagement"
    vertex_values = _phi(users, summary, engagement, 0)[0].sum(axis=0)  # (dim,)
    best = int(vertex_values.argmax())
    vertex = np.zeros(game.dim)
    vertex[best] = 1.0
    if summary.rest is None or vertex_is_optimal(game) or (summary.rule == "linear" and engagement):
        value = float(vertex_values[best])
        return SimplexResponse(value, vertex, value, "exact")
    if summary.rule == "linear":  # exposure: concave
        return _concave_linear_exposure(users, summary, vertex)
    return _multistart(game, summary, vertex_values, current, seed, random_starts)


def _nonsmooth_response(game, others, weights, current, seed, random_starts, stop_above):
    th = nonsmooth.thresholds(
        game.users,
        others,
        weights,
        game.rule,
        game.temperature,
        game.k,
        game.utility == "engagement",
    )
    value, content = nonsmooth.search(th, current, seed, random_starts, stop_above)
    return SimplexResponse(value, content, math.inf, "certificate")


def _value(users, summary, engagement, s) -> float:
    return float(_phi(users @ s, summary, engagement, 0)[0].sum())


def _multistart(game, summary, vertex_values, current, seed, random_starts):
    dim = game.dim
    rng = np.random.default_rng(seed)
    starts = [*np.eye(dim), np.full(dim, 1.0 / dim)]
    if current is not None:
        starts.append(np.asarray(current, dtype=np.float64))
    starts += list(rng.dirichlet(np.ones(dim), random_starts))
    value, point = _local_search(game, summary, starts, ftol=1e-13, maxiter=300)
    best = int(vertex_values.argmax())
    if value < vertex_values[best]:  # the search never does worse than the best vertex
        value, point = float(vertex_values[best]), np.eye(dim)[best]
    return SimplexResponse(value, point, math.inf, "certificate")


def _local_search(game, summary, starts, ftol: float, maxiter: int):
    """SLSQP with the exact gradient from every start; the best point, evaluated exactly."""
    users = game.users
    engagement = game.utility == "engagement"
    scale = 1.0 / users.shape[0]  # utility per user: values of order 1 for the optimiser

    def objective(s):
        phi, slope = _phi(users @ s, summary, engagement, 1)
        return -phi.sum() * scale, -(users.T @ slope) * scale

    constraint = {"type": "eq", "fun": lambda s: s.sum() - 1.0, "jac": lambda s: np.ones_like(s)}
    best_value, best_point = -np.inf, np.asarray(starts[0], dtype=np.float64)
    for start in starts:
        res = minimize(
            objective,
            start,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * game.dim,
            constraints=[constraint],
            options={"ftol": ftol, "maxiter": maxiter},
        )
        s = np.clip(res.x, 0.0, None)
        s /= s.sum()
        value = _value(users, summary, engagement, s)
        if value > best_value:
            best_value, best_point = value, s
    return best_value, best_point


def _concave_linear_exposure(users, summary, vertex, max_iter: int = 500) -> SimplexResponse:
    """Maximise ``sum_k x_k / (x_k + R_k)`` over the simplex, with a duality-gap certificate.

    Users nobody else reaches (``R_k = 0``) are served by the deviator whenever it scores > 0:
    they add 1 each at any content that reaches them, and the smooth part is maximised over
    the others. The result's ``bound - value`` is the certified gap.
    """
    rest = summary.rest
    alone = rest == 0
    smooth = _Others(summary.rule, summary.temperature, summary.n_total, rest[~alone])
    u = users[~alone]
    s = _maximise_concave(u, smooth, vertex, max_iter)
    phi, slope = _phi(u @ s, smooth, False, 1)
    g = u.T @ slope
    gap = max(float(g.max() - g @ s), 0.0)
    if alone.any():
        reach = users[alone] @ s
        if (reach == 0).any():  # move a hair towards the centroid, which reaches every user
            s = 0.999999999 * s + 1e-9 / s.size
        bound = float(phi.sum()) + gap + float(alone.sum())
    else:
        bound = float(phi.sum()) + gap
    value = _value(users, summary, False, s)
    return SimplexResponse(value, s, max(bound, value), "exact")


def _maximise_concave(users, others: _Others, start, max_iter: int) -> np.ndarray:
    """Maximise ``f(s) = sum_k phi(<u_k, s>)`` (concave) over the simplex.

    Newton steps on the current face (the support of ``s``, with the sum constraint), and
    pairwise steps with an exact line search that bring in the vertex of largest gradient
    when it lies outside the face. Stops when the Frank-Wolfe gap ``max_j g_j - g . s`` falls
    below ``GAP_TOL`` relative to ``f``.
    """
    s = np.asarray(start, dtype=np.float64).copy()
    dim = s.size
    for _ in range(max_iter):
        x = users @ s
        phi, d1, d2 = _phi(x, others, False, 2)
        f = float(phi.sum())
        g = users.T @ d1
        top = int(g.argmax())
        gap = float(g[top] - g @ s)
        if gap <= GAP_TOL * max(abs(f), 1e-300):
            break
        support = np.flatnonzero(s > 0)
        low = support[int(g[support].argmin())]
        if s[top] == 0.0:
            s = _pairwise(users, others, s, low, top)
            continue
        # Newton on the face: maximise g.d + d'Hd/2 subject to sum(d) = 0, d = Z y with
        # Z = [I; -1'] (the last support coordinate absorbs the sum).
        m = support.size
        if m < 2:
            s = _pairwise(users, others, s, low, top)
            continue
        us = users[:, support]
        hessian = us.T @ (d2[:, None] * us)
        z = np.vstack([np.eye(m - 1), -np.ones((1, m - 1))])
        reduced = z.T @ hessian @ z
        reduced -= 1e-14 * max(float(np.abs(np.diag(reduced)).max()), 1e-300) * np.eye(m - 1)
        try:
            y = np.linalg.solve(reduced, -(z.T @ g[support]))
        except np.linalg.LinAlgError:
            y = np.linalg.lstsq(reduced, -(z.T @ g[support]), rcond=None)[0]
        direction = np.zeros(dim)
        direction[support] = z @ y
        slope0 = float(g @ direction)
        if not slope0 > 0:  # no ascent on the face (it is optimal there): leave it
            s = _pairwise(users, others, s, low, top)
            continue
        shrinking = direction < 0
        t_max = min(1.0, float((s[shrinking] / -direction[shrinking]).min()))
        t = t_max
        for _ in range(60):  # backtracking (Armijo) on the concave objective
            trial = np.clip(s + t * direction, 0.0, None)
            if _smooth_value(users, others, trial) >= f + 1e-4 * t * slope0:
                break
            t *= 0.5
        else:
            s = _pairwise(users, others, s, low, top)
            continue
        if t == t_max and t_max < 1.0:  # a coordinate hits the face boundary: drop it exactly
            hit = shrinking & (s + t * direction <= 1e-15 + 1e-12 * s)
            trial[hit] = 0.0
        s = trial / trial.sum()
    return s


def _smooth_value(users, others, s) -> float:
    return float(_phi(users @ s, others, False, 0)[0].sum())


def _pairwise(users, others, s, low: int, top: int) -> np.ndarray:
    """Move mass from vertex ``low`` to ``top`` by the exact maximiser along that line."""
    delta = users[:, top] - users[:, low]
    x = users @ s

    def slope(t):
        return float(_phi(x + t * delta, others, False, 1)[1] @ delta)

    hi = float(s[low])
    if slope(hi) >= 0:  # the whole mass moves
        t = hi
    else:
        lo_t, hi_t = 0.0, hi
        for _ in range(100):  # the slope is decreasing (concave): bisection to machine precision
            mid = 0.5 * (lo_t + hi_t)
            if mid in (lo_t, hi_t):
                break
            if slope(mid) > 0:
                lo_t = mid
            else:
                hi_t = mid
        t = lo_t
    out = s.copy()
    out[top] += t
    out[low] = 0.0 if t == hi else out[low] - t
    return out


def best_continuous_deviation(game, counts, a: int, starts: int, rng) -> tuple[float, np.ndarray]:
    """Best content found for a producer on feature ``a`` of a basis-vector profile by
    multi-start SLSQP on the simplex, from its vertex, the centroid and ``starts - 2`` random
    points (``recsys-eq certify``: a search that ignores the structural result on purpose).
    """
    _check_smooth(game)
    others = np.asarray(counts, dtype=float).copy()
    others[a] -= 1
    points = [np.eye(game.dim)[a], np.full(game.dim, 1.0 / game.dim)]
    points += list(rng.dirichlet(np.ones(game.dim), max(0, starts - 2)))
    summary = _summarise(game, game.users, others)
    return _local_search(game, summary, points, ftol=1e-12, maxiter=200)
