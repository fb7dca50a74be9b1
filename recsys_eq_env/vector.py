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
                (B, n), ``action_mask`` (B, n, dim) with discrete actions; with regrets on ``regret`` (B, n) and
                ``nash_conv`` (B,); with ``info_deviations=True`` ``deviation_rewards``
                (B, n, dim)
==============  ===========================================================================

**Game b is step for step the single env by construction**: both are adapters over the same
functions of :mod:`recsys_eq_env.functional` (the single env with a game axis of one).
``reset(seed=s)`` seeds game ``b`` with ``s + b`` (as Gymnasium's vector envs do), and each game
keeps its own Generator for its starts.

**Autoreset** follows Gymnasium 1.x's vector API (:class:`gymnasium.vector.AutoresetMode`).

**Speed.** Basis-vector profiles (discrete actions) take the count-vector path: the game's
utility cache (``utility_cache="table"``: a gather per step whose cost does not grow with the
number of users) or one batched ``(B, dim) x (dim, n_users)`` product blocked over users.
Revision ``"one"`` draws every game's mover in one array operation. Mixed profiles take the
full score path, game by game. ``dtype=np.float32`` halves the memory traffic; ``threads=2``
splits the batched kernel over two threads; BLAS runs single-threaded inside each step (see
:mod:`recsys_eq_env._threads`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode

from . import _checks
from . import functional as core
from ._budget import check_bytes
from ._threads import blas_limit
from .functional import EnvParams, EnvState, action_space, check_reset_options, check_seed

__all__ = ["AutoresetMode", "VectorEngagementEnv", "vector_env"]


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

    Per game, as the single env: `"simultaneous"` or `"one"`. Under `"one"` every game's mover
    comes from its own revision stream (`recsys_eq_env.streams`: counter-based keys of the
    game's stream words, the step and the producer), all games in one array operation.

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
      memory traffic; rewards then carry about 1e-6 relative error; where a user's scores
      span more than 80 temperatures the kernel runs in float64, never NaN).
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
        threads: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **kwargs,
    ):
        self.num_envs = _checks.check_int(num_envs, "num_envs", minimum=1)
        if render_mode is not None:
            raise ValueError("render_mode is not supported by the vector env; render a single env")
        self.render_mode = None
        self.params = params = EnvParams.build(**kwargs)
        self.game = params.game
        self.dtype = params.dtype
        self.threads = _checks.check_int(threads, "threads", minimum=1)
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            modes = ", ".join(m.value for m in AutoresetMode)
            raise ValueError(
                f"autoreset_mode must be one of {modes}, got {autoreset_mode!r}"
            ) from None
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        b, n, dim = self.num_envs, params.n_producers, params.dim
        check_bytes(
            b * n * (8 * (3 * dim + 6) + 4 * params.layout.size),
            f"vector_env(num_envs={b:,})",
            way_out="use fewer games per env (num_envs)",
        )
        self.n_producers, self.dim = n, dim
        self.possible_agents = [f"producer_{i}" for i in range(n)]
        self.agents = list(self.possible_agents)
        self.layout = params.layout
        self.action_type, self.revision = params.action_type, params.revision
        self.single_observation_space = self.layout.space()
        self.single_action_space = action_space(self.action_type, dim)
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
        if self._pool is not None:
            self.params = params = _threaded(params, self._pool, self.threads)
        self._rngs: list[np.random.Generator | None] = [None] * b
        self.np_random_seeds: list[int | None] = [None] * b
        self._state = EnvState.empty(params, b)
        self._finished = np.zeros(b, dtype=bool)
        self._started = False  # no state before the first reset()
        self._closed = False

    def __repr__(self) -> str:
        return f"VectorEngagementEnv(num_envs={self.num_envs}, {self.game!r})"

    # ------------------------------------------------------------------ state views
    @property
    def profile(self) -> np.ndarray:
        """(B, n, dim) every producer's content in every game."""
        return self._state.profile

    @property
    def steps(self) -> np.ndarray:
        return self._state.steps

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_pool"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads)
            self.params = _threaded(self.params, self._pool, self.threads)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()
        self._closed = True

    def action_masks(self) -> np.ndarray:
        """(B, n, dim) int8 ones: every feature is always a legal action."""
        return core.action_masks(self.params, self.num_envs)

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
        starts = core.check_start_options(self.params, options, self.num_envs)
        for b in np.flatnonzero(mask):
            if seeds[b] is not None or self._rngs[b] is None:
                self._rngs[b], self.np_random_seeds[b] = seeding.np_random(seeds[b])
        with blas_limit():
            core.initial(self.params, self._state, mask, self._rngs, starts)
        self._finished[mask] = False
        self._started = True
        moved = np.zeros((self.num_envs, self.n_producers), dtype=bool)
        return core.observe(self.params, self._state), self._infos(moved)

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

    # ------------------------------------------------------------------ step
    def step(self, actions):
        """Step every game; returns (observations, rewards, terminated, truncated, infos)."""
        if self._closed:
            raise RuntimeError("step() called on a closed env")
        if not self._started:
            raise RuntimeError("step() called before reset(): call reset() first")
        params, state = self.params, self._state
        actions = core.check_actions(params, actions, self.num_envs)  # before any change
        mode = self.autoreset_mode
        if mode == AutoresetMode.DISABLED and self._finished.any():
            raise ValueError(
                f"games {np.flatnonzero(self._finished).tolist()} have finished and "
                "autoreset_mode is DISABLED: reset them with "
                "reset(options={'reset_mask': mask}) before stepping"
            )
        restart = self._finished.copy() if mode == AutoresetMode.NEXT_STEP else None
        active = ~restart if restart is not None else np.ones(self.num_envs, dtype=bool)
        with blas_limit():
            moved = core.transition(params, state, actions, active)
            if restart is not None and restart.any():
                core.initial(params, state, restart, self._rngs, {})
            core.evaluate(params, state, active)
        terminated, truncated = core.episode_end(params, state, active)
        rewards = core.rewards(params, state)
        if restart is not None:
            rewards[restart] = 0.0
        infos = self._infos(moved)
        ended = terminated | truncated
        self._finished = ended.copy()
        if mode == AutoresetMode.SAME_STEP and ended.any():
            infos["final_obs"] = core.observe(params, state)
            infos["final_info"] = {k: v.copy() for k, v in infos.items() if k != "final_obs"}
            infos["_final_obs"] = ended
            with blas_limit():
                core.initial(params, state, ended, self._rngs, {})
            self._finished[:] = False
            infos.update(self._infos(moved))
        return core.observe(params, state), rewards, terminated, truncated, infos

    def _infos(self, moved):
        out = core.infos(self.params, self._state, moved)
        if self.action_type == "discrete":
            out["action_mask"] = core.action_masks(self.params, self.num_envs)
        return out


class _ThreadedGame:
    """The game with its batched kernel split over a thread pool (``threads > 1``)."""

    def __init__(self, game, pool, threads):
        self._game, self._pool, self._threads = game, pool, threads

    def __getattr__(self, name):
        return getattr(self._game, name)

    def batch_count_utilities(self, counts, dtype=np.float64):
        game = self._game
        if len(counts) < 2 * self._threads:
            return game.batch_count_utilities(counts, dtype)
        parts = np.array_split(counts, self._threads)
        return np.concatenate(
            list(self._pool.map(lambda c: game.batch_count_utilities(c, dtype), parts))
        )


def _threaded(params, pool, threads):
    from dataclasses import replace

    game = params.game._game if isinstance(params.game, _ThreadedGame) else params.game
    return replace(params, game=_ThreadedGame(game, pool, threads))
