"""BenchMARL: nash_conv per user in the experiment's loggers (:class:`NashConvCallback`).

::

    from agents.callbacks.benchmarl import NashConvCallback
    from recsys_eq_env.benchmarl import EngagementTask

    task = EngagementTask.SOFTMAX.get_task({"n_producers": 5, "dim": 5})
    Experiment(task=task, ..., callbacks=[NashConvCallback(task, every=20_000)]).run()

Every ``every`` frames (BenchMARL's frames: one step of one game) the callback evaluates the
experiment's policy deterministically (:class:`agents.callbacks.Evaluator` on the task's game
and env settings) and logs ``eval/...`` through ``experiment.logger`` at the iteration's
step. The collected batches' own ``("producers", "info", "nash_conv_per_user")`` BenchMARL logs
by itself (the task's ``info_spec``). ``history`` keeps ``(frames, metrics)``.
"""

from __future__ import annotations

from benchmarl.experiment import Callback

from recsys_eq_env.benchmarl import BenchmarlPolicy, EngagementClass

from . import Evaluator


class NashConvCallback(Callback):
    """Evaluate deterministically every ``every`` frames and log nash_conv per user."""

    def __init__(self, task: EngagementClass, every: int = 10_000, episodes: int = 20,
                 seed: int = 10_000, max_cycles: int | None = None):  # fmt: skip
        super().__init__()
        if not isinstance(task, EngagementClass):
            raise TypeError(f"task must be an EngagementClass, got {type(task).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        config = task.config
        self.every, self.n = every, task.game.n_producers
        self.evaluator = Evaluator(
            task.game,
            {"action_type": "discrete", "observe_id": bool(config["observe_id"]),
             "revision": config["revision"]},
            episodes, seed, task.max_cycles() if max_cycles is None else max_cycles,
        )  # fmt: skip
        self.history: list[tuple[int, dict[str, float]]] = []
        self._next = every

    def on_setup(self):
        if getattr(self.experiment, "continuous_actions", False):  # the task's signed content
            self.evaluator = Evaluator(
                self.evaluator.game,
                {**self.evaluator.env_kwargs, "action_type": "signed"},
                self.evaluator.episodes, self.evaluator.seed, self.evaluator.max_cycles,
            )  # fmt: skip

    def on_batch_collected(self, batch):
        frames = self.experiment.total_frames
        if frames >= self._next:
            self.evaluate(frames)
            while self._next <= frames:
                self._next += self.every

    def evaluate(self, frames: int) -> dict[str, float]:
        """Run the evaluation now and log it (also callable by hand after ``run()``)."""
        metrics = self.evaluator(BenchmarlPolicy(self.experiment.policy, self.n))
        self.experiment.logger.log(metrics, step=self.experiment.n_iters_performed)
        self.history.append((int(frames), metrics))
        return metrics

    def __getstate__(self):  # BenchMARL pickles callbacks with a checkpoint
        state = self.__dict__.copy()
        state.pop("experiment", None)
        return state
