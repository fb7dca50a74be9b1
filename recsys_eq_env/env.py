"""
# Producers competing for engagement (`recsys_eq_v0`)

A PettingZoo `ParallelEnv` of the engagement game of Acharya, Vangala, Wang and Ziani (TMLR
2025). Producers are agents; each chooses a content vector on the simplex; the platform serves
every user by the game's rule (softmax with a temperature, linear, top-k softmax, uniform or
hardmax); a producer is rewarded with the engagement (or exposure) it earns.

| Import | `recsys_eq_env.parallel_env(...)`, AEC view `recsys_eq_env.env(...)` |
|---|---|
| Agents | `producer_0 ... producer_{n-1}` |
| Action space | `Box(0, 1, (dim,))` (simplex), `Box(-1, 1, (dim,))` (signed), `Discrete(dim)` |
| Observation space | `Box(0, high, (2 * dim + 1,), float32)` by default |
| Parallel API | yes; AEC through `parallel_to_aec` |

## Actions

* `action_type="simplex"` (default): any non-negative vector of length `dim`, normalised to unit
  L1 norm (values above 1 are allowed; only proportions matter). **An all-zero action keeps the
  producer's current content.** A request within `1e-6` (max-norm) of the current content also
  counts as staying.
* `action_type="signed"`: a vector in `[-1, 1]^dim` (values outside are clipped), mapped to
  `(a + 1) / 2` and normalised; for learners whose Gaussian policies are centred at 0 (an
  untrained policy then asks for the centroid, and every basis vector is reachable at the
  bounds). All entries at -1 keep the current content.
* `action_type="discrete"`: an integer `j` in `0..dim-1`, the basis vector `e_j`.

## Observations

A fixed-shape float32 vector, the same layout for every agent:

| slice | default (`observation="aggregate"`) | `observation="full"` |
|---|---|---|
| `[0, dim)` | the agent's own content | the agent's own content |
| next | others' content mass per feature (`dim` values) | the profile, row by row (`n*dim`) |
| next | the agent's current reward (its utility at the current profile) | same |
| last `n` (only with `observe_id=True`) | one-hot agent index | same |

On basis-vector profiles the other producers' mass per feature is their count vector, which is
all a producer needs to compute its best response (MODEL.md section 2).

## Rewards

Each agent's utility under the game's rule at the new profile, divided by the number of users
(`reward_scale="per_user"`, default, in `[0, 1]`) or the raw sum the paper reports
(`reward_scale="raw"`). `infos[agent]` carries `utility` (raw), `regret` (best basis-vector
gain), `counts` (producers whose content peaks on each feature; the count vector on basis
profiles), `mass` (content mass per feature), `moved` (whether its request was applied) and
`nash_conv` (sum of all regrets). With `info_regrets=False` the regret and `nash_conv` are
left out (they cost one best-response computation per producer on mixed profiles); learners
that do not need them train faster.

## Revision

* `revision="simultaneous"` (default): every agent's request applies.
* `revision="one"`: the env draws a uniformly random permutation of the agents and applies the
  request of the first agent in it whose request differs from its current content; the others
  keep their content. With every agent asking for its best basis vector this is exactly the
  paper's best-response dynamics (`recsys_eq_env.best_response_dynamics` draws the same
  permutation from the same seed).

## Starting State

From the env's RNG (`reset(seed=...)`): every producer on a uniformly random basis vector
(`init="basis"`, the paper's start) or at a uniformly random simplex point (`init="simplex"`).
`reset(options={"assignment": [...]})` or `options={"profile": array}` fixes the start; other
option keys are ignored.

## Episode End

* terminated: with `terminate_at_equilibrium=True`, when no producer can improve by more than
  `tol` (relative, MODEL.md section 3) by a deviation of the kind `deviations` names:
  `"basis"` (basis vectors) or `"simplex"` (the whole simplex). By default the env checks the
  deviations its producers can make: basis vectors with discrete actions, and the game's
  `default_deviations` otherwise (basis vectors for engagement, where they are best
  responses; the simplex for exposure under linear or softmax serving, whose best responses
  are often interior). Regrets in the infos use the same deviations;
* truncated: after `max_steps` steps.

## Arguments

`parallel_env(users=None, n_producers=10, rule="softmax", temperature=1.0,
utility="engagement", k=None, game=None, action_type="simplex", observation="aggregate",
observe_id=False, revision="simultaneous", terminate_at_equilibrium=False, max_steps=500,
init="basis", reward_scale="per_user", tol=1e-9, info_regrets=True, deviations=None,
render_mode=None)`

`users` is a (n_users, dim) array (default: 1,000 synthetic uniform users in 5 dimensions,
seed 0). Instead of `users` and the game's parameters, pass a ready `game`
(`recsys_eq_env.EngagementGame`); passing both a game and any game parameter is an error.
`render_mode` is `"ansi"` (a table of the user vs producer distribution per feature) or
`"rgb_array"` (the same as a bar chart).

## Version History

* v0: initial release.
"""

