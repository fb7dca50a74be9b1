"""
# The TOP mediator with strategic publishers (`benporat-top-v0`)

Ben-Porat, Tennenholtz, "A Game-Theoretic Approach to Recommendation Systems with Strategic
Content Providers" (NeurIPS 2018, arXiv 1806.00955): publishers choose documents, a mediator
shows each user a document, and a publisher earns the users shown its document. The TOP
mediator shows each user its most relevant document, ties split at random; the paper asks for
mediators under which the publishers' game is stable (has a pure Nash equilibrium) and fair.
Here the documents are the game's features and every publisher may choose any of them.

| Import | `recsys_eq_env.make("benporat-top-v0", ...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` (the publishers) |
| Action Shape | `()`: `Discrete(dim)`, the document |
| Observation Shape | `(2 * dim + 1,)` (own document, others per document, own reward) |
| Rewards | users shown the publisher's document (expected, ties split), `/ n_users` |

## Model

User `k` has relevance `r_kj >= 0` for document `j` (the game's user matrix; rows are
L1-normalised, which TOP ignores); TOP shows user `k` a document of highest relevance among
those chosen, each of the publishers on it with equal probability (`rule="hardmax"`,
`utility="exposure"`). The paper's publishers may own different document sets; here they are
symmetric, and its equation numbers are not in our sources.

## Arguments

`make("benporat-top-v0", users=None, n_producers=3, n_users=8, dim=4, seed=0,
**env_kwargs)`: default relevances uniform on [0, 1) from `seed`.

## Result reproduced

"Showing that traditional approaches fail to satisfy these requirements, we propose the
Shapley mediator" (abstract): TOP is a traditional approach, stability one of the
requirements. Measured: of 200 random instances per (n, dim), n = 2, 3, 4 and dim = 3, 4, 5
(8 users, relevances uniform on [0, 1)), the share with no pure Nash equilibrium (every count
vector checked, :func:`recsys_eq_env.analysis.pure_equilibria`); the claim holds if some
instance has none. The Shapley mediator itself is not implemented here.

## Version History

* v0: TOP over symmetric document sets (this library 0.1).
"""

from __future__ import annotations

import numpy as np

from ..analysis import pure_equilibria
from ..game import EngagementGame
from ._common import row, settings, values

ID = "benporat-top-v0"
MODEL = "TOP mediator (hardmax, ties split) over documents; publishers earn exposure"
PAPER = (
    "Ben-Porat, Tennenholtz. A Game-Theoretic Approach to Recommendation Systems with "
    "Strategic Content Providers. NeurIPS 2018 (arXiv 1806.00955)"
)
CLAIM = (
    '"Showing that traditional approaches fail to satisfy these requirements, we propose the '
    'Shapley mediator"'
)
SOURCE = "the abstract (the requirements: fairness and stability)"
MEASURE = (
    "200 random instances per (n, dim), n 2-4, dim 3-5, 8 users: TOP fails stability where "
    "an instance has no pure Nash equilibrium over documents (basis vectors: the scenario's "
    "action set, not mixtures of documents)"
)
ENV_DEFAULTS = {"action_type": "discrete"}
SIZES = tuple((n, d) for n in (2, 3, 4) for d in (3, 4, 5))


def game(
    users=None, n_producers: int = 3, n_users: int = 8, dim: int = 4, seed: int = 0
) -> EngagementGame:
    """The scenario's game (module docstring)."""
    if users is None:
        users = np.random.default_rng(seed).random((n_users, dim))
    return EngagementGame(users, n_producers, rule="hardmax", utility="exposure")


def reproduce(quick: bool = False) -> list[dict]:
    """Rows per (n, dim): instances, instances with no pure equilibrium, and the seed of the
    first such instance (NaN if none)."""
    out = []
    instances = 40 if quick else 200
    for n, d in SIZES:
        setting = f"n={n}, dim={d}"
        missing, first = 0, float("nan")
        for i in range(instances):
            seed = 1806_00955 + 1000 * (10 * n + d) + i
            if not len(pure_equilibria(game(n_producers=n, dim=d, seed=seed)).counts):
                missing += 1
                first = seed if np.isnan(first) else first
        out += [
            row(ID, setting, "instances", instances),
            row(ID, setting, "no pure equilibrium", missing),
            row(ID, setting, "first seed with none", first),
        ]
    return out


def verdict(rows) -> tuple[str, bool]:
    """Holds if some instance has no pure Nash equilibrium."""
    parts, total, missing = [], 0, 0
    for setting in settings(rows, "instances"):
        count = int(values(rows, "instances", setting)[0])
        none = int(values(rows, "no pure equilibrium", setting)[0])
        total, missing = total + count, missing + none
        parts.append(f"{setting}: {none / count:.1%}")
    text = f"{missing}/{total} instances have no pure equilibrium (" + ", ".join(parts) + ")"
    return text, missing > 0
