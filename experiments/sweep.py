"""``recsys-eq sweep``: the hyperparameter sweep behind the compare study's PPO settings.

Shared-parameter PPO (discrete actions, one revision per step, producer ids in observations)
on the vector env, over learning rate x entropy schedule x rollout shape x epochs x discount
(0, or 0.9 with GAE lambda 0.95), each trained on the same cells from the same seed and
judged by deterministic evaluation episodes from fixed starts: the share of episodes that end
with nash_conv per user <= 1e-3, and the median nash_conv per user. The table is committed
(``reproduction/sweep.parquet``); the compare study uses its best row.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from agents.evaluation import SUCCESS

from .populations import game as cell_game

GRID = {
    "learning_rate": [1e-3, 3e-3],
    "ent_coef": [0.0, 0.02],  # start of a linear decay to 0
    "rollout": [(16, 32), (64, 8)],  # (games, steps per rollout): 512 joint steps either way
    "n_epochs": [4, 10],
    "gamma": [0.0, 0.9],
}
GAE_LAMBDA = {0.0: 0.0, 0.9: 0.95}
CELLS = [
    (5, n, rule, tau) for n in (5, 10, 20) for rule, tau in (("softmax", 1.0), ("linear", None))
]
QUICK_CELLS = [(4, 5, "softmax", 1.0)]
TIMESTEPS = 300_000
EVAL_SEEDS = range(1000, 1003)


def configs(quick: bool = False) -> list[dict]:
    keys = list(GRID)
    rows = [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]
    return rows[:2] if quick else rows  # quick: two configurations


def run_one(config: dict, cell: tuple, timesteps: int, n_users: int) -> dict:
    import torch

    from agents.evaluation import evaluate
    from agents.sb3 import EntropySchedule, shared_ppo
    from recsys_eq_env import vector_env

    torch.set_num_threads(1)
    dim, n, rule, tau = cell
    game = cell_game("synthetic-uniform", n_users, dim, 13, n, rule, tau)
    games, steps = config["rollout"]
    venv = vector_env(
        games,
        game=game,
        action_type="discrete",
        revision="one",
        observe_id=True,
        info_regrets=False,
        max_cycles=10 * n,
        autoreset_mode="SameStep",
        dtype=np.float32,
    )
    start = time.perf_counter()
    model = shared_ppo(
        venv,
        seed=0,
        n_steps=steps,
        batch_size=games * n * steps // 4,
        learning_rate=config["learning_rate"],
        n_epochs=config["n_epochs"],
        gamma=config["gamma"],
        gae_lambda=GAE_LAMBDA[config["gamma"]],
    )
    model.learn(timesteps, callback=EntropySchedule(config["ent_coef"]))
    seconds = time.perf_counter() - start
    result = evaluate(
        model, game, EVAL_SEEDS, 10 * n, action_type="discrete", revision="one", observe_id=True
    )
    return {
        **{k: str(v) if k == "rollout" else v for k, v in config.items()},
        "dim": dim,
        "n_producers": n,
        "serving": rule if tau is None else f"{rule}@{tau:g}",
        "timesteps": timesteps,
        "seconds": seconds,
        "success": float((result.nash_conv_per_user <= SUCCESS).mean()),
        "nash_conv_per_user": float(np.median(result.nash_conv_per_user)),
    }


def run_sweep(quick: bool = False, n_jobs: int = 1, progress: bool = True) -> pd.DataFrame:
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    cells = QUICK_CELLS if quick else CELLS
    timesteps = 20_000 if quick else TIMESTEPS
    n_users = 300 if quick else 2000
    jobs = [(c, cell) for c in configs(quick) for cell in cells]
    rows = []
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    with tqdm(total=len(jobs), desc="sweep", unit="run", disable=not progress) as bar:
        for row in parallel(delayed(run_one)(c, cell, timesteps, n_users) for c, cell in jobs):
            rows.append(row)
            bar.update()
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: mean success over cells, median nash_conv, time; best first
    (ties go to the cheaper configuration)."""
    keys = list(GRID)
    out = table.groupby(keys).agg(
        success=("success", "mean"),
        nash_conv_per_user=("nash_conv_per_user", "median"),
        seconds=("seconds", "mean"),
    )
    return out.sort_values(
        ["success", "nash_conv_per_user", "seconds"], ascending=[False, True, True]
    )
