"""Learners compiled together with the env: PPO (shared and independent) and counterfactual
policy gradient in JAX, on :class:`recsys_eq_env.jax.JaxEngagementEnv` (the ``jax`` extra).

Each learner is a pure function of a key and a frozen config (PureJaxRL's design): the
rollout of ``num_envs`` games is one ``jax.lax.scan`` over steps, the update another, and the
whole training run compiles with ``jax.jit``; ``jax.vmap`` over keys trains many seeds at once
(:func:`train_seeds`). Checkpoints come from :func:`init` and :func:`advance` (train ``k``
updates, return the state), so a study evaluates the policy between chunks with the same
deterministic evaluation as every other learner (:func:`agents.evaluate` on the NumPy env,
through :class:`JaxPolicy`'s ``predict``).

* ``shared_ppo``: one actor and one critic for every producer (observations carry producer
  ids); PPO with the settings of stable-baselines3's ``PPO("MlpPolicy")`` as the study uses
  them: two tanh layers of 64, orthogonal initialisation, Adam (eps 1e-5), clipped surrogate
  0.2, value coefficient 0.5, gradient norm 0.5, per-minibatch advantage normalisation, GAE,
  and the value of the last observation added to the reward where an episode is cut at
  ``max_cycles`` (SB3's ``TimeLimit.truncated`` bootstrap).
* ``independent_ppo``: the same with one parameter set per producer (``vmap`` over
  producers), each trained on its own producer's samples.
* ``counterfactual_pg``: full information (the env's ``deviation_rewards``: what every basis
  vector would earn); one softmax policy ascends ``sum_a pi(a|o) r(o, a)`` with an entropy
  bonus decaying to 0, one Adam step per env step (:mod:`agents.counterfactual`'s rule).

Networks are plain pytrees (lists of weight and bias arrays): two-layer MLPs need no module
system, and plain arrays keep the learners a few lines of ``jax.numpy`` with no dependency
beyond JAX and Optax.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from recsys_eq_env.jax import JaxEngagementEnv

from .jax_policy import JaxPolicy, policies  # noqa: F401 (where they were)

KINDS = ("shared_ppo", "independent_ppo", "counterfactual_pg")


@dataclass(frozen=True)
class LearnerConfig:
    """A learner's settings (hashable: the compiled program is specialised on them)."""

    kind: str = "shared_ppo"
    #: Producer-steps to train (one step of one producer is one sample).
    total_timesteps: int = 100_000
    num_envs: int = 16
    n_steps: int = 32
    minibatches: int = 4
    epochs: int = 4
    learning_rate: float = 3e-3
    gamma: float = 0.9
    gae_lambda: float = 0.95
    clip: float = 0.2
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    #: Entropy coefficient at the start, decayed linearly to 0 over training.
    entropy: float = 0.0
    hidden: int = 64

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("total_timesteps", "num_envs", "n_steps", "minibatches", "epochs", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("learning_rate", "gamma", "gae_lambda", "clip", "vf_coef", "max_grad_norm"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)}")
        if not (math.isfinite(self.entropy) and self.entropy >= 0):
            raise ValueError(f"entropy must be a finite number >= 0, got {self.entropy}")


# ---------------------------------------------------------------------- networks
def _orthogonal(key, shape, gain):
    return jax.nn.initializers.orthogonal(gain)(key, shape, jnp.float32)


def init_mlp(key, sizes, out_gain: float):
    """[(W, b), ...]: tanh hidden layers (orthogonal, gain sqrt 2), a linear head."""
    layers = []
    keys = jax.random.split(key, len(sizes) - 1)
    for i, (k, (fan_in, fan_out)) in enumerate(zip(keys, itertools.pairwise(sizes), strict=True)):
        gain = out_gain if i == len(sizes) - 2 else math.sqrt(2.0)
        layers.append((_orthogonal(k, (fan_in, fan_out), gain), jnp.zeros(fan_out)))
    return layers


def mlp(layers, x):
    for w, b in layers[:-1]:
        x = jnp.tanh(x @ w + b)
    w, b = layers[-1]
    return x @ w + b


def init_params(key, obs_dim: int, dim: int, config: LearnerConfig):
    """{"actor": ..., "critic": ...} (the critic is unused by counterfactual PG)."""
    actor_key, critic_key = jax.random.split(key)
    sizes = (obs_dim, config.hidden, config.hidden)
    return {
        "actor": init_mlp(actor_key, (*sizes, dim), 0.01),
        "critic": init_mlp(critic_key, (*sizes, 1), 1.0),
    }


