"""Known-good settings per library: which learner of each RL library reaches the engagement
game's equilibrium, with the settings and seeds it was measured with (issue 23).

Generated from the study's rows (``compare.parquet``, ``benchmarl.parquet``) by code: a row's
settings are the learner block of the packaged study whose fingerprint the row carries, so a
setting is listed only where the committed rows were trained with it. A library with no
committed rows is listed as such, with the command that would measure it.
"""

from __future__ import annotations

import pandas as pd

from . import stats
from .compare import STUDIES, SUCCESS, leaderboard, load_study, study_settings
from .report_common import markdown_table
from .store import fingerprint

#: The library each engine of the study stands for.
LIBRARIES = {
    "sb3": "stable-baselines3",
    "benchmarl": "BenchMARL",
    "jax": "recsys_eq_env (agents.jax_learners)",
}
#: Libraries the study has no learner of: what runs there instead (each under a test).
NOT_IN_STUDY = {
    "RLlib": "examples/rllib_ppo.py (PPO, 3 iterations; `make test-rllib`)",
    "TorchRL": "examples/torchrl_ppo.py (multi-agent PPO on `TorchRLEnv`; `make test`)",
}
#: The command that fills each library's rows.
COMMANDS = {
    "stable-baselines3": "recsys-eq compare --study compare-sb3 --out reproduction",
    "BenchMARL": ".venv-benchmarl/bin/recsys-eq compare --study compare-benchmarl "
    "--table benchmarl --out reproduction",
}
#: A learner is known good at this share of runs at an equilibrium (lower end of its 95% CI).
KNOWN_GOOD_LOW = 0.75


def study_of_rows() -> dict[str, tuple[str, dict]]:
    """fingerprint -> (packaged study name, its learners' blocks)."""
    out = {}
    for name in STUDIES:
        study = load_study(name)
        out[fingerprint(study_settings(study))] = (name, study.learners)
    return out


def _settings(block: dict) -> str:
    parts = []
    for key, value in block.items():
        if key == "seeds":
            continue
        if isinstance(value, dict):
            inner = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in value.items())  # fmt: skip
            parts.append(f"{key}: {{{inner}}}" if inner else f"{key}: library defaults")
        else:
            parts.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return ", ".join(parts) or "library defaults"


def _verdict(row) -> str:
    if row["reached_low"] >= KNOWN_GOOD_LOW:
        return "known good"
    if row["reached_high"] > 0:
        return "reaches it in some runs"
    return "does not reach it"


def known_good_table(curves: pd.DataFrame, reps: int = stats.REPS) -> pd.DataFrame:
    """One row per (library, bandit learner) of the study's rows under ``revision="one"``:
    the study and settings it was trained with, cells, seeds, runs at an equilibrium with
    its interval, and a verdict (``known good``: the interval's lower end >=
    :data:`KNOWN_GOOD_LOW`)."""
    studies = study_of_rows()
    board = leaderboard(curves[curves["feedback"] == "bandit"], reps=reps)
    board = board[(board["revision"] == "one") & board["engine"].isin(list(LIBRARIES))]
    rows = []
    for _, r in board.iterrows():
        prints = curves.loc[curves["learner"] == r["learner"], "fingerprint"].unique()
        known = [studies[p] for p in prints if p in studies]
        if len(known) == 1 and r["learner"] in known[0][1]:
            study, settings = known[0][0], _settings(known[0][1][r["learner"]])
        else:  # rows from a study file that is not packaged (or from several)
            study, settings = "not a packaged study", "see the rows' fingerprint"
        rows.append({
            "library": LIBRARIES[r["engine"]], "learner": r["learner"], "study": study,
            "settings": settings, "cells": int(r["cells"]), "seeds": int(r["seeds"]),
            "runs": int(r["runs"]), "reached": r["reached"], "reached_low": r["reached_low"],
            "reached_high": r["reached_high"], "median_steps": r["median_steps"],
        })  # fmt: skip
    table = pd.DataFrame(rows)
    if not table.empty:
        table["verdict"] = table.apply(_verdict, axis=1)
        order = {name: i for i, name in enumerate(LIBRARIES.values())}
        table = (table.assign(rank=table["library"].map(order))
                 .sort_values(["rank", "reached"], ascending=[True, False])
                 .drop(columns="rank").reset_index(drop=True))  # fmt: skip
    return table


def known_good_lines(curves: pd.DataFrame, reps: int = stats.REPS) -> list[str]:
    """The known-good settings table as Markdown, with the libraries it has no rows of."""
    table = known_good_table(curves, reps)
    lines = [
        f"Bandit feedback, one revision per step, the study's cells and evaluation; a run is "
        f"at an equilibrium when its median evaluation episode ends with nash_conv per user "
        f"<= {SUCCESS:g}; known good: the lower end of the 95% interval is >= "
        f"{KNOWN_GOOD_LOW:.0%}. Settings are the study file's learner block (the rest are the "
        "library's defaults); seeds are per cell.",
        "",
    ]
    header = ["library", "learner", "verdict", "runs at an equilibrium (95% CI)", "runs",
              "seeds per cell", "cells", "median producer-steps per run", "study",
              "settings"]  # fmt: skip
    rows = [
        [r["library"], r["learner"], r["verdict"],
         f"{r['reached']:.0%} [{r['reached_low']:.0%}, {r['reached_high']:.0%}]", r["runs"],
         r["seeds"], r["cells"], f"{r['median_steps']:,.0f}", r["study"], r["settings"]]
        for _, r in table.iterrows()
    ]  # fmt: skip
    lines += markdown_table(header, rows)
    present = set(table["library"]) if not table.empty else set()
    missing = [name for name in LIBRARIES.values() if name not in present]
    notes = [f"{name}: no committed rows (`{COMMANDS[name]}`)" for name in missing
             if name in COMMANDS]  # fmt: skip
    notes += [f"{name}: no learner in the study; {what}" for name, what in NOT_IN_STUDY.items()]
    lines += ["", *[f"- {note}." for note in notes]]
    return lines
