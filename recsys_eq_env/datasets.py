"""Deprecated alias of :mod:`recsys_eq_env.data`, where the dataset loaders now live (one
module per job: registry, ratings, fetch, cache, nmf). Import from ``recsys_eq_env.data`` or
use ``recsys_eq_env.load_users``; this module will be removed."""

import warnings

from .data import *  # noqa: F403
from .data import __all__  # noqa: F401

warnings.warn(
    "recsys_eq_env.datasets is deprecated; use recsys_eq_env.data",
    DeprecationWarning,
    stacklevel=2,
)
