"""TorchRL: nash_conv per user from a collector loop or a ``Trainer`` (:class:`NashConvHook`).

::

    from agents.callbacks.torchrl import NashConvHook

    env = torchrl_env(16, users=users, n_producers=5, action_type="discrete",
                      observe_id=True, revision="one")
    hook = NashConvHook(env, policy, every=20_000)
    for batch in collector:               # TorchRL's multi-agent PPO tutorial's loop
        ...                               # the PPO update
        logger.log_metrics(hook(batch))   # or print(hook(batch))

``hook(batch)`` reads the batch's ``("next", "producers", "info", "nash_conv_per_user")``
(:class:`recsys_eq_env.wrappers.torchrl.TorchRLEnv` fills it) into
``rollout/nash_conv_per_user`` and, every ``every`` frames (one frame: one step of one game),
adds the deterministic evaluation of ``policy`` (any TensorDict module writing
``("producers", "action")``) as ``eval/...``. ``hook.register(trainer)`` puts it on a TorchRL
``Trainer``'s ``"post_steps_log"`` ops, whose returned dict the trainer logs.
"""

from __future__ import annotations

from recsys_eq_env.wrappers.torchrl import GROUP, TensorDictPolicy

from . import Evaluator

KEY = ("next", GROUP, "info", "nash_conv_per_user")


class NashConvHook:
    """Turn collected batches into nash_conv metrics; evaluate every ``every`` frames."""

    def __init__(self, env, policy, every: int = 10_000, episodes: int = 20,
                 seed: int = 10_000, max_cycles: int | None = None):  # fmt: skip
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        self.evaluator = Evaluator.of(env, episodes, seed, max_cycles)
        self.policy = TensorDictPolicy(policy, self.evaluator.game.n_producers)
        self.every, self.frames, self._next = every, 0, every
        self.history: list[tuple[int, dict[str, float]]] = []

    def __call__(self, batch) -> dict[str, float]:
        """The metrics of one collected batch (and the evaluation when it is due)."""
        metrics = {}
        if KEY in batch.keys(include_nested=True):
            metrics["rollout/nash_conv_per_user"] = float(batch.get(KEY).float().mean())
        self.frames += int(batch.numel())
        if self.frames >= self._next:
            metrics.update(self.evaluate())
            while self._next <= self.frames:
                self._next += self.every
        return metrics

    def evaluate(self) -> dict[str, float]:
        """The deterministic evaluation of the policy now."""
        metrics = self.evaluator(self.policy)
        self.history.append((self.frames, metrics))
        return metrics

    def register(self, trainer, dest: str = "post_steps_log") -> NashConvHook:
        """Register on a TorchRL ``Trainer`` (its ``post_steps_log`` ops log what we return)."""
        trainer.register_op(dest, self)
        return self
