"""The learners of the learning study, one typed record each (:data:`LEARNERS`).

A record says what the learner sees (``feedback``: full information, every basis vector's
utility; or bandit, its own reward), which engine trains it (``jax``: compiled with the env,
every seed of a cell in one vmapped program; ``numpy``; ``sb3``: stable-baselines3 on the
vector env, seed after seed; ``dynamics``: the paper's heuristic), the unit its steps count,
the keys its block of the study file may hold, and the function that trains it on one cell
for every seed, logging checkpoints through the study's context (:class:`Context`).

Every trained policy is evaluated the same way: deterministic episodes of the NumPy env from
the cell's fixed starts (:func:`agents.evaluate`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import recsys_eq_env as rq

#: A trained learner's budget, exactly one: ``timesteps_per_producer`` (every producer acts
#: that many times) or ``revisions_per_producer`` (enough env steps for that many applied
#: requests per producer under one revision per step: n times as many steps).
BUDGET_KEYS = ("timesteps_per_producer", "revisions_per_producer")
PPO_KEYS = ("num_envs", "n_steps", "minibatches", "entropy", "learning_rate", "epochs", "gamma",
            "gae_lambda")  # fmt: skip


@dataclass(frozen=True)
class Learner:
    name: str
    feedback: str  # "full information" or "bandit"
    engine: str  # "jax", "numpy", "sb3" or "dynamics"
    unit: str  # what its steps count
    #: keys of its study block: True required, False optional (``seeds`` always optional)
    keys: dict
    run: Callable
    #: what it is, for the report
    about: str = ""


@dataclass
class Context:
    """What a learner's run needs of its cell: the game, the settings, the seeds and the
    evaluation (the study gives it; :func:`experiments.compare.run_unit`)."""

    game: rq.EngagementGame
    revision: str
    settings: dict
    seeds: list  # training seeds
    eval_starts: dict  # training seed -> its range of evaluation start seeds
    checkpoints: int
    log: Callable  # log(seed, step, profiles, concentration=None, seconds=nan)

    def evaluate(self, policies, seed, **env_kwargs):
        """Final profiles of deterministic episodes from the seed's fixed starts."""
        from agents.evaluation import evaluate

        env_kwargs.setdefault("action_type", "discrete")
        env_kwargs.setdefault("revision", self.revision)
        n = self.game.n_producers
        return evaluate(policies, self.game, self.eval_starts[seed], 10 * n, **env_kwargs).profiles


def checkpoints(total: int, count: int) -> list[int]:
    return sorted({round(x) for x in np.linspace(0, total, count + 1)})


def producer_steps(cfg: dict, n_producers: int) -> int:
    """A learner block's training budget in producer-steps for a game of n producers."""
    if "revisions_per_producer" in cfg:
        return cfg["revisions_per_producer"] * n_producers * n_producers
    return cfg["timesteps_per_producer"] * n_producers


# ---------------------------------------------------------------------- the paper's dynamics
def _best_response(ctx: Context):
    game = ctx.game
    if ctx.revision != "one":  # best-response agents moving all at once: no training
        from agents import BestResponseAgent

        agent = BestResponseAgent(game)
        for seed in ctx.seeds:
            ctx.log(seed, 0, ctx.evaluate(agent, seed, revision="simultaneous"))
        return
    for seed in ctx.seeds:
        references = [rq.best_response_dynamics(game, seed=s) for s in ctx.eval_starts[seed]]
        longest = max(r.iterations for r in references)
        for t in checkpoints(longest, ctx.checkpoints):
            profiles = []
            for r in references:  # replay each run's first t switches
                assignment = r.initial_assignment.copy()
                for producer, _, target in r.moves[:t]:
                    assignment[producer] = target
                profiles.append(rq.profile_from_assignment(assignment, game.dim))
            ctx.log(seed, t, profiles)


