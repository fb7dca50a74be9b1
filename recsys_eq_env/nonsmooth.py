"""Best responses over the simplex where the serving rule has no gradient: ``hardmax`` and
``topk_softmax`` (MODEL.md section 2: "mixing wins there").

Against fixed others, a user ``k`` serves a deviator that scores ``x = <c_k, s>`` with
probability

* ``g_k(x)`` if ``x > theta_k``, ``share_k * g_k(x)`` if ``x == theta_k``, 0 below,

where ``theta_k`` is the others' best score (``hardmax``) or their ``k``-th largest, counted
with multiplicity (``topk_softmax``), ``share_k`` the deviator's part of a tie there (the
expected inclusion under uniformly random tie-breaking, as
:func:`recsys_eq_env.serving.deviation_probabilities`), and ``g_k = 1`` for hardmax and
top-1, else the softmax probability against the ``k - 1`` best others,
``sigmoid(x / tau - L_k)``. The utility is ``sum_k w_k p_k(x_k) x_k`` (engagement) or
``sum_k w_k p_k(x_k)`` (exposure), ``w_k`` a row weight (1 for a population; a probability
for the expected utility against a mixed strategy, whose rows are (opponents, user) pairs).

The utility jumps where ``x_k`` crosses ``theta_k``. A best response can therefore be a
mixture that beats the others on several user groups no single vertex wins (MODEL.md's
hardmax example: 5.0 at ``e1``, 7.0 at ``(0, 0.5, 0.5)``), or an infinitesimal tilt off a
vertex that wins a tie outright (top-k: a tie at a user's k-th place goes whole to the
tilter). :func:`search` looks for both:

1. every edge of the simplex, which includes the tilt off every vertex towards every other
   one (the edge's start). For ``g = 1`` a line is searched exactly: the utility is linear
   in the step between crossings, so one sorted sweep gives its supremum at every crossing.
   For ``g != 1`` (top-k with k > 1) the same sweep over the chords of the active rows'
   terms proposes candidates, which are evaluated exactly beside a grid;
2. a local search from the best points found, the centroid and random points: lines towards
   every vertex, away from every vertex of the support and between pairs of vertices, the
   same sweep on each, while the utility rises.

What it returns is the best content found and its exact utility: evidence (a certificate by
search), not a proof of optimality.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import expit, logsumexp

from .serving import _top_take

NONSMOOTH_RULES = ("hardmax", "topk_softmax")
#: Relative position inside an interval between crossings where a supremum is realised.
INSIDE = 1e-6
#: A deviator wins a row only by more than this. Scores lie in [0, 1] and a mixed content's
#: are computed with rounding of ~1e-16: users with equal coordinates tie along whole lines,
#: and rounding would break such ties at random. A score within TIE of the threshold (but
#: not equal to it) counts as lost, so every utility here is at most what the serving rule
#: computes, and every gain reported is real; exact ties (a vertex against others on the
#: same feature) share as the rule says.
TIE = 1e-12
#: Elements per temporary (users x candidates) when lines are evaluated point by point.
CHUNK_ELEMENTS = 1 << 23
#: Rounds of the local search from each start.
MAX_ROUNDS = 40


class Thresholds(NamedTuple):
    """Per row (a user, or an (opponents, user) pair), what a deviator must beat."""

    #: (R, dim) the row's user embedding.
    users: np.ndarray
    #: (R,) the score to beat.
    theta: np.ndarray
    #: (R,) the deviator's serving probability at a tie with ``theta`` (before ``g``).
    share: np.ndarray
    #: (R,) log partition of the k - 1 best others (top-k, k > 1); None where ``g = 1``.
    log_rest: np.ndarray | None
    temperature: float
    engagement: bool
    #: (R,) row weights (None: all 1).
    weights: np.ndarray | None = None


def thresholds(users, others, weights, rule, temperature, k, engagement) -> Thresholds:
    """:class:`Thresholds` of a population against others given by their scores.

    ``others`` (n_users, m) are the other producers' scores with multiplicities ``weights``
    (m,), at least one of them > 0; the deviator makes ``weights.sum() + 1`` producers, and
    ``topk_softmax`` needs ``k`` below that (else the rule is softmax, which is smooth).
    """
    weights = np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    others, weights = np.asarray(others, dtype=np.float64)[:, keep], weights[keep]
    if rule == "hardmax" or k == 1:  # top-1 softmax shows the single best producer
        theta = others.max(axis=1)
        tied = (others == theta[:, None]) @ weights
        return Thresholds(users, theta, 1.0 / (tied + 1.0), None, temperature, engagement)
    order = np.argsort(-others, axis=1, kind="stable")
    ordered = np.take_along_axis(others, order, axis=1)
    through = np.cumsum(weights[order], axis=1)
    position = np.argmax(through >= k, axis=1)  # the k-th largest score, with multiplicity
    theta = ordered[np.arange(ordered.shape[0]), position]
    above = (others > theta[:, None]) @ weights
    tied = (others == theta[:, None]) @ weights
    share = np.clip((k - above) / (tied + 1.0), 0.0, 1.0)
    log_rest = logsumexp(others / temperature, b=_top_take(others, weights, k - 1), axis=1)
    return Thresholds(users, theta, share, log_rest, temperature, engagement)


def stack(parts: list[Thresholds], row_weights) -> Thresholds:
    """One :class:`Thresholds` of several populations' rows, each part weighted (the
    expected utility against a mixture of opponents)."""
    first = parts[0]
    weights = np.concatenate(
        [np.full(p.theta.size, float(w)) for p, w in zip(parts, row_weights, strict=True)]
    )
    rest = None if first.log_rest is None else np.concatenate([p.log_rest for p in parts])
    return Thresholds(
        np.concatenate([p.users for p in parts]),
        np.concatenate([p.theta for p in parts]),
        np.concatenate([p.share for p in parts]),
        rest,
        first.temperature,
        first.engagement,
        weights,
    )


def utilities(th: Thresholds, scores: np.ndarray) -> np.ndarray:
    """(c,) utility of ``c`` candidate contents given by their scores (R, c)."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.zeros(scores.shape[1])
    step = max(1, CHUNK_ELEMENTS // max(scores.shape[0], 1))
    for lo in range(0, scores.shape[1], step):
        x = scores[:, lo : lo + step]
        gap = x - th.theta[:, None]
        p = (gap > TIE).astype(np.float64)
        tied = gap == 0.0
        if tied.any():
            p[tied] = np.broadcast_to(th.share[:, None], x.shape)[tied]
        if th.log_rest is not None:  # times the softmax part, 1 / (1 + exp(L - x / tau))
            z = np.divide(x, -th.temperature)
            z += th.log_rest[:, None]
            with np.errstate(over="ignore"):  # exp -> inf: probability 0, as it should be
                np.exp(z, out=z)
            z += 1.0
            np.divide(p, z, out=p)
        if th.engagement:
            p = p * x
        out[lo : lo + step] = p.sum(axis=0) if th.weights is None else th.weights @ p
    return out


def content_utilities(th: Thresholds, contents: np.ndarray) -> np.ndarray:
    """(c,) utility of ``c`` contents (c, dim)."""
    return utilities(th, th.users @ np.asarray(contents, dtype=np.float64).T)


# ---------------------------------------------------------------------- lines
def _crossings(th: Thresholds, x0, direction, t_max):
    """Where each row's score ``x0 + t d`` crosses its threshold on ``(0, t_max)``.

    Returns (times, entering, leaving, active at 0+): rows entering (rising through theta)
    or leaving (falling through it) at ``times`` (inf where neither).
    """
    theta = th.theta[:, None]
    x0 = x0 if x0.ndim == 2 else x0[:, None]
    # Rows within TIE of their threshold start tied: they enter as soon as they rise.
    gap = np.where(np.abs(x0 - theta) <= TIE, 0.0, x0 - theta)
    rising, falling = direction > TIE, direction < -TIE
    with np.errstate(divide="ignore", invalid="ignore"):
        times = -gap / direction
    above = gap > 0
    entering = rising & (gap < 0) & (times < t_max)
    leaving = falling & above & (times < t_max)
    active = above | ((gap == 0) & rising)
    times = np.where(entering | leaving, times, np.inf)
    return times, entering, leaving, active


def _terms(th: Thresholds, x0, direction, t_max):
    """(alpha, beta): what an active row adds to the utility at step ``t``, ``alpha + beta t``.

    Exact for ``g = 1`` (hardmax, top-1): ``w x`` (engagement) or ``w`` (exposure). For top-k
    softmax with k > 1 the chord of ``w g(x) x`` (or ``w g(x)``) between the line's ends: a
    guide to where the supremum lies, whose candidates are then evaluated exactly.
    """
    rows, lines = direction.shape
    weight = (np.ones(rows) if th.weights is None else th.weights)[:, None]
    x0 = np.broadcast_to(x0 if x0.ndim == 2 else x0[:, None], (rows, lines))
    if th.log_rest is None:
        if th.engagement:
            return weight * x0, weight * direction
        return np.broadcast_to(weight, (rows, lines)), np.zeros((rows, lines))
    x1 = x0 + direction * t_max[None]

    def h(x):
        g = expit(x / th.temperature - th.log_rest[:, None])
        return weight * (g * x if th.engagement else g)

    h0, h1 = h(x0), h(x1)
    return h0, (h1 - h0) / np.where(t_max > 0, t_max, 1.0)[None]


def _candidate_steps(th: Thresholds, x0, direction, t_max):
    """((4, L) steps where ``u(x0 + t d)`` may peak on ``(0, t_max]``, (L,) the largest
    supremum of each line: exact for ``g = 1``, of the chords otherwise).

    Between crossings the active rows are fixed and their terms are linear in ``t``
    (:func:`_terms`), so the supremum is at a crossing (from one side) or an end: one sort of
    the crossings and running sums of the active rows' terms give every one of them. The
    steps are the start, the end, and the best crossing from each side, each realised just
    inside its interval.
    """
    times, entering, leaving, active = _crossings(th, x0, direction, t_max)
    rows, lines = times.shape
    alpha, beta = _terms(th, x0, direction, t_max)
    a0 = (alpha * active).sum(axis=0)
    b0 = (beta * active).sum(axis=0)
    if rows == 0:
        steps = np.vstack([INSIDE * t_max, t_max, t_max, t_max])
        return steps, np.maximum(a0, a0 + t_max * b0)
    order = np.argsort(times, axis=0, kind="stable")
    ts = np.take_along_axis(times, order, axis=0)
    sign = entering.astype(np.float64) - leaving
    d_alpha = np.take_along_axis(sign * alpha, order, axis=0)
    d_beta = np.take_along_axis(sign * beta, order, axis=0)
    a_after = a0 + np.cumsum(d_alpha, axis=0)
    b_after = b0 + np.cumsum(d_beta, axis=0)
    finite = np.isfinite(ts)
    safe = np.where(finite, ts, 0.0)
    # Several rows crossing at one step: only the last of the group has an interval after it,
    # the first one before it.
    distinct = ts[1:] > ts[:-1]
    last_of_group = np.ones_like(finite)
    last_of_group[:-1] = distinct
    first_of_group = np.ones_like(finite)
    first_of_group[1:] = distinct
    after = np.where(finite & last_of_group, a_after + safe * b_after, -np.inf)
    before = np.where(
        finite & first_of_group, (a_after - d_alpha) + safe * (b_after - d_beta), -np.inf
    )
    columns = np.arange(lines)
    i_after, i_before = after.argmax(axis=0), before.argmax(axis=0)
    v_after, v_before = after[i_after, columns], before[i_before, columns]
    end = a_after[-1] + t_max * b_after[-1]
    with np.errstate(invalid="ignore"):  # inf - inf where a line has no crossing
        t = ts[i_after, columns]
        nxt = np.where(i_after + 1 < rows, ts[np.minimum(i_after + 1, rows - 1), columns], np.inf)
        step_after = t + INSIDE * (np.minimum(nxt, t_max) - t)
        t = ts[i_before, columns]
        prv = np.where(i_before > 0, ts[np.maximum(i_before - 1, 0), columns], 0.0)
        step_before = t - INSIDE * (t - prv)
    first = np.minimum(ts[0], t_max)
    last = np.where(finite, ts, 0.0).max(axis=0)
    steps = np.vstack(
        [
            INSIDE * first,
            t_max - INSIDE * (t_max - last),  # the supremum at the end is a left limit
            np.where(np.isfinite(v_after), step_after, t_max),
            np.where(np.isfinite(v_before), step_before, t_max),
        ]
    )
    sup = np.maximum(np.maximum(a0, end), np.maximum(v_after, v_before))
    return np.clip(steps, 0.0, t_max[None]), sup


def _lines(th: Thresholds, x0, direction, t_max, lines: int = 6):
    """(line indices, steps, values): the best points found on the ``lines`` most promising
    of the lines ``x0 + t d``, with their exact utilities, best first.

    The sweep ranks the lines and proposes steps on each (:func:`_candidate_steps`); those,
    the line's end and for top-k with k > 1 a grid (the chord is only a guide there) are
    evaluated exactly.
    """
    steps, sup = _candidate_steps(th, x0, direction, t_max)
    chosen = np.argsort(-sup, kind="stable")[:lines]
    steps = np.vstack([steps[:, chosen], t_max[None, chosen]])
    if th.log_rest is not None:
        steps = np.vstack([steps, np.linspace(0.125, 1.0, 8)[:, None] * t_max[None, chosen]])
    x0 = x0[:, chosen] if x0.ndim == 2 else x0[:, None]
    scores = x0[:, :, None] + direction[:, chosen, None] * steps.T[None]
    rows = direction.shape[0]
    values = utilities(th, scores.reshape(rows, -1)).reshape(len(chosen), -1)
    best = values.argmax(axis=1)
    value = values[np.arange(len(chosen)), best]
    order = np.argsort(-value, kind="stable")
    return chosen[order], steps.T[np.arange(len(chosen)), best][order], value[order]


# ---------------------------------------------------------------------- the search
def _edges(th: Thresholds, keep: int = 3) -> list:
    """[(value, content)] of the best points on the edges of the simplex (the tilt off every
    vertex towards every other one included), best first, each evaluated exactly."""
    users = th.users
    dim = users.shape[1]
    pairs = [(a, b) for a in range(dim) for b in range(a + 1, dim)]
    if not pairs:
        return []
    starts = np.array([a for a, _ in pairs])
    ends = np.array([b for _, b in pairs])
    # The sweep's start (t -> 0+) is the tilt off vertex a, its end (t -> 1-) the tilt off b.
    x0 = users[:, starts]
    direction = users[:, ends] - x0
    chosen, steps, values = _lines(th, x0, direction, np.ones(len(pairs)), lines=2 * keep)
    points = []
    for j, t in zip(chosen[:keep], steps[:keep], strict=True):
        content = np.zeros(dim)
        content[starts[j]] = 1.0 - t
        content[ends[j]] += t
        points.append(content)
    return list(zip(values[:keep].tolist(), points, strict=True))


def _round(th: Thresholds, s, rng):
    """One local-search round from ``s``: the best point on lines towards every vertex, away
    from every vertex of the support, and between pairs of vertices of the support and others."""
    users = th.users
    dim = s.size
    x = users @ s
    support = np.flatnonzero(s > 0)
    moves = []  # (direction in content space, t_max)
    for b in range(dim):
        if s[b] < 1.0:
            moves.append((np.eye(dim)[b] - s, 1.0))
    for j in support:
        if s[j] < 1.0:
            moves.append((s - np.eye(dim)[j], s[j] / (1.0 - s[j])))
    pairs = [(j, b) for j in support for b in range(dim) if b != j]
    if len(pairs) > 3 * dim:
        pairs = [pairs[i] for i in rng.choice(len(pairs), 3 * dim, replace=False)]
    for j, b in pairs:
        direction = np.zeros(dim)
        direction[b], direction[j] = 1.0, -1.0
        moves.append((direction, s[j]))
    directions = np.array([m[0] for m in moves]).T  # (dim, L)
    t_max = np.array([m[1] for m in moves])
    chosen, steps, _ = _lines(th, x, users @ directions, t_max)
    point = np.clip(s + steps[0] * directions[:, chosen[0]], 0.0, None)
    return point / point.sum()


def _local_search(th: Thresholds, s, value, rng, rounds: int = MAX_ROUNDS, stop_above=np.inf):
    for _ in range(rounds):
        point = _round(th, s, rng)
        new = float(content_utilities(th, point[None])[0])
        if not new > value + 1e-12 * max(abs(value), 1e-300):
            break
        s, value = point, new
        if value > stop_above:
            break
    return value, s


def subsample(th: Thresholds, rows: int, rng) -> Thresholds:
    """``rows`` rows drawn without replacement, reweighted to the population's total."""
    total = th.theta.size
    pick = np.sort(rng.choice(total, rows, replace=False))
    base = np.ones(total) if th.weights is None else th.weights
    scale = base.sum() / base[pick].sum()
    return th._replace(
        users=th.users[pick],
        theta=th.theta[pick],
        share=th.share[pick],
        log_rest=None if th.log_rest is None else th.log_rest[pick],
        weights=base[pick] * scale,
    )


#: Rows above which the local search runs on a sample (its results are then polished and
#: evaluated on every row).
SEARCH_ROWS = 2048


def search(
    th: Thresholds,
    current=None,
    seed=0,
    random_starts: int = 4,
    stop_above: float = np.inf,
    search_rows: int = SEARCH_ROWS,
):
    """(value, content): the best content found over the simplex (module docstring), and
    its exact utility. Returns at once when a point is worth more than ``stop_above`` (a
    certificate that only needs to know whether a producer gains)."""
    users = th.users
    dim = users.shape[1]
    rng = np.random.default_rng(seed)
    vertices = utilities(th, users)
    best_v = int(vertices.argmax())
    candidates = [(float(vertices[best_v]), np.eye(dim)[best_v])]
    edges = _edges(th)
    candidates += edges
    best = max(candidates, key=lambda vc: vc[0])
    if best[0] > stop_above:
        return best
    starts = [point for _, point in edges] + [np.eye(dim)[best_v], np.full(dim, 1.0 / dim)]
    if current is not None:
        starts.append(np.asarray(current, dtype=np.float64))
    # Random starts inside the simplex and near its faces (where optima of this kind sit).
    starts += list(rng.dirichlet(np.ones(dim), random_starts))
    starts += list(rng.dirichlet(np.full(dim, 0.3), random_starts))
    sample = th if th.theta.size <= search_rows else subsample(th, search_rows, rng)
    found = []
    for s in starts:
        value = float(content_utilities(sample, s[None])[0])
        found.append(_local_search(sample, s, value, rng))
    # Every row: polish the best few points found on the sample, keep what is exact.
    found.sort(key=lambda vc: -vc[0])
    for _, s in found[: 3 if sample is not th else len(found)]:
        value = float(content_utilities(th, s[None])[0])
        if sample is not th:
            value, s = _local_search(th, s, value, rng, rounds=10, stop_above=stop_above)
        candidates.append((value, s))
        if value > stop_above:
            break
    return max(candidates, key=lambda vc: vc[0])
