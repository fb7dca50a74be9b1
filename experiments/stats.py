"""Statistics as the field reports learning results (Agarwal et al., "Deep RL at the Edge of
the Statistical Precipice", NeurIPS 2021; the estimators of ``rliable``, which does not run
here: its ``arch`` dependency fails to import beside pandas 3).

Scores are (runs, tasks) arrays: for a learner, one column per cell of the study (a task) and
one row per training seed (a run). Every interval is a percentile interval of a *stratified*
bootstrap: each task's runs are resampled with replacement independently, so every resample
keeps every task.

* :func:`interval` of any statistic; :func:`rate` (the share of runs that succeed), :func:`iqm`
  (the interquartile mean: the mean of the middle 50% of all scores);
* :func:`probability_of_improvement`: ``P(X < Y)`` for a lower-is-better score (ties count
  half), averaged over tasks: how often a run of X beats a run of Y on the same task;
* :func:`performance_profile`: the share of runs with a score at most ``tau``, for every
  ``tau`` of a grid, with a band.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Bootstrap resamples of every interval.
REPS = 2000


class Estimate(NamedTuple):
    """A point estimate with its 95% interval (or 1 - ``alpha``)."""

    value: float
    low: float
    high: float

    def text(self, digits: int = 2, percent: bool = False) -> str:
        if percent:
            return f"{self.value:.0%} [{self.low:.0%}, {self.high:.0%}]"
        return f"{self.value:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def _scores(scores) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"scores must be a non-empty (runs, tasks) array, got {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite")
    return scores


def resample(scores: np.ndarray, rng: np.random.Generator, reps: int) -> np.ndarray:
    """(reps, runs, tasks): every task's runs drawn with replacement, independently."""
    runs, tasks = scores.shape
    picks = rng.integers(0, runs, size=(reps, runs, tasks))
    return np.take_along_axis(scores[None], picks, axis=1)


def interval(scores, statistic, reps: int = REPS, seed=0, alpha: float = 0.05) -> Estimate:
    """``statistic`` (of a (runs, tasks) array) with a stratified-bootstrap percentile
    interval."""
    scores = _scores(scores)
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(s) for s in resample(scores, rng, reps)])
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(statistic(scores)), float(low), float(high))


def iqm_of(scores) -> float:
    """The interquartile mean: the mean of the scores between the 25th and 75th percentile
    of all of them (a quarter trimmed from each end, by count, as scipy's trim_mean)."""
    from scipy.stats import trim_mean

    return float(trim_mean(np.asarray(scores, dtype=np.float64).ravel(), 0.25))


def iqm(scores, reps: int = REPS, seed=0) -> Estimate:
    return interval(scores, iqm_of, reps, seed)


def rate(successes, reps: int = REPS, seed=0) -> Estimate:
    """The share of (run, task) pairs that succeed (0/1 scores), with its interval."""
    return interval(successes, lambda s: float(np.mean(s)), reps, seed)


def _improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X < Y) + P(X = Y) / 2 per task, averaged over tasks (lower scores are better)."""
    less = (x[:, None, :] < y[None, :, :]).mean(axis=(0, 1))
    equal = (x[:, None, :] == y[None, :, :]).mean(axis=(0, 1))
    return float(np.mean(less + 0.5 * equal))


def probability_of_improvement(x, y, reps: int = REPS, seed=0, alpha: float = 0.05) -> Estimate:
    """How often a run of X scores lower (better) than a run of Y on the same task, with a
    stratified bootstrap of both (tasks in the same columns)."""
    x, y = _scores(x), _scores(y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same tasks, got {x.shape[1]} and {y.shape[1]}")
    rng = np.random.default_rng(seed)
    xs, ys = resample(x, rng, reps), resample(y, rng, reps)
    draws = np.array([_improvement(a, b) for a, b in zip(xs, ys, strict=True)])
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Estimate(_improvement(x, y), float(low), float(high))


def performance_profile(scores, taus, reps: int = REPS, seed=0, alpha: float = 0.05):
    """(values, low, high) each (len(taus),): the share of runs with a score <= tau."""
    scores = _scores(scores)
    taus = np.asarray(taus, dtype=np.float64)
    point = (scores.ravel()[None, :] <= taus[:, None]).mean(axis=1)
    rng = np.random.default_rng(seed)
    draws = resample(scores, rng, reps).reshape(reps, -1)
    shares = (draws[:, None, :] <= taus[None, :, None]).mean(axis=2)  # (reps, taus)
    low, high = np.quantile(shares, [alpha / 2, 1 - alpha / 2], axis=0)
    return point, low, high


def marl_eval(table, metric: str = "nash_conv_per_user", env_name: str = "recsys_eq") -> dict:
    """marl-eval's JSON layout of a results table (one row per cell, learner, seed and
    checkpoint): ``{env: {task: {algorithm: {"seed_s": {"step_k": {metric: [v]},
    "absolute_metrics": {metric: [v]}}}}}}``, the last checkpoint as the absolute metric."""
    out: dict = {env_name: {}}
    for (task, learner, seed), block in table.groupby(["task", "learner", "seed"]):
        block = block.sort_values("step")
        runs = out[env_name].setdefault(str(task), {}).setdefault(str(learner), {})
        entry = {
            f"step_{i}": {metric: [float(v)], "step_count": [int(s)]}
            for i, (s, v) in enumerate(zip(block["step"], block[metric], strict=True))
        }
        entry["absolute_metrics"] = {metric: [float(block[metric].iloc[-1])]}
        runs[f"seed_{int(seed)}"] = entry
    return out
