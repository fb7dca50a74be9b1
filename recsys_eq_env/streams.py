"""The revision stream: which producer moves, drawn by arithmetic on (key, step, producer).

Revision ``"one"`` (MODEL.md section 3, the paper's protocol) applies the request of the first
requester in a uniformly random permutation of the producers. A permutation is the order of
``n`` independent uniform keys, so the first requester is the requester with the smallest key.
Here the key of producer ``i`` at step ``t`` of a game is a counter-based hash of the game's
two 32-bit stream words, ``t`` and ``i`` (:func:`mover_keys`): no Generator per game, so the
movers of ``B`` games come from one array operation, and the same words give the same moves
in :func:`recsys_eq_env.best_response_dynamics`, both NumPy envs and the JAX env (the hash is
plain uint32 arithmetic, the same in ``jax.numpy``).

A game's stream words are drawn from its Generator right after its start
(:func:`stream_words`), so ``reset(seed=s)`` and ``best_response_dynamics(game, seed=s)``
share the start and every later move.

The hash is Chris Wellons' ``lowbias32`` finaliser (bias ~0.17 of the ideal; public domain),
chained over the words; ties between keys (probability ~n^2 / 2^33 per step) go to the lower
producer index, as a stable sort would.
"""

from __future__ import annotations

import numpy as np

M1 = np.uint32(0x7FEB352D)
M2 = np.uint32(0x846CA68B)
GOLDEN = np.uint32(0x9E3779B9)
#: Above every uint32 key: marks producers that do not request.
NOBODY = np.int64(1) << 32


def mix(x: np.ndarray) -> np.ndarray:
    """lowbias32: a bijection of uint32 with good avalanche (new array)."""
    x = np.asarray(x, dtype=np.uint32)
    x = x ^ (x >> np.uint32(16))
    x = x * M1
    x = x ^ (x >> np.uint32(15))
    x = x * M2
    return x ^ (x >> np.uint32(16))


def stream_words(rng: np.random.Generator) -> np.ndarray:
    """(2,) uint32: a game's stream words, drawn from its Generator."""
    return rng.integers(0, 2**32, size=2, dtype=np.uint32)


def mover_keys(words: np.ndarray, steps, n: int) -> np.ndarray:
    """(B, n) uint32 keys of every producer of ``B`` games at their ``steps`` (B,).

    ``words`` is (B, 2) uint32; game b's key of producer i depends only on ``words[b]``,
    ``steps[b]`` and ``i``.
    """
    words = np.asarray(words, dtype=np.uint32).reshape(-1, 2)
    steps = np.asarray(steps).astype(np.uint32).reshape(-1, 1)
    producers = np.arange(n, dtype=np.uint32)[None, :]
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as the hash intends
        h = mix(steps * GOLDEN + producers)
        h = mix(h ^ words[:, :1])
        return mix(h + words[:, 1:] * GOLDEN)


def first_requesters(differs: np.ndarray, words: np.ndarray, steps) -> np.ndarray:
    """(B, n) bool: the request that applies in each game under revision ``"one"``, the
    requester with the smallest key (the first requester in the step's permutation)."""
    differs = np.asarray(differs, dtype=bool)
    b, n = differs.shape
    keys = np.where(differs, mover_keys(words, steps, n).astype(np.int64), NOBODY)
    first = keys.argmin(axis=1)
    moved = np.zeros((b, n), dtype=bool)
    rows = np.flatnonzero(differs.any(axis=1))
    moved[rows, first[rows]] = True
    return moved


def permutation(words: np.ndarray, step: int, n: int) -> np.ndarray:
    """(n,) the producers in the order of the step's permutation (smallest key first, ties
    by index): the order in which the dynamics look for the first improver."""
    return np.argsort(mover_keys(words, [step], n)[0], kind="stable")
