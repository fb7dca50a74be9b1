"""``recsys-eq compare``: learning producers against best-response dynamics, many seeds each.

For every cell (dim, n, serving rule, revision) of a study file, the paper's best-response
dynamics give the reference equilibrium and every configured learner
(:data:`experiments.learners.LEARNERS`) trains on the same game, once per training seed
(``seeds`` per cell; a learner's block may lower it). The unit of work is a (cell, learner):
the JAX learners train every seed of it in one vmapped program, the others seed after seed.
At evenly spaced checkpoints each policy is *evaluated* from the seed's fixed starts
(``eval_episodes`` deterministic episodes of the NumPy env, ``revision`` as the cell's, until
an equilibrium or 10 n steps; a full-information learner shows its current profile) and
logged, one row per (cell, learner, seed, checkpoint):

* ``nash_conv_per_user``: the median over evaluation episodes of the sum of regrets per user;
* ``success``: the share of evaluation episodes ending with nash_conv per user <= 1e-3;
* ``tvd_to_best_response`` / ``tvd_to_users``, ``concentration``, the mean utilities.

A run (cell, learner, seed) *reaches* an equilibrium when its last checkpoint's median
episode has nash_conv per user <= :data:`SUCCESS`. :func:`leaderboard` reports, per learner,
the share of runs that reach one and the interquartile mean of their final nash_conv per
user, each with a stratified bootstrap 95% interval (:mod:`experiments.stats`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

import recsys_eq_env as rq
from agents.evaluation import SUCCESS

from .config import RESULTS_VERSION, Serving, derive_seed
from .learners import BUDGET_KEYS, LEARNERS, SIMULTANEOUS, Context, producer_steps
from .populations import dataset_names
from .populations import game as cell_game
from .reader import Reader, read_yaml
from .store import fingerprint, plan
from .summaries import (  # noqa: F401 (the summaries, where they were)
    curve_bands,
    final_rows,
    improvement_matrix,
    leaderboard,
    run_scores,
    seconds_summary,
)

SORT = ["revision", "dim", "n_producers", "serving", "learner", "seed", "step"]
#: What every checkpoint logs (besides features_occupied); see :func:`profile_metrics`.
METRICS = (
    "nash_conv_per_user",
    "success",
    "tvd_to_best_response",
    "tvd_to_users",
    "concentration",
    "producer_utility_mean",
    "user_utility_mean",
)
NUMBERS = ("learning_rate", "temperature", "final_temperature", "entropy", "gamma", "gae_lambda")

__all__ = ["LEARNERS", "METRICS", "SUCCESS", "StudyConfig", "leaderboard", "load_study",
           "producer_steps", "run_study"]  # fmt: skip


@dataclass(frozen=True)
class StudyConfig:
    name: str
    dataset: str
    n_users: int
    embedding_seed: int
    dims: tuple[int, ...]
    n_producers: tuple[int, ...]
    serving: tuple[Serving, ...]
    #: training seeds per cell (a learner's block may set fewer: ``seeds`` in it)
    seeds: int
    eval_episodes: int
    checkpoints: int
    learners: dict
    simultaneous_dims: tuple[int, ...] = ()
    simultaneous_learners: tuple[str, ...] = field(default=())
    #: whether the paper's dynamics run too (a study of other learners into another table
    #: of a folder that has them says false)
    reference_dynamics: bool = True

    def seeds_of(self, learner: str) -> int:
        return self.learners.get(learner, {}).get("seeds", self.seeds)


@dataclass(frozen=True)
class Unit:
    """One learner on one cell, every seed."""

    dim: int
    n_producers: int
    serving: Serving
    learner: str
    revision: str = "one"

    @property
    def cell(self) -> str:
        suffix = "" if self.revision == "one" else f"|{self.revision}"
        return f"{self.dim}|{self.n_producers}|{self.serving.label}{suffix}"

    @property
    def key(self) -> str:
        return f"{self.cell}|{self.learner}"


# ---------------------------------------------------------------------- the study file
#: The packaged studies (``experiments/configs/<name>.yaml``).
STUDIES = ("compare", "compare-quick", "compare-sb3", "compare-benchmarl")


def load_study(source: str = "compare") -> StudyConfig:
    """A packaged study by name (:data:`STUDIES`) or a YAML file, strictly."""
    raw, name = read_yaml(source, "study", STUDIES)
    top = Reader(raw, source)
    if isinstance(raw, dict) and "exp1" in raw:
        raise top.error(
            "is an experiment grid (it has exp1), not a learning study: run it with "
            "`recsys-eq exp1 --config`, or give compare a study file"
        )
    serving = []
    for item in top.items("serving"):
        rule = item.choice("rule", ("softmax", "linear", "uniform"))
        temperature = item.number("temperature", positive=True, default=None)
        if (rule == "softmax") != (temperature is not None):
            raise item.error("is required for softmax and only used by it", "temperature")
        item.done()
        serving.append(Serving(rule, temperature))
    block = top.section("learners")
    block.only([name for name in LEARNERS if name != "best_response"])
    learners = {name: _learner_block(block, name) for name in LEARNERS if block.has(name)}
    block.done()
    sim_dims, sim_learners = (), ()
    if top.has("simultaneous"):
        sim = top.section("simultaneous")
        sim_dims = sim.ints("dims", minimum=1)
        sim_learners = sim.strings("learners", SIMULTANEOUS)
        sim.done()
    reference = top.get("reference_dynamics", True)
    if not isinstance(reference, bool):
        raise top.error(f"must be true or false, got {reference!r}", "reference_dynamics")
    study = StudyConfig(
        name=name,
        reference_dynamics=reference,
        dataset=top.choice("dataset", dataset_names()),
        n_users=top.int("n_users", minimum=1),
        embedding_seed=top.int("embedding_seed", minimum=0),
        dims=top.ints("dims", minimum=1),
        n_producers=top.ints("n_producers", minimum=1),
        serving=tuple(serving),
        seeds=top.int("seeds", minimum=1),
        eval_episodes=top.int("eval_episodes", minimum=1),
        checkpoints=top.int("checkpoints", minimum=1),
        learners=learners,
        simultaneous_dims=sim_dims,
        simultaneous_learners=sim_learners,
    )
    top.done()
    for needed in sim_learners:
        block_name = "shared_ppo" if needed == "shared_ppo_without_ids" else needed
        if needed != "best_response" and block_name not in learners:
            raise top.error(f"needs a {block_name} block for the simultaneous question")
    return study


def _learner_block(block: Reader, name: str) -> dict:
    keys = {**LEARNERS[name].keys, "seeds": False}
    entry = block.section(name)
    entry.only(keys)
    values = {}
    for key, required in keys.items():
        if not required and not entry.has(key):
            continue
        if key in ("sb3", "experiment", "algorithm"):
            mapping = entry.get(key, {})
            if not isinstance(mapping, dict):
                message = f"must be a mapping of the algorithm's arguments, got {mapping!r}"
                raise entry.error(message, key)
            values[key] = mapping
        elif key in NUMBERS:
            values[key] = entry.number(key, positive=key not in ("entropy", "gamma", "gae_lambda"))
            if values[key] < 0:
                raise entry.error(f"must be >= 0, got {values[key]}", key)
        else:
            values[key] = entry.int(key, minimum=1)
    budgets = [key for key in BUDGET_KEYS if key in values]
    if keys.keys() & set(BUDGET_KEYS) and len(budgets) != 1:
        raise entry.error(
            f"needs exactly one of {' or '.join(BUDGET_KEYS)} (its training budget), "
            f"got {budgets or 'neither'}"
        )
    entry.done()
    return values


def study_settings(study: StudyConfig) -> dict:
    """What changes a unit's rows beyond its key (its fingerprint's contents)."""
    return {
        "dataset": study.dataset,
        "n_users": study.n_users,
        "embedding_seed": study.embedding_seed,
        "eval_episodes": study.eval_episodes,
        "checkpoints": study.checkpoints,
        "seeds": study.seeds,
        "learners": study.learners,
        "results_version": RESULTS_VERSION,
        "torch_threads": torch_threads(),
    }


def units(study: StudyConfig) -> list[Unit]:
    """Every (cell, learner): the best-response dynamics and every configured learner on the
    main cells, the simultaneous question's learners on its cells."""
    trained = [n for n in LEARNERS if n in study.learners and n != "shared_ppo_without_ids"]
    names = ["best_response", *trained] if study.reference_dynamics else trained
    main = [
        Unit(d, n, s, learner)
        for d in study.dims
        for n in study.n_producers
        for s in study.serving
        for learner in names
    ]
    simultaneous = [
        Unit(d, n, s, learner, "simultaneous")
        for d in study.simultaneous_dims
        for n in study.n_producers
        for s in study.serving
        for learner in study.simultaneous_learners
    ]
    return main + simultaneous


