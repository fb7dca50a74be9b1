"""stable-baselines3: nash_conv per user in SB3's logger (:class:`NashConvCallback`).

::

    from stable_baselines3 import PPO
    from agents.callbacks.sb3 import NashConvCallback
    from recsys_eq_env.wrappers.sb3 import sb3_vec_env

    env = sb3_vec_env(16, users=users, n_producers=5, action_type="discrete",
                      observe_id=True, revision="one")
    PPO("MlpPolicy", env).learn(200_000, callback=NashConvCallback(env, every=20_000))

Every ``every`` timesteps (SB3's timesteps: one per producer entry and step) the callback
evaluates the model deterministically (:class:`agents.callbacks.Evaluator`), records
``eval/...`` and ``rollout/nash_conv_per_user`` (from the training entries' infos, which
:class:`recsys_eq_env.wrappers.sb3.SB3VecEnv` fills) and writes a log line, as SB3's
``EvalCallback`` does. ``history`` keeps every evaluation as ``(timesteps, metrics)``.
"""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback

from . import Evaluator, RolloutMean


class NashConvCallback(BaseCallback):
    """Log the deterministic evaluation's nash_conv per user every ``every`` timesteps."""

    def __init__(
        self,
        env=None,
        every: int = 10_000,
        episodes: int = 20,
        seed: int = 10_000,
        max_cycles: int | None = None,
        evaluator: Evaluator | None = None,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        if (env is None) == (evaluator is None):
            raise ValueError("give the training env or an Evaluator (exactly one of them)")
        self.every = every
        self.evaluator = evaluator or Evaluator.of(env, episodes, seed, max_cycles)
        self.history: list[tuple[int, dict[str, float]]] = []
        self._rollout = RolloutMean()
        self._next = None

    def _on_training_start(self) -> None:
        if self._next is None:
            self._next = self.num_timesteps + self.every

    def _on_step(self) -> bool:
        infos = self.locals.get("infos") or ()
        values = [info["nash_conv_per_user"] for info in infos if "nash_conv_per_user" in info]
        if values:
            self._rollout.add(values)
        if self.num_timesteps >= self._next:
            self._evaluate()
            while self._next <= self.num_timesteps:
                self._next += self.every
        return True

    def _on_training_end(self) -> None:
        if not self.history or self.history[-1][0] != self.num_timesteps:
            self._evaluate()

    def _evaluate(self) -> None:
        metrics = self.evaluator(self.model)
        rollout = self._rollout.pop()
        if rollout is not None:
            metrics["rollout/nash_conv_per_user"] = rollout
        for key, value in metrics.items():
            self.logger.record(key, value)
        self.logger.dump(self.num_timesteps)  # as SB3's EvalCallback: one log line per evaluation
        self.history.append((int(self.num_timesteps), metrics))
        if self.verbose:
            print(f"{self.num_timesteps}: {metrics}")
