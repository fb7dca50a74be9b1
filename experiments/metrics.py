"""What a run reports about its final profile: the paper's quantities and a few more."""

from __future__ import annotations

import numpy as np

import recsys_eq_env as rq


def equilibrium_metrics(game: rq.EngagementGame, profile: np.ndarray) -> dict:
    """Distributions, utilities and specialisation of a (basis-vector) profile.

    Beyond the paper: ``nash_conv`` (sum of regrets), ``features_occupied``, ``tvd`` (total
    variation distance between producer and user distribution) and ``hhi`` (Herfindahl index
    of producer shares, 1 when everybody sits on one feature).
    """
    counts = np.bincount(profile.argmax(axis=1), minlength=game.dim)
    producer_dist = counts / counts.sum()
    user_dist = rq.user_distribution(game.users)
    producer_u = game.producer_utilities(profile)
    user_u = game.user_utilities(profile)
    return {
        "counts": counts.tolist(),
        "producer_dist": producer_dist.tolist(),
        "user_dist": user_dist.tolist(),
        "producer_utility_total": float(producer_u.sum()),
        "producer_utility_mean": float(producer_u.mean()),
        "producer_utility_min": float(producer_u.min()),
        "producer_utility_max": float(producer_u.max()),
        "user_utility_total": float(user_u.sum()),
        "user_utility_mean": float(user_u.mean()),
        "user_utility_min": float(user_u.min()),
        "user_utility_max": float(user_u.max()),
        "nash_conv": float(game.nash_conv(profile)),
        "features_occupied": int((counts > 0).sum()),
        "tvd": rq.total_variation(producer_dist, user_dist),
        "hhi": float((producer_dist**2).sum()),
    }
