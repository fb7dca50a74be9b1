"""Rating tables of the Amazon Digital Music shape, for tests and the NMF benchmark.

The real file (McAuley 2018, ratings only) cannot be redistributed or downloaded here. Its
published shape: 1,584,082 ratings by 840,372 users of 456,992 items, most users and items
with one or two ratings and a long tail, ratings mostly 5. :func:`amazon_shaped_ratings`
draws a table with those counts: per-user and per-item degrees from zeta (power-law)
distributions whose means match the real ones, paired at random, ratings from the real file's
coarse star shares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The real file's size (the registry checks the row count).
AMAZON_RATINGS, AMAZON_USERS, AMAZON_ITEMS = 1_584_082, 840_372, 456_992
#: Share of 1..5 stars (Digital Music is dominated by 5-star ratings).
STAR_SHARES = (0.05, 0.03, 0.07, 0.16, 0.69)


def _degrees(rng, total: int, count: int, exponent: float) -> np.ndarray:
    """``count`` positive degrees summing to ``total``, power-law shaped."""
    degrees = np.minimum(rng.zipf(exponent, count), total // 10 + 1).astype(np.int64)
    excess = degrees.sum() - total
    while excess != 0:  # adjust at random rows, never below 1, until the total is exact
        rows = rng.integers(0, count, abs(excess))
        if excess > 0:
            np.subtract.at(degrees, rows, 1)
            degrees = np.maximum(degrees, 1)
        else:
            np.add.at(degrees, rows, 1)
        excess = degrees.sum() - total
    return degrees


def amazon_shaped_ratings(
    n_ratings: int = AMAZON_RATINGS,
    n_users: int = AMAZON_USERS,
    n_items: int = AMAZON_ITEMS,
    seed: int = 0,
):
    """DataFrame[item_id, user_id, rating, timestamp] in the Amazon file's column order."""
    import pandas as pd

    if not 1 <= n_users <= n_ratings or not 1 <= n_items <= n_ratings:
        raise ValueError(
            f"n_users and n_items must be in [1, n_ratings={n_ratings}]; got {n_users}, {n_items}"
        )
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), _degrees(rng, n_ratings, n_users, 2.55))
    items = np.repeat(np.arange(n_items), _degrees(rng, n_ratings, n_items, 2.25))
    rng.shuffle(items)
    stars = rng.choice(np.arange(1, 6), size=n_ratings, p=STAR_SHARES).astype(float)
    return pd.DataFrame(
        {
            "item_id": np.char.add("B", np.char.zfill(items.astype(str), 9)),
            "user_id": np.char.add("A", np.char.zfill(users.astype(str), 13)),
            "rating": stars,
            "timestamp": rng.integers(1_000_000_000, 1_540_000_000, n_ratings),
        }
    )


def write_amazon_csv(path, **kwargs) -> Path:
    """Write :func:`amazon_shaped_ratings` as the real file is laid out (no header)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    amazon_shaped_ratings(**kwargs).to_csv(path, header=False, index=False)
    return path
