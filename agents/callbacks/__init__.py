"""The learning benchmark's metric inside each RL library's own training loop.

Every callback here runs the project's deterministic evaluation (:func:`agents.evaluate`:
``episodes`` episodes from fixed starts, each until an equilibrium or ``max_cycles`` steps)
every so often and logs, in the library's own logger:

* ``eval/nash_conv_per_user``: the mean over episodes of the final profile's sum of regrets
  per user (0 at a Nash equilibrium; exact, not estimated);
* ``eval/success``: the share of episodes ending at nash_conv per user <= :data:`SUCCESS`;
* ``eval/at_equilibrium``: the share stopped by the env at an equilibrium;

and, from the training steps' own infos where the env reports regrets,
``rollout/nash_conv_per_user`` (the mean over the steps since the last log).

* SB3: :class:`agents.callbacks.sb3.NashConvCallback`, into ``model.logger``;
* BenchMARL: :class:`agents.callbacks.benchmarl.NashConvCallback`, into the experiment's
  loggers;
* TorchRL: :class:`agents.callbacks.torchrl.NashConvHook`, a ``Trainer`` hook or a plain call
  per batch;
* RLlib: :class:`agents.callbacks.rllib.NashConvCallback`, into the result dict (an
  ``on_train_result``).

The evaluation env is built from the training env's own settings (:meth:`Evaluator.of`), so
observations are what the policy was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import recsys_eq_env as rq

from ..evaluation import SUCCESS, evaluate

__all__ = ["SUCCESS", "Evaluator"]

#: The env settings a policy's observations depend on (copied from the training env).
ENV_KEYS = ("action_type", "observation", "observe_id", "revision", "init", "reward_scale")


@dataclass(frozen=True)
class Evaluator:
    """Deterministic episodes of one game from ``episodes`` starts (``seed`` onwards)."""

    game: rq.EngagementGame
    env_kwargs: dict = field(default_factory=dict)
    episodes: int = 20
    seed: int = 10_000
    max_cycles: int = 100

    def __post_init__(self):
        if not isinstance(self.game, rq.EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(self.game).__name__}")
        for name in ("episodes", "max_cycles"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        unknown = set(self.env_kwargs) - set(ENV_KEYS)
        if unknown:
            raise ValueError(
                f"env_kwargs has keys {sorted(unknown)} the evaluation does not take; known: "
                f"{', '.join(ENV_KEYS)}"
            )

    @classmethod
    def of(cls, env, episodes: int = 20, seed: int = 10_000, max_cycles: int | None = None):
        """The evaluator of a training env: a :class:`recsys_eq_env.VectorEngagementEnv`, a
        single :class:`recsys_eq_env.EngagementEnv`, or an adapter holding one as ``.venv``
        (SB3, Gymnasium, TorchRL), possibly under library wrappers (``.venv`` / ``.env`` /
        ``.par_env`` (RLlib's) / ``.unwrapped`` are followed)."""
        params = _params_of(env)
        kwargs = {key: getattr(params, key) for key in ENV_KEYS}
        cycles = params.max_cycles if max_cycles is None else max_cycles
        return cls(params.game, kwargs, episodes, seed, cycles)

    def __call__(self, policy) -> dict[str, float]:
        """The metrics of ``policy`` (anything with SB3's ``predict``), as floats."""
        result = evaluate(
            policy,
            self.game,
            range(self.seed, self.seed + self.episodes),
            self.max_cycles,
            **self.env_kwargs,
        )
        nash = result.nash_conv_per_user
        return {
            "eval/nash_conv_per_user": float(nash.mean()),
            "eval/success": float((nash <= SUCCESS).mean()),
            "eval/at_equilibrium": float(result.terminated.mean()),
        }


def _params_of(env):
    """The :class:`recsys_eq_env.functional.EnvParams` of an env or of the env it wraps."""
    seen = 0
    while env is not None and seen < 32:
        params = getattr(env, "params", None)
        if params is not None and hasattr(params, "game"):
            return params
        env = next(
            (
                getattr(env, name)
                for name in ("venv", "env", "par_env", "unwrapped")
                if getattr(env, name, None) not in (None, env)
            ),
            None,
        )
        seen += 1
    raise TypeError(
        "env must be a recsys_eq_env env or an adapter or wrapper of one (found no .params)"
    )


class RolloutMean:
    """Running mean of the training steps' nash_conv per user, reset at each read."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def add(self, values) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        self.total += float(values.sum())
        self.count += values.size

    def pop(self) -> float | None:
        if self.count == 0:
            return None
        mean = self.total / self.count
        self.total, self.count = 0.0, 0
        return mean
