"""One loop for every policy: run an episode of the engagement env and record it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .base import Policy


@dataclass(frozen=True)
class Trajectory:
    """What happened in one episode; index 0 is the state after ``reset``."""

    #: (T + 1, dim) producers per feature (their content's largest coordinate) at every step.
    counts: np.ndarray
    #: (T + 1,) sum of regrets at every step; None when the env runs with info_regrets=False.
    nash_conv: np.ndarray | None
    #: (T, n_producers) rewards returned by every step.
    rewards: np.ndarray
    #: (T, n_producers) whether each producer's request was applied at every step.
    moved: np.ndarray
    #: (n_moves, 4) rows ``(step, producer, from_feature, to_feature)`` for the moves between
    #: basis vectors, in order (one per step under ``revision="one"``).
    moves: np.ndarray
    #: Final profile, (n_producers, dim).
    final_profile: np.ndarray
    terminated: bool
    truncated: bool
    #: (T + 1, n_producers, dim) profiles, when recorded.
    profiles: np.ndarray | None = field(default=None, repr=False)
    #: The env's render() after reset and after every step, when recorded.
    frames: list | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def iterations(self) -> int:
        """Number of producer switches, the paper's count of iterations."""
        return int(self.moves.shape[0])


def rollout(
    env,
    policies,
    seed=None,
    record_profiles: bool = False,
    deterministic: bool = True,
    record_frames: bool = False,
) -> Trajectory:
    """Run one episode of an :class:`recsys_eq_env.EngagementEnv` (parallel API).

    ``policies`` maps every agent to a policy with SB3's ``predict``, or is one policy shared by
    all agents (e.g. a shared-parameter SB3 model). As SB3's ``evaluate_policy`` does, every
    agent's recurrent ``state`` is threaded from one ``predict`` call to the next (one state
    per agent, also with a shared policy) and ``episode_start`` is True on the first step only;
    ``deterministic`` is passed through. ``record_frames`` keeps ``env.render()`` of every
    step (build the env with ``render_mode="rgb_array"`` for images,
    :func:`recsys_eq_env.render.save_gif` animates them).
    """
    base = env.unwrapped
    if record_frames and getattr(base, "render_mode", None) != "rgb_array":
        raise ValueError(
            "record_frames needs an env built with render_mode='rgb_array' (this one has "
            f"render_mode={getattr(base, 'render_mode', None)!r}): there would be no frames"
        )
    if isinstance(policies, Mapping):
        missing = set(base.possible_agents) - set(policies)
        if missing:
            raise ValueError(f"policies has no policy for {sorted(missing)}")
        table = dict(policies)
    elif isinstance(policies, Policy):
        table = dict.fromkeys(base.possible_agents, policies)
    else:
        raise TypeError("policies must be a dict of agent -> policy, or one policy with predict()")
    index = {a: i for i, a in enumerate(base.possible_agents)}
    n = len(base.possible_agents)

    observations, infos = env.reset(seed=seed)
    first = infos[base.possible_agents[0]]
    counts, nash_conv = [first["counts"].copy()], [first.get("nash_conv")]
    profiles = [base.profile.copy()] if record_profiles else None
    frames = [env.render()] if record_frames else None
    rewards, moved, moves = [], [], []
    terminated = truncated = False
    features = base.profile.argmax(axis=1)
    states = dict.fromkeys(base.possible_agents)
    episode_start = np.ones(1, dtype=bool)
    while env.agents:
        actions = {}
        for agent in env.agents:
            actions[agent], states[agent] = table[agent].predict(
                observations[agent],
                state=states[agent],
                episode_start=episode_start,
                deterministic=deterministic,
            )
        episode_start = np.zeros(1, dtype=bool)
        observations, reward, terms, truncs, infos = env.step(actions)
        step = len(rewards)
        row_r, row_m = np.zeros(n), np.zeros(n, dtype=bool)
        for agent, r in reward.items():
            row_r[index[agent]] = r
            row_m[index[agent]] = infos[agent]["moved"]
        rewards.append(row_r)
        moved.append(row_m)
        info = next(iter(infos.values()))
        counts.append(info["counts"].copy())
        nash_conv.append(info.get("nash_conv"))
        after = base.profile.argmax(axis=1)
        for i in np.flatnonzero(row_m):
            if after[i] != features[i]:
                moves.append((step, int(i), int(features[i]), int(after[i])))
        features = after
        if record_profiles:
            profiles.append(base.profile.copy())
        if record_frames:
            frames.append(env.render())
        terminated = any(terms.values())
        truncated = any(truncs.values())
    return Trajectory(
        counts=np.array(counts),
        nash_conv=None if nash_conv[0] is None else np.array(nash_conv, dtype=float),
        rewards=np.array(rewards).reshape(-1, n),
        moved=np.array(moved, dtype=bool).reshape(-1, n),
        moves=np.array(moves, dtype=np.int64).reshape(-1, 4),
        final_profile=base.profile.copy(),
        terminated=bool(terminated),
        truncated=bool(truncated),
        profiles=None if profiles is None else np.array(profiles),
        frames=frames,
    )