class _Static:
    """An env as a static argument of the compiled programs, equal to every env of its
    signature: the population's arrays travel as data (``consts``), so one program serves
    every cell of one shape and JAX's persistent cache keeps it across runs."""

    def __init__(self, env: JaxEngagementEnv):
        self.env = env

    def __hash__(self) -> int:
        return hash(self.env.signature)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Static) and self.env.signature == other.env.signature


# ---------------------------------------------------------------------- state
class Runner(NamedTuple):
    """Everything a training run carries from one update to the next."""

    params: dict
    opt_state: object
    env_state: object  # (num_envs,) JaxState
    obs: jnp.ndarray  # (num_envs, n, obs_dim)
    key: jnp.ndarray
    update: jnp.ndarray  # () int32: updates done


def updates_of(config: LearnerConfig, n_producers: int) -> int:
    """Updates a run of ``config.total_timesteps`` producer-steps makes (at least one)."""
    per_update = config.num_envs * n_producers * (1 if _cpg(config) else config.n_steps)
    return max(1, config.total_timesteps // per_update)


def timesteps_of(config: LearnerConfig, n_producers: int, updates: int) -> int:
    """Producer-steps after ``updates`` updates."""
    return updates * config.num_envs * n_producers * (1 if _cpg(config) else config.n_steps)


def _cpg(config) -> bool:
    return config.kind == "counterfactual_pg"


def _optimiser(config: LearnerConfig, total_updates: int):
    # Adam with SB3's eps; one gradient step per minibatch and epoch (PPO) or per env step
    return optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm if not _cpg(config) else 1e9),
        optax.adam(config.learning_rate, eps=1e-5 if not _cpg(config) else 1e-8),
    )


def _stack_obs(env, obs: dict):
    return jnp.stack([obs[a] for a in env.agents], axis=-2)


def _actions_dict(env, actions):
    return {a: actions[..., i] for i, a in enumerate(env.agents)}


def init(key, env: JaxEngagementEnv, config: LearnerConfig) -> Runner:
    """A fresh run: parameters (one set per producer for independent PPO), the optimiser's
    state and ``num_envs`` games."""
    params_key, env_key, key = jax.random.split(key, 3)
    obs_dim, dim, n = env.layout.size, env.dim, env.n_producers
    if config.kind == "independent_ppo":
        params = jax.vmap(lambda k: init_params(k, obs_dim, dim, config))(
            jax.random.split(params_key, n)
        )
    else:
        params = init_params(params_key, obs_dim, dim, config)
    opt = _optimiser(config, updates_of(config, n))
    opt_state = jax.vmap(opt.init)(params) if config.kind == "independent_ppo" else opt.init(params)
    obs, env_state = jax.vmap(env.reset)(jax.random.split(env_key, config.num_envs))
    return Runner(params, opt_state, env_state, _stack_obs(env, obs), key, jnp.zeros((), jnp.int32))


# ---------------------------------------------------------------------- policies
def _logits(config, params, obs):
    """(..., n, dim) logits of every producer's observation (..., n, obs_dim)."""
    if config.kind == "independent_ppo":  # producer i's parameters on producer i's obs
        return jax.vmap(lambda p, o: mlp(p["actor"], o), in_axes=(0, -2), out_axes=-2)(params, obs)
    return mlp(params["actor"], obs)


def _values(config, params, obs):
    if config.kind == "independent_ppo":
        return jax.vmap(lambda p, o: mlp(p["critic"], o)[..., 0], in_axes=(0, -2), out_axes=-1)(
            params, obs
        )
    return mlp(params["critic"], obs)[..., 0]


# ---------------------------------------------------------------------- one update
def _env_step(env, config, consts, runner_key, env_state, actions):
    """Step every game without autoreset, reset the finished ones (keeping their last
    observation for the bootstrap)."""
    keys = jax.random.split(runner_key, env_state.step.shape[0] + 1)
    step_keys, reset_key = keys[:-1], keys[-1]
    obs_st, state_st, rewards, dones, infos = jax.vmap(env.step_env, in_axes=(0, 0, 0, None))(
        step_keys, env_state, _actions_dict(env, actions), consts
    )
    obs_re, state_re = jax.vmap(env.reset, in_axes=(0, None))(
        jax.random.split(reset_key, step_keys.shape[0]), consts
    )
    done = dones["__all__"]

    def pick(reset, stepped):
        mask = done.reshape(done.shape + (1,) * (stepped.ndim - 1))
        return jnp.where(mask, reset, stepped)

    state = jax.tree_util.tree_map(pick, state_re, state_st)
    last_obs = _stack_obs(env, obs_st)
    obs = pick(_stack_obs(env, obs_re), last_obs)
    reward = jnp.stack([rewards[a] for a in env.agents], axis=-1).astype(jnp.float32)
    return state, obs, last_obs, reward, done, infos


