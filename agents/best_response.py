"""The paper's heuristic as a policy: ask for the best basis vector when it strictly improves.

With one :class:`BestResponseAgent` per producer, ``revision="one"`` and
``terminate_at_equilibrium=True``, an episode of :func:`recsys_eq_env.parallel_env` is exactly
:func:`recsys_eq_env.best_response_dynamics` from the same seed (tests/test_agents.py).
"""

from __future__ import annotations

import numpy as np

from recsys_eq_env import EngagementGame
from recsys_eq_env._checks import check_choice
from recsys_eq_env.counts import improvement
from recsys_eq_env.env import ACTION_TYPES, OBSERVATIONS, EngagementEnv

MEMO_SIZE = 4096


class BestResponseAgent:
    """Best response over basis vectors, computed from the observation alone.

    The agent knows the game (users, rule, temperature, utility). With the default
    ``observation="aggregate"`` it sees the other producers' content mass per feature, which is
    their count vector when they play basis vectors: the best response is then exact, and shares
    the game's cached deviation table with the env and every other agent. If the others play
    mixed content the mass is read as counts, which is exact for ``linear`` and ``uniform``
    serving and an approximation otherwise; use ``observation="full"`` for an exact answer.
    """

    def __init__(
        self,
        game: EngagementGame,
        action_type: str = "discrete",
        observation: str = "aggregate",
        tol: float = 1e-9,
    ):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        self.game = game
        self.action_type = check_choice(action_type, "action_type", ACTION_TYPES)
        self.observation = check_choice(observation, "observation", OBSERVATIONS)
        self.tol = float(tol)
        d, n = game.dim, game.n_producers
        self._middle = d if observation == "aggregate" else n * d
        base = d + self._middle + 1  # own content, aggregate or profile, own reward
        self._lengths = (base, base + n)  # without / with the one-hot agent id
        # The action is a function of the observation alone, and producers on the same feature
        # see the same observation: remember the last few answers.
        self._memo: dict[bytes, object] = {}

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_memo"] = {}
        return state

    @classmethod
    def for_env(cls, env) -> BestResponseAgent:
        """An agent that reads this env's observations and shares its game (and caches)."""
        env = env.unwrapped
        if not isinstance(env, EngagementEnv):
            raise TypeError(f"env must be an EngagementEnv, got {type(env).__name__}")
        return cls(env.game, env.action_type, env.observation, env.tol)

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        raw = np.asarray(observation)
        key = raw.tobytes() + raw.dtype.str.encode()
        action = self._memo.get(key)
        if action is None:
            action = self._decide(raw)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = action
        return (action.copy() if isinstance(action, np.ndarray) else action), state

    def _decide(self, raw):
        obs = raw.astype(np.float64)
        if obs.ndim != 1 or obs.shape[0] not in self._lengths:
            raise ValueError(
                f"observation must be a vector of length {self._lengths[0]} (or "
                f"{self._lengths[1]} with agent ids) for this game, got shape {obs.shape}"
            )
        d = self.game.dim
        own = obs[:d]
        middle = obs[d : d + self._middle]
        a = int(np.argmax(own))
        on_basis = own[a] == 1.0 and own.sum() == 1.0
        if self.observation == "aggregate" and on_basis and _whole(middle):
            counts = np.rint(middle).astype(np.int64)
            counts[a] += 1
            analysis = self.game.analyse_counts(counts, self.tol)
            improves, best = bool(analysis.improving[a]), int(analysis.best[a])
        else:
            improves, best = self._general(own, middle, a, on_basis)
        return self._action(own, a, improves, best)

    def _general(self, own, middle, a, on_basis):
        """Best response against others given as mass per feature or as a full profile."""
        game = self.game
        if self.observation == "aggregate":
            others, weights = game.users, middle
        else:
            profile = middle.reshape(game.n_producers, game.dim)
            mine = int(np.argmin(np.abs(profile - own).max(axis=1)))  # any identical row will do
            others = game.users @ np.delete(profile, mine, axis=0).T
            weights = np.ones(others.shape[1])
        row = game.utilities_against(others, weights)
        if on_basis:
            return improvement(row, a, self.tol)
        current = game.utilities_against(others, weights, (game.users @ own)[:, None])[0]
        best = int(np.argmax(row))
        return bool(row[best] > current + self.tol * max(abs(current), 1e-12)), best

    def _action(self, own, a, improves, best):
        if self.action_type == "discrete":
            return best if improves else a
        if improves:
            action = np.zeros(self.game.dim, dtype=np.float32)
            action[best] = 1.0
            return action
        return own.astype(np.float32)


def _whole(values) -> bool:
    return bool(np.all(values == np.rint(values)))
