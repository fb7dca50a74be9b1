"""The PettingZoo parallel environment of the engagement game (``recsys_eq_v0``).

Its documentation is the docstring of :class:`EngagementEnv`
(``help(recsys_eq_env.EngagementEnv)``), also reachable as ``recsys_eq_env.ENV_DOC``. The env
is a thin adapter (per-agent dicts) over the functional core :mod:`recsys_eq_env.functional`
with a game axis of one, the same functions the vector env runs.
"""

from __future__ import annotations

import numbers

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from . import functional as core
from ._threads import blas_limit
from .functional import (
    ACTION_TYPES,
    GAME_DEFAULTS,
    OBSERVATIONS,
    REVISIONS,
    STAY_TOL,
    EnvParams,
    EnvState,
    action_for,
    action_space,
    check_reset_options,
    check_seed,
    make_game,
    real_actions,
)
from .game import EngagementGame
from .render import ansi_table, bar_chart
from .users import user_distribution

__all__ = [
    "ACTION_TYPES",
    "GAME_DEFAULTS",
    "OBSERVATIONS",
    "REVISIONS",
    "STAY_TOL",
    "EngagementEnv",
    "action_for",
    "aec_env",
    "make_game",
    "parallel_env",
]
#: Settings the env reads from its parameters (``env.revision`` etc.).
_SETTINGS = (
    "action_type", "observation", "observe_id", "revision", "terminate_at_equilibrium",
    "max_cycles", "init", "reward_scale", "tol", "info_regrets", "info_deviations",
    "deviations", "layout",
)  # fmt: skip


def parallel_env(**kwargs) -> EngagementEnv:
    """The PettingZoo parallel environment; arguments as :class:`EngagementEnv`."""
    return EngagementEnv(**kwargs)


def aec_env(**kwargs):
    """The AEC view of :func:`parallel_env` (PettingZoo's ``parallel_to_aec``)."""
    return parallel_to_aec(EngagementEnv(**kwargs))