def _ppo_update(env: JaxEngagementEnv, config: LearnerConfig, total_updates: int, consts, runner):
    """One PPO update: a rollout of ``n_steps`` in every game, GAE, ``epochs`` passes of
    ``minibatches`` minibatches."""
    opt = _optimiser(config, total_updates)
    n = env.n_producers

    def rollout_step(carry, _):
        params, env_state, obs, key = carry
        key, act_key, step_key = jax.random.split(key, 3)
        logits = _logits(config, params, obs)
        actions = jax.random.categorical(act_key, logits)
        logp = jax.nn.log_softmax(logits)
        logp = jnp.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]
        value = _values(config, params, obs)
        env_state, next_obs, last_obs, reward, done, _ = _env_step(
            env, config, consts, step_key, env_state, actions
        )
        # an episode cut at max_cycles: add the discounted value of its last observation
        bootstrap = config.gamma * _values(config, params, last_obs)
        reward = reward + jnp.where(done[:, None], bootstrap, 0.0)
        transition = (obs, actions, logp, value, reward, done)
        return (params, env_state, next_obs, key), transition

    key, rollout_key = jax.random.split(runner.key)
    (_, env_state, obs, _), batch = jax.lax.scan(
        rollout_step, (runner.params, runner.env_state, runner.obs, rollout_key), None,
        config.n_steps,
    )  # fmt: skip
    b_obs, b_actions, b_logp, b_values, b_rewards, b_dones = batch
    last_value = _values(config, runner.params, obs)

    def gae(carry, step):
        advantage, next_value = carry
        value, reward, done = step
        not_done = 1.0 - done[:, None].astype(jnp.float32)
        delta = reward + config.gamma * next_value * not_done - value
        advantage = delta + config.gamma * config.gae_lambda * not_done * advantage
        return (advantage, value), advantage

    _, advantages = jax.lax.scan(
        gae, (jnp.zeros_like(last_value), last_value), (b_values, b_rewards, b_dones),
        reverse=True,
    )  # fmt: skip
    returns = advantages + b_values
    progress = runner.update.astype(jnp.float32) / total_updates
    ent_coef = config.entropy * (1.0 - progress)

    def loss_fn(params, obs, actions, old_logp, advantage, ret):
        """PPO's loss on one parameter set's samples (shared: everybody's; independent: one
        producer's, vmapped over producers)."""
        logp_all = jax.nn.log_softmax(mlp(params["actor"], obs))
        logp = jnp.take_along_axis(logp_all, actions[..., None], axis=-1)[..., 0]
        ratio = jnp.exp(logp - old_logp)
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        clipped = jnp.clip(ratio, 1 - config.clip, 1 + config.clip)
        surrogate = jnp.minimum(ratio * advantage, clipped * advantage)
        value = mlp(params["critic"], obs)[..., 0]
        entropy = -(jnp.exp(logp_all) * logp_all).sum(-1)
        return (
            -surrogate.mean()
            + config.vf_coef * ((ret - value) ** 2).mean()
            - ent_coef * entropy.mean()
        )

    samples = (b_obs, b_actions, b_logp, advantages, returns)  # (T, E, n, ...)
    if config.kind == "independent_ppo":  # producer axis first: each its own samples
        flat = [jnp.moveaxis(x, 2, 0).reshape(n, -1, *x.shape[3:]) for x in samples]
    else:
        flat = [x.reshape(-1, *x.shape[3:]) for x in samples]

    def epoch(carry, _):
        params, opt_state, key = carry
        key, perm_key = jax.random.split(key)
        samples = flat[0].shape[-2] if config.kind == "independent_ppo" else flat[0].shape[0]
        size = samples // config.minibatches
        order = jax.random.permutation(perm_key, samples)[: size * config.minibatches]
        order = order.reshape(config.minibatches, size)

        def minibatch(carry, idx):
            params, opt_state = carry
            if config.kind == "independent_ppo":
                parts = [x[:, idx] for x in flat]
                grads = jax.vmap(jax.grad(loss_fn))(params, *parts)
                updates, opt_state = jax.vmap(opt.update)(grads, opt_state, params)
            else:
                parts = [x[idx] for x in flat]
                grads = jax.grad(loss_fn)(params, *parts)
                updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        (params, opt_state), _ = jax.lax.scan(minibatch, (params, opt_state), order)
        return (params, opt_state, key), None

    key, epoch_key = jax.random.split(key)
    (params, opt_state, _), _ = jax.lax.scan(
        epoch, (runner.params, runner.opt_state, epoch_key), None, config.epochs
    )
    metrics = {"reward": b_rewards.mean()}
    return Runner(params, opt_state, env_state, obs, key, runner.update + 1), metrics


