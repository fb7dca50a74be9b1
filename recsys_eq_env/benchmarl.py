"""BenchMARL on the engagement game: a task class (:class:`EngagementClass`) and its tasks
(:class:`EngagementTask`), and what trains and evaluates BenchMARL's algorithms on a game.

BenchMARL 1.5.2 pins ``torchrl<0.12`` and needs torchvision, so it lives in its own virtual
environment (as RLlib does)::

    python -m venv .venv-benchmarl
    .venv-benchmarl/bin/pip install torch==2.14.1 torchvision==0.29.1
    .venv-benchmarl/bin/pip install -e ".[benchmarl]"

Then, in Python::

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig
    from recsys_eq_env.benchmarl import EngagementTask

    task = EngagementTask.SOFTMAX.get_task({"n_producers": 5, "dim": 5})
    Experiment(task=task, algorithm_config=MappoConfig.get_from_yaml(),
               model_config=MlpConfig.get_from_yaml(), seed=0,
               config=ExperimentConfig.get_from_yaml()).run()

The env is the project's TorchRL env (:mod:`recsys_eq_env.wrappers.torchrl`): a batch of
``num_envs`` games with one group, ``"producers"``; episode ends at the root, as VMAS's.
A task's config says which game: ``population`` (``uniform``, ``skewed``, ``sparse``),
``n_users``, ``dim``, ``users_seed``, ``n_producers``, ``rule``, ``temperature``, and the env's
``revision``, ``observe_id``, ``max_cycles`` and ``info_regrets``; or, from Python, ``game``: an
:class:`~recsys_eq_env.EngagementGame` (which overrides the population keys).

With ``info_regrets`` on (the default) every collected batch carries
``("producers", "info", "nash_conv_per_user")``, which BenchMARL logs as
``collection/producers/info/nash_conv_per_user``;
:class:`agents.callbacks.benchmarl.NashConvCallback` adds the deterministic evaluation
(``eval/nash_conv_per_user``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
from benchmarl.environments.common import Task, TaskClass
from torchrl.data import Composite
from torchrl.envs import EnvBase

import recsys_eq_env as rq

from .wrappers.torchrl import GROUP, TensorDictPolicy, torchrl_env

__all__ = ["BenchmarlPolicy", "EngagementClass", "EngagementTask", "train"]

#: A task's keys and their defaults (the compare study's population and env settings).
DEFAULTS = {
    "population": "uniform",
    "n_users": 2000,
    "dim": 5,
    "users_seed": 13,
    "n_producers": 5,
    "rule": "softmax",
    "temperature": 1.0,
    "revision": "one",
    "observe_id": True,
    "max_cycles": None,  # None: 10 n steps
    "info_regrets": True,  # nash_conv in ("producers", "info"): BenchMARL logs it
}
#: The tasks: the compare study's serving rules.
SERVING = {
    "SOFTMAX_COLD": {"rule": "softmax", "temperature": 0.1},
    "SOFTMAX": {"rule": "softmax", "temperature": 1.0},
    "LINEAR": {"rule": "linear"},
}


def game_of(config: dict) -> rq.EngagementGame:
    """The game a task's config names (its ``game``, else a synthetic population)."""
    unknown = set(config) - set(DEFAULTS) - {"game"}
    if unknown:
        raise ValueError(
            f"task config has unknown keys {sorted(unknown)}; known: {sorted(DEFAULTS)} and game"
        )
    if config.get("game") is not None:
        game = config["game"]
        if not isinstance(game, rq.EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        return game
    users = rq.synthetic_users(
        config["population"], config["n_users"], config["dim"], seed=config["users_seed"]
    )
    return rq.EngagementGame(
        users, config["n_producers"], config["rule"], config.get("temperature") or 1.0
    )


class EngagementClass(TaskClass):
    """BenchMARL's task class for the engagement game (module docs)."""

    def __init__(self, name: str, config: dict | None):
        full = {**DEFAULTS, **SERVING.get(name, {}), **(config or {})}
        super().__init__(name, full)
        self._game = game_of(full)

    @property
    def game(self) -> rq.EngagementGame:
        return self._game

    def max_cycles(self) -> int:
        cycles = self.config["max_cycles"]
        return 10 * self._game.n_producers if cycles is None else int(cycles)

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed, device
                    ) -> Callable[[], EnvBase]:  # fmt: skip
        game, config = (
            self._game,
            copy.deepcopy({k: v for k, v in self.config.items() if k != "game"}),
        )

        def make():
            env = torchrl_env(
                num_envs, device=device, game=game,
                action_type="signed" if continuous_actions else "discrete",
                revision=config["revision"], observe_id=config["observe_id"],
                max_cycles=self.max_cycles(), info_regrets=bool(config["info_regrets"]),
                dtype=np.float32,
            )  # fmt: skip
            if seed is not None:
                env.set_seed(seed)
            return env

        return make

    def supports_continuous_actions(self) -> bool:
        return True

    def supports_discrete_actions(self) -> bool:
        return True

    def max_steps(self, env: EnvBase) -> int:
        return self.max_cycles()

    def has_render(self, env: EnvBase) -> bool:
        return False

    def group_map(self, env: EnvBase) -> dict[str, list[str]]:
        return {GROUP: list(env.venv.possible_agents)}

    def observation_spec(self, env: EnvBase) -> Composite:
        spec = env.full_observation_spec_unbatched.clone()
        del spec[(GROUP, "info")]  # the policy reads observations; infos are logged
        return spec

    def info_spec(self, env: EnvBase) -> Composite:
        spec = env.full_observation_spec_unbatched.clone()
        del spec[(GROUP, "observation")]
        return spec

    def state_spec(self, env: EnvBase):
        return None

    def action_spec(self, env: EnvBase) -> Composite:
        return env.full_action_spec_unbatched.clone()

    def action_mask_spec(self, env: EnvBase):
        return None

    @staticmethod
    def env_name() -> str:
        return "recsys_eq"