class EngagementEnv(ParallelEnv):
    """
    # Producers competing for engagement (`recsys_eq_v0`)

    A PettingZoo `ParallelEnv` of the engagement game of Acharya, Vangala, Wang and Ziani (TMLR
    2025). Producers are agents; each chooses a content vector on the simplex; the platform
    serves every user by the game's rule (softmax with a temperature, linear, top-k softmax,
    uniform or hardmax); a producer is rewarded with the engagement (or exposure) it earns.

    | Import | `recsys_eq_env.parallel_env(...)`; AEC: `recsys_eq_env.aec_env(...)`; batched: `recsys_eq_env.vector_env(num_envs, ...)` |
    |---|---|
    | Agents | `producer_0 ... producer_{n-1}` |
    | Action Shape | `(dim,)` (`simplex`, `signed`) or `()` (`discrete`) |
    | Action Values | `[0, 1]^dim` (`simplex`), `[-1, 1]^dim` (`signed`), `Discrete(dim)` |
    | Observation Shape | `(2 * dim + 1,)` by default; `(dim + n * dim + 1,)` with `observation="full"`; `+ n` with `observe_id=True` |
    | Observation Values | `[0, 1]` content, `[0, n - 1]` others' mass, `[0, 1]` reward (`per_user`) |
    | Parallel API | yes; AEC through `parallel_to_aec` |

    ## Actions

    * `action_type="simplex"` (default): any non-negative vector of length `dim`, normalised to
      unit L1 norm (only proportions matter; values far above 1 are fine). **An all-zero
      action keeps the producer's current content.** A request within `1e-6` (max-norm) of the
      current content also counts as staying.
    * `action_type="signed"`: a vector in `[-1, 1]^dim` (values outside are clipped), mapped to
      `(a + 1) / 2` and normalised; for learners whose Gaussian policies are centred at 0 (an
      untrained policy then asks for the centroid, and every basis vector is reachable at the
      bounds). All entries at -1 keep the current content.
    * `action_type="discrete"`: an integer `j` in `0..dim-1`, the basis vector `e_j`: the action
      type that learners should use (best responses are basis vectors, MODEL.md section 2).

    `recsys_eq_env.action_for(content, action_type)` gives the action that asks for a content.
    Agents missing from the actions dict keep their content.

    ## Observations

    A fixed-shape float32 vector, the same layout for every agent
    (`recsys_eq_env.ObservationLayout`, which also reads observations back):

    | slice | default (`observation="aggregate"`) | `observation="full"` |
    |---|---|---|
    | `[0, dim)` | the agent's own content | the agent's own content |
    | next | others' content mass per feature (`dim` values) | the profile, row by row (`n*dim`) |
    | next | the agent's current reward (its utility at the current profile) | same |
    | last `n` (only with `observe_id=True`) | one-hot agent index | same |

    On basis-vector profiles the other producers' mass per feature is their count vector, which
    is all a producer needs to compute its best response (MODEL.md section 2).

    ## Rewards

    Each agent's utility under the game's rule at the new profile, divided by the number of
    users (`reward_scale="per_user"`, default, in `[0, 1]`) or the raw sum the paper reports
    (`reward_scale="raw"`). `infos[agent]` carries `utility` (raw), `counts` (producers whose
    content peaks on each feature; the count vector on basis profiles), `mass` (content mass per
    feature), `moved` (whether its request was applied); with `info_regrets=True` also `regret`
    (its best gain by a deviation) and `nash_conv` (the sum of all regrets); with
    `info_deviations=True` also `deviation_rewards`: the reward it would get at every basis
    vector against the others' new content (full-information feedback, as Hedge gets).

    ## Revision

    * `revision="simultaneous"` (default): every agent's request applies.
    * `revision="one"`: the env draws a uniformly random permutation of the agents and applies
      the request of the first agent in it whose request differs from its current content; the
      others keep their content. The permutation of step t is the order of counter-based keys
      of (the episode's stream words, t, agent) (`recsys_eq_env.streams`; the words are drawn
      from the env's RNG right after the start). With every agent asking for its best basis
      vector this is exactly the paper's best-response dynamics
      (`recsys_eq_env.best_response_dynamics` draws the same start, words and permutations
      from the same seed). Learners should train here: under simultaneous revision even exact
      best responses herd onto the same feature.

    ## Starting State

    From the env's RNG (`reset(seed=...)`): every producer on a uniformly random basis vector
    (`init="basis"`, the paper's start) or at a uniformly random simplex point
    (`init="simplex"`). `reset(options={"assignment": [...]})` or `options={"profile": array}`
    fixes the start; other option keys are ignored.

    ## Episode End

    * terminated: with `terminate_at_equilibrium=True`, when no producer can improve by more
      than `tol` (relative, MODEL.md section 3) by a deviation of the kind `deviations` names;
    * truncated: after `max_cycles` steps.

    ## Arguments

    `parallel_env(users=None, n_producers=10, rule="softmax", temperature=1.0,
    utility="engagement", k=None, game=None, utility_cache=None, action_type="simplex",
    observation="aggregate", observe_id=False, revision="simultaneous",
    terminate_at_equilibrium=False, max_cycles=500, init="basis", reward_scale="per_user",
    tol=1e-9, info_regrets=True, info_deviations=False, deviations=None, costs=None,
    render_mode=None)`

    * `users`: a (n_users, dim) array of non-negative embeddings, rows L1-normalised by the env
      (default: 1,000 synthetic uniform users in 5 dimensions, seed 0).
    * `n_producers`: the number of producers, i.e. agents (default 10).
    * `rule`: the serving rule, `"softmax"` (default), `"linear"`, `"topk_softmax"`,
      `"uniform"` or `"hardmax"` (MODEL.md section 1).
    * `temperature`: the softmax temperature, > 0 (default 1; used by softmax and top-k).
    * `utility`: `"engagement"` (the paper's, default) or `"exposure"`.
    * `k`: each user's shortlist size for `"topk_softmax"` (only that rule takes it).
    * `game`: a ready `recsys_eq_env.EngagementGame` instead of `users` and the game
      parameters (these five, `utility_cache` and `costs`; passing both is an error); several
      envs may share one game and its caches, also from several threads.
    * `utility_cache`: how the game remembers count-vector utilities, `"auto"` (default when
      the env builds the game), `"table"`, `"lazy"` or `"off"`
      (`recsys_eq_env.EngagementGame`; not with `game`, which has its own).
    * `action_type`: `"simplex"` (default), `"signed"` or `"discrete"` (see Actions).
    * `observation`: `"aggregate"` (default) or `"full"` (see Observations).
    * `observe_id`: append a one-hot producer index to observations, so that one shared policy
      can tell producers apart (default False).
    * `revision`: `"simultaneous"` (default) or `"one"` (see Revision).
    * `terminate_at_equilibrium`: end the episode at an equilibrium (default False; needs
      `info_regrets=True`).
    * `max_cycles`: steps before truncation, >= 1 (default 500).
    * `init`: the start, `"basis"` (default) or `"simplex"` (see Starting State).
    * `reward_scale`: `"per_user"` (default) or `"raw"` (see Rewards).
    * `tol`: the relative improvement a deviation needs to count, finite and >= 0 (default
      1e-9, the paper's rule).
    * `info_regrets`: put every agent's regret and `nash_conv` in the infos (default True: the
      numbers an analysis wants at every step). They cost one deviation table per step: about
      4x the step on basis profiles, 3x on mixed ones; learners that do not read them turn them
      off.
    * `info_deviations`: put `deviation_rewards` (reward at every basis vector) in the infos
      (default False), the counterfactual feedback of full-information learners.
    * `deviations`: what regrets and the equilibrium test compare with: `"basis"` (basis
      vectors) or `"simplex"` (the whole simplex). Default: basis vectors with discrete actions
      (the producers cannot play anything else), else the game's `default_deviations` (basis
      vectors for engagement, where they are best responses; the simplex for exposure under
      linear or softmax serving, whose best responses are often interior).
    * `costs`: an optional (dim,) non-negative production cost per feature, in the utility's
      units summed over users (`recsys_eq_env.EngagementGame`): a producer's reward is what it
      is served minus the cost of its content, so rewards may be negative (the observation
      space's reward bound says how far). Checks are then over basis vectors only.
    * `render_mode`: `"human"` (prints a table of the user vs producer distribution per
      feature), `"ansi"` (returns that table) or `"rgb_array"` (the same as a bar chart).

    ## Version History

    * v0: initial release.
    """

    metadata = {  # noqa: RUF012 (PettingZoo's convention: a class attribute)
        "name": "recsys_eq_v0",
        "render_modes": ["human", "ansi", "rgb_array"],
        "is_parallelizable": True,
        "render_fps": 4,
    }

    def __init__(self, render_mode: str | None = None, **kwargs):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.params = EnvParams.build(**kwargs)
        self.game: EngagementGame = self.params.game
        for name in _SETTINGS:
            setattr(self, name, getattr(self.params, name))
        n, dim = self.game.n_producers, self.game.dim
        self.n_producers, self.dim = n, dim
        self.possible_agents = [f"producer_{i}" for i in range(n)]
        self.agent_name_mapping = {a: i for i, a in enumerate(self.possible_agents)}
        self.agents: list[str] = []
        self._user_dist = user_distribution(self.game.users)
        obs_space = self.layout.space()
        act_space = action_space(self.action_type, dim)
        # One object per agent, built once: PettingZoo's tests require the same object back.
        self._observation_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self._action_spaces = {
            a: (act_space if i == 0 else _copy_space(act_space))
            for i, a in enumerate(self.possible_agents)
        }
        self.state_space = gymnasium.spaces.Box(0.0, 1.0, (n * dim,), dtype=np.float32)
        self.np_random: np.random.Generator | None = None
        self.np_random_seed: int | None = None
        self._state = EnvState.empty(self.params, 1)
        self._started = False  # no state before the first reset()
        self._one = np.ones(1, dtype=bool)

    # ------------------------------------------------------------------ state views
    @property
    def profile(self) -> np.ndarray:
        """(n, dim) every producer's content."""
        return self._state.profile[0]

    @property
    def steps(self) -> int:
        return int(self._state.steps[0])

    @property
    def _assignment(self) -> np.ndarray | None:
        return None if self._state.assignment is None else self._state.assignment[0]

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
        seed = check_seed(seed)
        options = check_reset_options(options, strict=False)
        if seed is not None or self.np_random is None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        starts = {}
        if "profile" in options:
            starts["profile"] = self.game.check_profile(options["profile"])[None]
        if "assignment" in options:
            chosen = np.asarray(options["assignment"])
            if chosen.shape != (self.n_producers,):
                raise ValueError(
                    f"options['assignment'] must be integers of shape ({self.n_producers},)"
                )
            starts["assignment"] = chosen[None]
        starts = core.check_start_options(self.params, starts, 1)
        with blas_limit():
            core.initial(self.params, self._state, self._one, [self.np_random], starts)
        self.agents = list(self.possible_agents)
        self._started = True
        moved = np.zeros((1, self.n_producers), dtype=bool)
        return self._observations(self.agents), self._infos(moved, self.agents)

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        requested, given = self._requests(actions)  # everything validated before any change
        params, state = self.params, self._state
        with blas_limit():  # small products: BLAS threads would only spin (_threads.py)
            moved = core.transition(params, state, requested, self._one, given)
            core.evaluate(params, state, self._one)
        terminated, truncated = core.episode_end(params, state, self._one)
        terminated, truncated = bool(terminated[0]), bool(truncated[0])
        live = list(self.agents)
        observations = self._observations(live)
        scale = self.layout.reward_scale
        utilities = state.utilities[0]
        rewards = {a: float(utilities[self.agent_name_mapping[a]] * scale) for a in live}
        terminations = dict.fromkeys(live, terminated)
        truncations = dict.fromkeys(live, truncated)
        infos = self._infos(moved, live)
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The whole profile, row by row, as float32."""
        return self.profile.astype(np.float32).reshape(-1)

    def render(self):
        if not self._started:
            raise RuntimeError("render() called before reset(): there is no state to draw yet")
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        producers = self.profile.sum(axis=0) / self.n_producers
        if self.render_mode in ("ansi", "human"):
            table = ansi_table(self._user_dist, producers, self._state.counts[0], self.steps)
            if self.render_mode == "human":
                print(table, end="")  # a text env's human view: the table on the terminal
                return None
            return table
        return bar_chart(self._user_dist, producers)

    def close(self):
        self.agents = []  # a closed env steps no more (step() says to reset)

    # ------------------------------------------------------------------ dicts <-> arrays
    def _requests(self, actions):
        """((1, n) or (1, n, dim) requested, (1, n) given): the agents' actions as one batch
        of one game, validated by the core (absent agents keep their content)."""
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict of agent -> action, got {type(actions)}")
        n, dim = self.n_producers, self.dim
        discrete = self.action_type == "discrete"
        requested = np.zeros((1, n), dtype=np.int64) if discrete else np.zeros((1, n, dim))
        if discrete and self._assignment is not None:
            requested[0] = self._assignment  # absent agents ask for what they have
        given = np.zeros((1, n), dtype=bool)
        for agent, action in actions.items():
            i = self.agent_name_mapping.get(agent)
            if i is None or agent not in self.agents:
                raise ValueError(
                    f"actions has an unknown agent {agent!r}; live agents are "
                    f"{self.agents[0]}..{self.agents[-1]}"
                )
            requested[0, i] = self._one_action(action, agent)
            given[0, i] = True
        names = self.possible_agents
        checked = core.check_actions(self.params, requested, 1, lambda b, i: names[i])
        return checked, given

    def _one_action(self, action, agent):
        """One agent's action as a feature index or a (dim,) vector (its type and shape; the
        values are the core's to check)."""
        if self.action_type == "discrete":
            value = action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(
                    f"action of {agent} must be an integer feature index, got {action!r}"
                )
            return int(value)
        arr = real_actions(action, f"action of {agent}")
        if arr.shape != (self.dim,):
            raise ValueError(f"action of {agent} must have shape ({self.dim},), got {arr.shape}")
        return arr

    def _observations(self, agents):
        table = core.observe(self.params, self._state)[0]
        return {agent: table[self.agent_name_mapping[agent]] for agent in agents}

    def _infos(self, moved, agents):
        state = self._state
        counts = state.counts[0].copy()
        mass = self.profile.sum(axis=0)
        counts.setflags(write=False)
        mass.setflags(write=False)
        mask = None
        if self.action_type == "discrete":  # PettingZoo masks Discrete spaces only
            mask = np.ones(self.dim, dtype=np.int8)
            mask.setflags(write=False)
        nash_conv = float(state.regrets[0].sum())
        infos = {}
        for agent in agents:
            i = self.agent_name_mapping[agent]
            info = {
                "utility": float(state.utilities[0, i]),
                "counts": counts,
                "mass": mass,
                "moved": bool(moved[0, i]),
            }
            if mask is not None:
                info["action_mask"] = mask
            if self.info_regrets:
                info["regret"] = float(state.regrets[0, i])
                info["nash_conv"] = nash_conv
            if self.info_deviations:
                info["deviation_rewards"] = state.table[0, i] * self.layout.reward_scale
            infos[agent] = info
        return infos


def _copy_space(space):
    """An equal but distinct space, so that agents' action spaces are seeded independently."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return gymnasium.spaces.Discrete(space.n)
    return gymnasium.spaces.Box(space.low, space.high, space.shape, dtype=space.dtype)


#: The environment's documentation page (the class docstring), for ``help`` and the docs.
ENV_DOC = EngagementEnv.__doc__