# ---------------------------------------------------------------------- NumPy learners
def _full_information(make, steps, ctx: Context, current_profile=False):
    for seed in ctx.seeds:
        learner = make(seed)
        start = time.perf_counter()
        marks = set(checkpoints(steps, ctx.checkpoints))
        for t in range(steps + 1):
            if t in marks:
                concentration = (
                    learner.strategies.max(axis=1).mean()
                    if hasattr(learner, "strategies")
                    else None
                )
                profile = learner.profile if current_profile else learner.preferred_profile()
                ctx.log(seed, t, profile, concentration, time.perf_counter() - start)
            if t < steps:
                learner.step()


def _hedge(ctx):
    from agents.no_regret import Hedge

    cfg = ctx.settings
    _full_information(lambda s: Hedge(ctx.game, cfg["learning_rate"], seed=s), cfg["steps"], ctx)


def _exponentiated_gradient(ctx):
    from agents.no_regret import ExponentiatedGradient

    cfg = ctx.settings
    _full_information(
        lambda s: ExponentiatedGradient(ctx.game, cfg["learning_rate"], seed=s),
        cfg["steps"], ctx, current_profile=True,
    )  # fmt: skip


def _logit_response(ctx):
    from agents.no_regret import LogitResponse

    cfg = ctx.settings
    steps = cfg["steps_per_producer"] * ctx.game.n_producers
    anneal = min((cfg["final_temperature"] / cfg["temperature"]) ** (1.0 / steps), 1.0)
    _full_information(
        lambda s: LogitResponse(ctx.game, cfg["temperature"], anneal, seed=s), steps, ctx
    )


# ---------------------------------------------------------------------- JAX learners
def jax_config(kind: str, cfg: dict, n_producers: int):
    """The :class:`agents.jax_learners.LearnerConfig` of a study block."""
    from agents.jax_learners import LearnerConfig

    extra = {k: cfg[k] for k in ("learning_rate", "epochs", "gamma", "gae_lambda") if k in cfg}
    common = {"total_timesteps": producer_steps(cfg, n_producers), "num_envs": cfg["num_envs"],
              "entropy": float(cfg["entropy"]), **extra}  # fmt: skip
    if kind == "counterfactual_pg":
        return LearnerConfig(kind=kind, **common)
    return LearnerConfig(kind=kind, n_steps=cfg["n_steps"], minibatches=cfg["minibatches"],
                         **common)  # fmt: skip


