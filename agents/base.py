"""The one interface every policy implements: stable-baselines3's ``predict``.

``predict(observation, state=None, episode_start=None, deterministic=True) -> (action, state)``
has the shape of :class:`stable_baselines3.common.policies.BasePolicy.predict`, so a trained SB3
model and the agents of this package run through the same :func:`agents.rollout` loop.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    """Anything with SB3's ``predict`` signature."""

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[Any, Any]: ...