from __future__ import annotations

import numbers

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from . import _checks
from .counts import strictly_improves
from .dynamics import check_assignment, initial_assignment
from .game import EngagementGame, basis_assignment, profile_from_assignment
from .render import ansi_table, bar_chart
from .users import synthetic_users, user_distribution

ACTION_TYPES = ("simplex", "signed", "discrete")
OBSERVATIONS = ("aggregate", "full")
REVISIONS = ("simultaneous", "one")
INITS = ("basis", "simplex")
REWARD_SCALES = ("per_user", "raw")
#: A simplex request within this max-norm distance of the current content means "stay".
STAY_TOL = 1e-6
#: The game's parameters and their defaults when the env builds the game itself.
GAME_DEFAULTS = {
    "n_producers": 10,
    "rule": "softmax",
    "temperature": 1.0,
    "utility": "engagement",
    "k": None,
}


def action_for(content, action_type: str, dim: int | None = None):
    """The action that asks for ``content`` (a point of the simplex) under ``action_type``.

    ``discrete``: the feature index (``content`` must be a basis vector); ``simplex``: the
    content itself; ``signed``: ``2 c / max(c) - 1``, which the env maps back to ``c``
    (``(a + 1) / 2``, normalised). ``content=None`` asks to keep the current content (all
    zeros for ``simplex``, all -1 for ``signed``; ``dim`` gives the length).
    """
    if action_type == "discrete":
        if content is None:
            raise ValueError("content is required for discrete actions (name the feature)")
        return int(np.argmax(content))
    if content is None:
        return np.full(dim, 0.0 if action_type == "simplex" else -1.0, dtype=np.float32)
    content = np.asarray(content, dtype=np.float64)
    if action_type == "simplex":
        return content.astype(np.float32)
    return (2.0 * content / content.max() - 1.0).astype(np.float32)


def parallel_env(**kwargs) -> EngagementEnv:
    """The PettingZoo parallel environment (see the module docstring for the arguments)."""
    return EngagementEnv(**kwargs)


def env(**kwargs):
    """The AEC view of :func:`parallel_env`."""
    return parallel_to_aec(EngagementEnv(**kwargs))


