"""``B`` independent engagement games stepped together in batched NumPy.

:func:`vector_env` takes the arguments of :func:`recsys_eq_env.parallel_env` plus ``num_envs``
and returns a :class:`VectorEngagementEnv`. Where PettingZoo's parallel env speaks in per-agent
dicts, this one speaks in arrays with a leading game axis:

==============  ===========================================================================
observations    (B, n, obs_dim) float32, the layout of the single env
actions         (B, n) integers (``discrete``) or (B, n, dim) reals
rewards         (B, n) float64
terminated      (B,) bool; truncated (B,) bool: episodes end per game
infos           a dict of arrays: ``utility`` (B, n), ``counts`` (B, dim), ``moved``
                (B, n), and with regrets on ``regret`` (B, n) and ``nash_conv`` (B,); with
                ``info_deviations=True`` ``deviation_rewards`` (B, n, dim)
==============  ===========================================================================

**Game b is step for step the single env.** ``reset(seed=s)`` seeds game ``b`` with
``s + b`` (as Gymnasium's vector envs do), and given the same actions game ``b`` makes exactly
the moves, observations, rewards and episode ends of ``parallel_env(...)`` reset with
``seed=s + b`` (integers exactly, floats to 1e-9 relative; tested over every action type,
revision and rule, across autoresets): each game keeps its own Generator and draws from it
what the single env draws.

**Autoreset** follows Gymnasium 1.x's vector API (:class:`gymnasium.vector.AutoresetMode`):

* ``NEXT_STEP`` (default): a game that ended is reset by the *next* call to :meth:`step`,
  which ignores that game's actions and returns its first observation with reward 0, as a
  single env's user calls ``reset()`` (without a seed: its Generator continues);
* ``SAME_STEP``: a game that ends is reset within the same step; the returned observation
  is the new episode's first, and the last one is in ``infos["final_obs"]`` (with
  ``infos["final_info"]`` and the mask ``infos["_final_obs"]``), as stable-baselines3
  expects;
* ``DISABLED``: finished games stay finished until ``reset(options={"reset_mask": mask})``;
  stepping one is an error.

**Speed.** Basis-vector profiles (discrete actions) take a count-vector path: one batched
``(B, dim) x (dim, n_users)`` product, a division and a ``(B, n_users) x (n_users, dim)``
product per step for every game at once. Mixed profiles take the full score path, game by
game through cache-sized buffers. ``dtype=np.float32`` halves the memory traffic of both
(rewards then carry about 1e-6 relative error); ``threads=2`` splits the batch over two
threads; BLAS runs single-threaded inside each step (see :mod:`recsys_eq_env._threads`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode

from . import _checks, serving
from ._budget import check_bytes
from ._threads import blas_limit
from .dynamics import initial_assignment
from .environment import EngagementEnv
from .functional import (
    analyse_profile,
    check_reset_options,
    check_seed,
    differing_requests,
    real_actions,
    requested_content,
    revise,
)
from .game import basis_assignment

__all__ = ["AutoresetMode", "VectorEngagementEnv", "vector_env"]

DTYPES = (np.float64, np.float32)


def vector_env(num_envs: int, **kwargs) -> VectorEngagementEnv:
    """``num_envs`` independent games, arguments as :func:`recsys_eq_env.parallel_env` plus
    ``dtype``, ``threads`` and ``autoreset_mode`` (see :class:`VectorEngagementEnv`)."""
    return VectorEngagementEnv(num_envs, **kwargs)


class VectorEngagementEnv:
    """
    # B engagement games at once (`recsys_eq_v0`, batched)

    `B` independent games of one `recsys_eq_env.EngagementGame`, stepped together in batched
    NumPy, with the arguments of `parallel_env` (PettingZoo's env, whose page says what the
    game, actions, observations, rewards and revision are). Arrays replace per-agent dicts.

    | Import | `recsys_eq_env.vector_env(num_envs, ...)`; SB3: `recsys_eq_env.wrappers.sb3.SB3VecEnv`; TorchRL: `recsys_eq_env.wrappers.torchrl.TorchRLEnv` |
    |---|---|
    | Agents | `producer_0 ... producer_{n-1}` in every game |
    | Action Shape | `(B, n)` (`discrete`) or `(B, n, dim)` (`simplex`, `signed`) |
    | Action Values | as the single env's, per game and producer |
    | Observation Shape | `(B, n, obs_dim)`, the single env's layout per producer |
    | Observation Values | as the single env's |
    | Parallel API | arrays: all producers of all games act at every step |

    ## Actions

    A `(B, n)` integer array of features (`action_type="discrete"`) or a `(B, n, dim)` array
    of contents (`simplex`, `signed`), with the single env's meaning per producer. The whole
    batch is validated before any game changes.

    ## Observations

    `(B, n, obs_dim)` float32, row `[b, i]` the observation producer `i` of game `b` would
    get from the single env (`recsys_eq_env.ObservationLayout`).

    ## Rewards

    `(B, n)` float64, the single env's rewards. `infos` is a dict of arrays: `utility`
    `(B, n)`, `counts` `(B, dim)`, `moved` `(B, n)`; with `info_regrets=True` `regret`
    `(B, n)` and `nash_conv` `(B,)`; with `info_deviations=True` `deviation_rewards`
    `(B, n, dim)`.

    ## Revision

    Per game, as the single env: `"simultaneous"` or `"one"`, each game drawing its mover
    from its own Generator.

    ## Starting State

    `reset(seed=s)` seeds game `b` with `s + b` (Gymnasium's vector convention) and draws its
    start as `parallel_env(...).reset(seed=s + b)` would: **game b is step for step the
    single env** given the same actions (integers exactly, floats to 1e-9 relative; tested
    over every action type, revision and rule, across autoresets). `options` may hold
    `"reset_mask"` (a `(B,)` bool array: reset only those games), `"assignment"` `(B, n)` or
    `"profile"` `(B, n, dim)`.

    ## Episode End

    Per game: `terminated` `(B,)` at an equilibrium (with `terminate_at_equilibrium=True`),
    `truncated` `(B,)` after `max_cycles` steps. What happens next is the autoreset mode of
    Gymnasium 1.x's vector API (`gymnasium.vector.AutoresetMode`):

    * `NEXT_STEP` (default): the next `step` resets a finished game (ignoring its actions)
      and returns its first observation with reward 0, as a single env's user would call
      `reset()` (no seed: its Generator continues);
    * `SAME_STEP`: a finished game is reset within the step; its last observation is in
      `infos["final_obs"]` (with `infos["final_info"]` and the mask `infos["_final_obs"]`),
      as stable-baselines3 expects;
    * `DISABLED`: finished games stay finished until `reset(options={"reset_mask": mask})`;
      stepping one is an error.

    ## Arguments

    `vector_env(num_envs, *, dtype=np.float64, threads=1, autoreset_mode=AutoresetMode.NEXT_STEP,
    **parallel_env_arguments)`

    * `num_envs`: the number of games B, an int >= 1.
    * `dtype`: `np.float64` (default) or `np.float32` for the batched utilities (half the
      memory traffic; rewards then carry about 1e-6 relative error).
    * `threads`: threads the batch is split over (default 1); each uses BLAS single-threaded.
    * `autoreset_mode`: see Episode End.
    * every argument of `parallel_env` (validated by it): the game or users and its
      parameters, `action_type`, `observation`, `observe_id`, `revision`,
      `terminate_at_equilibrium`, `max_cycles`, `init`, `reward_scale`, `tol`,
      `info_regrets`, `info_deviations`, `deviations`.

    ## Speed

    Basis-vector profiles (discrete actions) take a count-vector path: one `(B, dim) x
    (dim, n_users)` product, a division and an `(B, n_users) x (n_users, dim)` product per
    step for all games at once. Mixed profiles take the full score path game by game
    through cache-sized buffers. BLAS runs single-threaded inside a step
    (`RECSYS_EQ_BLAS_THREADS`).

    ## Version History

    * v0: initial release.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int,
        *,
        dtype=np.float64,
        threads: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **kwargs,
    ):
        self.num_envs = _checks.check_int(num_envs, "num_envs", minimum=1)
        self.render_mode = render_mode
        if render_mode is not None:
            raise ValueError("render_mode is not supported by the vector env; render a single env")
        # One single env validates every argument and carries the configuration.
        self.single = EngagementEnv(**kwargs)
        self.game = self.single.game
        try:
            known = np.dtype(dtype) in [np.dtype(t) for t in DTYPES]
        except TypeError:
            known = False
        if not known:
            raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        check_bytes(
            self.num_envs * kwargs.get("n_producers", 1) * (8 * 6 + 4 * 64),
            f"vector_env(num_envs={self.num_envs:,})",
            way_out="use fewer games per env (num_envs)",
        )
        self.threads = _checks.check_int(threads, "threads", minimum=1)
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            modes = ", ".join(m.value for m in AutoresetMode)
            raise ValueError(
                f"autoreset_mode must be one of {modes}, got {autoreset_mode!r}"
            ) from None
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        s = self.single
        self.n_producers, self.dim = s.n_producers, s.dim
        self.possible_agents = list(s.possible_agents)
        self.agents = list(s.possible_agents)
        self.layout = s.layout
        self.action_type, self.revision = s.action_type, s.revision
        self.single_observation_space = s.observation_space(self.agents[0])
        self.single_action_space = s.action_space(self.agents[0])
        b, n, dim = self.num_envs, self.n_producers, self.dim
        obs = self.single_observation_space
        self.observation_space = gymnasium.spaces.Box(
            np.broadcast_to(obs.low, (b, n, obs.shape[0])),
            np.broadcast_to(obs.high, (b, n, obs.shape[0])),
            dtype=np.float32,
        )
        if self.action_type == "discrete":
            self.action_space = gymnasium.spaces.MultiDiscrete(np.full((b, n), dim))
        else:
            low = 0.0 if self.action_type == "simplex" else -1.0
            self.action_space = gymnasium.spaces.Box(low, 1.0, (b, n, dim), dtype=np.float32)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._rngs: list[np.random.Generator | None] = [None] * b
        self.np_random_seeds: list[int | None] = [None] * b
        self.profile = np.zeros((b, n, dim))
        self._assignment: np.ndarray | None = None
        self.steps = np.zeros(b, dtype=np.int64)
        self._finished = np.zeros(b, dtype=bool)
        self._utilities = np.zeros((b, n))
        self._regrets = np.zeros((b, n))
        self._improvable = np.ones(b, dtype=bool)
        self._deviations = None
        self._started = False  # no state before the first reset()
        self._closed = False

    def __repr__(self) -> str:
        return f"VectorEngagementEnv(num_envs={self.num_envs}, {self.game!r})"

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_pool"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()
        self._closed = True

    def render(self):
        raise NotImplementedError(
            "the vector env does not render; render a single env (rq.parallel_env(..., "
            "render_mode='rgb_array'))"
        )

    # ------------------------------------------------------------------ episodes
    def reset(self, seed=None, options=None):
        """Reset every game (or those in ``options["reset_mask"]``).

        ``seed`` is an int (game b gets ``seed + b``), a list of one seed per game (None
        keeps that game's Generator), or None. ``options`` may also hold ``"assignment"``
        (B, n) or ``"profile"`` (B, n, dim) starts.
        """
        if self._closed:
            raise RuntimeError("reset() called on a closed env")
        options = check_reset_options(options, extra=("reset_mask",))
        mask = self._mask(options.pop("reset_mask", None))
        if not self._started and not mask.all():
            raise ValueError("the first reset() must reset every game (no reset_mask)")
        seeds = self._seeds(seed)
        for b in np.flatnonzero(mask):
            if seeds[b] is not None or self._rngs[b] is None:
                self._rngs[b], self.np_random_seeds[b] = seeding.np_random(seeds[b])
        self._start(mask, options)
        self._started = True
        infos = self._infos(np.zeros((self.num_envs, self.n_producers), dtype=bool))
        return self._observations(), infos

    def _mask(self, mask):
        if mask is None:
            return np.ones(self.num_envs, dtype=bool)
        mask = np.asarray(mask)
        if mask.shape != (self.num_envs,) or mask.dtype != bool:
            raise ValueError(
                f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), got "
                f"{mask.dtype} {mask.shape}"
            )
        return mask

    def _seeds(self, seed):
        b = self.num_envs
        if seed is None:
            return [None] * b
        if isinstance(seed, (list, tuple, np.ndarray)):
            seeds = list(seed)
            if len(seeds) != b:
                raise ValueError(f"seed must be an int or a list of {b} seeds, got {len(seeds)}")
            return [check_seed(s, f"seed[{i}]") for i, s in enumerate(seeds)]
        return [check_seed(seed) + i for i in range(b)]

    def _start(self, mask, options):
        """Draw (or take) the start of every masked game, then evaluate them."""
        n, dim = self.n_producers, self.dim
        single = self.single
        if "profile" in options:
            profiles = np.asarray(options["profile"], dtype=np.float64)
            if profiles.shape != (self.num_envs, n, dim):
                raise ValueError(
                    f"options['profile'] must have shape {(self.num_envs, n, dim)}, "
                    f"got {profiles.shape}"
                )
            for b in np.flatnonzero(mask):
                self.profile[b] = self.game.check_profile(profiles[b])
        elif "assignment" in options or single.init == "basis":
            if "assignment" in options:
                chosen = np.asarray(options["assignment"])
                if chosen.shape != (self.num_envs, n) or not np.issubdtype(
                    chosen.dtype, np.integer
                ):
                    raise ValueError(
                        f"options['assignment'] must be integers of shape {(self.num_envs, n)}"
                    )
                if chosen.min() < 0 or chosen.max() >= dim:
                    raise ValueError(f"options['assignment'] must hold features in 0..{dim - 1}")
            for b in np.flatnonzero(mask):
                if "assignment" in options:
                    assignment = chosen[b].astype(np.int64)
                else:
                    assignment = initial_assignment(self._rngs[b], n, dim)
                self.profile[b] = 0.0
                self.profile[b, np.arange(n), assignment] = 1.0
        else:
            for b in np.flatnonzero(mask):
                self.profile[b] = self._rngs[b].dirichlet(np.ones(dim), size=n)
        self._sync_assignment()
        self.steps[mask] = 0
        self._finished[mask] = False
        self._evaluate(mask)

    def _sync_assignment(self):
        """The (B, n) features when every producer of every game plays a basis vector."""
        features = basis_assignment(self.profile.reshape(-1, self.dim))
        self._assignment = None if features is None else features.reshape(self.num_envs, -1)

    # ------------------------------------------------------------------ step
    def step(self, actions):
        """Step every game; returns (observations, rewards, terminated, truncated, infos)."""
        if self._closed:
            raise RuntimeError("step() called on a closed env")
        if not self._started:
            raise RuntimeError("step() called before reset(): call reset() first")
        actions = self._check_actions(actions)  # everything validated before any change
        mode = self.autoreset_mode
        if mode == AutoresetMode.DISABLED and self._finished.any():
            raise ValueError(
                f"games {np.flatnonzero(self._finished).tolist()} have finished and "
                "autoreset_mode is DISABLED: reset them with "
                "reset(options={'reset_mask': mask}) before stepping"
            )
        b = self.num_envs
        restart = self._finished.copy() if mode == AutoresetMode.NEXT_STEP else np.zeros(b, bool)
        active = ~restart
        with blas_limit():
            moved = self._apply(actions, active)
            if restart.any():
                self._start(restart, {})
            self.steps[active] += 1
            self._evaluate(active)
        single = self.single
        terminated = np.logical_and(single.terminate_at_equilibrium, ~self._improvable) & active
        truncated = (self.steps >= single.max_cycles) & active
        rewards = self._utilities * self.layout.reward_scale
        rewards[restart] = 0.0
        counts = self._current_counts()
        infos = self._infos(moved, counts)
        ended = terminated | truncated
        self._finished = ended.copy()
        if mode == AutoresetMode.SAME_STEP and ended.any():
            infos["final_obs"] = self._observations()
            infos["final_info"] = {k: v.copy() for k, v in infos.items() if k != "final_obs"}
            infos["_final_obs"] = ended
            with blas_limit():
                self._start(ended, {})
            self._finished[:] = False
            counts = self._current_counts()
            for key, value in self._infos(moved, counts).items():
                infos[key] = value
        return self._observations(counts), rewards, terminated, truncated, infos

    def _check_actions(self, actions):
        b, n, dim = self.num_envs, self.n_producers, self.dim
        if self.action_type == "discrete":
            arr = np.asarray(actions)
            if arr.shape != (b, n):
                raise ValueError(f"actions must have shape (num_envs, n_producers) = {(b, n)}, "
                                 f"got {arr.shape}")  # fmt: skip
            if not np.issubdtype(arr.dtype, np.integer):
                raise TypeError(f"actions must be integer feature indices, got dtype {arr.dtype}")
            if arr.size and (arr.min() < 0 or arr.max() >= dim):
                bad = np.argwhere((arr < 0) | (arr >= dim))[0]
                raise ValueError(
                    f"actions must be in 0..{dim - 1}, got {int(arr[tuple(bad)])} for "
                    f"producer {int(bad[1])} of game {int(bad[0])}"
                )
            return arr.astype(np.int64, copy=False)
        arr = real_actions(actions)
        if arr.shape != (b, n, dim):
            raise ValueError(
                f"actions must have shape (num_envs, n_producers, dim) = {(b, n, dim)}, "
                f"got {arr.shape}"
            )
        finite = np.isfinite(arr)
        if not finite.all():
            game, producer = np.argwhere(~finite.all(axis=2))[0]
            raise ValueError(f"actions contain NaN or inf (game {game}, producer {producer})")
        if self.action_type == "simplex" and (arr < 0).any():
            game, producer = np.argwhere((arr < 0).any(axis=2))[0]
            raise ValueError(f"actions have negative entries (game {game}, producer {producer})")
        return arr

    def _apply(self, actions, active):
        """Apply every active game's requests under the revision rule; returns moved (B, n)."""
        b, n = self.num_envs, self.n_producers
        moved = np.zeros((b, n), dtype=bool)
        if self._assignment is not None and self.action_type == "discrete":
            differs = (actions != self._assignment) & active[:, None]
            moved = self._revise(differs, active)
            self._assignment = np.where(moved, actions, self._assignment)
            rows, producers = np.nonzero(moved)
            self.profile[rows, producers] = 0.0
            self.profile[rows, producers, self._assignment[rows, producers]] = 1.0
            return moved
        content, wants = requested_content(actions, self.action_type, self.dim)
        differs = differing_requests(self.profile, content, wants) & active[:, None]
        moved = self._revise(differs, active)
        self.profile[moved] = content[moved]
        self._sync_assignment()
        return moved

    def _revise(self, differs, active):
        """Which differing requests apply: all (simultaneous) or the first requester in each
        active game's random permutation (one), drawn from that game's Generator."""
        if self.revision == "simultaneous":
            return differs
        moved = np.zeros_like(differs)
        for b in np.flatnonzero(active):
            moved[b] = revise(differs[b], self.revision, self._rngs[b])
        return moved

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, games):
        """Utilities (and regrets, deviation rewards) of the given games."""
        games = np.flatnonzero(games)
        if games.size == 0:
            return
        single = self.single
        need_table = single.info_regrets or single.info_deviations
        if self._assignment is not None:
            assignment = self._assignment[games]
            counts = _counts(assignment, self.dim)
            per_feature = self._batched(self.game.oracle.batch_utilities, counts)
            self._utilities[games] = np.take_along_axis(per_feature, assignment, axis=1)
            if need_table:
                self._count_analyses(games, assignment)
            return
        for b in games:
            self._mixed(b, need_table)

    def _batched(self, function, counts):
        if self._pool is None or len(counts) < 2 * self.threads:
            return function(counts, self.dtype)
        parts = np.array_split(counts, self.threads)
        return np.concatenate(list(self._pool.map(lambda c: function(c, self.dtype), parts)))

    def _count_analyses(self, games, assignment):
        for row, b in enumerate(games):
            self._record(b, self._analyse(b, assignment[row]))

    def _mixed(self, b, need_table):
        if not need_table:
            self._utilities[b] = self._mixed_utilities(self.profile[b])
            return
        result = self._analyse(b, None)
        self._utilities[b] = result.utilities
        self._record(b, result)

    def _analyse(self, b, assignment):
        single = self.single
        return analyse_profile(
            self.game, self.profile[b], assignment, single.tol, single.deviations,
            single.info_regrets, single.info_deviations,
        )  # fmt: skip

    def _record(self, b, result):
        """Game b's regrets, equilibrium flag and deviation table (its utilities stay)."""
        if result.regrets is not None:
            self._regrets[b] = result.regrets
            self._improvable[b] = result.improvable
        if result.table is not None:
            if self._deviations is None:
                self._deviations = np.zeros((self.num_envs, self.n_producers, self.dim))
            self._deviations[b] = result.table

    def _mixed_utilities(self, profile):
        game = self.game
        if self.dtype == np.float64 or game.rule not in ("softmax", "linear"):
            return game._producer_utilities(profile)
        users_t = self._users_t32()
        work = getattr(self, "_work32", None)
        if work is None:
            shape = (self.n_producers, game.n_users)
            work = self._work32 = (
                users_t,
                np.empty(shape, np.float32),
                np.empty(shape, np.float32),
            )
        return serving.smooth_producer_utilities(
            users_t, profile.astype(np.float32), game.rule, game.temperature, game.utility, work[1:]
        ).astype(np.float64)

    def _users_t32(self):
        users_t = getattr(self, "_users_t_f32", None)
        if users_t is None:
            users_t = self._users_t_f32 = np.ascontiguousarray(self.game.users.T, np.float32)
        return users_t

    # ------------------------------------------------------------------ outputs
    def _current_counts(self):
        """(B, dim) producers per feature (of each producer's peak feature), from the
        assignment when every producer plays a basis vector (one bincount, no argmax)."""
        features = self._assignment
        if features is None:
            features = self.profile.argmax(axis=2)
        return _counts(features, self.dim)

    def _observations(self, counts=None):
        if self._assignment is None:
            counts = None
        elif counts is None:
            counts = self._current_counts()
        return self.layout.observe(self.profile, self._utilities, counts)

    def _infos(self, moved, counts=None):
        counts = self._current_counts() if counts is None else counts
        infos = {"utility": self._utilities.copy(), "counts": counts, "moved": moved}
        single = self.single
        if single.info_regrets:
            infos["regret"] = self._regrets.copy()
            infos["nash_conv"] = self._regrets.sum(axis=1)
        if single.info_deviations:
            infos["deviation_rewards"] = self._deviations * self.layout.reward_scale
        return infos


def _counts(assignment, dim):
    """(B, dim) producers per feature of (B, n) feature indices."""
    b = assignment.shape[0]
    offsets = assignment + dim * np.arange(b)[:, None]
    return np.bincount(offsets.ravel(), minlength=b * dim).reshape(b, dim)
