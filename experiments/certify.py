"""``recsys-eq certify``: are basis-vector equilibria equilibria over the whole simplex?

MODEL.md section 2: under linear serving (and softmax with tau >= 1/2) a best response over the
simplex is a basis vector, so an equilibrium over basis vectors is a Nash equilibrium. Below
that it is an empirical claim. For sampled equilibria this searches every producer's continuous
deviations with SciPy's SLSQP from many starts (its own vertex, the centroid and random points)
using the exact gradient, and reports the best continuous gain beside the best basis-vector
gain. Producers on the same feature are interchangeable, so one per occupied feature is checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.optimize import minimize

import recsys_eq_env as rq
from recsys_eq_env.continuous import utility_and_gradient

from .config import Config, RunSpec, Serving, serving_order, temperature_value
from .populations import spec_game


def certify_specs(config: Config) -> list[RunSpec]:
    grid = config.certify
    specs = []
    for dataset in grid.datasets:
        for dim in grid.dims:
            for n in grid.n_producers:
                for seed in grid.embedding_seeds:
                    for serving in config.experiments["exp2"].serving:
                        specs.append(
                            RunSpec(
                                "certify",
                                dataset,
                                grid.n_users,
                                dim,
                                n,
                                seed,
                                serving.rule,
                                serving.temperature,
                                0,
                                config.max_iter,
                                config.base_seed,
                            )
                        )
    return specs


def certify_one(spec: RunSpec, starts: int) -> list[dict]:
    """Rows, one per occupied feature of the equilibrium reached from the spec's seed."""
    game = spec_game(spec)
    result = rq.best_response_dynamics(game, seed=spec.seed, max_iter=spec.max_iter)
    if not result.converged:
        return []
    rng = np.random.default_rng(spec.seed)
    rows = []
    for a in np.flatnonzero(result.counts):
        row = game.deviation_table(result.counts)[a]
        current = row[a]
        best_value, best_point = best_continuous_deviation(game, result.counts, int(a), starts, rng)
        rows.append(
            {
                "dataset": spec.dataset,
                "dim": spec.dim,
                "n_producers": spec.n_producers,
                "embedding_seed": spec.embedding_seed,
                "serving": spec.serving,
                "rule": spec.rule,
                "temperature": temperature_value(spec.temperature),
                "feature": int(a),
                "utility": float(current),
                "vertex_gain": float(row.max() - current),
                "continuous_gain": float(best_value - current),
                "relative_continuous_gain": float((best_value - current) / abs(current)),
                "optimum_peak": float(best_point.max()),
            }
        )
    return rows


def best_continuous_deviation(game, counts, a: int, starts: int, rng) -> tuple[float, np.ndarray]:
    """Best content found for a producer on feature ``a`` by multi-start SLSQP on the simplex.

    Starts: its own vertex, the centroid and ``starts - 2`` uniform random points; every local
    optimum is projected back on the simplex and evaluated exactly.
    """
    others = np.asarray(counts, dtype=float).copy()
    others[a] -= 1
    scale = 1.0 / game.n_users  # optimise utility per user: values of order 1

    def objective(s):
        value, grad = utility_and_gradient(game, s, game.users, others)
        return -value * scale, -grad * scale

    constraint = {"type": "eq", "fun": lambda s: s.sum() - 1.0, "jac": lambda s: np.ones_like(s)}
    points = [np.eye(game.dim)[a], np.full(game.dim, 1.0 / game.dim)]
    points += list(rng.dirichlet(np.ones(game.dim), max(0, starts - 2)))
    best_value, best_point = -np.inf, points[0]
    for start in points:
        res = minimize(
            objective,
            start,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * game.dim,
            constraints=[constraint],
            options={"ftol": 1e-12, "maxiter": 200},
        )
        s = np.clip(res.x, 0.0, None)
        s /= s.sum()
        value = utility_and_gradient(game, s, game.users, others)[0]
        if value > best_value:
            best_value, best_point = value, s
    return best_value, best_point


def run_certify(config: Config, n_jobs: int = 1) -> pd.DataFrame:
    specs = certify_specs(config)
    starts = config.certify.starts
    chunks = Parallel(n_jobs=n_jobs)(delayed(certify_one)(s, starts) for s in specs)
    return pd.DataFrame([row for chunk in chunks for row in chunk])


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per serving rule: how much continuous deviations gain over the best vertex."""
    if table.empty:
        return table
    order = {label: i for i, label in enumerate(serving_order(table["serving"].unique()))}
    grouped = table.groupby("serving")
    out = pd.DataFrame(
        {
            "equilibria": grouped.apply(
                lambda g: g[["dim", "n_producers", "embedding_seed"]].drop_duplicates().shape[0],
                include_groups=False,
            ),
            "producers checked": grouped.size(),
            "max vertex gain (rel.)": grouped.apply(
                lambda g: (g["vertex_gain"] / g["utility"].abs()).max(), include_groups=False
            ),
            "max continuous gain (rel.)": grouped["relative_continuous_gain"].max(),
            "producers with continuous gain > 1e-6": grouped.apply(
                lambda g: int((g["relative_continuous_gain"] > 1e-6).sum()), include_groups=False
            ),
            "min peak of best deviation": grouped["optimum_peak"].min(),
        }
    )
    return out.sort_index(key=lambda idx: idx.map(order))


__all__ = [
    "Serving",
    "best_continuous_deviation",
    "certify_one",
    "certify_specs",
    "run_certify",
    "summarise",
]
