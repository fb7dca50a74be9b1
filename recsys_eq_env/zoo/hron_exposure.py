"""
# Exposure games, content on the simplex (`hron-exposure-simplex-v0`)

Hron, Krauth, Jordan, Kilbertus, Dean, "Modeling Content Creator Incentives on
Algorithm-Curated Platforms" (ICLR 2023, arXiv 2206.13102): producers choose content to win
exposure, the platform shows each user a producer with softmax probabilities of temperature
`tau` (its exploration). The paper's content and users live on the unit sphere; this
scenario keeps this library's simplex (non-negative embeddings, unit-L1 content), which the
id says: what is broadly appealing differs between the two (the most popular feature here,
the users' mean direction on the sphere).

| Import | `recsys_eq_env.make("hron-exposure-simplex-v0", ...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` |
| Action Shape | `(dim,)`: content on the simplex (`action_type="discrete"` for basis vectors) |
| Observation Shape | `(2 * dim + 1,)` (own content, others' mass per feature, own reward) |
| Rewards | exposure per user: `sum_k p_i(c_k, S) / n_users` |

## Model

User `k` (a row of the game's users) is shown producer `i` with probability
`exp(<c_k, s_i>/tau) / sum_j exp(<c_k, s_j>/tau)`; a producer's reward is its exposure
(`rule="softmax"`, `utility="exposure"`). Best responses are often interior here, so regrets
and equilibria are over the whole simplex (the game's `default_deviations`). The paper's
equation numbers are not in our sources.

## Arguments

`make("hron-exposure-simplex-v0", users=None, n_producers=4, temperature=1.0, n_users=300,
dim=4, seed=0, **env_kwargs)`: default users synthetic uniform from `seed`.

## Result reproduced

"high levels of exploration incentivize broadly appealing content, whereas low levels lead
to specialization" (Section 1). Measured on the simplex: best-response dynamics over the
simplex (each producer moves to its best content found over the whole simplex) from 5 seeds
per temperature, `tau` = 3, 1, 0.3, 0.1, 0.03: the claim holds if at the highest `tau`
every run ends with all producers on the most popular feature and at the lowest every run
ends with producers on more than one feature, in equilibria of the simplex check
(`certificate`: a search, not a proof).

## Version History

* v0: softmax exposure on the simplex (this library 0.1); the sphere is not implemented.
"""

from __future__ import annotations

import numpy as np

from ..dynamics import best_response_dynamics
from ..game import EngagementGame
from ..users import synthetic_users
from ._common import row, settings, values

ID = "hron-exposure-simplex-v0"
MODEL = "softmax exposure (temperature = exploration); content on the simplex, not the sphere"
PAPER = (
    "Hron, Krauth, Jordan, Kilbertus, Dean. Modeling Content Creator Incentives on "
    "Algorithm-Curated Platforms. ICLR 2023 (arXiv 2206.13102)"
)
CLAIM = (
    '"high levels of exploration incentivize broadly appealing content, whereas low levels '
    'lead to specialization"'
)
SOURCE = "Section 1 (introduction)"
MEASURE = (
    "simplex best-response dynamics, 300 synthetic uniform users, dim 4, n 4, 5 seeds per "
    "tau: at tau = 3 every run ends with all producers on the most popular feature, at "
    "tau = 0.03 every run on more than one feature; equilibria checked over the whole simplex "
    "by search (certificate, not proof)"
)
ENV_DEFAULTS: dict = {}
TEMPERATURES = (3.0, 1.0, 0.3, 0.1, 0.03)


def game(
    users=None,
    n_producers: int = 4,
    temperature: float = 1.0,
    n_users: int = 300,
    dim: int = 4,
    seed: int = 0,
) -> EngagementGame:
    """The scenario's game (module docstring)."""
    if users is None:
        users = synthetic_users("uniform", n_users, dim, seed=seed)
    return EngagementGame(users, n_producers, rule="softmax", temperature=temperature,
                          utility="exposure")  # fmt: skip


def reproduce(quick: bool = False) -> list[dict]:
    """Rows per temperature and seed: converged, features occupied, all on the most popular
    feature, the largest coordinate of any content (1: a vertex)."""
    out = []
    for tau in TEMPERATURES:
        g = game(temperature=tau)
        popular = int(g.users.sum(axis=0).argmax())
        setting = f"tau={tau:g}"
        for seed in range(2 if quick else 5):
            result = best_response_dynamics(g, seed=seed, max_iter=400)
            peaks = result.profile.argmax(axis=1)
            smallest_peak = float(result.profile.max(axis=1).min())
            out += [
                row(ID, setting, "converged", result.converged),
                row(ID, setting, "features occupied", len(set(peaks.tolist()))),
                row(ID, setting, "all on the most popular feature", (peaks == popular).all()),
                row(ID, setting, "smallest peak coordinate", smallest_peak),
            ]
    return out


def verdict(rows) -> tuple[str, bool]:
    """Holds if every run converged, all on the most popular feature at the highest tau, and
    on more than one feature at the lowest."""
    order = settings(rows, "features occupied")
    converged = np.concatenate([values(rows, "converged", s) for s in order])
    high = values(rows, "all on the most popular feature", order[0])
    low = values(rows, "features occupied", order[-1])
    means = ", ".join(f"{s}: {values(rows, 'features occupied', s).mean():.1f}" for s in order)
    text = (
        f"features occupied (mean) {means}; all on the most popular feature at {order[0]} in "
        f"{int(high.sum())}/{high.size} runs; {int(converged.sum())}/{converged.size} converged"
    )
    return text, bool(converged.all() and high.all() and (low > 1).all())
