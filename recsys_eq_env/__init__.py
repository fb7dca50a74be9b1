"""recsys-eq-env: producers' equilibria and dynamics in engagement-driven recommender systems.

The game core (:class:`EngagementGame`, :func:`best_response_dynamics`, ...) needs only NumPy
and SciPy. The environments (:func:`parallel_env`, :func:`env`, :func:`vector_env`) need
Gymnasium and PettingZoo, and are imported on first use; so is the scenario zoo
(:func:`make`, :func:`scenarios`: the other papers' models as named envs).
"""

from .certificate import Certificate, certify_counts, certify_profile
from .continuous import SimplexResponse, best_simplex_response
from .counts import CountOracle, Improvement, best_move, strictly_improves
from .dynamics import DynamicsResult, best_response_dynamics, compositions, pure_nash_equilibria
from .game import (
    BestResponses,
    CountAnalysis,
    EngagementGame,
    basis_assignment,
    profile_from_assignment,
)
from .users import (
    POPULATIONS,
    producer_distribution,
    synthetic_users,
    total_variation,
    user_distribution,
    validate_users,
)

#: Names served lazily from modules that need Gymnasium and PettingZoo (PEP 562).
_LAZY = {
    "EngagementEnv": "environment",
    "ENV_DOC": "environment",
    "parallel_env": "environment",
    "aec_env": "environment",
    "action_for": "functional",
    "ObservationLayout": "functional",
    "VectorEngagementEnv": "vector",
    "vector_env": "vector",
    "AutoresetMode": "vector",
    "DatasetUnavailableError": "data",
    "load_users": "data",
    "users_from_ratings": "data",
    "make": "zoo",
    "scenarios": "zoo",
}


def _register_with_gymnasium() -> None:
    """``gymnasium.make_vec("recsys_eq/Producers-v0", ...)`` after ``import recsys_eq_env``
    (or ``make_vec("recsys_eq_env:recsys_eq/Producers-v0")``, which imports us): one vector
    entry per producer (:mod:`recsys_eq_env.wrappers.gymnasium`). Registering imports
    Gymnasium only (about 25 ms), not the env; the game core imports without Gymnasium."""
    try:
        import gymnasium
    except ImportError:
        return

    if "recsys_eq/Producers-v0" not in gymnasium.registry:
        gymnasium.register(
            "recsys_eq/Producers-v0",
            vector_entry_point="recsys_eq_env.wrappers.gymnasium:make_producer_vector_env",
        )


_register_with_gymnasium()


def __getattr__(name):
    if name == "env":  # PettingZoo's convention: env() is the AEC environment
        from .environment import aec_env

        return aec_env
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'recsys_eq_env' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ENV_DOC",
    "POPULATIONS",
    "AutoresetMode",
    "BestResponses",
    "Certificate",
    "CountAnalysis",
    "CountOracle",
    "DatasetUnavailableError",
    "DynamicsResult",
    "EngagementEnv",
    "EngagementGame",
    "Improvement",
    "ObservationLayout",
    "SimplexResponse",
    "VectorEngagementEnv",
    "action_for",
    "aec_env",
    "basis_assignment",
    "best_move",
    "best_response_dynamics",
    "best_simplex_response",
    "certify_counts",
    "certify_profile",
    "compositions",
    "env",
    "load_users",
    "make",
    "parallel_env",
    "producer_distribution",
    "profile_from_assignment",
    "pure_nash_equilibria",
    "scenarios",
    "strictly_improves",
    "synthetic_users",
    "total_variation",
    "user_distribution",
    "users_from_ratings",
    "validate_users",
    "vector_env",
]
