"""``recsys-eq certify``: are basis-vector equilibria equilibria over the whole simplex?

MODEL.md section 2: under linear serving (and softmax with tau >= 1/2) an engagement best
response over the simplex is a basis vector, so an equilibrium over basis vectors is a Nash
equilibrium. Below that it is an empirical claim. For sampled equilibria this searches every
producer's continuous deviations with SciPy's SLSQP from many starts (its own vertex, the
centroid and random points) using the exact gradient, and reports the best continuous gain
beside the best basis-vector gain. Producers on the same feature are interchangeable, so one
per occupied feature is checked.

Exposure games (``certify.utilities`` in the config) are where the structural result fails:
their basis-vector equilibria are checked the same way (and typically leave gains), and the
equilibria of the simplex dynamics are certified by the game's own check (exact with a duality
gap under linear serving, a multi-start certificate under softmax).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import recsys_eq_env as rq
from recsys_eq_env.continuous import SMOOTH_RULES, best_continuous_deviation

from .config import Config, RunSpec, serving_order
from .populations import spec_game
from .store import ResultStore, fingerprint, plan


def certify_specs(config: Config) -> list[tuple[RunSpec, int]]:
    """(spec, starts) of every sampled equilibrium: the main block, then the samples whose
    dataset is synthetic or among the run's datasets (real data needs its ratings)."""
    from .config import population_size

    grids = [config.certify] + [
        g
        for g in config.certify.samples
        if g.datasets[0].startswith("synthetic-") or g.datasets[0] in config.datasets
    ]
    specs = []
    for grid in grids:
        for utility in grid.utilities:
            for dataset in grid.datasets:
                for dim in grid.dims:
                    for n in grid.n_producers:
                        for seed in grid.embedding_seeds:
                            for serving in config.experiments["exp2"].serving:
                                if utility != "engagement" and serving.rule not in SMOOTH_RULES:
                                    continue
                                spec = RunSpec(
                                    "certify",
                                    dataset,
                                    population_size(dataset, grid.n_users),
                                    dim,
                                    n,
                                    seed,
                                    serving.rule,
                                    serving.temperature,
                                    0,
                                    config.max_iter,
                                    config.base_seed,
                                    utility,
                                    generator=config.generator,
                                )
                                specs.append((spec, grid.starts))
    return specs


def _base(spec: RunSpec) -> dict:
    return spec.as_row(spec_game(spec).n_users)


def certify_one(spec: RunSpec, starts: int) -> list[dict]:
    """Rows, one per occupied feature of the basis equilibrium reached from the spec's seed,
    and for exposure games one per distinct content of the simplex dynamics' equilibrium."""
    game = spec_game(spec)
    result = rq.best_response_dynamics(
        game, seed=spec.seed, max_iter=spec.max_iter, deviations="basis"
    )
    rows = []
    if result.converged:
        rng = np.random.default_rng(spec.seed)
        table = game.deviation_table(result.counts)
        for a in np.flatnonzero(result.counts):
            row = table[a]
            current = row[a]
            best_value, best_point = best_continuous_deviation(
                game, result.counts, int(a), starts, rng
            )
            rows.append(
                {
                    **_base(spec),
                    "equilibrium": "basis",
                    "check": "search",
                    "feature": int(a),
                    "utility_value": float(current),
                    "vertex_gain": float(row.max() - current),
                    "continuous_gain": float(best_value - current),
                    "relative_continuous_gain": float((best_value - current) / abs(current)),
                    "optimum_peak": float(best_point.max()),
                }
            )
    if spec.utility == "exposure":
        simplex = rq.best_response_dynamics(
            game, seed=spec.seed, max_iter=10 * spec.max_iter, deviations="simplex"
        )
        if simplex.converged:
            current = game.producer_utilities(simplex.profile)
            responses = game.best_responses(simplex.profile, "simplex")
            basis = game.best_responses(simplex.profile, "basis").value
            _, first = np.unique(simplex.profile, axis=0, return_index=True)
            for i in sorted(first):
                gain = responses.value[i] - current[i]
                rows.append(
                    {
                        **_base(spec),
                        "equilibrium": "simplex",
                        "check": responses.check,
                        "feature": int(simplex.profile[i].argmax()),
                        "utility_value": float(current[i]),
                        "vertex_gain": float(basis[i] - current[i]),
                        "continuous_gain": float(gain),
                        "relative_continuous_gain": float(gain / abs(current[i])),
                        "optimum_peak": float(simplex.profile[i].max()),
                    }
                )
    return rows


def _settings(spec: RunSpec, starts: int) -> dict:
    return {**spec.settings("direct"), "starts": starts}


