"""Policies that act in the engagement environment through one ``predict`` interface.

Every policy has stable-baselines3's ``predict(observation, state=None, episode_start=None,
deterministic=True) -> (action, state)``, so heuristic agents, learners and trained SB3 models
all run through :func:`rollout`.
"""

from .base import Policy
from .baselines import FixedAgent, RandomAgent
from .best_response import BestResponseAgent
from .rollout import Trajectory, rollout

__all__ = ["BestResponseAgent", "FixedAgent", "Policy", "RandomAgent", "Trajectory", "rollout"]
