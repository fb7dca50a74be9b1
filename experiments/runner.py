"""One run of the paper's heuristic, as an env rollout (default) or by the core directly."""

from __future__ import annotations

import numpy as np

import recsys_eq_env as rq
from agents import BestResponseAgent, rollout

from .config import ENGINES, RunSpec
from .metrics import equilibrium_metrics
from .populations import spec_game
from .store import fingerprint


def run_one(spec: RunSpec, engine: str = "rollout") -> dict:
    """Run best-response dynamics for one spec and return its table row.

    ``rollout``: every producer is a :class:`agents.BestResponseAgent` in a ``revision="one"``
    env that terminates at equilibrium; ``direct``: :func:`recsys_eq_env.best_response_dynamics`.
    Both make the same moves from the same seed, so they give the same row.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if spec.max_iter < 1:  # the env needs a step budget: both engines refuse alike
        raise ValueError(f"max_iter must be >= 1, got {spec.max_iter}")
    game = spec_game(spec)
    seed = spec.seed
    if engine == "direct":
        result = rq.best_response_dynamics(game, seed=seed, max_iter=spec.max_iter)
        profile, iterations, converged = result.profile, result.iterations, result.converged
    elif engine == "rollout":
        env = rq.parallel_env(
            game=game,
            action_type="discrete",
            revision="one",
            terminate_at_equilibrium=True,
            max_cycles=spec.max_iter,
        )
        trajectory = rollout(env, BestResponseAgent.for_env(env), seed=seed)
        profile = trajectory.final_profile
        iterations, converged = trajectory.iterations, trajectory.terminated
    settings = spec.settings(engine)
    row = {
        "key": spec.key,
        "fingerprint": fingerprint(settings),
        **spec.as_row(game.n_users),
        "seed": seed,
        **settings,
        "iterations": int(iterations),
        "converged": bool(converged),
    }
    row.update(equilibrium_metrics(game, profile))
    if spec.certified:
        row.update(certificate_columns(game, profile, bool(converged)))
    return row


def certificate_columns(game, profile, converged: bool) -> dict:
    """``certificate`` (the label of :func:`recsys_eq_env.certify_counts`, or "not
    converged") and ``certificate_gain`` (the largest relative gain it found) of a run's
    final basis-vector profile."""
    if not converged:
        return {"certificate": "not converged", "certificate_gain": float("nan")}
    counts = np.bincount(profile.argmax(axis=1), minlength=game.dim)
    certificate = rq.certify_counts(game, counts, stop_at_failure=True)
    return {"certificate": certificate.label, "certificate_gain": certificate.gain}
