"""Deterministic episodes of many starts at once, on the vector env.

:func:`evaluate` runs a policy from ``len(seeds)`` starts (game ``b`` of a
:func:`recsys_eq_env.vector_env` reset with ``seeds[0] + b`` starts where
``parallel_env(...).reset(seed=seeds[0] + b)`` starts) until each episode ends, asking the
policy for all producers of all games in one ``predict`` call where it accepts batches
(stable-baselines3 models, :class:`agents.counterfactual.CounterfactualPG`), and reports where
each episode ended: its final profile, ``nash_conv`` per user, steps and whether it stopped at
an equilibrium.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from gymnasium.vector import AutoresetMode

import recsys_eq_env as rq

#: nash_conv per user at or below which an episode counts as ended at an equilibrium (the
#: learning benchmark's success threshold).
SUCCESS = 1e-3


@dataclass(frozen=True)
class Evaluation:
    """Where each of E deterministic episodes ended."""

    #: (E, n, dim) final profiles.
    profiles: np.ndarray
    #: (E,) sum of regrets per user at the end.
    nash_conv_per_user: np.ndarray
    #: (E,) steps taken.
    steps: np.ndarray
    #: (E,) whether the episode ended at an equilibrium (else it ran out of steps, or stopped
    #: where the deterministic policy no longer moves anybody: a fixed point that is not one).
    terminated: np.ndarray


def _batched(policy) -> bool:
    """Whether ``policy.predict`` takes a batch of observations."""
    try:
        from stable_baselines3.common.base_class import BaseAlgorithm
    except ImportError:  # pragma: no cover
        BaseAlgorithm = ()
    return isinstance(policy, BaseAlgorithm) or getattr(policy, "batched", False)


def _predict(policy, observations: np.ndarray):
    """Deterministic actions of one policy for a batch (m, obs_dim) of observations."""
    if _batched(policy):
        return np.asarray(policy.predict(observations, deterministic=True)[0])
    return np.array([policy.predict(o, deterministic=True)[0] for o in observations])


def actions_for(policies, observations: np.ndarray, agents: list[str]) -> np.ndarray:
    """(E, n) or (E, n, dim) actions: one shared policy, or a dict agent -> policy."""
    e, n, size = observations.shape
    if isinstance(policies, Mapping):
        columns = [_predict(policies[agent], observations[:, i]) for i, agent in enumerate(agents)]
        return np.stack(columns, axis=1)
    flat = _predict(policies, observations.reshape(e * n, size))
    return flat.reshape(e, n, *flat.shape[1:])


def evaluate(
    policies,
    game: rq.EngagementGame,
    seeds,
    max_cycles: int,
    **env_kwargs,
) -> Evaluation:
    """Deterministic episodes of ``policies`` from the starts of ``seeds`` (consecutive ints).

    ``env_kwargs`` are the env's arguments (``action_type``, ``revision``, ``observe_id``,
    ...); episodes end at an equilibrium (``terminate_at_equilibrium=True``) or after
    ``max_cycles`` steps.
    """
    seeds = list(seeds)
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError(f"seeds must be consecutive integers, got {seeds}")
    venv = rq.vector_env(
        len(seeds),
        game=game,
        terminate_at_equilibrium=True,
        max_cycles=max_cycles,
        autoreset_mode=AutoresetMode.NEXT_STEP,
        **env_kwargs,
    )
    observations, _ = venv.reset(seed=seeds[0])
    e = len(seeds)
    done = np.zeros(e, dtype=bool)
    profiles = np.zeros_like(venv.profile)
    nash_conv = np.zeros(e)
    steps = np.zeros(e, dtype=np.int64)
    terminated = np.zeros(e, dtype=bool)
    while not done.all():
        actions = actions_for(policies, observations, venv.possible_agents)
        if venv.action_type == "discrete":
            actions = actions.astype(np.int64)
        observations, _, term, trunc, infos = venv.step(actions)
        # Nobody's request differed from its content: a deterministic policy will ask the same
        # again, so nothing can change any more (under either revision rule).
        stuck = ~infos["moved"].any(axis=1)
        ended = (term | trunc | stuck) & ~done
        for b in np.flatnonzero(ended):
            profiles[b] = venv.profile[b]
            nash_conv[b] = game.nash_conv(venv.profile[b]) / game.n_users
            steps[b] = venv.steps[b]
            terminated[b] = term[b]
        done |= ended
    venv.close()
    return Evaluation(profiles, nash_conv, steps, terminated)
