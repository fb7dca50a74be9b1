"""The vector env's infos per producer entry, for the adapters (SB3, Gymnasium, TorchRL).

The vector env's infos hold per-game arrays (``counts`` (B, dim), ``nash_conv`` (B,)) and
per-producer arrays (``utility`` (B, n), ``regret``, ``moved``, ``deviation_rewards``
(B, n, dim), ``action_mask``). An adapter with one entry per producer repeats a game's
values for each of its producers, so that every entry carries its game's ``nash_conv`` and
``nash_conv_per_user`` (the learning benchmark's metric: sum of regrets per user).
"""

from __future__ import annotations

import numpy as np

#: Keys whose leading axis is the game (B,), not the producer (B, n).
GAME_KEYS = frozenset({"counts", "nash_conv", "nash_conv_per_user"})
#: Keys that describe the reset, not one step's values.
SKIP = frozenset({"final_obs", "final_info", "_final_obs"})


def with_per_user(infos: dict, n_users: int) -> dict:
    """``infos`` plus ``nash_conv_per_user`` (B,) where it has ``nash_conv``."""
    out = {k: v for k, v in infos.items() if k not in SKIP}
    if "nash_conv" in out:
        out["nash_conv_per_user"] = np.asarray(out["nash_conv"], dtype=np.float64) / n_users
    return out


def per_entry(infos: dict, n_producers: int, n_users: int) -> dict[str, np.ndarray]:
    """Every key of the vector env's step infos as an array with one row per entry
    (``b * n + i``: producer ``i`` of game ``b``); game values repeat per producer."""
    out = {}
    for key, value in with_per_user(infos, n_users).items():
        value = np.asarray(value)
        if key in GAME_KEYS:
            out[key] = np.repeat(value, n_producers, axis=0)
        else:
            out[key] = value.reshape(value.shape[0] * value.shape[1], *value.shape[2:])
    return out


def step_infos(infos: dict) -> dict:
    """The infos of the step just taken, for every game: under same-step autoreset the top
    level already describes the new start of a finished game, and ``infos["final_info"]``
    holds the whole batch as it was before those resets."""
    return infos.get("final_info", infos)
