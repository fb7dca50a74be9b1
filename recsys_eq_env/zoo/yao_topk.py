"""
# Top-K recommendation with competing creators (`yao-topk-v0`)

Yao, Li, Nekipelov, Wang, Xu, "How Bad is Top-K Recommendation under Competing Content
Creators?" (ICML 2023, arXiv 2302.01971): the platform shortlists each user's K most relevant
creators and the user picks one by a random-utility (softmax) choice; creators compete for
exposure. Here creators choose among topics (basis vectors).

| Import | `recsys_eq_env.make("yao-topk-v0", ...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` (the creators) |
| Action Shape | `()`: `Discrete(dim)`, the topic (`action_type="simplex"` for mixtures) |
| Observation Shape | `(2 * dim + 1,)` (own topic, others per topic, own reward) |
| Rewards | exposure per user: the probability of being picked, summed over users, `/ n_users` |

## Model

User `k` has relevance `<c_k, s_i>` for creator `i`; the shortlist is the K creators of
highest relevance (ties share a place: `rule="topk_softmax"`, MODEL.md section 1); the user
picks a shortlisted creator with probability `exp(<c_k, s_i>/tau) / sum_{j in top-K}
exp(<c_k, s_j>/tau)`, the choice of a random-utility user with Gumbel noise of scale `tau`.
A creator's reward is its exposure (`utility="exposure"`; `"engagement"` is an argument).
User welfare in the paper's sense is the random-utility user's expected best value over
the shortlist, `tau * log sum_{j in top-K} exp(<c_k, s_j>/tau)` summed over users
(:func:`random_utility_welfare`); the equation numbers of the paper are not in our sources,
so they are not cited.

## Arguments

`make("yao-topk-v0", users=None, n_producers=5, k=2, temperature=1.0, utility="exposure",
majority=0.9, n_users=1000, **env_kwargs)`: default users are the paper's introductory
example, a fraction `majority` of single-topic sports fans (topic 0) and the rest travel
enthusiasts (topic 1).

## Result reproduced

"one possible equilibrium of the competition is that all creators post homogeneous sports
content when the gain from creating niche content cannot compensate for the utility loss
caused by abandoning the exposure from the majority of users" (Section 1), and "the fraction
of user welfare loss due to creator competition is always upper bounded by a small constant
depending on K and randomness in user decisions" (abstract). Measured: on the sports/travel
users, every pure equilibrium over topics for K = 1, 2, 3 and tau = 0.1, 1, with the welfare
optimum over topic profiles; on 20 random populations per (K, tau) (200 Dirichlet(0.3)
users, 2-4 topics, K+1 to 6 creators) the price of anarchy over pure equilibria, optimum / worst
equilibrium under random-utility welfare. The paper's constant is not in our sources: the
test is that the price stays below 2 (our threshold, chosen after exploratory runs; the report
gives the worst price per (K, tau), so a reader can apply another).

## Version History

* v0: top-K softmax serving over topics, exposure rewards (this library 0.1).
"""

from __future__ import annotations

import numpy as np

from ..analysis import pure_equilibria
from ..game import EngagementGame
from ..lattice import Lattice
from ._common import row, settings, values

ID = "yao-topk-v0"
MODEL = "top-K shortlist, softmax (random-utility) choice; creators on topics, exposure"
PAPER = (
    "Yao, Li, Nekipelov, Wang, Xu. How Bad is Top-K Recommendation under Competing Content "
    "Creators? ICML 2023 (arXiv 2302.01971)"
)
CLAIM = (
    '"one possible equilibrium of the competition is that all creators post homogeneous '
    'sports content" and "the fraction of user welfare loss due to creator competition is '
    'always upper bounded by a small constant depending on K and randomness in user decisions"'
)
SOURCE = "Section 1 (introduction) and the abstract"
MEASURE = (
    "sports/travel users: all creators on sports is a pure equilibrium for K = 1-3, tau = "
    "0.1, 1 while the welfare optimum covers both topics; 20 random populations per (K, tau): "
    "price of anarchy over pure equilibria (random-utility welfare) below 2; equilibria over "
    "topics only (basis vectors: the scenario's action set, not mixtures of topics)"
)
ENV_DEFAULTS = {"action_type": "discrete"}
KS, TEMPERATURES = (1, 2, 3), (0.1, 1.0)
THRESHOLD = 2.0


def game(
    users=None,
    n_producers: int = 5,
    k: int = 2,
    temperature: float = 1.0,
    utility: str = "exposure",
    majority: float = 0.9,
    n_users: int = 1000,
) -> EngagementGame:
    """The scenario's game (module docstring)."""
    if users is None:
        users = sports_and_travel(n_users, majority)
    return EngagementGame(users, n_producers, rule="topk_softmax", temperature=temperature,
                          k=k, utility=utility)  # fmt: skip


