"""Full-information learners: Hedge, exponentiated gradient and logit response.

Both learn all producers at once from full-information feedback computed by the game (no
environment sampling noise), and both expose one policy per producer with the shared
``predict`` interface, so their current strategies run through :func:`agents.rollout`.

Rewards are divided by the largest utility any producer can earn (a lone producer on the best
feature), so they lie in [0, 1] and the learning rate means the same thing in every game.

* :class:`Hedge` (multiplicative weights; Freund and Schapire 1997): every producer keeps
  weights over the ``dim`` basis vectors, plays one drawn from them, then adds
  ``learning_rate * reward`` to the log-weight of *every* basis vector, using the utility it
  would have earned there against the others' plays (``deviation_utilities``).
* :class:`ExponentiatedGradient` (mirror ascent with the entropy mirror map): every producer
  plays a point of the simplex and moves it by ``x <- x * exp(learning_rate * grad) / Z``
  with the exact gradient of its utility (:mod:`recsys_eq_env.continuous`); producers drift
  to single features on their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import softmax

from recsys_eq_env import EngagementGame
from recsys_eq_env._checks import check_choice, check_positive_float
from recsys_eq_env.continuous import utility_and_gradient
from recsys_eq_env.functional import ACTION_TYPES, action_for
from recsys_eq_env.game import profile_from_assignment


def reward_scale(game: EngagementGame) -> float:
    """1 / (the largest utility any producer can earn): maps rewards into [0, 1]."""
    if game.utility == "exposure":
        return 1.0 / game.n_users
    return 1.0 / float(game.users.sum(axis=0).max())


class _Learner:
    game: EngagementGame

    def _basis_action(self, feature: int):
        """The env action that asks for basis vector ``feature`` (recsys_eq_env.action_for)."""
        return action_for(np.eye(self.game.dim)[feature], self.action_type)

    def policies(self, agents=None) -> dict:
        """One policy per producer (``producer_i`` by default), for :func:`agents.rollout`."""
        agents = agents or [f"producer_{i}" for i in range(self.game.n_producers)]
        return {agent: _Member(self, i) for i, agent in enumerate(agents)}


class _Member:
    """Producer ``i`` of a learner, with the shared ``predict`` interface."""

    def __init__(self, learner, index: int):
        self.learner = learner
        self.index = index

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return self.learner.action(self.index, deterministic), state


class Hedge(_Learner):
    """Multiplicative weights over basis vectors for every producer (full information)."""

    def __init__(
        self,
        game: EngagementGame,
        learning_rate: float = 300.0,
        seed=None,
        action_type: str = "discrete",
    ):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        self.game = game
        self.learning_rate = check_positive_float(learning_rate, "learning_rate")
        self.action_type = check_choice(action_type, "action_type", ACTION_TYPES)
        self.rng = np.random.default_rng(seed)
        self.log_weights = np.zeros((game.n_producers, game.dim))
        self.scale = reward_scale(game)
        self.steps = 0
        self.assignment = self.play()

    @property
    def strategies(self) -> np.ndarray:
        """(n_producers, dim) each producer's current distribution over basis vectors."""
        return softmax(self.log_weights, axis=1)

    def play(self) -> np.ndarray:
        """A basis vector for every producer, drawn from its strategy."""
        cumulative = np.cumsum(self.strategies, axis=1)
        draws = self.rng.random((self.game.n_producers, 1))
        return np.minimum((draws > cumulative).sum(axis=1), self.game.dim - 1)

    def step(self) -> np.ndarray:
        """Play, observe every basis vector's utility against the others, update."""
        assignment = self.play()
        counts = np.bincount(assignment, minlength=self.game.dim)
        table = self.game.deviation_table(counts)  # row a: a producer on a, moving anywhere
        rewards = table[assignment] * self.scale
        self.log_weights += self.learning_rate * rewards
        self.log_weights -= self.log_weights.max(axis=1, keepdims=True)  # keep them bounded
        self.assignment = assignment
        self.steps += 1
        return assignment

    def preferred_profile(self) -> np.ndarray:
        """Every producer on its most likely basis vector."""
        return profile_from_assignment(self.log_weights.argmax(axis=1), self.game.dim)

    def action(self, i: int, deterministic: bool = True):
        feature = (
            int(self.log_weights[i].argmax())
            if deterministic
            else int(self.rng.choice(self.game.dim, p=self.strategies[i]))
        )
        return self._basis_action(feature)

    def save(self, path) -> None:
        np.savez(
            Path(path),
            log_weights=self.log_weights,
            learning_rate=self.learning_rate,
            steps=self.steps,
            kind="hedge",
        )

    @classmethod
    def load(cls, path, game: EngagementGame, seed=None) -> Hedge:
        with np.load(Path(path)) as data:
            learner = cls(game, float(data["learning_rate"]), seed)
            learner.log_weights = data["log_weights"].copy()
            learner.steps = int(data["steps"])
        return learner