def training_seeds(unit: Unit, count: int) -> list[int]:
    """The cell's training seeds: the grids' scheme (:func:`derive_seed`) of the cell and the
    seed's index, the same for every learner (so learners meet the same starts)."""
    return [derive_seed(0, unit.cell, i) % 2**31 for i in range(count)]


# ---------------------------------------------------------------------- one unit
def torch_threads() -> int:
    """Threads torch trains on: ``RECSYS_EQ_TORCH_THREADS`` (default 1). Another count rounds
    the same sums differently, so it is part of a row's fingerprint."""
    value = os.environ.get("RECSYS_EQ_TORCH_THREADS", "1").strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"RECSYS_EQ_TORCH_THREADS must be an integer >= 1, got {value!r}")
    return int(value)


#: The packages whose versions decide a learner's numbers, recorded in every row.
PROVENANCE_PACKAGES = ("numpy", "scipy", "torch", "stable-baselines3", "gymnasium",
                       "pettingzoo", "supersuit", "jax", "jaxlib", "optax", "benchmarl",
                       "torchrl")  # fmt: skip


def provenance() -> dict:
    """``versions`` (the packages a row depends on), ``cpu`` (the processor model) and the
    torch threads of this process: what a row needs to be reproduced bit for bit."""
    from importlib import metadata

    versions = []
    for name in PROVENANCE_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                "unknown",
            )
    except OSError:
        pass
    return {"versions": ", ".join(versions), "cpu": cpu, "torch_threads": torch_threads()}