def _jax(kind, observe_id=True):
    def run(ctx: Context):
        import jax

        from agents import jax_learners as jl
        from recsys_eq_env.jax import JaxEngagementEnv

        n = ctx.game.n_producers
        config = jax_config(kind, ctx.settings, n)
        env = JaxEngagementEnv(
            ctx.game, revision=ctx.revision, observe_id=observe_id, max_cycles=10 * n,
            info_regrets=False, info_deviations=kind == "counterfactual_pg",
        )  # fmt: skip
        keys = jax.numpy.stack([jax.random.PRNGKey(s) for s in ctx.seeds])
        runners = jl.init_seeds(keys, env, config)
        # chunks of one size: one compiled program per (env signature, config)
        per = max(1, jl.updates_of(config, n) // ctx.checkpoints)
        done, trained = 0, 0.0
        for chunk in range(ctx.checkpoints + 1):
            if chunk:
                begin = time.perf_counter()
                runners, _ = jl.advance_seeds(env, config, runners, per)
                jax.block_until_ready(runners.params)
                trained += time.perf_counter() - begin
                done += per
            for i, seed in enumerate(ctx.seeds):  # every seed's policy, evaluated alike
                params = jax.tree_util.tree_map(lambda x, i=i: x[i], runners.params)
                policy = jl.policies(params, config, env, seed=seed)
                profiles = ctx.evaluate(policy, seed, observe_id=observe_id)
                # the seeds trained together: each is charged its share of the wall time
                ctx.log(seed, jl.timesteps_of(config, n, done), profiles,
                        seconds=trained / len(ctx.seeds))  # fmt: skip

    return run


# ---------------------------------------------------------------------- stable-baselines3
def _sb3(algorithm, defaults: bool, action_type="discrete", observe_id=True):
    def run(ctx: Context):
        from gymnasium.vector import AutoresetMode
        from stable_baselines3 import A2C, DQN, PPO

        from agents.sb3 import PRODUCER_DEFAULTS, EntropySchedule
        from recsys_eq_env.wrappers.sb3 import SB3VecEnv

        cfg, game = ctx.settings, ctx.game
        n = game.n_producers
        total = producer_steps(cfg, n)
        for seed in ctx.seeds:
            venv = SB3VecEnv(rq.vector_env(
                cfg["num_envs"], game=game, action_type=action_type, revision=ctx.revision,
                observe_id=observe_id, info_regrets=False, max_cycles=10 * n,
                autoreset_mode=AutoresetMode.SAME_STEP, dtype=np.float32,
            ))  # fmt: skip
            kwargs = dict(cfg.get("sb3", {}))
            callback = None
            if algorithm == "ppo" and not defaults:
                kwargs = {**PRODUCER_DEFAULTS, "n_steps": cfg["n_steps"],
                          "batch_size": cfg["num_envs"] * n * cfg["n_steps"] // cfg["minibatches"],
                          **kwargs}  # fmt: skip
                callback = EntropySchedule(cfg["entropy"], 0.0, total)
            model = {"ppo": PPO, "a2c": A2C, "dqn": DQN}[algorithm](
                "MlpPolicy", venv, seed=seed, verbose=0, **kwargs
            )
            trained = 0.0
            for mark in checkpoints(total, ctx.checkpoints):
                # SB3 trains whole rollouts: a checkpoint the last rollout passed is skipped,
                # and each row logs the steps actually trained (its defaults' rollouts may
                # outgrow the budget: the rows say by how much)
                if mark > 0 and mark <= model.num_timesteps:
                    continue
                if mark > model.num_timesteps:
                    begin = time.perf_counter()
                    model.learn(mark - model.num_timesteps, callback=callback,
                                reset_num_timesteps=False)  # fmt: skip
                    trained += time.perf_counter() - begin
                profiles = ctx.evaluate(model, seed, observe_id=observe_id,
                                        action_type=action_type)  # fmt: skip
                ctx.log(seed, model.num_timesteps, profiles, seconds=trained)
            venv.close()

    return run


# ---------------------------------------------------------------------- BenchMARL
def _benchmarl(algorithm):
    def run(ctx: Context):
        from recsys_eq_env.benchmarl import EngagementClass, train

        cfg, game = ctx.settings, ctx.game
        n = game.n_producers
        frames = producer_steps(cfg, n) // n  # a frame: one step of one game, n producer-steps
        task = EngagementClass(
            "ENGAGEMENT",
            {"game": game, "revision": ctx.revision, "observe_id": True, "max_cycles": 10 * n},
        )
        experiment = {
            "on_policy_n_envs_per_worker": cfg["num_envs"],
            "off_policy_n_envs_per_worker": cfg["num_envs"],
            "on_policy_collected_frames_per_batch": cfg["frames_per_batch"],
            "off_policy_collected_frames_per_batch": cfg["frames_per_batch"],
            **cfg.get("experiment", {}),
        }  # fmt: skip
        for seed in ctx.seeds:
            begin = time.perf_counter()

            def on_mark(done, policy, seed=seed, begin=begin):
                trained = time.perf_counter() - begin  # (evaluations before it included)
                profiles = ctx.evaluate(policy, seed, observe_id=True)
                ctx.log(seed, done * n, profiles, seconds=trained)

            train(algorithm, task, seed, frames, checkpoints(frames, ctx.checkpoints), on_mark,
                  experiment, cfg.get("algorithm", {}))  # fmt: skip

    return run


PPO_BLOCK = {**dict.fromkeys(BUDGET_KEYS, False), **dict.fromkeys(PPO_KEYS, False),
             "num_envs": True, "n_steps": True, "minibatches": True, "entropy": True}  # fmt: skip
SB3_BLOCK = {**dict.fromkeys(BUDGET_KEYS, False), "num_envs": True, "n_steps": False,
             "minibatches": False, "entropy": False, "sb3": False}  # fmt: skip
#: BenchMARL's defaults but for the games per batch, the frames per iteration and what the
#: ``experiment`` / ``algorithm`` mappings override.
BENCHMARL_BLOCK = {**dict.fromkeys(BUDGET_KEYS, False), "num_envs": True,
                   "frames_per_batch": True, "experiment": False, "algorithm": False}  # fmt: skip

LEARNERS = {
    learner.name: learner
    for learner in (
        Learner("best_response", "full information", "dynamics", "producer switches", {},
                _best_response, "the paper's best-response dynamics"),
        Learner("hedge", "full information", "numpy", "simultaneous updates",
                {"steps": True, "learning_rate": True}, _hedge, "Hedge on basis vectors"),
        Learner("exponentiated_gradient", "full information", "numpy", "simultaneous updates",
                {"steps": True, "learning_rate": True}, _exponentiated_gradient,
                "exponentiated gradient on content"),
        Learner("logit_response", "full information", "numpy", "producer revisions",
                {"steps_per_producer": True, "temperature": True, "final_temperature": True},
                _logit_response, "annealed logit responses"),
        Learner("counterfactual_pg", "full information", "jax", "producer-steps",
                {**dict.fromkeys(BUDGET_KEYS, False), "num_envs": True, "learning_rate": True,
                 "entropy": True}, _jax("counterfactual_pg", observe_id=False),
                "all-action policy gradient on the deviation rewards (JAX)"),
        Learner("shared_ppo", "bandit", "jax", "producer-steps", PPO_BLOCK, _jax("shared_ppo"),
                "one PPO policy for every producer, ids observed (JAX)"),
        Learner("independent_ppo", "bandit", "jax", "producer-steps", PPO_BLOCK,
                _jax("independent_ppo", observe_id=False), "one PPO per producer (JAX)"),
        Learner("shared_ppo_myopic", "bandit", "jax", "producer-steps", PPO_BLOCK,
                _jax("shared_ppo"), "shared PPO with discount 0 (JAX)"),
        Learner("shared_ppo_without_ids", "bandit", "jax", "producer-steps", PPO_BLOCK,
                _jax("shared_ppo", observe_id=False), "shared PPO blind to producer ids (JAX)"),
        Learner("sb3_ppo", "bandit", "sb3", "producer-steps", SB3_BLOCK, _sb3("ppo", False),
                "stable-baselines3 PPO with the study's settings"),
        Learner("sb3_ppo_defaults", "bandit", "sb3", "producer-steps", SB3_BLOCK,
                _sb3("ppo", True), "stable-baselines3 PPO with its defaults"),
        Learner("sb3_ppo_signed", "bandit", "sb3", "producer-steps", SB3_BLOCK,
                _sb3("ppo", False, action_type="signed"),
                "stable-baselines3 PPO, a Gaussian policy on signed content"),
        Learner("sb3_a2c", "bandit", "sb3", "producer-steps", SB3_BLOCK, _sb3("a2c", True),
                "stable-baselines3 A2C with its defaults"),
        Learner("sb3_dqn", "bandit", "sb3", "producer-steps", SB3_BLOCK, _sb3("dqn", True),
                "stable-baselines3 DQN with its defaults"),
        Learner("benchmarl_mappo", "bandit", "benchmarl", "producer-steps", BENCHMARL_BLOCK,
                _benchmarl("mappo"), "BenchMARL MAPPO with its defaults (its own venv)"),
        Learner("benchmarl_ippo", "bandit", "benchmarl", "producer-steps", BENCHMARL_BLOCK,
                _benchmarl("ippo"), "BenchMARL IPPO with its defaults (its own venv)"),
        Learner("benchmarl_iql", "bandit", "benchmarl", "producer-steps", BENCHMARL_BLOCK,
                _benchmarl("iql"), "BenchMARL IQL with its defaults (its own venv)"),
    )
}  # fmt: skip
#: The learners of the simultaneous-revision question.
SIMULTANEOUS = ("best_response", "shared_ppo", "shared_ppo_without_ids")
