"""``recsys-eq compare``: learning producers against best-response dynamics.

For every cell (dim, n, serving rule, training seed) of a study config, the paper's
best-response dynamics give the reference equilibrium, and every configured learner trains on
the same game. At evenly spaced checkpoints each learner is *evaluated* from the same fixed
starts (``eval_seeds`` episodes; a policy acts deterministically in a ``revision="one"`` env
until it reaches an equilibrium or runs out of steps; a full-information learner shows its
current profile) and logged:

* ``nash_conv_per_user``: the median over evaluation episodes of the sum of regrets per user;
* ``success``: the share of evaluation episodes ending with nash_conv per user <= 1e-3;
* ``tvd_to_best_response`` / ``tvd_to_users``: total variation distance between the producer
  distribution (content mass per feature / n) and the best-response equilibrium's, or the
  users' distribution;
* ``concentration``: mean largest coordinate of the producers' content;
* ``producer_utility_mean`` / ``user_utility_mean``.

Learners (``LEARNERS``): the full-information ones (Hedge, exponentiated gradient, logit
response, the counterfactual policy gradient) see every basis vector's utility; the PPO ones
see only their own reward (bandit feedback). The recipe that learns is discrete actions, one
revision per step and the settings of ``recsys-eq sweep`` (``agents.sb3``);
``shared_ppo_signed`` (a Gaussian policy on signed content) and ``shared_ppo_myopic``
(discount 0) are kept as rows so the difference is visible. The ``simultaneous`` block asks a
separate question: when everybody's request applies at once, do producers herd (best response
itself does), and do producer ids help a shared policy?

Each learner counts steps in its own unit (``STEP_UNITS``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import recsys_eq_env as rq

from .config import RESULTS_VERSION, Reader, Serving, derive_seed, read_yaml, serving_order
from .populations import dataset_names
from .populations import game as cell_game
from .store import fingerprint, plan

LEARNERS = (
    "best_response",
    "hedge",
    "exponentiated_gradient",
    "logit_response",
    "counterfactual_pg",
    "shared_ppo",
    "independent_ppo",
    "shared_ppo_signed",
    "shared_ppo_myopic",
)
SIMULTANEOUS = ("best_response", "shared_ppo", "shared_ppo_without_ids")
FULL_INFORMATION = ("hedge", "exponentiated_gradient", "logit_response", "counterfactual_pg")
PPO_LEARNERS = ("shared_ppo", "independent_ppo", "shared_ppo_signed", "shared_ppo_myopic")
STEP_UNITS = {
    "best_response": "producer switches",
    "hedge": "simultaneous updates",
    "exponentiated_gradient": "simultaneous updates",
    "logit_response": "producer revisions",
    "counterfactual_pg": "producer-steps",
    "shared_ppo": "producer-steps",
    "independent_ppo": "producer-steps",
    "shared_ppo_signed": "producer-steps",
    "shared_ppo_myopic": "producer-steps",
    "shared_ppo_without_ids": "producer-steps",
}
SORT = ["revision", "dim", "n_producers", "serving", "seed", "learner", "step"]
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
SUCCESS = 1e-3  # nash_conv per user at which an evaluation episode counts as an equilibrium
#: A trained learner's budget: exactly one of these. ``timesteps_per_producer``: every producer
#: acts that many times (the budget grows as n). ``revisions_per_producer``: as many env steps as
#: give every producer that many applied requests on average under one revision per step (one
#: request applies per step, so n times that many steps: the budget grows as n squared).
BUDGET_KEYS = ("timesteps_per_producer", "revisions_per_producer")
#: Each learner's settings: the keys its block may hold (True: required).
LEARNER_KEYS = {
    "hedge": {"steps": True, "learning_rate": True},
    "exponentiated_gradient": {"steps": True, "learning_rate": True},
    "logit_response": {"steps_per_producer": True, "temperature": True, "final_temperature": True},
    "counterfactual_pg": {
        **dict.fromkeys(BUDGET_KEYS, False),
        **dict.fromkeys(("num_envs", "learning_rate", "entropy"), True),
    },
    **{
        name: {
            **dict.fromkeys(BUDGET_KEYS, False),
            **dict.fromkeys(("num_envs", "n_steps", "minibatches", "entropy"), True),
            "ppo": False,
        }
        for name in PPO_LEARNERS
    },
}


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
    eval_episodes: int
    checkpoints: int
    learners: dict
    simultaneous_dims: tuple[int, ...] = ()
    simultaneous_learners: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Cell:
    dim: int
    n_producers: int
    serving: Serving
    seed: int
    revision: str = "one"

    @property
    def key(self) -> str:
        suffix = "" if self.revision == "one" else f"|{self.revision}"
        return f"{self.dim}|{self.n_producers}|{self.serving.label}|{self.seed}{suffix}"


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
    block = top.section("learners")
    learners = {}
    for learner, keys in LEARNER_KEYS.items():
        if not block.has(learner):
            continue
        entry = block.section(learner)
        entry.only(keys)
        values = {}
        for key in keys:
            if key == "ppo":
                ppo = entry.get("ppo", {})
                if not isinstance(ppo, dict):
                    raise entry.error(f"must be a mapping of PPO arguments, got {ppo!r}", "ppo")
                values["ppo"] = ppo
            elif key in ("learning_rate", "temperature", "final_temperature", "entropy"):
                values[key] = entry.number(key, positive=key != "entropy")
                if key == "entropy" and values[key] < 0:
                    raise entry.error(f"must be >= 0, got {values[key]}", key)
            elif key in BUDGET_KEYS:
                if entry.has(key):
                    values[key] = entry.int(key, minimum=1)
            else:
                values[key] = entry.int(key, minimum=1)
        budgets = [key for key in BUDGET_KEYS if key in values]
        if keys.keys() & set(BUDGET_KEYS) and len(budgets) != 1:
            raise entry.error(
                f"needs exactly one of {' or '.join(BUDGET_KEYS)} (its training budget), "
                f"got {budgets or 'neither'}"
            )
        entry.done()
        learners[learner] = values
    block.done()
    sim_dims, sim_learners = (), ()
    if top.has("simultaneous"):
        sim = top.section("simultaneous")
        sim_dims = sim.ints("dims", minimum=1)
        sim_learners = sim.strings("learners", SIMULTANEOUS)
        sim.done()
    study = StudyConfig(
        name=name,
        dataset=top.choice("dataset", dataset_names()),
        n_users=top.int("n_users", minimum=1),
        embedding_seed=top.int("embedding_seed", minimum=0),
        dims=top.ints("dims", minimum=1),
        n_producers=top.ints("n_producers", minimum=2),
        serving=tuple(serving),
        seeds=top.ints("seeds", minimum=0),
        eval_episodes=top.int("eval_episodes", minimum=1),
        checkpoints=top.int("checkpoints", minimum=1),
        learners=learners,
        simultaneous_dims=sim_dims,
        simultaneous_learners=sim_learners,
    )
    top.done()
    for needed in ("shared_ppo",):
        if "shared_ppo" in sim_learners or "shared_ppo_without_ids" in sim_learners:
            if needed not in learners:
                raise top.error("needs a shared_ppo block for the simultaneous question")
    return study


def study_settings(study: StudyConfig) -> dict:
    """What changes a cell's curves beyond its key (its fingerprint's contents)."""
    return {
        "dataset": study.dataset,
        "n_users": study.n_users,
        "embedding_seed": study.embedding_seed,
        "eval_episodes": study.eval_episodes,
        "checkpoints": study.checkpoints,
        "learners": study.learners,
        "simultaneous": list(study.simultaneous_learners),
        "results_version": RESULTS_VERSION,
        "torch_threads": torch_threads(),
    }


def cells(study: StudyConfig) -> list[Cell]:
    main = [
        Cell(d, n, s, seed)
        for d in study.dims
        for n in study.n_producers
        for s in study.serving
        for seed in study.seeds
    ]
    simultaneous = [
        Cell(d, n, s, seed, "simultaneous")
        for d in study.simultaneous_dims
        for n in study.n_producers
        for s in study.serving
        for seed in study.seeds
    ]
    return main + (simultaneous if study.simultaneous_learners else [])


def _seed(cell: Cell) -> int:
    """The cell's seed for every learner (the grids' scheme, :func:`derive_seed`)."""
    return derive_seed(cell.seed, cell.key) % 2**31


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


def _checkpoints(total: int, count: int) -> list[int]:
    return sorted({round(x) for x in np.linspace(0, total, count + 1)})


#: The packages whose versions decide a learner's numbers, recorded in every row.
PROVENANCE_PACKAGES = (
    "numpy", "scipy", "torch", "stable-baselines3", "gymnasium", "pettingzoo", "supersuit",
)  # fmt: skip


def torch_threads() -> int:
    """Threads torch trains on: ``RECSYS_EQ_TORCH_THREADS`` (default 1). Another count rounds
    the same sums differently, so it is part of a row's fingerprint; the report's rounding
    check reruns the study on 2."""
    value = os.environ.get("RECSYS_EQ_TORCH_THREADS", "1").strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"RECSYS_EQ_TORCH_THREADS must be an integer >= 1, got {value!r}")
    return int(value)


def provenance() -> dict:
    """``versions`` (the packages a row depends on) and ``cpu`` (the processor model) of this
    process: what a row needs to be reproduced bit for bit (float rounding in torch's and
    BLAS's kernels depends on both)."""
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


def run_cell(cell: Cell, study: StudyConfig) -> list[dict]:
    """Every learner of the study on one cell; rows of checkpoint metrics.

    One thread for BLAS and :func:`torch_threads` for torch, whatever the process was given:
    a joblib worker gets ``cores // jobs`` threads, and another thread count rounds the same
    sums differently, which PPO amplifies into other policies. With both fixed, the same cell
    gives the same rows on every run of the same machine and install.
    """
    import torch

    from recsys_eq_env._threads import blas_limit

    threads = torch.get_num_threads()
    torch.set_num_threads(torch_threads())
    try:
        with blas_limit(1):
            return _run_cell(cell, study)
    finally:
        torch.set_num_threads(threads)


def _run_cell(cell: Cell, study: StudyConfig) -> list[dict]:
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
    seed = _seed(cell)
    eval_seeds = range(seed, seed + study.eval_episodes)
    references = [rq.best_response_dynamics(game, seed=s) for s in eval_seeds]
    reference_dist = np.mean([r.producer_dist for r in references], axis=0)
    rows = []
    settings = fingerprint(study_settings(study))
    made_by = provenance()

    def log(learner, step, profiles, concentration=None, seconds=np.nan):
        row = {
            "key": cell.key,
            "fingerprint": settings,
            "revision": cell.revision,
            "dim": cell.dim,
            "n_producers": cell.n_producers,
            "serving": serving.label,
            "seed": cell.seed,
            "learner": learner,
            "step": int(step),
            "step_unit": STEP_UNITS[learner],
            "seconds": float(seconds),
            "reference_iterations": float(np.mean([r.iterations for r in references])),
        }
        row.update(profile_metrics(game, profiles, reference_dist, concentration))
        row.update(made_by)
        rows.append(row)

    context = _Context(game, cell, study, seed, eval_seeds, log)
    learners = LEARNERS if cell.revision == "one" else study.simultaneous_learners
    for learner in learners:
        if learner == "best_response":
            _best_response(context, references)
        elif learner in study.learners or learner == "shared_ppo_without_ids":
            RUNNERS[learner](context)
    return rows


@dataclass
class _Context:
    game: rq.EngagementGame
    cell: Cell
    study: StudyConfig
    seed: int
    eval_seeds: range
    log: object

    def evaluate(self, policies, **env_kwargs):
        """Final profiles of deterministic episodes from the study's fixed starts."""
        from agents.evaluation import evaluate

        env_kwargs.setdefault("action_type", "discrete")
        env_kwargs.setdefault("revision", self.cell.revision)
        return evaluate(
            policies, self.game, self.eval_seeds, 10 * self.game.n_producers, **env_kwargs
        ).profiles


def _best_response(ctx: _Context, references):
    """The paper's dynamics (revision one) or best-response agents moving all at once."""
    game, count = ctx.game, ctx.study.checkpoints
    if ctx.cell.revision == "one":
        longest = max(r.iterations for r in references)
        for t in _checkpoints(longest, count):
            profiles = []
            for r in references:  # replay each run's first t switches
                assignment = r.initial_assignment.copy()
                for producer, _, target in r.moves[:t]:
                    assignment[producer] = target
                profiles.append(rq.profile_from_assignment(assignment, game.dim))
            ctx.log("best_response", t, profiles)
        return
    from agents import BestResponseAgent

    agent = BestResponseAgent(game)
    ctx.log("best_response", 0, ctx.evaluate(agent, revision="simultaneous"))


def _full_information(name, make, steps, ctx: _Context):
    learner = make()
    start = time.perf_counter()
    for t in range(steps + 1):
        if t in set(_checkpoints(steps, ctx.study.checkpoints)):
            concentration = (
                learner.strategies.max(axis=1).mean() if hasattr(learner, "strategies") else None
            )
            profile = learner.profile if name == "exponentiated_gradient" else None
            profile = learner.preferred_profile() if profile is None else profile
            ctx.log(name, t, profile, concentration, time.perf_counter() - start)
        if t < steps:
            learner.step()


def _hedge(ctx):
    from agents.no_regret import Hedge

    cfg = ctx.study.learners["hedge"]
    _full_information(
        "hedge", lambda: Hedge(ctx.game, cfg["learning_rate"], seed=ctx.seed), cfg["steps"], ctx
    )


def _exponentiated_gradient(ctx):
    from agents.no_regret import ExponentiatedGradient

    cfg = ctx.study.learners["exponentiated_gradient"]
    _full_information(
        "exponentiated_gradient",
        lambda: ExponentiatedGradient(ctx.game, cfg["learning_rate"], seed=ctx.seed),
        cfg["steps"],
        ctx,
    )


def _logit_response(ctx):
    from agents.no_regret import LogitResponse

    cfg = ctx.study.learners["logit_response"]
    steps = cfg["steps_per_producer"] * ctx.game.n_producers
    anneal = (cfg["final_temperature"] / cfg["temperature"]) ** (1.0 / steps)
    _full_information(
        "logit_response",
        lambda: LogitResponse(ctx.game, cfg["temperature"], min(anneal, 1.0), seed=ctx.seed),
        steps,
        ctx,
    )


def producer_steps(cfg: dict, n_producers: int) -> int:
    """A learner block's training budget in producer-steps for a game of n producers."""
    if "revisions_per_producer" in cfg:
        return cfg["revisions_per_producer"] * n_producers * n_producers
    return cfg["timesteps_per_producer"] * n_producers


def _trained(name, learner, learn, total, ctx: _Context, evaluate_kwargs):
    """Train in chunks between checkpoints, evaluating the deterministic policy at each."""
    done, trained = 0, 0.0
    for mark in _checkpoints(total, ctx.study.checkpoints):
        if mark > done:
            begin = time.perf_counter()
            learn(mark - done)
            trained += time.perf_counter() - begin
            done = mark
        ctx.log(name, done, ctx.evaluate(learner, **evaluate_kwargs), seconds=trained)


def _counterfactual_pg(ctx):
    from agents.counterfactual import CounterfactualPG

    cfg = ctx.study.learners["counterfactual_pg"]
    n = ctx.game.n_producers
    learner = CounterfactualPG(
        num_envs=cfg["num_envs"],
        learning_rate=cfg["learning_rate"],
        entropy=cfg["entropy"],
        seed=ctx.seed,
        game=ctx.game,
        max_cycles=10 * n,
        dtype=np.float32,
    )
    total = producer_steps(cfg, n)
    _trained("counterfactual_pg", learner, lambda k: learner.learn(k), total, ctx, {})


def _ppo_venv(ctx, cfg, revision, observe_id=True, action_type="discrete"):
    from gymnasium.vector import AutoresetMode

    return rq.vector_env(
        cfg["num_envs"],
        game=ctx.game,
        action_type=action_type,
        revision=revision,
        observe_id=observe_id,
        info_regrets=False,
        max_cycles=10 * ctx.game.n_producers,
        autoreset_mode=AutoresetMode.SAME_STEP,
        dtype=np.float32,
    )


def _shared(name, ctx, cfg, revision="one", observe_id=True, action_type="discrete"):
    from agents.sb3 import EntropySchedule, shared_ppo

    n = ctx.game.n_producers
    total = producer_steps(cfg, n)
    model = shared_ppo(
        _ppo_venv(ctx, cfg, revision, observe_id, action_type),
        seed=ctx.seed,
        require_ids=observe_id,
        n_steps=cfg["n_steps"],
        batch_size=cfg["num_envs"] * n * cfg["n_steps"] // cfg["minibatches"],
        **cfg["ppo"],
    )
    schedule = EntropySchedule(cfg["entropy"], 0.0, total)
    _trained(
        name,
        model,
        lambda k: model.learn(k, callback=schedule, reset_num_timesteps=False),
        total,
        ctx,
        {"observe_id": observe_id, "action_type": action_type, "revision": revision},
    )


def _shared_ppo(ctx):
    _shared("shared_ppo", ctx, ctx.study.learners["shared_ppo"], ctx.cell.revision)


def _shared_ppo_without_ids(ctx):
    _shared(
        "shared_ppo_without_ids",
        ctx,
        ctx.study.learners["shared_ppo"],
        ctx.cell.revision,
        observe_id=False,
    )


def _shared_ppo_signed(ctx):
    _shared("shared_ppo_signed", ctx, ctx.study.learners["shared_ppo_signed"],
            action_type="signed")  # fmt: skip


def _shared_ppo_myopic(ctx):
    _shared("shared_ppo_myopic", ctx, ctx.study.learners["shared_ppo_myopic"])


def _independent_ppo(ctx):
    from agents.sb3 import IndependentPPO

    cfg = ctx.study.learners["independent_ppo"]
    n = ctx.game.n_producers
    learner = IndependentPPO(
        _ppo_venv(ctx, cfg, "one", observe_id=False),
        ctx.seed,
        cfg["n_steps"],
        batch_size=cfg["num_envs"] * cfg["n_steps"] // cfg["minibatches"],
        **cfg["ppo"],
    )
    for model in learner.models.values():
        model.ent_coef = cfg["entropy"]
    total = producer_steps(cfg, n)

    def learn(k):
        learner.learn(k // n)  # IndependentPPO counts joint steps of all games: producer-steps / n
        progress = learner.num_timesteps / max(total // n, 1)
        for model in learner.models.values():
            model.ent_coef = cfg["entropy"] * max(0.0, 1.0 - progress)

    _trained("independent_ppo", learner.policies(), learn, total, ctx, {"observe_id": False})


RUNNERS = {
    "hedge": _hedge,
    "exponentiated_gradient": _exponentiated_gradient,
    "logit_response": _logit_response,
    "counterfactual_pg": _counterfactual_pg,
    "shared_ppo": _shared_ppo,
    "independent_ppo": _independent_ppo,
    "shared_ppo_signed": _shared_ppo_signed,
    "shared_ppo_myopic": _shared_ppo_myopic,
    "shared_ppo_without_ids": _shared_ppo_without_ids,
}


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
    all_cells = cells(study)
    bar = tqdm(
        total=len(all_cells),
        initial=len(all_cells) - len(todo),
        desc="compare",
        unit="cell",
        disable=not progress,
    )
    try:
        # Heavy cells first keeps the workers busy until the end.
        todo.sort(key=lambda c: -c.n_producers * c.dim)
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for rows in parallel(delayed(run_cell)(c, study) for c in todo):
            store.append(rows)  # one cell at a time: an interrupted study loses at most cells
            bar.update()
    finally:
        bar.close()
    table = store.consolidate(keys=None)
    curves = table[table["key"].isin({c.key for c in all_cells})].reset_index(drop=True)
    return curves, len(todo)


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """Each learner's last checkpoint on each cell."""
    return curves.sort_values("step").groupby(["key", "learner"]).tail(1)


def final_table(curves: pd.DataFrame, revision: str = "one") -> pd.DataFrame:
    """Where each learner ends, averaged over cells: one row per (serving, learner)."""
    last = final_rows(curves[curves["revision"] == revision])
    table = last.groupby(["serving", "learner"])[list(METRICS)].mean()
    reached = last.assign(reached=last["nash_conv_per_user"] <= SUCCESS)
    table["cells at nash_conv/user <= 1e-3"] = (
        reached.groupby(["serving", "learner"])["reached"].sum().astype(int).astype(str)
        + "/"
        + last.groupby(["serving", "learner"]).size().astype(str)
    )
    order = {label: i for i, label in enumerate(serving_order(curves["serving"].unique()))}
    learner_order = {name: i for i, name in enumerate((*LEARNERS, "shared_ppo_without_ids"))}
    return table.sort_index(
        key=lambda idx: idx.map(lambda v: order.get(v, learner_order.get(v, 0)))
    )


def learner_summary(curves: pd.DataFrame, revision: str = "one") -> pd.DataFrame:
    """Per learner over all cells: cells whose median evaluation episode reaches an
    equilibrium (nash_conv/user <= 1e-3), the share of evaluation episodes that do, and the
    median training time per cell."""
    last = final_rows(curves[curves["revision"] == revision])
    grouped = last.groupby("learner")
    out = pd.DataFrame(
        {
            "cells": grouped.size(),
            "cells reached": grouped["nash_conv_per_user"].apply(
                lambda s: int((s <= SUCCESS).sum())
            ),
            "episodes reached": grouped["success"].mean(),
            "median nash_conv/user": grouped["nash_conv_per_user"].median(),
            "median seconds": grouped["seconds"].median(),
        }
    )
    order = {name: i for i, name in enumerate((*LEARNERS, "shared_ppo_without_ids"))}
    return out.sort_index(key=lambda idx: idx.map(order))