def profile_metrics(game: rq.EngagementGame, profiles, reference_dist, concentration=None):
    """The logged quantities of one or several (possibly mixed) profiles (median/mean)."""
    profiles = np.asarray(profiles)
    if profiles.ndim == 2:
        profiles = profiles[None]
    user_dist = rq.user_distribution(game.users)
    nash = np.array([game.nash_conv(p) / game.n_users for p in profiles])
    dists = profiles.sum(axis=1) / game.n_producers
    return {
        "nash_conv_per_user": float(np.median(nash)),
        "success": float((nash <= SUCCESS).mean()),
        "tvd_to_best_response": float(rq.total_variation(dists, reference_dist).mean()),
        "tvd_to_users": float(rq.total_variation(dists, user_dist).mean()),
        "concentration": float(profiles.max(axis=2).mean())
        if concentration is None
        else float(concentration),
        "producer_utility_mean": float(
            np.mean([game.producer_utilities(p).mean() for p in profiles])
        ),
        "user_utility_mean": float(np.mean([game.user_utilities(p).mean() for p in profiles])),
        "features_occupied": float(
            np.mean(
                [(np.bincount(p.argmax(axis=1), minlength=game.dim) > 0).sum() for p in profiles]
            )
        ),
    }


def run_unit(unit: Unit, study: StudyConfig) -> list[dict]:
    """One learner on one cell, every seed; rows of checkpoint metrics. One thread for BLAS
    and XLA, :func:`torch_threads` for torch: another thread count rounds the same sums
    differently, which the learners amplify into other policies."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                          "intra_op_parallelism_threads=1")  # fmt: skip
    import torch

    from recsys_eq_env._threads import blas_limit

    threads = torch.get_num_threads()
    torch.set_num_threads(torch_threads())
    try:
        with blas_limit(1):
            return _run_unit(unit, study)
    finally:
        torch.set_num_threads(threads)


def _run_unit(unit: Unit, study: StudyConfig) -> list[dict]:
    serving = unit.serving
    game = cell_game(study.dataset, study.n_users, unit.dim, study.embedding_seed,
                     unit.n_producers, serving.rule, serving.temperature)  # fmt: skip
    count = study.seeds_of(unit.learner)
    seeds = training_seeds(unit, count)
    eval_starts = {s: range(s, s + study.eval_episodes) for s in seeds}
    references = {s: [rq.best_response_dynamics(game, seed=e) for e in eval_starts[s]]
                  for s in seeds}  # fmt: skip
    reference_dist = {s: np.mean([r.producer_dist for r in references[s]], axis=0) for s in seeds}
    rows, made_by = [], provenance()
    settings = fingerprint(study_settings(study))
    learner = LEARNERS[unit.learner]

    def log(seed, step, profiles, concentration=None, seconds=np.nan):
        row = {
            "key": unit.key, "fingerprint": settings, "revision": unit.revision,
            "dim": unit.dim, "n_producers": unit.n_producers, "serving": serving.label,
            "task": unit.cell, "learner": unit.learner, "feedback": learner.feedback,
            "engine": learner.engine, "seed": int(seed), "seed_index": seeds.index(seed),
            "step": int(step), "step_unit": learner.unit, "seconds": float(seconds),
            "reference_iterations": float(np.mean([r.iterations for r in references[seed]])),
        }  # fmt: skip
        row.update(profile_metrics(game, profiles, reference_dist[seed], concentration))
        row.update(made_by)
        rows.append(row)

    block_name = "shared_ppo" if unit.learner == "shared_ppo_without_ids" else unit.learner
    ctx = Context(game, unit.revision, study.learners.get(block_name, {}), seeds, eval_starts,
                  study.checkpoints, log)  # fmt: skip
    learner.run(ctx)
    return rows


def run_study(study: StudyConfig, out, n_jobs: int = 1, progress: bool = True,
              recompute: bool = False, table: str = "compare"):  # fmt: skip
    """Every unit, in parallel and resumably, into ``<out>/<table>.parquet``; returns the
    curves and how many units ran now.

    A finished unit of another study configuration is refused unless ``recompute``, which runs
    it again and replaces its rows.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from .store import ResultStore

    store = ResultStore(out, table, unique=("key", "seed", "step"), sort=SORT)
    settings = fingerprint(study_settings(study))
    todo = plan(store, units(study), key=lambda u: u.key, print_of=lambda u: settings,
                recompute=recompute).todo  # fmt: skip
    if recompute and todo:  # stale rows may have other checkpoints: drop them all
        store.drop(keys={u.key for u in todo})
    every = units(study)
    bar = tqdm(total=len(every), initial=len(every) - len(todo), desc="compare", unit="unit",
               disable=not progress)  # fmt: skip
    try:
        todo.sort(key=lambda u: -_cost(u, study))  # heavy units first: workers busy to the end
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for rows in parallel(delayed(run_unit)(u, study) for u in todo):
            store.append(rows)  # one unit at a time: an interrupted study loses at most units
            bar.update()
    finally:
        bar.close()
    table = store.consolidate(keys=None)
    curves = table[table["key"].isin({u.key for u in every})].reset_index(drop=True)
    return curves, len(todo)


def _cost(unit: Unit, study: StudyConfig) -> float:
    engine = LEARNERS[unit.learner].engine
    weight = {"benchmarl": 20.0, "sb3": 8.0, "jax": 1.0, "numpy": 0.2, "dynamics": 0.05}[engine]
    return weight * study.seeds_of(unit.learner) * unit.n_producers**2 * unit.dim
