"""recsys-eq-env: producers' equilibria and dynamics in engagement-driven recommender systems."""

from .counts import CountOracle, improvement
from .datasets import DatasetUnavailableError, load_users, users_from_ratings
from .dynamics import DynamicsResult, best_response_dynamics, compositions, pure_nash_equilibria
from .env import EngagementEnv, env, parallel_env
from .game import CountAnalysis, EngagementGame, basis_assignment, profile_from_assignment
from .users import (
    POPULATIONS,
    producer_distribution,
    synthetic_users,
    user_distribution,
    validate_users,
)

__all__ = [
    "POPULATIONS",
    "CountAnalysis",
    "CountOracle",
    "DatasetUnavailableError",
    "DynamicsResult",
    "EngagementEnv",
    "EngagementGame",
    "basis_assignment",
    "best_response_dynamics",
    "compositions",
    "env",
    "improvement",
    "load_users",
    "parallel_env",
    "producer_distribution",
    "profile_from_assignment",
    "pure_nash_equilibria",
    "synthetic_users",
    "user_distribution",
    "users_from_ratings",
    "validate_users",
]
