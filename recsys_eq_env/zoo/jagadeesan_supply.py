"""
# Supply-side equilibria with production costs (`jagadeesan-supply-v0`)

Jagadeesan, Garg, Steinhardt, "Supply-Side Equilibria in Recommender Systems" (NeurIPS 2023,
arXiv 2206.13489): producers choose content vectors, pay a cost that grows with the content's
norm, and each user is shown the producer whose content it values most (hardmax); a producer
earns the users it wins minus its cost. Here producers choose from a catalogue of content
vectors (a grid of norms along each direction), which the game's features stand for.

| Import | `recsys_eq_env.make("jagadeesan-supply-v0", ...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` |
| Action Shape | `()`: `Discrete(items)`, a catalogue item (`catalogue(levels)` lists them) |
| Observation Shape | `(2 * items + 1,)` (own item, others per item, own reward) |
| Rewards | (users won - cost) / n_users, in `[-max cost, 1]` per user |

## Model

Users are vectors `u_k` in R^2_+ (genre A, genre B); a catalogue item is a vector `p` in
R^2_+: the zero vector (no content, free) and `q * v` for norms `q` in `1/L, 2/L, ..., 1`
along the directions `v` = genre A, genre B and the balanced `(1, 1)/sqrt(2)`. User `k`
values item `p` at `<u_k, p>` (the game's user matrix, one column per item) and is shown the
producer it values most, ties split (`rule="hardmax"`, `utility="exposure"`). A producer on
item `p` pays `n_users * ||p||_2^beta` (`costs=` of :class:`recsys_eq_env.EngagementGame`,
in the utility's units). The paper's producers choose any vector of R^d_+; the grid is this
scenario's discretisation, and the paper's equation numbers are not in our sources.

## Arguments

`make("jagadeesan-supply-v0", n_producers=2, beta=4.0, levels=16, genres=2, n_users=60,
**env_kwargs)`: `genres=2` splits users evenly between genre A and genre B, `genres=1` makes
every user a genre-A fan (homogeneous users).

## Result reproduced

"specialization can enable producers to achieve positive profit at equilibrium" (abstract).
Measured with symmetric correlated equilibria, exact linear programs over count vectors
(:func:`recsys_eq_env.correlated.correlated_equilibria` with producer welfare): every Nash
equilibrium is a correlated one, so the worst and best correlated profit bracket the profit
of every equilibrium. For n = 2 producers, beta = 1, 2, 4, 8 and grids of 8 and 16 norms:
with homogeneous users the best correlated profit falls towards 0 as the grid refines
(competition dissipates the rent); with two genres, the claim holds where the worst
correlated profit on the finer grid stays at least 0.05 per producer per user while the
homogeneous best is at most 0.01, with most producers on single-genre items (thresholds
ours, chosen after exploratory runs of this scenario; the table shows every beta, so a reader
can apply another).

## Version History

* v0: a catalogue of norms along three directions, hardmax, exposure minus a norm cost
  (this library 0.1).
"""

from __future__ import annotations

import numpy as np

from ..correlated import correlated_equilibria
from ..game import EngagementGame
from ._common import row, settings, values

ID = "jagadeesan-supply-v0"
MODEL = "hardmax serving; producers pay norm(p)^beta for a catalogue item; exposure minus cost"
PAPER = (
    "Jagadeesan, Garg, Steinhardt. Supply-Side Equilibria in Recommender Systems. "
    "NeurIPS 2023 (arXiv 2206.13489)"
)
CLAIM = '"specialization can enable producers to achieve positive profit at equilibrium"'
SOURCE = "the abstract"
MEASURE = (
    "n = 2, catalogue of 16 norms along genre A, genre B and balanced: the worst symmetric "
    "correlated equilibrium's profit (a lower bound for every Nash equilibrium) >= 0.05 per "
    "producer per user with two genres, for some beta, where homogeneous users' best is "
    "<= 0.01 and most producers are on single-genre items; equilibria over catalogue items "
    "only (basis vectors: the scenario's action set, not mixtures of items)"
)
ENV_DEFAULTS = {"action_type": "discrete"}
BETAS, LEVELS = (1.0, 2.0, 4.0, 8.0), (8, 16)
DIRECTIONS = {"genre A": (1.0, 0.0), "genre B": (0.0, 1.0), "balanced": (1.0, 1.0)}
POSITIVE, VANISHING, SPECIALISED = 0.05, 0.01, 0.5


