"""Serving rules and utilities for arbitrary profiles: pure functions over arrays.

Notation follows MODEL.md section 1: ``users`` is (K, d) with rows on the simplex, a ``profile``
is (n, d) with rows on the simplex, ``scores[k, i] = <c_k, s_i>`` lies in [0, 1].

Serving rules (row ``k`` of the result is the distribution of user ``k`` over producers):

* ``softmax``: ``exp(x_i / tau) / sum_j exp(x_j / tau)``, with a per-user max shift, finite for
  any ``tau > 0``.
* ``linear``: ``x_i / sum_j x_j``; a user with zero affinity to every producer is served
  uniformly (it contributes no engagement either way).
* ``topk_softmax``: softmax over each user's ``k`` highest-scoring producers. Producers tied at
  the k-th score share the remaining slots equally, i.e. the expected serving probability under
  uniformly random tie-breaking, so equal scores are always treated symmetrically.
* ``uniform``: ``1 / n`` (round robin).
* ``hardmax``: the ``tau -> 0`` limit; the best-scoring producers share the user equally.

Deviation probabilities answer "if one producer played score ``y`` against these others, how
often would it be served?". They take the others as a weighted multiset of scores, which covers
both an explicit profile (weights 1) and a count vector over basis vectors (weights ``n_j``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp

#: Elements per temporary when a computation broadcasts over (users, candidates, others).
CHUNK_ELEMENTS = 2**22


def score_matrix(users: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """``users @ profile.T`` with bit-identical columns for identical content vectors.

    BLAS may round the same dot product differently in different columns; ties between equal
    producers matter to ``hardmax`` and ``topk_softmax``, so scores are computed once per distinct
    content vector and then expanded.
    """
    unique, inverse = np.unique(profile, axis=0, return_inverse=True)
    return (users @ unique.T)[:, inverse.reshape(-1)]


def serving_probabilities(
    scores: np.ndarray, rule: str, temperature: float = 1.0, k: int | None = None
) -> np.ndarray:
    """(K, n) serving probabilities from a (K, n) score matrix; every row sums to 1."""
    n_users, n = scores.shape
    if rule == "uniform":
        return np.full((n_users, n), 1.0 / n)
    if rule == "linear":
        total = scores.sum(axis=1, keepdims=True)
        out = np.full((n_users, n), 1.0 / n)
        np.divide(scores, total, out=out, where=total > 0)
        return out
    if rule == "hardmax":
        top = scores == scores.max(axis=1, keepdims=True)
        return top / top.sum(axis=1, keepdims=True)
    z = (scores - scores.max(axis=1, keepdims=True)) / temperature
    weights = np.exp(z)
    if rule == "topk_softmax" and k < n:
        weights *= topk_weights(scores, k)
    return weights / weights.sum(axis=1, keepdims=True)


def topk_weights(scores: np.ndarray, k: int) -> np.ndarray:
    """Inclusion weight of each producer in its user's top-k set, ties shared equally.

    Producers strictly above the k-th largest score get 1, those tied at it get
    ``(k - above) / tied``, the rest 0. Each row sums to k.
    """
    n = scores.shape[1]
    kth = np.partition(scores, n - k, axis=1)[:, n - k : n - k + 1]
    above = scores > kth
    tied = scores == kth
    share = (k - above.sum(axis=1, keepdims=True)) / tied.sum(axis=1, keepdims=True)
    return above + tied * share


def producer_utilities(
    scores: np.ndarray, probabilities: np.ndarray, utility: str = "engagement"
) -> np.ndarray:
    """(n,) producer utilities: engagement ``sum_k p_ki x_ki`` or exposure ``sum_k p_ki``."""
    if utility == "exposure":
        return probabilities.sum(axis=0)
    return (probabilities * scores).sum(axis=0)


def smooth_producer_utilities(
    users_t, profile, rule, temperature=1.0, utility="engagement", work=None
):
    """(n,) producer utilities for ``softmax`` or ``linear`` serving, producer-major.

    The same numbers as :func:`producer_utilities` of :func:`serving_probabilities`, computed
    on (n, n_users) arrays from ``users_t`` (dim, n_users): reductions over producers run along
    long contiguous rows and the sum over users is one mat-vec. ``work``, two (n, n_users)
    buffers, avoids fresh large temporaries (whose first touch costs page faults) in hot loops.
    These two rules treat equal scores alike by their formula: identical content needs no
    deduplication.
    """
    n, n_users = profile.shape[0], users_t.shape[1]
    if work is None:
        work = (np.empty((n, n_users)), np.empty((n, n_users)))
    scores = np.matmul(profile, users_t, out=work[0])
    weights = work[1]
    if rule == "softmax":
        np.subtract(scores, scores.max(axis=0), out=weights)
        weights /= temperature
        np.exp(weights, out=weights)
        inverse = 1.0 / weights.sum(axis=0)
    else:
        weights[...] = scores
        total = scores.sum(axis=0)
        inverse = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
    if utility == "engagement":
        np.multiply(weights, scores, out=weights)
    out = weights @ inverse
    if rule == "linear" and utility == "exposure":
        out += (total == 0).sum() / n  # zero-affinity users are served uniformly
    return out


def user_utilities(scores: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """(K,) user engagement ``v_k = sum_i p_ki x_ki``."""
    return (probabilities * scores).sum(axis=1)


def deviation_probabilities(
    candidates: np.ndarray,
    others: np.ndarray,
    weights: np.ndarray,
    rule: str,
    temperature: float = 1.0,
    k: int | None = None,
) -> np.ndarray:
    """(K, c) probability that a deviator scoring ``candidates[:, j]`` is served.

    ``others`` (K, m) are the other producers' scores with multiplicities ``weights`` (m,), all
    > 0. The total number of producers is ``weights.sum() + 1``. Computed in log space, so it is
    finite for every temperature > 0.
    """
    n_total = float(weights.sum()) + 1.0
    shape = candidates.shape
    if others.shape[1] == 0:
        return np.ones(shape)
    if rule == "uniform":
        return np.full(shape, 1.0 / n_total)
    if rule == "linear":
        rest = (others @ weights)[:, None]
        den = candidates + rest
        out = np.full(shape, 1.0 / n_total)
        np.divide(candidates, den, out=out, where=den > 0)
        return out
    if rule == "hardmax":
        best = others.max(axis=1, keepdims=True)
        n_best = ((others == best) @ weights)[:, None]
        return (candidates > best) + (candidates == best) / (n_best + 1.0)
    z_candidates = candidates / temperature
    if rule == "softmax" or k >= n_total:
        log_rest = logsumexp(others / temperature, b=weights, axis=1)
        return expit(z_candidates - log_rest[:, None])
    above, tied = _rank_against(candidates, others, weights)
    inclusion = np.clip((k - above) / (tied + 1.0), 0.0, 1.0)
    if k == 1:
        return inclusion
    take = _top_take(others, weights, k - 1)
    log_rest = logsumexp(others / temperature, b=take, axis=1)
    return inclusion * expit(z_candidates - log_rest[:, None])


def all_deviation_utilities(users_t, profile, rule, temperature=1.0, utility="engagement"):
    """(n, dim): row ``i`` is producer ``i``'s utility at every basis vector, others fixed.

    See :func:`utilities_and_deviations`; None where its fast path does not apply.
    """
    both = utilities_and_deviations(users_t, profile, rule, temperature, utility)
    return None if both is None else both[1]


def utilities_and_deviations(
    users_t, profile, rule, temperature=1.0, utility="engagement", work=None
):
    """((n,) utilities, (n, dim) deviation table) of a profile, from one score matrix.

    Row ``i`` of the table is producer ``i``'s utility at every basis vector, others fixed.
    For ``softmax`` and ``linear`` serving, producer-major from ``users_t`` (dim, n_users), in
    one pass over the users per producer: the others' partition function (softmax, with
    exponentials shifted by each user's largest score) or total score (linear) comes from
    prefix and suffix sums over producers: sums of positive terms, so nothing cancels
    (subtracting a producer's own term from the total could); the same terms give every
    producer's own utility. Returns None where that does not apply (other rules, fewer than two
    producers, or users whose score range over ``690 * temperature`` would underflow): use
    :func:`deviation_probabilities` per producer then. ``work``: three (n, n_users) and three
    (dim, n_users) buffers, reused across calls (fresh large temporaries cost page faults on
    first touch: most of a step's time without them).
    """
    n = profile.shape[0]
    if rule not in ("softmax", "linear") or n < 2:
        return None
    engaged = utility == "engagement"
    if work is None:
        work = deviation_workspace(n, *users_t.shape)
    big_a, big_b, rest, small_a, small_b, buffer = work
    scores = np.matmul(profile, users_t, out=big_a)  # (n, n_users)
    if rule == "softmax":
        shift = np.maximum(scores.max(axis=0), users_t.max(axis=0))
        low = np.minimum(scores.min(axis=0), users_t.min(axis=0))
        if ((shift - low) >= 690.0 * temperature).any():
            return None
        terms = np.subtract(scores, shift, out=big_b)
        terms /= temperature
        np.exp(terms, out=terms)
        cand = np.subtract(users_t, shift, out=small_a)  # (dim, n_users)
        cand /= temperature
        np.exp(cand, out=cand)
        weight = np.multiply(users_t, cand, out=small_b) if engaged else cand
    else:
        terms, cand = scores, users_t
        weight = np.multiply(users_t, users_t, out=small_b) if engaged else users_t
    # The others of each producer: exclusive prefix and suffix sums down the producer axis,
    # shifted rather than subtracted (a producer's own term can dwarf the others').
    # (Running sums row by row: a cumsum down axis 0 strides through memory and is slower.)
    rest[0] = 0.0
    for i in range(1, n):
        np.add(rest[i - 1], terms[i - 1], out=rest[i])
    total = np.zeros(terms.shape[1])
    for i in range(n - 1, -1, -1):
        rest[i] += total
        total += terms[i]
    # Own utilities: p_i = terms_i / total (linear: zero-affinity users are served uniformly).
    positive = total > 0
    inverse = np.divide(1.0, total, out=np.zeros_like(total), where=positive)
    if engaged:
        mine = np.multiply(terms, scores, out=big_b)
    else:
        mine = terms
    utilities = mine @ inverse
    if rule == "linear" and not engaged:
        utilities += (~positive).sum() / n
    out = np.empty((n, users_t.shape[0]))
    fill = 0.0 if engaged else 1.0 / n  # linear: users with zero affinity to everybody
    for i in range(n):
        den = np.add(cand, rest[i], out=buffer)
        if rule == "linear" and not (den > 0).all():
            p = np.full(den.shape, fill)
            np.divide(weight, den, out=p, where=den > 0)
        else:
            p = np.divide(weight, den, out=den)
        out[i] = p.sum(axis=1)
    return utilities, out


def deviation_workspace(n_producers: int, dim: int, n_users: int) -> tuple:
    """Buffers for :func:`utilities_and_deviations`: three (n, n_users), three (dim, n_users)."""
    return tuple(np.empty((n_producers, n_users)) for _ in range(3)) + tuple(
        np.empty((dim, n_users)) for _ in range(3)
    )


def _rank_against(candidates, others, weights):
    """Weighted number of others strictly above, and tied with, each candidate score."""
    n_users, c = candidates.shape
    m = others.shape[1]
    above = np.empty((n_users, c))
    tied = np.empty((n_users, c))
    step = max(1, CHUNK_ELEMENTS // max(1, c * m))
    for lo in range(0, n_users, step):
        o = others[lo : lo + step, None, :]
        y = candidates[lo : lo + step, :, None]
        above[lo : lo + step] = (o > y) @ weights
        tied[lo : lo + step] = (o == y) @ weights
    return above, tied


def _top_take(others, weights, slots):
    """How much of each other's weight falls in the top ``slots`` of its user's multiset.

    Ties at the boundary are split in proportion to weight, which leaves the sum of the top
    values unchanged (they are equal), so the result is exact for any tie-breaking.
    """
    order = np.argsort(-others, axis=1, kind="stable")
    w_sorted = weights[order]
    before = np.cumsum(w_sorted, axis=1) - w_sorted
    take_sorted = np.clip(slots - before, 0.0, w_sorted)
    take = np.empty_like(take_sorted)
    np.put_along_axis(take, order, take_sorted, axis=1)
    return take
