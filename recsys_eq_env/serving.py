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
