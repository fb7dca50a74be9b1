"""One runner per case kind; each runs one case in this process and returns its row."""

from .analysis import run_analysis, run_nmf
from .core import NEIGHBOUR, run_blas, run_dynamics, run_env, run_jax, run_vector
from .training import run_jax_training, run_training

__all__ = ["NEIGHBOUR", "run_analysis", "run_blas", "run_dynamics", "run_env", "run_jax",
           "run_jax_training", "run_nmf", "run_training", "run_vector"]  # fmt: skip