def _cpg_update(env: JaxEngagementEnv, config: LearnerConfig, total_updates: int, consts, runner):
    """One counterfactual step: the all-action policy gradient on this step's deviation
    rewards of every producer of every game, then a sampled step of every game."""
    opt = _optimiser(config, total_updates)
    key, act_key, step_key = jax.random.split(runner.key, 3)
    rewards = runner.env_state.deviations * env.reward_scale  # (E, n, dim)
    progress = runner.update.astype(jnp.float32) / total_updates
    ent_coef = config.entropy * (1.0 - progress)
    scale = 1.0 / jnp.maximum(jnp.asarray(env.layout.space().high), 1e-12)

    def loss(params):
        logits = mlp(params["actor"], runner.obs * scale)
        probs = jax.nn.softmax(logits)
        expected = (probs * rewards).sum(-1, keepdims=True)
        spread = jnp.maximum(rewards.std(-1, keepdims=True), 1e-8)
        advantage = jax.lax.stop_gradient((rewards - expected) / spread)
        entropy = -(probs * jnp.log(jnp.maximum(probs, 1e-12))).sum(-1)
        return -(probs * advantage).sum(-1).mean() - ent_coef * entropy.mean()

    grads = jax.grad(loss)(runner.params)
    updates, opt_state = opt.update(grads, runner.opt_state, runner.params)
    params = optax.apply_updates(runner.params, updates)
    actions = jax.random.categorical(act_key, mlp(runner.params["actor"], runner.obs * scale))
    env_state, obs, _, reward, _, _ = _env_step(
        env, config, consts, step_key, runner.env_state, actions
    )
    metrics = {"reward": reward.mean()}
    return Runner(params, opt_state, env_state, obs, key, runner.update + 1), metrics


def _scan(static, config, total_updates, consts, runner, updates):
    env = static.env
    update = _cpg_update if _cpg(config) else _ppo_update

    def body(runner, _):
        return update(env, config, total_updates, consts, runner)

    return jax.lax.scan(body, runner, None, updates)


_advance = jax.jit(_scan, static_argnums=(0, 1, 2, 5))


def advance(env, config: LearnerConfig, runner: Runner, updates: int):
    """``updates`` more updates of ``runner``: (runner, metrics per update). Compiled once per
    env signature, config and chunk size (:class:`_Static`)."""
    total = updates_of(config, env.n_producers)
    return _advance(_Static(env), config, total, env.consts, runner, int(updates))


def train(key, env: JaxEngagementEnv, config: LearnerConfig):
    """A whole run: (final parameters, metrics per update)."""
    runner, metrics = advance(
        env, config, init(key, env, config), updates_of(config, env.n_producers)
    )
    return runner.params, metrics


def init_seeds(keys, env, config: LearnerConfig) -> Runner:
    """Runners for every key (a leading seed axis)."""
    return jax.vmap(lambda k: init(k, env, config))(keys)


def _scan_seeds(static, config, total_updates, consts, runners, updates):
    return jax.vmap(lambda r: _scan(static, config, total_updates, consts, r, updates))(runners)


_advance_seeds = jax.jit(_scan_seeds, static_argnums=(0, 1, 2, 5))


def advance_seeds(env, config: LearnerConfig, runners: Runner, updates: int):
    """:func:`advance` of many seeds at once, vmapped over the leading axis."""
    total = updates_of(config, env.n_producers)
    return _advance_seeds(_Static(env), config, total, env.consts, runners, int(updates))


def train_seeds(keys, env, config: LearnerConfig):
    """:func:`train` for every key, one vmapped program: (parameters, metrics), seed axis
    first."""
    runners, metrics = advance_seeds(
        env, config, init_seeds(keys, env, config), updates_of(config, env.n_producers)
    )
    return runners.params, metrics
