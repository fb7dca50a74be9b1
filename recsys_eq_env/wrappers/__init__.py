"""Adapters of the vector env for RL libraries, each imported only when used.

* :mod:`recsys_eq_env.wrappers.sb3`: :class:`~recsys_eq_env.wrappers.sb3.SB3VecEnv`, a
  stable-baselines3 ``VecEnv`` with one entry per producer of every game (parameter sharing);
* :mod:`recsys_eq_env.wrappers.torchrl`: :class:`~recsys_eq_env.wrappers.torchrl.TorchRLEnv`,
  a TorchRL ``EnvBase`` with ``batch_size=[B]`` and a ``"producers"`` agent group (infos under
  ``("producers", "info")``, ``n_agents``, ``group_map``);
* :mod:`recsys_eq_env.wrappers.gymnasium`:
  :class:`~recsys_eq_env.wrappers.gymnasium.ProducerVectorEnv`, a ``gymnasium.vector.VectorEnv``
  with one entry per producer (every Gymnasium vector wrapper, CleanRL-style loops), registered
  as ``recsys_eq/Producers-v0`` for ``gymnasium.make_vec``.

Every adapter carries the vector env's infos per entry, ``nash_conv_per_user`` among them;
:mod:`agents.callbacks` logs the deterministic evaluation in each library's logger.

The single env needs no adapter: it is a PettingZoo ``ParallelEnv`` (SuperSuit, TorchRL's
``PettingZooWrapper`` and RLlib's ``ParallelPettingZooEnv`` take it as it is).
"""
