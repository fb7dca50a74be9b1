"""
# Producers competing for engagement (`acharya-engagement-v0`)

The model this library follows: Acharya, Vangala, Wang, Ziani, "Producers Equilibria and
Dynamics in Engagement-Driven Recommender Systems" (TMLR 2025). It is
:func:`recsys_eq_env.parallel_env` with the paper's defaults; the env's own page
(:class:`recsys_eq_env.EngagementEnv`) gives the spaces, rewards, revision and episode end.

| Import | `recsys_eq_env.make("acharya-engagement-v0", ...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` |
| Action Shape | `(dim,)` (simplex content; `action_type="discrete"` for basis vectors) |
| Observation Shape | `(2 * dim + 1,)` (own content, others' mass per feature, own reward) |
| Rewards | engagement per user, `sum_k p_i(c_k, S) <c_k, s_i> / n_users` |

## Model

Users are non-negative embeddings `c_k` (rows on the simplex); producer `i` picks content
`s_i` on the simplex; the platform shows user `k` producer `i` with the softmax probability
`exp(<c_k, s_i>/tau) / sum_j exp(<c_k, s_j>/tau)` (or the linear, top-k, uniform or hardmax
rule); a producer earns the engagement of the users it is shown to (MODEL.md section 1 writes
out every equation).

## Arguments

`make("acharya-engagement-v0", users=None, n_producers=10, rule="softmax", temperature=1.0,
utility="engagement", k=None, n_users=1000, dim=5, seed=0, **env_kwargs)`: `users` (default:
`n_users` synthetic uniform users in `dim` features from `seed`) and the game's parameters;
any other keyword goes to `parallel_env`.

## Result reproduced

The paper's equilibria, reproduced cell by cell against its saved tables, are the subject of
the rest of the report (Equilibria (exp2)). Here, its qualitative claim as this library
states it (a paraphrase; MODEL.md section 2 gives the structural result): at an equilibrium
every producer sits on one feature, and producers spread over more features as the
temperature falls. Measured: best-response dynamics on 1,000 synthetic uniform users
(`dim = 5`, `n = 10`), five seeds per temperature, every equilibrium certified over the
simplex.

## Version History

* v0: the paper's model (this library 0.1).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..certificate import certify_counts
from ..dynamics import best_response_dynamics
from ..game import EngagementGame
from ..users import producer_distribution, synthetic_users, total_variation, user_distribution
from ._common import row, settings, values

ID = "acharya-engagement-v0"
MODEL = "softmax (or linear) serving of engagement; content on the simplex"
PAPER = (
    "Acharya, Vangala, Wang, Ziani. Producers Equilibria and Dynamics in Engagement-Driven "
    "Recommender Systems. TMLR 2025"
)
CLAIM = (
    "at equilibrium each producer sits on a single feature, and producers specialise more as "
    "the temperature falls (this library's summary of the paper, not a quotation)"
)
SOURCE = "the paper's experiments; the structural result as MODEL.md section 2 states it"
MEASURE = (
    "best-response dynamics on 1,000 synthetic uniform users (dim 5, n 10), 5 seeds per "
    "temperature: every converged run certified over the simplex, and the features occupied "
    "at equilibrium never fewer at a lower temperature"
)
TEMPERATURES = (10.0, 1.0, 0.1, 0.03)
ENV_DEFAULTS: dict = {}


def game(
    users=None,
    n_producers: int = 10,
    rule: str = "softmax",
    temperature: float = 1.0,
    utility: str = "engagement",
    k: int | None = None,
    n_users: int = 1000,
    dim: int = 5,
    seed: int = 0,
) -> EngagementGame:
    """The paper's game (module docstring)."""
    if users is None:
        users = synthetic_users("uniform", n_users, dim, seed=seed)
    return EngagementGame(users, n_producers, rule=rule, temperature=temperature, k=k,
                          utility=utility)  # fmt: skip


def reproduce(quick: bool = False) -> list[dict]:
    """Rows per temperature: features occupied, TVD to the users, converged, certified."""
    seeds = range(2 if quick else 5)
    out = []
    for tau in TEMPERATURES:
        g = game(temperature=tau, n_users=300 if quick else 1000)
        setting = f"tau={tau:g}"
        for seed in seeds:
            result = best_response_dynamics(g, seed=seed, max_iter=2000)
            certified = result.converged and certify_counts(g, result.counts, seed=seed).passed
            tvd = total_variation(producer_distribution(result.counts), user_distribution(g.users))
            out += [
                row(ID, setting, "converged", result.converged),
                row(ID, setting, "certified over the simplex", certified),
                row(ID, setting, "features occupied", int((result.counts > 0).sum())),
                row(ID, setting, "producer-user TVD", tvd),
            ]
    return out


def verdict(rows) -> tuple[str, bool]:
    """Mean features occupied per temperature; holds if every converged run is certified and
    the mean never falls as the temperature falls."""
    order = settings(rows, "features occupied")
    means = [float(values(rows, "features occupied", s).mean()) for s in order]
    converged = np.concatenate([values(rows, "converged", s) for s in order]) > 0
    certified = np.concatenate([values(rows, "certified over the simplex", s) for s in order])
    ok = bool(converged.any() and (certified[converged] > 0).all())
    rising = all(b >= a for a, b in itertools.pairwise(means))
    text = ", ".join(f"{s}: {m:.1f}" for s, m in zip(order, means, strict=True))
    runs = f"{int((certified > 0).sum())}/{converged.size} runs certified equilibria"
    return f"features occupied (mean) {text}; {runs}", ok and rising