def catalogue(levels: int = 16) -> tuple[np.ndarray, list[str]]:
    """(items (1 + 3 * levels, 2), names): the zero item, then ``levels`` norms along each of
    :data:`DIRECTIONS`."""
    if not isinstance(levels, (int, np.integer)) or isinstance(levels, bool) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
    items, names = [np.zeros(2)], ["none"]
    for name, direction in DIRECTIONS.items():
        unit = np.asarray(direction) / np.linalg.norm(direction)
        for q in np.arange(1, levels + 1) / levels:
            items.append(q * unit)
            names.append(f"{name} {q:.3g}")
    return np.array(items), names


def game(
    users=None,
    n_producers: int = 2,
    beta: float = 4.0,
    levels: int = 16,
    genres: int = 2,
    n_users: int = 60,
) -> EngagementGame:
    """The scenario's game (module docstring); ``users`` (n_users, 2) replaces the genres."""
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    if users is None:
        if genres not in (1, 2):
            raise ValueError(f"genres must be 1 or 2, got {genres!r}")
        if not isinstance(n_users, (int, np.integer)) or n_users < 2:
            raise ValueError(f"n_users must be an integer >= 2, got {n_users!r}")
        users = np.zeros((n_users, 2))
        users[:, 0] = 1.0
        if genres == 2:
            users[n_users // 2 :] = (0.0, 1.0)
    users = np.asarray(users, dtype=np.float64)
    if users.ndim != 2 or users.shape[1] != 2 or (users < 0).any():
        raise ValueError(f"users must be a non-negative (n_users, 2) array, got {users.shape}")
    items, _ = catalogue(levels)
    values_ = users @ items.T  # (n_users, items): what each user gets from each item
    costs = len(users) * np.linalg.norm(items, axis=1) ** beta
    # Every user values some item (the largest norms), so no row of the matrix is zero.
    return EngagementGame(values_, n_producers, rule="hardmax", utility="exposure",
                          costs=costs)  # fmt: skip


def reproduce(quick: bool = False) -> list[dict]:
    """Rows per (beta, levels, genres): worst and best correlated profit per producer per
    user, and the share of producers on single-genre items in the worst one."""
    out = []
    levels = (4, 8) if quick else LEVELS
    for beta in BETAS:
        for level in levels:
            for genres in (1, 2):
                g = game(beta=beta, levels=level, genres=genres)
                ce = correlated_equilibria(g, welfare="producer")
                scale = 1.0 / (g.n_producers * g.n_users)
                worst = ce.worst
                single = worst.counts[:, 1 : 2 * level + 1].sum(axis=1) / g.n_producers
                setting = f"beta={beta:g}, levels={level}, genres={genres}"
                out += [
                    row(ID, setting, "worst correlated profit", worst.welfare * scale),
                    row(ID, setting, "best correlated profit", ce.best.welfare * scale),
                    row(ID, setting, "single-genre share", float(worst.probabilities @ single)),
                ]
    return out


def verdict(rows) -> tuple[str, bool]:
    """Holds if, on the finest grid, some beta has two-genre worst profit >= POSITIVE with
    most producers on single-genre items while homogeneous best profit <= VANISHING."""
    finest = max(
        int(s.split("levels=")[1].split(",")[0]) for s in settings(rows, "worst correlated profit")
    )
    parts, holds = [], False
    for beta in BETAS:
        two = f"beta={beta:g}, levels={finest}, genres=2"
        one = f"beta={beta:g}, levels={finest}, genres=1"
        low = float(values(rows, "worst correlated profit", two)[0])
        share = float(values(rows, "single-genre share", two)[0])
        homogeneous = float(values(rows, "best correlated profit", one)[0])
        parts.append(f"beta {beta:g}: {low:.3f} ({share:.0%} specialised) vs {homogeneous:.4f}")
        holds |= low >= POSITIVE and share >= SPECIALISED and homogeneous <= VANISHING
    text = (
        f"worst correlated profit per producer per user, two genres vs homogeneous best, "
        f"{finest} norms: " + "; ".join(parts)
    )
    return text, bool(holds)