class EngagementTask(Task):
    """The engagement game's tasks, one per serving rule of the compare study; ``get_task``
    takes the config (no YAML needed: the defaults are :data:`DEFAULTS`)."""

    SOFTMAX_COLD = None
    SOFTMAX = None
    LINEAR = None

    @staticmethod
    def associated_class():
        return EngagementClass

    def get_task(self, config: dict | None = None) -> EngagementClass:
        return EngagementClass(self.name, config or {})


#: A trained BenchMARL policy behind SB3's ``predict`` (TorchRL's adapter: BenchMARL's policy
#: is a TorchRL TensorDict module over the ``"producers"`` group).
BenchmarlPolicy = TensorDictPolicy


ALGORITHMS = ("mappo", "ippo", "iql")


def _callback_base():
    from benchmarl.experiment import Callback

    return Callback


class _Marks(_callback_base()):
    """Calls ``on_mark`` with the policy when training has seen each mark's frames."""

    def __init__(self, pending, on_mark, n_producers):
        super().__init__()
        self.pending, self.on_mark, self.n = pending, on_mark, n_producers

    def on_batch_collected(self, batch):
        # the policy that collected this batch has trained on the frames before it
        seen = self.experiment.total_frames - batch.numel()
        while self.pending and self.pending[0] <= seen:
            self.on_mark(self.pending.pop(0), BenchmarlPolicy(self.experiment.policy, self.n))

    def __getstate__(self):  # BenchMARL pickles its callbacks with a run: ours restarts empty
        return {"pending": [], "on_mark": None, "n": self.n}


def train(algorithm: str, task: EngagementClass, seed: int, frames: int, marks, on_mark,
          experiment: dict | None = None, algorithm_config: dict | None = None,
          folder=None):  # fmt: skip
    """Train BenchMARL's ``algorithm`` on ``task`` for ``frames`` frames (one frame: one step
    of one game, every producer acting) from ``seed``; ``on_mark(frames_done, policy)`` is
    called with a :class:`BenchmarlPolicy` when training has seen each of ``marks`` frames
    (and at the end). ``experiment`` and ``algorithm_config`` override BenchMARL's defaults;
    its own evaluation, loggers and checkpoints are off (the caller evaluates)."""
    import tempfile

    from benchmarl.algorithms import IppoConfig, IqlConfig, MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig

    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    config = ExperimentConfig.get_from_yaml()
    for key, value in {**(experiment or {})}.items():
        if not hasattr(config, key):
            raise ValueError(f"BenchMARL's experiment config has no key {key!r}")
        setattr(config, key, value)
    config.max_n_frames, config.max_n_iters = int(frames), None
    config.evaluation, config.render, config.loggers, config.create_json = False, False, [], False
    config.checkpoint_interval, config.checkpoint_at_end = 0, False
    config.prefer_continuous_actions = False  # the study's learners pick basis vectors
    algo = {"mappo": MappoConfig, "ippo": IppoConfig, "iql": IqlConfig}[algorithm]
    algo_config = algo.get_from_yaml()
    for key, value in (algorithm_config or {}).items():
        if not hasattr(algo_config, key):
            raise ValueError(f"BenchMARL's {algorithm} config has no key {key!r}")
        setattr(algo_config, key, value)
    n = task.game.n_producers
    marks_callback = _Marks(sorted(set(int(m) for m in marks)), on_mark, n)

    with tempfile.TemporaryDirectory(dir=folder) as save:
        config.save_folder = save
        run = Experiment(task=task, algorithm_config=algo_config,
                         model_config=MlpConfig.get_from_yaml(),
                         critic_model_config=MlpConfig.get_from_yaml(), seed=int(seed),
                         config=config, callbacks=[marks_callback])  # fmt: skip
        run.run()
        policy = BenchmarlPolicy(run.policy, n)
        for mark in marks_callback.pending:  # the marks at and past the end
            on_mark(min(mark, run.total_frames), policy)
    return policy
