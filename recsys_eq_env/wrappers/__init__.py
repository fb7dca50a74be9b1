"""Adapters of the vector env for RL libraries, each imported only when used.

* :mod:`recsys_eq_env.wrappers.sb3`: :class:`~recsys_eq_env.wrappers.sb3.SB3VecEnv`, a
  stable-baselines3 ``VecEnv`` with one entry per producer of every game (parameter sharing);
* :mod:`recsys_eq_env.wrappers.torchrl`: :class:`~recsys_eq_env.wrappers.torchrl.TorchRLEnv`,
  a TorchRL ``EnvBase`` with ``batch_size=[B]`` and a ``"producers"`` agent group.

The single env needs no adapter: it is a PettingZoo ``ParallelEnv`` (SuperSuit, TorchRL's
``PettingZooWrapper`` and RLlib's ``ParallelPettingZooEnv`` take it as it is).
"""
