"""Slow, obviously-correct reference implementations, written from MODEL.md and nothing else.

They loop over users and rebuild the users x producers score matrix for every candidate basis
vector, as the authors' research code does, and share no code with the package.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def normalise(users):
    users = np.asarray(users, float)
    return users / users.sum(axis=1, keepdims=True)


def naive_probabilities(users, profile, rule, temperature=1.0, k=None):
    """(K, n) serving probabilities, user by user."""
    users = normalise(users)
    profile = np.asarray(profile, float)
    n = profile.shape[0]
    out = np.zeros((users.shape[0], n))
    for row, c in enumerate(users):
        x = np.array([float(np.dot(c, s)) for s in profile])
        if rule == "uniform":
            out[row] = 1.0 / n
        elif rule == "linear":
            out[row] = x / x.sum() if x.sum() > 0 else 1.0 / n
        elif rule == "hardmax":
            top = x == x.max()
            out[row] = top / top.sum()
        elif rule == "softmax":
            e = np.array([math.exp((xi - x.max()) / temperature) for xi in x])
            out[row] = e / e.sum()
        elif rule == "topk_softmax":
            out[row] = _topk_averaged(x, k, temperature)
        else:
            raise ValueError(rule)
    return out


def _topk_averaged(x, k, temperature):
    """Softmax over the top k, averaged over every tie-breaking order of equal scores.

    Scores are compared exactly: identical content gives identical dot products here.
    """
    n = len(x)
    key = x
    total = np.zeros(n)
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        rank = {j: r for r, j in enumerate(order)}
        ranked = sorted(range(n), key=lambda j: (-key[j], rank[j]))
        top = ranked[:k]
        e = np.exp((x[top] - x[top].max()) / temperature)
        total[top] += e / e.sum()
    return total / len(orders)


def naive_utilities(users, profile, rule, temperature=1.0, k=None, utility="engagement"):
    users = normalise(users)
    p = naive_probabilities(users, profile, rule, temperature, k)
    if utility == "exposure":
        return p.sum(axis=0)
    return (p * (users @ np.asarray(profile, float).T)).sum(axis=0)


def naive_deviation_utilities(
    users, profile, i, rule, temperature=1.0, k=None, utility="engagement"
):
    """Producer i's utility at each basis vector: rebuild the whole profile per candidate."""
    profile = np.asarray(profile, float)
    dim = profile.shape[1]
    out = np.zeros(dim)
    for j in range(dim):
        moved = profile.copy()
        moved[i] = np.eye(dim)[j]
        out[j] = naive_utilities(users, moved, rule, temperature, k, utility)[i]
    return out


def naive_best_response_dynamics(
    users, n, rule, temperature=1.0, k=None, seed=0, max_iter=500, tol=1e-9, utility="engagement"
):
    """The authors' loop: random start, random permutation, first strict improver moves (the
    permutation of iteration t from the run's stream words, :func:`naive_permutation`)."""
    users = np.asarray(users, float)
    dim = users.shape[1]
    rng = np.random.default_rng(seed)
    assignment = rng.integers(0, dim, size=n)
    words = [int(w) for w in rng.integers(0, 2**32, size=2, dtype=np.uint32)]
    moves = []
    while True:
        profile = np.eye(dim)[assignment]
        order = naive_permutation(words, len(moves), n)
        mover = None
        for i in order:
            dev = naive_deviation_utilities(users, profile, i, rule, temperature, k, utility)
            current = dev[assignment[i]]
            best = int(np.argmax(dev))
            if dev[best] > current + tol * max(abs(current), 1e-12):
                mover = (int(i), int(assignment[i]), best)
                break
        if mover is None:
            return assignment, moves, True
        if len(moves) == max_iter:
            return assignment, moves, False
        assignment[mover[0]] = mover[2]
        moves.append(mover)


def _lowbias32(x: int) -> int:
    """Chris Wellons' lowbias32 hash, in Python integers (the stream's definition)."""
    mask = 0xFFFFFFFF
    x &= mask
    x ^= x >> 16
    x = (x * 0x7FEB352D) & mask
    x ^= x >> 15
    x = (x * 0x846CA68B) & mask
    return x ^ (x >> 16)


def naive_permutation(words, step: int, n: int) -> list:
    """The producers in the order of their keys at ``step`` (ties by index): the revision
    stream as recsys_eq_env/streams.py defines it, one producer at a time."""
    golden, mask = 0x9E3779B9, 0xFFFFFFFF
    keys = []
    for i in range(n):
        h = _lowbias32((step * golden + i) & mask)
        h = _lowbias32(h ^ words[0])
        keys.append(_lowbias32((h + words[1] * golden) & mask))
    return sorted(range(n), key=lambda i: (keys[i], i))


def brute_force_equilibria(users, n, rule, temperature=1.0, k=None, tol=1e-9):
    """Count vectors of all pure equilibria, by checking all dim**n basis profiles."""
    users = np.asarray(users, float)
    dim = users.shape[1]
    found = set()
    for assignment in itertools.product(range(dim), repeat=n):
        profile = np.eye(dim)[list(assignment)]
        stable = True
        for i in range(n):
            dev = naive_deviation_utilities(users, profile, i, rule, temperature, k)
            current = dev[assignment[i]]
            if dev.max() > current + tol * max(abs(current), 1e-12):
                stable = False
                break
        if stable:
            found.add(tuple(int(c) for c in np.bincount(assignment, minlength=dim)))
    return sorted(found)


def dhondt(weights, seats):
    """D'Hondt apportionment: give each seat to the largest weight / (seats so far + 1)."""
    weights = np.asarray(weights, float)
    counts = np.zeros(len(weights), dtype=int)
    for _ in range(seats):
        counts[int(np.argmax(weights / (counts + 1)))] += 1
    return counts


def single_minded_users(weights):
    """Integer weights -> a user matrix with weights[j] users on e_j."""
    return np.repeat(np.eye(len(weights)), weights, axis=0)


def simplex_grid(dim, resolution):
    """Every point of the simplex with coordinates in multiples of 1 / resolution."""
    points = [
        np.array(bars, float)
        for bars in itertools.product(range(resolution + 1), repeat=dim - 1)
        if sum(bars) <= resolution
    ]
    return np.array([[*p, resolution - p.sum()] for p in points]) / resolution


def grid_best_response(users, counts, a, rule, temperature=1.0, k=None, utility="engagement",
                       resolution=32):  # fmt: skip
    """(value, content): the best utility of a producer on feature ``a`` of the basis profile
    with these counts over a grid of the simplex, each candidate profile served naively.

    With users in multiples of 1/4 and a grid in multiples of 1/2^m every score is exact in
    floating point, so ties are exact ties.
    """
    dim = len(counts)
    others = [j for j in range(dim) for _ in range(counts[j] - (j == a))]
    best, content = -np.inf, None
    for s in simplex_grid(dim, resolution):
        profile = np.vstack([s, np.eye(dim)[others]]) if others else s[None]
        value = naive_utilities(users, profile, rule, temperature, k, utility)[0]
        if value > best:
            best, content = value, s
    return best, content
