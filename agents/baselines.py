"""Baseline policies: uniformly random actions and a fixed action."""

from __future__ import annotations

import copy

import gymnasium
import numpy as np


class RandomAgent:
    """Samples its action space; seeded on its own so it never disturbs the env's RNG."""

    def __init__(self, action_space: gymnasium.spaces.Space, seed=None):
        if not isinstance(action_space, gymnasium.spaces.Space):
            raise TypeError(f"action_space must be a gymnasium Space, got {type(action_space)}")
        self.action_space = copy.deepcopy(action_space)
        self.action_space.seed(seed)

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return self.action_space.sample(), state


class FixedAgent:
    """Always the same action (e.g. a feature index, or a content vector to keep)."""

    def __init__(self, action):
        self.action = np.array(action) if isinstance(action, (list, tuple)) else action

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return self.action, state