def _rows(spec: RunSpec, starts: int) -> list[dict]:
    """certify_one's rows with the run's key and fingerprint (a spec with no converged
    equilibrium leaves one marker row, so it is not run again)."""
    rows = certify_one(spec, starts) or [{**_base(spec), "equilibrium": "none"}]
    stamp = {"key": spec.key, "fingerprint": fingerprint(_settings(spec, starts))}
    return [{**stamp, "item": i, **row} for i, row in enumerate(rows)]


def run_certify(config: Config, out=None, n_jobs: int = 1, recompute: bool = False):
    """Every sampled equilibrium of the config; resumable in ``out`` (``certify.parquet``)."""
    specs = sorted(certify_specs(config), key=lambda item: -item[0].n_producers * item[0].dim)
    if out is None:
        chunks = Parallel(n_jobs=n_jobs)(delayed(_rows)(s, starts) for s, starts in specs)
        return pd.DataFrame([row for chunk in chunks for row in chunk])
    store = ResultStore(out, "certify", unique=("key", "item"), sort=("key", "item"))
    work = plan(
        store,
        specs,
        key=lambda item: item[0].key,
        print_of=lambda item: fingerprint(_settings(*item)),
        recompute=recompute,
    )
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for rows in parallel(delayed(_rows)(s, starts) for s, starts in work.todo):
        store.append(rows)
    keys = {s.key for s, _ in specs}
    table = store.consolidate(keys=keys)
    return table[table["equilibrium"] != "none"].reset_index(drop=True)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per utility, serving rule and kind of equilibrium: what continuous deviations gain."""
    if table.empty:
        return table
    if "utility_value" not in table.columns:  # written before exposure was certified
        table = table.rename(columns={"utility": "utility_value"})
        table = table.assign(utility="engagement", equilibrium="basis", check="search")
    order = {label: i for i, label in enumerate(serving_order(table["serving"].unique()))}
    table = table[table["equilibrium"] != "none"]  # runs that reached none: nothing to check
    grouped = table.groupby(["utility", "equilibrium", "serving"])
    out = _summary(grouped)
    return out.sort_index(
        key=lambda idx: idx.map(lambda v: order.get(v, v) if idx.name == "serving" else v)
    )


#: What identifies one sampled equilibrium (a run of a cell).
EQUILIBRIUM = ["dataset", "n_users", "dim", "n_producers", "embedding_seed", "serving", "run"]


def summarise_populations(table: pd.DataFrame) -> pd.DataFrame:
    """Per utility, kind of equilibrium and population (dataset, users, dim, n), over every
    serving rule: the same columns as :func:`summarise`."""
    if table.empty or "utility_value" not in table.columns:
        return pd.DataFrame()
    table = table[table["equilibrium"] != "none"]
    keys = ["utility", "equilibrium", "dataset", "n_users", "dim", "n_producers"]
    return _summary(table.groupby(keys)).drop(columns=["max vertex gain (rel.)"])


def unreached(table: pd.DataFrame) -> pd.DataFrame:
    """The sampled runs whose dynamics reached no equilibrium within the budget."""
    if table.empty or "equilibrium" not in table.columns:
        return table.iloc[:0]
    return table[table["equilibrium"] == "none"]


def _summary(grouped) -> pd.DataFrame:
    value = "utility_value"
    return pd.DataFrame(
        {
            "equilibria": grouped.apply(
                lambda g: g[[c for c in EQUILIBRIUM if c in g.columns]].drop_duplicates().shape[0],
                include_groups=False,
            ),
            "producers checked": grouped.size(),
            "max vertex gain (rel.)": grouped.apply(
                lambda g: (g["vertex_gain"] / g[value].abs()).max(), include_groups=False
            ),
            "max continuous gain (rel.)": grouped["relative_continuous_gain"].max(),
            "producers with continuous gain > 1e-6": grouped.apply(
                lambda g: int((g["relative_continuous_gain"] > 1e-6).sum()), include_groups=False
            ),
            # an equilibrium fails its certificate when any producer gains (issue 19)
            "equilibria that fail": grouped.apply(
                lambda g: int(
                    g[g["relative_continuous_gain"] > 1e-6][
                        [c for c in EQUILIBRIUM if c in g.columns]
                    ]
                    .drop_duplicates()
                    .shape[0]
                ),
                include_groups=False,
            ),
            "min peak of content": grouped["optimum_peak"].min(),
        }
    )


__all__ = [
    "best_continuous_deviation",
    "certify_one",
    "certify_specs",
    "run_certify",
    "summarise",
    "summarise_populations",
    "unreached",
]