class ExponentiatedGradient(_Learner):
    """Mirror ascent on the simplex with the exact utility gradient, every producer at once."""

    def __init__(self, game: EngagementGame, learning_rate: float = 50.0, seed=None, start=None):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        self.game = game
        self.learning_rate = check_positive_float(learning_rate, "learning_rate")
        self.scale = reward_scale(game)
        rng = np.random.default_rng(seed)
        if start is None:  # a random interior point: identical producers would stay identical
            start = rng.dirichlet(np.ones(game.dim), size=game.n_producers)
        self.log_profile = np.log(game.check_profile(start))
        self.steps = 0

    @property
    def profile(self) -> np.ndarray:
        return softmax(self.log_profile, axis=1)

    def step(self) -> np.ndarray:
        profile = self.profile
        scores = self.game.users @ profile.T
        n = self.game.n_producers
        grads = np.empty_like(profile)
        for i in range(n):
            others = np.delete(scores, i, axis=1)
            grads[i] = utility_and_gradient(self.game, profile[i], others, np.ones(n - 1))[1]
        self.log_profile += self.learning_rate * self.scale * grads
        self.log_profile -= self.log_profile.max(axis=1, keepdims=True)
        self.steps += 1
        return self.profile

    def action(self, i: int, deterministic: bool = True):
        return self.profile[i].astype(np.float32)

    def save(self, path) -> None:
        np.savez(
            Path(path),
            log_profile=self.log_profile,
            learning_rate=self.learning_rate,
            steps=self.steps,
            kind="exponentiated-gradient",
        )

    @classmethod
    def load(cls, path, game: EngagementGame) -> ExponentiatedGradient:
        with np.load(Path(path)) as data:
            learner = cls(
                game, float(data["learning_rate"]), start=softmax(data["log_profile"], axis=1)
            )
            learner.log_profile = data["log_profile"].copy()
            learner.steps = int(data["steps"])
        return learner


class LogitResponse(_Learner):
    """Log-linear learning (Blume 1993): noisy best responses, one producer at a time.

    Every step one uniformly random producer redraws its basis vector with probability
    ``softmax(u / temperature)`` over its utility ``u`` at each basis vector against the
    others (full-information feedback, rewards scaled into [0, 1] as for Hedge). As the
    temperature goes to 0 this is the paper's best-response dynamics with a random mover; in a
    potential game it concentrates on the potential's maximisers (Marden and Shamma 2012).
    ``anneal`` multiplies the temperature every step.
    """

    def __init__(
        self,
        game: EngagementGame,
        temperature: float = 0.01,
        anneal: float = 1.0,
        seed=None,
        action_type: str = "discrete",
    ):
        if not isinstance(game, EngagementGame):
            raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
        self.game = game
        self.temperature = check_positive_float(temperature, "temperature")
        self.anneal = check_positive_float(anneal, "anneal")
        if self.anneal > 1:
            raise ValueError(f"anneal must be in (0, 1], got {anneal}")
        self.action_type = check_choice(action_type, "action_type", ACTION_TYPES)
        self.rng = np.random.default_rng(seed)
        self.scale = reward_scale(game)
        self.assignment = self.rng.integers(0, game.dim, size=game.n_producers)  # paper's start
        self.steps = 0

    def step(self) -> np.ndarray:
        i = int(self.rng.integers(self.game.n_producers))
        counts = np.bincount(self.assignment, minlength=self.game.dim)
        row = self.game.deviation_table(counts)[self.assignment[i]] * self.scale
        self.assignment[i] = self.rng.choice(self.game.dim, p=softmax(row / self.temperature))
        self.temperature *= self.anneal
        self.steps += 1
        return self.assignment

    def preferred_profile(self) -> np.ndarray:
        return profile_from_assignment(self.assignment, self.game.dim)

    def action(self, i: int, deterministic: bool = True):
        return self._basis_action(int(self.assignment[i]))
