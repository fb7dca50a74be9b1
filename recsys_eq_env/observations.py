"""What a producer observes: one float32 vector per producer, built for a whole batch of games
at once, and read back by the best-response agent (which decides from an observation alone)."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np


@dataclass(frozen=True)
class ObservationLayout:
    """What a producer observes, as one float32 vector, and how to read it back.

    ========================  =================================  ===============================
    slice                     ``observation="aggregate"``        ``observation="full"``
    ========================  =================================  ===============================
    ``[0, dim)``              own content                        own content
    next                      others' content mass per feature   the profile, row by row (n*dim)
    next (1 value)            own reward (utility x scale)       same
    last n (``observe_id``)   one-hot producer index             same
    ========================  =================================  ===============================
    """

    n_producers: int
    dim: int
    observation: str = "aggregate"
    observe_id: bool = False
    #: Multiplies a utility into a reward (1 / n_users for ``per_user``).
    reward_scale: float = 1.0
    #: Upper bound of a reward.
    reward_high: float = 1.0
    #: Lower bound of a reward (below 0 only where producers pay production costs).
    reward_low: float = 0.0

    @property
    def middle(self) -> int:
        return self.dim if self.observation == "aggregate" else self.n_producers * self.dim

    @property
    def size(self) -> int:
        return self.dim + self.middle + 1 + (self.n_producers if self.observe_id else 0)

    def space(self) -> gymnasium.spaces.Box:
        n, dim = self.n_producers, self.dim
        middle = (
            [float(max(n - 1, 1))] * dim if self.observation == "aggregate" else [1.0] * (n * dim)
        )
        high = np.array(
            [1.0] * dim + middle + [self.reward_high] + ([1.0] * n if self.observe_id else []),
            dtype=np.float32,
        )
        low = np.zeros_like(high)
        low[dim + self.middle] = self.reward_low
        return gymnasium.spaces.Box(low, high, dtype=np.float32)

    def observe(self, profile, utilities, counts=None) -> np.ndarray:
        """(..., n, size) float32 observations of every producer.

        ``profile`` (..., n, dim) and ``utilities`` (..., n); ``counts`` (..., dim), the
        producers per feature of basis-vector profiles, saves a sum (same numbers).
        """
        n, dim = self.n_producers, self.dim
        batch = profile.shape[:-2]
        out = np.empty((*batch, n, self.size), dtype=np.float32)
        out[..., :dim] = profile
        if self.observation == "aggregate" and counts is not None:
            # Basis profiles: integer counts minus a 0/1 row, exact and >= 0 (no clip needed).
            np.subtract(counts[..., None, :], profile, out=out[..., dim : 2 * dim],
                        casting="unsafe")  # fmt: skip
        elif self.observation == "aggregate":
            # Clip the float rounding of (total - own) so observations stay in their space.
            total = profile.sum(axis=-2)
            out[..., dim : 2 * dim] = np.clip(total[..., None, :] - profile, 0.0, None)
        else:
            out[..., dim : dim + n * dim] = profile.reshape(*batch, 1, n * dim)
        out[..., dim + self.middle] = utilities * self.reward_scale
        if self.observe_id:
            out[..., dim + self.middle + 1 :] = np.eye(n, dtype=np.float32)
        return out

    def parse(self, observation):
        """(own content, others, reward): the parts of one producer's observation.

        ``others`` is the others' content mass per feature (``aggregate``) or the whole
        profile (``full``, shape (n, dim)). Observations with or without the trailing one-hot
        id are accepted; another length raises a ValueError.
        """
        obs = np.asarray(observation, dtype=np.float64)
        base = self.dim + self.middle + 1
        if obs.ndim != 1 or obs.shape[0] not in (base, base + self.n_producers):
            raise ValueError(
                f"observation must be a vector of length {base} (or {base + self.n_producers} "
                f"with producer ids) for this game, got shape {obs.shape}"
            )
        dim = self.dim
        own = obs[:dim]
        middle = obs[dim : dim + self.middle]
        if self.observation == "full":
            middle = middle.reshape(self.n_producers, dim)
        return own, middle, float(obs[dim + self.middle])
