"""Trained JAX policies behind stable-baselines3's ``predict``: what :mod:`agents.jax_learners`
trains, for :func:`agents.evaluate` and :func:`agents.rollout` (NumPy only at acting time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import numpy as np

if TYPE_CHECKING:  # annotations only: no import cycle with jax_learners
    from recsys_eq_env.jax import JaxEngagementEnv

    from .jax_learners import LearnerConfig


class JaxPolicy:
    """A trained policy behind stable-baselines3's ``predict`` (batched observations), for
    :func:`agents.evaluate` and :func:`agents.rollout`. For independent PPO, ``producer``
    picks one producer's parameters (:func:`policies` gives the dict for all). ``seed`` fixes
    the draws of ``predict(deterministic=False)``: the same seed gives the same actions."""

    batched = True

    def __init__(
        self, params, config: LearnerConfig, layout, producer: int | None = None, seed=None
    ):
        self._rng = np.random.default_rng(seed)
        actor = params["actor"]
        if producer is not None:
            actor = jax.tree_util.tree_map(lambda x: x[producer], actor)
        self._layers = [(np.asarray(w), np.asarray(b)) for w, b in actor]
        self._scale = (
            1.0 / np.maximum(layout.space().high, 1e-12)
            if config.kind == "counterfactual_pg"  # it learns on observations scaled to [0, 1]
            else np.float32(1.0)
        )

    def logits(self, observations) -> np.ndarray:
        x = np.asarray(observations, dtype=np.float32) * self._scale
        for w, b in self._layers[:-1]:
            x = np.tanh(x @ w + b)
        w, b = self._layers[-1]
        return x @ w + b

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        logits = self.logits(observation)
        if deterministic:
            actions = logits.argmax(-1)
        else:  # Gumbel-max: a categorical draw, from this policy's own Generator
            actions = (logits + self._rng.gumbel(size=logits.shape)).argmax(-1)
        return (int(actions) if np.ndim(actions) == 0 else actions), state


def policies(params, config: LearnerConfig, env: JaxEngagementEnv, seed=None):
    """What :func:`agents.evaluate` takes: one shared :class:`JaxPolicy`, or a dict agent ->
    policy for independent PPO (each with its own stream spawned from ``seed``)."""
    if config.kind == "independent_ppo":
        seeds = np.random.SeedSequence(seed).spawn(len(env.agents))
        return {
            a: JaxPolicy(params, config, env.layout, i, seeds[i]) for i, a in enumerate(env.agents)
        }
    return JaxPolicy(params, config, env.layout, seed=seed)