def sports_and_travel(n_users: int = 1000, majority: float = 0.9) -> np.ndarray:
    """(n_users, 2) single-topic users: ``majority`` of them on topic 0, the rest on 1."""
    if not 0.0 < float(majority) < 1.0:
        raise ValueError(f"majority must be in (0, 1), got {majority!r}")
    fans = round(float(majority) * n_users)
    if not 0 < fans < n_users:
        raise ValueError(f"majority={majority} of n_users={n_users} leaves a group empty")
    users = np.zeros((n_users, 2))
    users[:fans, 0] = 1.0
    users[fans:, 1] = 1.0
    return users


def random_utility_welfare(game: EngagementGame, counts) -> np.ndarray:
    """(m,) user welfare of count vectors ``counts`` (m, dim) in the random-utility sense:
    ``sum_k tau * log sum_{j in top-K} exp(<c_k, s_j> / tau)`` (a Gumbel-noise user's
    expected best value over its shortlist, up to the noise's mean)."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.int64))
    users, k, tau = game.users, game.k, game.temperature
    order = np.argsort(-users, axis=1, kind="stable")
    scores = np.take_along_axis(users, order, axis=1)  # each user's features, best first
    top = scores[:, :1]
    out = np.empty(len(counts))
    for i, c in enumerate(counts):
        ranked = c[order]  # producers on each of the user's features, best first
        before = np.cumsum(ranked, axis=1) - ranked
        taken = np.clip(k - before, 0, ranked)  # shortlist places each feature fills
        inner = (taken * np.exp((scores - top) / tau)).sum(axis=1)
        out[i] = float((tau * np.log(inner) + top[:, 0]).sum())
    return out


def _every_count_vector(g: EngagementGame) -> np.ndarray:
    lattice = Lattice(g.n_producers, g.dim)
    return lattice.unrank(np.arange(lattice.size))


def _price(g: EngagementGame) -> tuple[float, np.ndarray, np.ndarray]:
    """(optimum / worst pure equilibrium, equilibria, the optimum's counts)."""
    equilibria = pure_equilibria(g).counts
    everything = _every_count_vector(g)
    welfare = random_utility_welfare(g, everything)
    best = int(welfare.argmax())
    if not len(equilibria):
        return float("nan"), equilibria, everything[best]
    worst = float(random_utility_welfare(g, equilibria).min())
    return float(welfare[best]) / worst, equilibria, everything[best]


def reproduce(quick: bool = False) -> list[dict]:
    """Rows: the sports/travel instance per (K, tau), and random populations' prices."""
    out = []
    for k in KS:
        for tau in TEMPERATURES:
            setting = f"K={k}, tau={tau:g}"
            g = game(k=k, temperature=tau)
            price, equilibria, optimum = _price(g)
            homogeneous = any(tuple(c) == (g.n_producers, 0) for c in equilibria)
            out += [
                row(ID, setting, "all on sports is an equilibrium", homogeneous),
                row(ID, setting, "pure equilibria", len(equilibria)),
                row(ID, setting, "optimum covers both topics", bool((optimum > 0).all())),
                row(ID, setting, "sports/travel price of anarchy", price),
            ]
    rng = np.random.default_rng(2302_01971)
    instances = 5 if quick else 20
    for k in KS:
        for tau in TEMPERATURES:
            setting = f"K={k}, tau={tau:g}"
            for _ in range(instances):
                dim = int(rng.integers(2, 5))
                n = int(rng.integers(k + 1, 7))
                users = rng.dirichlet(np.full(dim, 0.3), size=200)
                g = EngagementGame(users, n, rule="topk_softmax", k=k, temperature=tau,
                                   utility="exposure")  # fmt: skip
                price, _, _ = _price(g)
                out.append(row(ID, setting, "random price of anarchy", price))
    return out


def verdict(rows) -> tuple[str, bool]:
    """Holds if all-on-sports is an equilibrium and the optimum covers both topics in every
    setting, and every random price of anarchy is below :data:`THRESHOLD`."""
    homogeneous = values(rows, "all on sports is an equilibrium")
    covers = values(rows, "optimum covers both topics")
    by_k = {}
    for setting in settings(rows, "random price of anarchy"):
        prices = values(rows, "random price of anarchy", setting)
        by_k[setting] = float(np.nanmax(prices)) if np.isfinite(prices).any() else np.nan
    worst = float(np.nanmax(list(by_k.values())))
    text = (
        f"all on sports an equilibrium in {int(homogeneous.sum())}/{homogeneous.size} settings, "
        f"optimum covering both in {int(covers.sum())}/{covers.size}; worst random price of "
        "anarchy " + ", ".join(f"{s}: {p:.3f}" for s, p in by_k.items())
    )
    holds = bool(homogeneous.all() and covers.all() and worst < THRESHOLD)
    return text, holds
