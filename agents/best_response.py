"""The paper's heuristic as a policy: ask for the best basis vector when it strictly improves.

With one :class:`BestResponseAgent` per producer, ``revision="one"`` and
``terminate_at_equilibrium=True``, an episode of :func:`recsys_eq_env.parallel_env` is exactly
:func:`recsys_eq_env.best_response_dynamics` from the same seed (tests/test_agents.py).
"""

from __future__ import annotations

import numpy as np

from recsys_eq_env import EngagementGame, continuous
from recsys_eq_env._checks import check_choice, check_tol
from recsys_eq_env.counts import best_move, strictly_improves
from recsys_eq_env.environment import EngagementEnv
from recsys_eq_env.functional import ACTION_TYPES, OBSERVATIONS, ObservationLayout, action_for

MEMO_SIZE = 4096


class BestResponseAgent:
    """Best response over basis vectors, computed from the observation alone.

    The agent knows the game (users, rule, temperature, utility). With the default
    ``observation="aggregate"`` it sees the other producers' content mass per feature, which is
    their count vector when they play basis vectors: the best response is then exact, and shares
    the game's cached deviation table with the env and every other agent. If the others play
    mixed content the mass is read as counts, which is exact for ``linear`` and ``uniform``
    serving and an approximation otherwise; use ``observation="full"`` for an exact answer.

    ``deviations`` is what it may move to: ``"basis"`` (the paper's heuristic; always with
    discrete actions) or ``"simplex"`` (its best response over the whole simplex, which
    exposure games need). By default it follows the game's ``default_deviations`` where its
    actions allow it.
    """

    def __init__(
        self,
        game: EngagementGame,
        action_type: str = "discrete",
        observation: str = "aggregate",
        tol: float = 1e-9,
        deviations: str | None = None,
    ):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        self.game = game
        self.action_type = check_choice(action_type, "action_type", ACTION_TYPES)
        self.observation = check_choice(observation, "observation", OBSERVATIONS)
        self.tol = check_tol(tol)
        if deviations is None and self.action_type == "discrete":
            deviations = "basis"
        self.deviations = game.check_deviations(deviations)
        if self.deviations == "simplex" and self.action_type == "discrete":
            raise ValueError("deviations='simplex' needs simplex or signed actions, not discrete")
        self._simplex = self.deviations == "simplex" and not continuous.vertex_is_optimal(game)
        self.layout = ObservationLayout(game.n_producers, game.dim, self.observation)
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
        return cls(env.game, env.action_type, env.observation, env.tol, env.deviations)

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
        own, middle, _ = self.layout.parse(raw)
        d = self.game.dim
        a = int(np.argmax(own))
        on_basis = own[a] == 1.0 and own.sum() == 1.0
        if self.observation == "aggregate" and on_basis and _whole(middle):
            counts = np.rint(middle).astype(np.int64)
            counts[a] += 1
            analysis = self.game.analyse_counts(counts, self.tol, self.deviations)
            improves, content = bool(analysis.improving[a]), analysis.responses[a]
        else:
            improves, content = self._general(own, middle, a, on_basis)
        if not improves:
            return a if self.action_type == "discrete" else action_for(None, self.action_type, d)
        return action_for(content, self.action_type)

    def _general(self, own, middle, a, on_basis):
        """Best response against others given as mass per feature or as a full profile."""
        game = self.game
        if self.observation == "aggregate":
            others, weights = game.users, middle
        else:
            profile = middle
            mine = int(np.argmin(np.abs(profile - own).max(axis=1)))  # any identical row will do
            others = game.users @ np.delete(profile, mine, axis=0).T
            weights = np.ones(others.shape[1])
        current = game.utilities_against(others, weights, (game.users @ own)[:, None])[0]
        if self._simplex:
            response = continuous.best_simplex_response(game, others, weights, current=own)
            return bool(strictly_improves(response.value, current, self.tol)), response.content
        row = game.utilities_against(others, weights)
        if on_basis:
            move = best_move(row, a, self.tol)
            improves, best = move.improves, move.best
        else:
            best = int(np.argmax(row))
            improves = bool(strictly_improves(float(row[best]), current, self.tol))
        content = np.zeros(game.dim)
        content[best] = 1.0
        return improves, content


def _whole(values) -> bool:
    return bool(np.all(values == np.rint(values)))
