"""recsys-eq-env: producers' equilibria and dynamics in engagement-driven recommender systems."""

from .counts import CountOracle, improvement
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
    "DynamicsResult",
    "EngagementEnv",
    "EngagementGame",
    "basis_assignment",
    "best_response_dynamics",
    "compositions",
    "env",
    "improvement",
    "parallel_env",
    "producer_distribution",
    "profile_from_assignment",
    "pure_nash_equilibria",
    "synthetic_users",
    "user_distribution",
    "validate_users",
]
