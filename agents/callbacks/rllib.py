"""RLlib: nash_conv per user in every training result (:class:`NashConvCallback`).

::

    from agents.callbacks.rllib import NashConvCallback

    config = (PPOConfig().environment("recsys_eq_v0")
              .multi_agent(policies={"shared"}, policy_mapping_fn=lambda *a, **k: "shared")
              .callbacks(on_train_result=NashConvCallback(make_env({}), module_id="shared")))
    result = config.build_algo().train()
    result["eval/nash_conv_per_user"]

After every ``every``-th ``Algorithm.train()`` the callback evaluates the RL module
``module_id`` deterministically (its inference distribution's mode, through
``forward_inference``; :class:`agents.callbacks.Evaluator` on the env's game and settings) and
adds ``eval/...`` to the result dict, which RLlib returns and Tune logs. The env handed over
is the one the env runners build (a PettingZoo env, or RLlib's ``ParallelPettingZooEnv`` of
it). RLlib copies its config, callbacks with it: read the results, not the instance's
``history`` (which fills when the callback is called directly). RLlib lives in its own venv
(extra ``rllib``; examples/rllib_ppo.py).
"""

from __future__ import annotations

import numpy as np

from . import Evaluator


class RLModulePolicy:
    """An RLlib ``RLModule`` behind SB3's ``predict`` (batched; the deterministic action is
    the mode of the module's inference distribution)."""

    batched = True

    def __init__(self, module):
        self.module = module

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        import torch
        from ray.rllib.core.columns import Columns

        obs = torch.as_tensor(np.asarray(observation, dtype=np.float32))
        single = obs.ndim == 1
        with torch.no_grad():
            out = self.module.forward_inference({Columns.OBS: obs.reshape(-1, obs.shape[-1])})
            dist = self.module.get_inference_action_dist_cls().from_logits(
                out[Columns.ACTION_DIST_INPUTS]
            )
            actions = (dist.to_deterministic() if deterministic else dist).sample().numpy()
        return (actions[0] if single else actions), state


class NashConvCallback:
    """RLlib's ``on_train_result`` callable: evaluate ``module_id`` every ``every`` results."""

    def __init__(self, env=None, module_id: str = "shared", every: int = 1, episodes: int = 20,
                 seed: int = 10_000, max_cycles: int | None = None,
                 evaluator: Evaluator | None = None):  # fmt: skip
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        if (env is None) == (evaluator is None):
            raise ValueError("give the training env or an Evaluator (exactly one of them)")
        self.evaluator = evaluator or Evaluator.of(env, episodes, seed, max_cycles)
        self.module_id, self.every = module_id, every
        self.calls = 0
        self.history: list[tuple[int, dict[str, float]]] = []

    def __call__(self, *, algorithm, result: dict, metrics_logger=None, **kwargs) -> None:
        self.calls += 1
        if self.calls % self.every:
            return
        metrics = self.evaluate(algorithm)
        result.update(metrics)
        self.history.append((self.calls, metrics))

    def evaluate(self, algorithm) -> dict[str, float]:
        """The deterministic evaluation of the algorithm's module now."""
        return self.evaluator(RLModulePolicy(algorithm.get_module(self.module_id)))