class EngagementEnv(ParallelEnv):
    """Producers choose content; users are served by the game's rule. See the module docstring."""

    metadata = {  # noqa: RUF012 (PettingZoo's convention: a class attribute)
        "name": "recsys_eq_v0",
        "render_modes": ["ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }

    def __init__(
        self,
        users=None,
        n_producers: int | None = None,
        rule: str | None = None,
        temperature: float | None = None,
        utility: str | None = None,
        k: int | None = None,
        game: EngagementGame | None = None,
        action_type: str = "simplex",
        observation: str = "aggregate",
        observe_id: bool = False,
        revision: str = "simultaneous",
        terminate_at_equilibrium: bool = False,
        max_steps: int = 500,
        init: str = "basis",
        reward_scale: str = "per_user",
        tol: float = 1e-9,
        info_regrets: bool = True,
        deviations: str | None = None,
        render_mode: str | None = None,
    ):
        params = {
            "n_producers": n_producers,
            "rule": rule,
            "temperature": temperature,
            "utility": utility,
            "k": k,
        }
        if game is not None:
            if not isinstance(game, EngagementGame):
                raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
            if users is not None:
                raise ValueError("pass either game or users (with the game's parameters), not both")
            given = [name for name, value in params.items() if value is not None]
            if given:
                raise ValueError(
                    f"game is given, so {', '.join(given)} would be ignored: pass the game's "
                    "parameters to EngagementGame, or users and parameters without game"
                )
            self.game = game
        else:
            if users is None:
                users = synthetic_users("uniform", n_users=1000, dim=5, seed=0)
            chosen = {
                name: GAME_DEFAULTS[name] if value is None else value
                for name, value in params.items()
            }
            self.game = EngagementGame(users, **chosen)
        self.action_type = _checks.check_choice(action_type, "action_type", ACTION_TYPES)
        self.observation = _checks.check_choice(observation, "observation", OBSERVATIONS)
        self.observe_id = _checks.check_bool(observe_id, "observe_id")
        self.revision = _checks.check_choice(revision, "revision", REVISIONS)
        self.terminate_at_equilibrium = _checks.check_bool(
            terminate_at_equilibrium, "terminate_at_equilibrium"
        )
        self.max_steps = _checks.check_int(max_steps, "max_steps", minimum=1)
        self.init = _checks.check_choice(init, "init", INITS)
        self.reward_scale = _checks.check_choice(reward_scale, "reward_scale", REWARD_SCALES)
        self.tol = _checks.check_tol(tol)
        self.info_regrets = _checks.check_bool(info_regrets, "info_regrets")
        if deviations is None and self.action_type == "discrete":
            deviations = "basis"  # the producers can only play basis vectors
        self.deviations = self.game.check_deviations(deviations)
        if terminate_at_equilibrium and not self.info_regrets:
            raise ValueError("terminate_at_equilibrium=True needs info_regrets=True")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode

        n, dim = self.game.n_producers, self.game.dim
        self.n_producers, self.dim = n, dim
        self.possible_agents = [f"producer_{i}" for i in range(n)]
        self.agent_name_mapping = {a: i for i, a in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self._reward_scale = 1.0 / self.game.n_users if reward_scale == "per_user" else 1.0
        self._user_dist = user_distribution(self.game.users)

        reward_high = 1.0 if reward_scale == "per_user" else float(self.game.n_users)
        middle = [float(max(n - 1, 1))] * dim if observation == "aggregate" else [1.0] * (n * dim)
        high = np.array(
            [1.0] * dim + middle + [reward_high] + ([1.0] * n if self.observe_id else []),
            dtype=np.float32,
        )
        obs_space = gymnasium.spaces.Box(0.0, high, dtype=np.float32)
        if action_type == "simplex":
            act_space = gymnasium.spaces.Box(0.0, 1.0, (dim,), dtype=np.float32)
        elif action_type == "signed":
            act_space = gymnasium.spaces.Box(-1.0, 1.0, (dim,), dtype=np.float32)
        else:
            act_space = gymnasium.spaces.Discrete(dim)
        # One object per agent, built once: PettingZoo's tests require the same object back.
        self._observation_spaces = {a: obs_space for a in self.possible_agents}
        self._action_spaces = {
            a: (act_space if i == 0 else _copy_space(act_space))
            for i, a in enumerate(self.possible_agents)
        }
        self.state_space = gymnasium.spaces.Box(0.0, 1.0, (n * dim,), dtype=np.float32)
        self._ids = np.eye(n, dtype=np.float32) if self.observe_id else None

        self.np_random: np.random.Generator | None = None
        self.np_random_seed: int | None = None
        self.profile = np.zeros((n, dim))
        self.steps = 0
        self._utilities = np.zeros(n)
        self._regrets = np.zeros(n)
        self._improvable = True

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent):
        return self._space(self._observation_spaces, agent)

    def action_space(self, agent):
        return self._space(self._action_spaces, agent)

    def _space(self, spaces, agent):
        try:
            return spaces[agent]
        except KeyError:
            raise ValueError(
                f"agent {agent!r} is not one of {self.possible_agents[0]}.."
                f"{self.possible_agents[-1]}"
            ) from None

    # ------------------------------------------------------------------ episode
    def reset(self, seed=None, options=None):
        if seed is not None or self.np_random is None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        options = options or {}
        n, dim = self.n_producers, self.dim
        if "profile" in options:
            self.profile = self.game.check_profile(options["profile"]).copy()
        elif "assignment" in options:
            assignment = check_assignment(options["assignment"], n, dim, "options['assignment']")
            self.profile = profile_from_assignment(assignment, dim)
        elif self.init == "basis":
            self.profile = profile_from_assignment(initial_assignment(self.np_random, n, dim), dim)
        else:
            self.profile = self.np_random.dirichlet(np.ones(dim), size=n)
        self.agents = list(self.possible_agents)
        self.steps = 0
        self._evaluate()
        moved = np.zeros(n, dtype=bool)
        return self._observations(), self._infos(moved)

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict of agent -> action, got {type(actions)}")
        requests = {}
        for agent, action in actions.items():
            if agent not in self.agent_name_mapping or agent not in self.agents:
                raise ValueError(
                    f"actions has an unknown agent {agent!r}; live agents are "
                    f"{self.agents[0]}..{self.agents[-1]}"
                )
            i = self.agent_name_mapping[agent]
            content = self._content(action, agent)
            if content is not None and np.max(np.abs(content - self.profile[i])) > STAY_TOL:
                requests[i] = content
        moved = np.zeros(self.n_producers, dtype=bool)
        if self.revision == "simultaneous":
            for i, content in requests.items():
                self.profile[i] = content
                moved[i] = True
        else:
            order = self.np_random.permutation(self.n_producers)
            for i in order:
                if int(i) in requests:
                    self.profile[i] = requests[int(i)]
                    moved[i] = True
                    break
        self.steps += 1
        self._evaluate()
        live = list(self.agents)
        terminated = self.terminate_at_equilibrium and not self._improvable
        truncated = self.steps >= self.max_steps
        observations = self._observations(live)
        rewards = {
            a: float(self._utilities[self.agent_name_mapping[a]] * self._reward_scale) for a in live
        }
        terminations = dict.fromkeys(live, bool(terminated))
        truncations = dict.fromkeys(live, bool(truncated))
        infos = self._infos(moved, live)
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The whole profile, row by row, as float32."""
        return self.profile.astype(np.float32).reshape(-1)

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        producers = self.profile.sum(axis=0) / self.n_producers
        if self.render_mode == "ansi":
            return ansi_table(self._user_dist, producers, self._counts(), self.steps)
        return bar_chart(self._user_dist, producers)

    def close(self):
        pass

    # ------------------------------------------------------------------ internals
    def _content(self, action, agent):
        """Validate one action; return the requested content, or None to stay."""
        if self.action_type == "discrete":
            value = action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(
                    f"action of {agent} must be an integer feature index, got {action!r}"
                )
            if not 0 <= int(value) < self.dim:
                raise ValueError(f"action of {agent} must be in 0..{self.dim - 1}, got {value}")
            content = np.zeros(self.dim)
            content[int(value)] = 1.0
            return content
        try:
            arr = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"action of {agent} must be a numeric array, got {action!r}") from None
        if arr.shape != (self.dim,):
            raise ValueError(f"action of {agent} must have shape ({self.dim},), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"action of {agent} contains NaN or inf: {arr.tolist()}")
        if self.action_type == "signed":
            arr = (np.clip(arr, -1.0, 1.0) + 1.0) / 2.0
        elif (arr < 0).any():
            raise ValueError(f"action of {agent} has negative entries: {arr.tolist()}")
        if arr.max() == 0:
            return None
        return _checks.normalise_rows(arr)  # overflow-safe: [1e308] * dim is the centroid

    def _evaluate(self):
        """Utilities, regrets and the equilibrium flag of the current profile."""
        game = self.game
        assignment = basis_assignment(self.profile)
        if assignment is not None:
            counts = np.bincount(assignment, minlength=self.dim)
            # Rewards need one pass over the users; regrets need the deviation table.
            self._utilities = game.oracle.utilities(counts)[assignment]
            if self.info_regrets:
                analysis = game._analysis(counts, self.tol, self.deviations)
                self._regrets = analysis.regrets[assignment]
                self._improvable = bool(analysis.improving.any())
            return
        self._utilities = game._producer_utilities(self.profile)
        if not self.info_regrets:
            return
        best = game._best_responses(self.profile, self.deviations).value
        self._regrets = np.maximum(best - self._utilities, 0.0)
        self._improvable = bool(strictly_improves(best, self._utilities, self.tol).any())

    def _counts(self) -> np.ndarray:
        return np.bincount(self.profile.argmax(axis=1), minlength=self.dim)

    def _observations(self, agents=None):
        """Every agent's observation, built as rows of one (n, obs_dim) float32 array."""
        agents = self.agents if agents is None else agents
        n, dim = self.n_producers, self.dim
        if self.observation == "aggregate":
            # Clip the float rounding of (total - own) so observations stay in their space.
            middle = np.clip(self.profile.sum(axis=0) - self.profile, 0.0, None)
        else:
            middle = np.broadcast_to(self.profile.reshape(1, n * dim), (n, n * dim))
        parts = [self.profile, middle, (self._utilities * self._reward_scale)[:, None]]
        if self.observe_id:
            parts.append(self._ids)
        table = np.concatenate(parts, axis=1, dtype=np.float32)
        return {agent: table[self.agent_name_mapping[agent]] for agent in agents}

    def _infos(self, moved, agents=None):
        agents = self.agents if agents is None else agents
        counts = self._counts()
        mass = self.profile.sum(axis=0)
        counts.setflags(write=False)
        mass.setflags(write=False)
        nash_conv = float(self._regrets.sum())
        infos = {}
        for agent in agents:
            i = self.agent_name_mapping[agent]
            info = {
                "utility": float(self._utilities[i]),
                "counts": counts,
                "mass": mass,
                "moved": bool(moved[i]),
            }
            if self.info_regrets:
                info["regret"] = float(self._regrets[i])
                info["nash_conv"] = nash_conv
            infos[agent] = info
        return infos


def _copy_space(space):
    """An equal but distinct space, so that agents' action spaces are seeded independently."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return gymnasium.spaces.Discrete(space.n)
    return gymnasium.spaces.Box(space.low, space.high, space.shape, dtype=space.dtype)
