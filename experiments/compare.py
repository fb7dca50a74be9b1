"""``recsys-eq compare``: learning producers against best-response dynamics.

For every cell (dim, n, serving rule, seed) of a study config, run the paper's best-response
dynamics (the reference equilibrium), Hedge, exponentiated gradient, shared-parameter PPO and
independent PPO under the same seed, and log over training, at evenly spaced checkpoints:

* ``nash_conv_per_user``: sum of regrets (best basis-vector gains) per user;
* ``tvd_to_best_response`` / ``tvd_to_users``: total variation distance between the learners'
  producer distribution (content mass per feature / n) and the best-response equilibrium's, or
  the users' distribution;
* ``concentration``: mean over producers of the largest coordinate of their content (of the
  strategy, for Hedge);
* ``producer_utility_mean`` / ``user_utility_mean``: utilities per producer and per user.

Each learner counts steps in its own unit (``step_unit``): one switch of one producer for
best response, one simultaneous update of every producer for Hedge and exponentiated
gradient, producer-steps for shared PPO, joint env steps for independent PPO.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

import recsys_eq_env as rq

from .config import RESULTS_VERSION, Reader, Serving, read_yaml, serving_order
from .populations import dataset_names
from .populations import game as cell_game
from .store import fingerprint, plan

LEARNERS = ("best_response", "hedge", "exponentiated_gradient", "shared_ppo", "independent_ppo")
STEP_UNITS = {
    "best_response": "producer switches",
    "hedge": "simultaneous updates",
    "exponentiated_gradient": "simultaneous updates",
    "shared_ppo": "producer-steps",
    "independent_ppo": "joint env steps",
}
SORT = ["dim", "n_producers", "serving", "seed", "learner", "step"]
#: What every checkpoint logs (besides features_occupied); see :func:`profile_metrics`.
METRICS = (
    "nash_conv_per_user",
    "tvd_to_best_response",
    "tvd_to_users",
    "concentration",
    "producer_utility_mean",
    "user_utility_mean",
)


@dataclass(frozen=True)
class StudyConfig:
    name: str
    dataset: str
    n_users: int
    embedding_seed: int
    dims: tuple[int, ...]
    n_producers: tuple[int, ...]
    serving: tuple[Serving, ...]
    seeds: tuple[int, ...]
    checkpoints: int
    learners: dict


@dataclass(frozen=True)
class Cell:
    dim: int
    n_producers: int
    serving: Serving
    seed: int

    @property
    def key(self) -> str:
        return f"{self.dim}|{self.n_producers}|{self.serving.label}|{self.seed}"


#: Each learner's settings: the keys its block may hold, and which are required.
LEARNER_KEYS = {
    "hedge": {"steps": True, "learning_rate": True},
    "exponentiated_gradient": {"steps": True, "learning_rate": True},
    "shared_ppo": {"timesteps": True, "episode_length": True, "ppo": False},
    "independent_ppo": {"timesteps": True, "episode_length": True, "ppo": False},
}


def load_study(source: str = "compare") -> StudyConfig:
    """A packaged study by name (``compare``, ``compare-quick``) or a YAML file, strictly."""
    raw, name = read_yaml(source, "study", ("compare", "compare-quick"))
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
    learners = {}
    block = top.section("learners")
    for learner, keys in LEARNER_KEYS.items():
        entry = block.section(learner)
        values = {}
        for key, required in keys.items():
            if key == "ppo":
                ppo = entry.get("ppo", {})
                if not isinstance(ppo, dict):
                    raise entry.error(f"must be a mapping of PPO arguments, got {ppo!r}", "ppo")
                values["ppo"] = ppo
            elif key == "learning_rate":
                values[key] = entry.number(key, positive=True)
            else:
                values[key] = entry.int(key, minimum=1) if required else entry.get(key, None)
        entry.done()
        learners[learner] = values
    block.done()
    study = StudyConfig(
        name=name,
        dataset=top.choice("dataset", dataset_names()),
        n_users=top.int("n_users", minimum=1),
        embedding_seed=top.int("embedding_seed", minimum=0),
        dims=top.ints("dims", minimum=1),
        n_producers=top.ints("n_producers", minimum=2),
        serving=tuple(serving),
        seeds=top.ints("seeds", minimum=0),
        checkpoints=top.int("checkpoints", minimum=1),
        learners=learners,
    )
    top.done()
    return study


def study_settings(study: StudyConfig) -> dict:
    """What changes a cell's curves beyond its key (its fingerprint's contents)."""
    return {
        "dataset": study.dataset,
        "n_users": study.n_users,
        "embedding_seed": study.embedding_seed,
        "checkpoints": study.checkpoints,
        "learners": study.learners,
        "results_version": RESULTS_VERSION,
    }


def cells(study: StudyConfig) -> list[Cell]:
    return [
        Cell(d, n, s, seed)
        for d in study.dims
        for n in study.n_producers
        for s in study.serving
        for seed in study.seeds
    ]


def profile_metrics(game: rq.EngagementGame, profile, reference_dist, concentration=None):
    """The logged quantities of one (possibly mixed) profile."""
    producer_dist = profile.sum(axis=0) / game.n_producers
    user_dist = rq.user_distribution(game.users)
    return {
        "nash_conv_per_user": game.nash_conv(profile) / game.n_users,
        "tvd_to_best_response": 0.5 * float(np.abs(producer_dist - reference_dist).sum()),
        "tvd_to_users": 0.5 * float(np.abs(producer_dist - user_dist).sum()),
        "concentration": float(profile.max(axis=1).mean())
        if concentration is None
        else float(concentration),
        "producer_utility_mean": float(game.producer_utilities(profile).mean()),
        "user_utility_mean": float(game.user_utilities(profile).mean()),
        "features_occupied": int(
            (np.bincount(profile.argmax(axis=1), minlength=game.dim) > 0).sum()
        ),
    }


def run_cell(cell: Cell, study: StudyConfig) -> list[dict]:
    """Every learner on one cell; rows of checkpoint metrics."""
    import torch

    torch.set_num_threads(1)
    serving = cell.serving
    game = cell_game(
        study.dataset,
        study.n_users,
        cell.dim,
        study.embedding_seed,
        cell.n_producers,
        serving.rule,
        serving.temperature,
    )
    seed = zlib.crc32(cell.key.encode()) % 2**31
    reference = rq.best_response_dynamics(game, seed=seed)
    reference_dist = reference.producer_dist
    rows = []

    def log(learner, step, profile, concentration=None):
        row = {
            "key": cell.key,
            "fingerprint": fingerprint(study_settings(study)),
            "dim": cell.dim,
            "n_producers": cell.n_producers,
            "serving": serving.label,
            "seed": cell.seed,
            "learner": learner,
            "step": int(step),
            "step_unit": STEP_UNITS[learner],
            "reference_iterations": reference.iterations,
            "reference_converged": reference.converged,
        }
        row.update(profile_metrics(game, profile, reference_dist, concentration))
        rows.append(row)

    _best_response_curve(game, reference, study.checkpoints, log)
    cfg = study.learners
    _hedge(game, cfg["hedge"], seed, study.checkpoints, log)
    _exponentiated_gradient(game, cfg["exponentiated_gradient"], seed, study.checkpoints, log)
    _shared_ppo(game, cfg["shared_ppo"], seed, study.checkpoints, log)
    _independent_ppo(game, cfg["independent_ppo"], seed, study.checkpoints, log)
    return rows


def _checkpoints(total: int, count: int) -> list[int]:
    return sorted({round(x) for x in np.linspace(0, total, count + 1)})


def _best_response_curve(game, reference, count, log):
    assignment = reference.initial_assignment.copy()
    marks = set(_checkpoints(reference.iterations, count))
    for t in range(reference.iterations + 1):
        if t in marks:
            log("best_response", t, rq.profile_from_assignment(assignment, game.dim))
        if t < reference.iterations:
            producer, _, target = reference.moves[t]
            assignment[producer] = target


def _hedge(game, cfg, seed, count, log):
    from agents.no_regret import Hedge

    learner = Hedge(game, cfg["learning_rate"], seed=seed)
    marks = set(_checkpoints(cfg["steps"], count))
    for t in range(cfg["steps"] + 1):
        if t in marks:
            log("hedge", t, learner.preferred_profile(), learner.strategies.max(axis=1).mean())
        if t < cfg["steps"]:
            learner.step()


def _exponentiated_gradient(game, cfg, seed, count, log):
    from agents.no_regret import ExponentiatedGradient

    learner = ExponentiatedGradient(game, cfg["learning_rate"], seed=seed)
    marks = set(_checkpoints(cfg["steps"], count))
    for t in range(cfg["steps"] + 1):
        if t in marks:
            log("exponentiated_gradient", t, learner.profile)
        if t < cfg["steps"]:
            learner.step()


def _learning_env(game, episode_length, observe_id):
    """The env PPO learners train and are evaluated in: signed actions, no regrets in infos."""
    return rq.parallel_env(
        game=game,
        action_type="signed",
        observe_id=observe_id,
        info_regrets=False,
        max_cycles=episode_length,
    )


def _evaluate(game, policies, seed, episode_length, observe_id):
    """The profile after a deterministic episode of the policies (one shared or a dict)."""
    from agents import rollout

    env = _learning_env(game, episode_length, observe_id)
    return rollout(env, policies, seed=seed).final_profile


def _shared_ppo(game, cfg, seed, count, log):
    from agents.sb3 import shared_ppo

    model = shared_ppo(_learning_env(game, cfg["episode_length"], True), seed=seed, **cfg["ppo"])
    marks = _checkpoints(cfg["timesteps"], count)
    done = 0
    for mark in marks:
        if mark > done:
            model.learn(mark - done, reset_num_timesteps=done == 0)
            done = mark
        log("shared_ppo", done, _evaluate(game, model, seed, cfg["episode_length"], True))


def _independent_ppo(game, cfg, seed, count, log):
    from agents.sb3 import IndependentPPO

    learner = IndependentPPO(
        _learning_env(game, cfg["episode_length"], False), seed=seed, **cfg["ppo"]
    )
    marks = _checkpoints(cfg["timesteps"], count)
    done = 0
    for mark in marks:
        if mark > done:
            learner.learn(mark - done)
            done = learner.num_timesteps
        log(
            "independent_ppo",
            done,
            _evaluate(game, learner.policies(), seed, cfg["episode_length"], False),
        )


def run_study(
    study: StudyConfig, out, n_jobs: int = 1, progress: bool = True, recompute: bool = False
):
    """Every cell, in parallel and resumably; returns the curves and how many cells ran now.

    A finished cell of another study configuration (other learners' settings, population) is
    refused unless ``recompute``, which runs it again and replaces its curves.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from .store import ResultStore

    store = ResultStore(out, "compare", unique=("key", "learner", "step"), sort=SORT)
    settings = fingerprint(study_settings(study))
    todo = plan(
        store, cells(study), key=lambda c: c.key, print_of=lambda c: settings, recompute=recompute
    ).todo
    if recompute and todo:  # stale curves may have other checkpoints: drop them all
        store.drop(keys={c.key for c in todo})
    bar = tqdm(
        total=len(cells(study)),
        initial=len(cells(study)) - len(todo),
        desc="compare",
        unit="cell",
        disable=not progress,
    )
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for rows in parallel(delayed(run_cell)(c, study) for c in todo):
            store.append(rows)  # one cell at a time: an interrupted study loses at most cells
            bar.update()
    finally:
        bar.close()
    table = store.consolidate(keys=None)
    curves = table[table["key"].isin({c.key for c in cells(study)})].reset_index(drop=True)
    return curves, len(todo)


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """Each learner's last checkpoint on each cell."""
    return curves.sort_values("step").groupby(["key", "learner"]).tail(1)


def final_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Where each learner ends, averaged over cells: one row per (serving, learner)."""
    last = final_rows(curves)
    table = last.groupby(["serving", "learner"])[list(METRICS)].mean()
    equilibrium = last.assign(at_equilibrium=last["nash_conv_per_user"] <= 1e-6)
    table["at equilibrium (cells)"] = (
        equilibrium.groupby(["serving", "learner"])["at_equilibrium"].sum().astype(int).astype(str)
        + "/"
        + last.groupby(["serving", "learner"]).size().astype(str)
    )
    order = {label: i for i, label in enumerate(serving_order(curves["serving"].unique()))}
    learner_order = {name: i for i, name in enumerate(LEARNERS)}
    return table.sort_index(
        key=lambda idx: idx.map(lambda v: order.get(v, learner_order.get(v, 0)))
    )
