"""The engagement game as a JAX environment in JaxMARL 0.2.0's shape (the ``jax`` extra).

:class:`JaxEngagementEnv` runs discrete actions (basis vectors) on the count-vector state:

* ``obs, state = env.reset(key)``; ``obs, state, rewards, dones, infos = env.step(key, state,
  actions)`` with per-agent dicts keyed by ``env.agents`` and ``dones["__all__"]``;
  finished games are reset inside ``step`` with ``jax.lax.select`` (JaxMARL's autoreset);
* pure functions of (key, state, actions): ``jax.jit`` and ``jax.vmap`` over games and seeds,
  and a trainer can compile together with it (:mod:`agents.jax_learners`);
* the same arithmetic as the NumPy envs (:mod:`recsys_eq_env.functional`): utilities from the
  count vector ``U(c)`` (every serving rule; exponentials shifted per user, or log space where
  a user's scores span more than the float range allows), the same revision stream
  (:mod:`recsys_eq_env.streams`: the same uint32 hash of the game's words, the step and the
  producer), the same observation layout (:class:`recsys_eq_env.ObservationLayout`). Given the
  same start and stream words it makes the NumPy vector env's moves, step for step;
* ``get_avail_actions(state)``: every feature, always (all ones);
* ``nash_conv`` and regrets in the infos (``info_regrets=True``), from the same ``U`` at the
  neighbouring count vectors, optionally through a lookup table over the whole lattice held
  as a device array (``table=True``: a step is then a gather whose cost does not grow with the
  number of users).

float32 by default; ``dtype="float64"`` needs JAX's 64-bit mode, switched on before any array
is made (``jax.config.update("jax_enable_x64", True)``). On a GPU it runs unchanged: install
``jax[cuda12]`` instead of the CPU wheels and the same code runs on ``jax.devices()[0]``.
Where ``jaxmarl`` is installed the class is a ``jaxmarl.environments.MultiAgentEnv``, so its
wrappers (``LogWrapper``, ...) apply.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks
from .counts import SAFE_EXPONENT, SAFE_EXPONENT_32
from .functional import EnvParams
from .game import EngagementGame
from .lattice import Lattice
from .observations import ObservationLayout

try:  # pragma: no cover - depends on the environment
    from jaxmarl.environments import spaces as _spaces
    from jaxmarl.environments.multi_agent_env import MultiAgentEnv as _Base

    HAS_JAXMARL = True
except ImportError:  # the env works without it; its wrappers need it
    _Base, _spaces, HAS_JAXMARL = object, None, False

__all__ = ["HAS_JAXMARL", "JaxEngagementEnv", "JaxState", "mover_keys"]

_M1, _M2, _GOLDEN = np.uint32(0x7FEB352D), np.uint32(0x846CA68B), np.uint32(0x9E3779B9)


# ---------------------------------------------------------------------- the revision stream
def _mix(x):
    x = x ^ (x >> 16)
    x = x * _M1
    x = x ^ (x >> 15)
    x = x * _M2
    return x ^ (x >> 16)


def mover_keys(words, step, n: int):
    """(n,) uint32 keys of a game's producers at ``step``: recsys_eq_env.streams.mover_keys in
    jax.numpy (the same bits)."""
    producers = jnp.arange(n, dtype=jnp.uint32)
    h = _mix(jnp.asarray(step, jnp.uint32) * _GOLDEN + producers)
    h = _mix(h ^ words[0])
    return _mix(h + words[1] * _GOLDEN)


# ---------------------------------------------------------------------- spaces
class Discrete(NamedTuple):
    """A JaxMARL-style discrete space (``jaxmarl.environments.spaces.Discrete`` if installed)."""

    n: int
    shape: tuple = ()
    dtype: object = jnp.int32

    def sample(self, key):
        return jax.random.randint(key, self.shape, 0, self.n, dtype=self.dtype)

    def contains(self, x) -> bool:
        return bool(jnp.all((x >= 0) & (x < self.n)))


class Box(NamedTuple):
    """A JaxMARL-style box (``jaxmarl.environments.spaces.Box`` if installed)."""

    low: object
    high: object
    shape: tuple
    dtype: object = jnp.float32

    def sample(self, key):
        return jax.random.uniform(key, self.shape, self.dtype, self.low, self.high)

    def contains(self, x) -> bool:
        return bool(jnp.all((x >= self.low) & (x <= self.high)))


def _discrete(n):
    return _spaces.Discrete(n) if HAS_JAXMARL else Discrete(n)


def _box(low, high, shape, dtype):
    return _spaces.Box(low, high, shape, dtype) if HAS_JAXMARL else Box(low, high, shape, dtype)


# ---------------------------------------------------------------------- state
class JaxState(NamedTuple):
    """One game: every producer's feature, the count vector, the stream words, and what the
    last evaluation found (``done`` and ``step`` as JaxMARL's ``State``)."""

    assignment: jnp.ndarray  # (n,) int32
    counts: jnp.ndarray  # (dim,) int32
    words: jnp.ndarray  # (2,) uint32
    step: jnp.ndarray  # () int32
    done: jnp.ndarray  # () bool
    utilities: jnp.ndarray  # (n,)
    regrets: jnp.ndarray  # (n,)
    improvable: jnp.ndarray  # () bool
    #: (n, dim) every producer's utility at every basis vector (``info_deviations``), else
    #: (n, 0).
    deviations: jnp.ndarray


# ---------------------------------------------------------------------- U(c) per rule
class _Utilities:
    """``U(c)``: (..., dim) count vectors -> (..., dim) utilities, the rule's formula over the
    population: the same numbers as ``game.batch_count_utilities`` to rounding. The
    population's arrays are :attr:`consts`, passed to :meth:`apply` as data (a compiled step
    then depends only on the shapes and the rule, so one program serves every population of
    its shape, and JAX's persistent cache can keep it)."""

    def __init__(self, game: EngagementGame, dtype):
        if game.costs is not None:
            raise ValueError(
                "the JAX env has no production costs yet: use the NumPy envs for a game with "
                "costs (parallel_env, vector_env)"
            )
        users = np.asarray(game.users)
        self.dim, self.n, self.dtype = game.dim, game.n_producers, dtype
        self.engaged = game.utility == "engagement"
        rule = game.rule
        if rule == "topk_softmax" and game.k >= game.n_producers:
            rule = "softmax"
        self.rule = rule
        self.k = game.k if rule == "topk_softmax" else None
        self.log_space = False
        consts = {
            "values": jnp.asarray(users if self.engaged else np.ones_like(users), dtype),
            "users": jnp.asarray(users, dtype),
        }
        if rule in ("softmax", "topk_softmax"):
            z = users / game.temperature
            z = z - z.max(axis=1, keepdims=True)
            limit = SAFE_EXPONENT_32 if dtype == jnp.float32 else SAFE_EXPONENT
            self.log_space = bool((-z.min(axis=1) >= limit).any())
            consts["z"] = jnp.asarray(z, dtype)
            consts["a"] = jnp.asarray(np.exp(z), dtype)
        if rule == "topk_softmax":
            order = np.argsort(-users, axis=1, kind="stable")
            u_sorted = np.take_along_axis(users, order, axis=1)
            positions = np.arange(self.dim)
            starts = np.ones(users.shape, dtype=bool)
            starts[:, 1:] = u_sorted[:, 1:] != u_sorted[:, :-1]
            ends = np.ones(users.shape, dtype=bool)
            ends[:, :-1] = starts[:, 1:]
            consts["order"] = jnp.asarray(order)
            consts["inverse"] = jnp.asarray(np.argsort(order, axis=1))
            consts["group_start"] = jnp.asarray(
                np.maximum.accumulate(np.where(starts, positions, 0), 1)
            )
            consts["group_end"] = jnp.asarray(
                np.minimum.accumulate(np.where(ends, positions, self.dim - 1)[:, ::-1], 1)[:, ::-1]
            )
        self.consts = consts
        #: what the compiled program depends on besides shapes
        self.signature = (self.rule, self.engaged, self.k, self.log_space, users.shape)

    def apply(self, consts, counts):
        c = counts.astype(self.dtype)
        occupied = counts > 0
        rule, values, users = self.rule, consts["values"], consts["users"]
        if rule == "uniform":
            out = jnp.broadcast_to(values.sum(0), c.shape) / self.n
        elif rule == "linear":
            total = c @ users.T  # (..., K) everybody's score per user
            inverse = jnp.where(total > 0, 1.0 / jnp.where(total > 0, total, 1.0), 0.0)
            out = inverse @ (users * values)
            if not self.engaged:  # users nobody reaches are served uniformly
                out = out + (total == 0).sum(-1, keepdims=True).astype(self.dtype) / self.n
        elif rule == "softmax":
            if self.log_space:
                log_c = jnp.where(occupied, jnp.log(jnp.where(occupied, c, 1.0)), -jnp.inf)
                zc = consts["z"] + log_c[..., None, :]  # (..., K, dim)
                lse = jax.scipy.special.logsumexp(zc, axis=-1, keepdims=True)
                p = jnp.exp(consts["z"] - lse)  # a producer on j's probability, per user
                out = (p * values).sum(-2)
            else:
                partition = c @ consts["a"].T  # (..., K)
                out = (1.0 / partition) @ (consts["a"] * values)
        elif rule == "hardmax":
            scores = jnp.where(occupied[..., None, :], users, -jnp.inf)  # (..., K, dim)
            best = scores.max(-1, keepdims=True)
            top = users == best
            tied = (top * c[..., None, :]).sum(-1, keepdims=True)
            out = (top * values / tied).sum(-2)
        else:
            out = self._topk(consts, c)
        return jnp.where(occupied, out, 0.0)

    def _topk(self, consts, c):
        """Top-k softmax from counts: in each user's sorted order, a tie group shares the slots
        left above it; every included producer's weight is its share (serving.topk_weights),
        all in log space (finite for any temperature)."""

        def along(arr, index):  # a per-user (K, dim) index, broadcast over the batch
            return jnp.take_along_axis(arr, jnp.broadcast_to(index, arr.shape), axis=-1)

        order = consts["order"]
        w = c[..., order]  # (..., K, dim): the producers per feature, in sorted order
        through = jnp.cumsum(w, axis=-1)
        before = through - w
        above = along(before, consts["group_start"])
        tied = along(through, consts["group_end"]) - above
        share = jnp.clip((self.k - above) / jnp.where(tied > 0, tied, 1.0), 0.0, 1.0)
        z = jnp.take_along_axis(consts["z"], order, axis=-1)
        mass = w * share
        log_w = jnp.where(mass > 0, jnp.log(jnp.where(mass > 0, mass, 1.0)), -jnp.inf)
        lse = jax.scipy.special.logsumexp(z + log_w, axis=-1, keepdims=True)
        p = jnp.where(share > 0, share * jnp.exp(z - lse), 0.0)  # one producer of the group
        p = along(p, consts["inverse"])  # back to feature order
        return (p * consts["values"]).sum(-2)


# ---------------------------------------------------------------------- the env
class JaxEngagementEnv(_Base):
    """The engagement game as a pure JAX env (module docstring).

    Arguments: ``game`` (an :class:`recsys_eq_env.EngagementGame`), ``revision``
    (``"simultaneous"`` or ``"one"``), ``observation`` and ``observe_id`` (the NumPy env's
    layout), ``max_cycles``, ``reward_scale`` (``"per_user"`` or ``"raw"``),
    ``terminate_at_equilibrium``, ``info_regrets``, ``tol``, ``dtype`` (``"float32"`` or
    ``"float64"``), ``table`` (utilities through a lookup table over the lattice, held as a
    device array; ``"auto"``, the default: where the game's utility cache would build one,
    :func:`recsys_eq_env.utility_cache.choose`) and ``action_type`` (``"discrete"``, the only one).
    """

    def __init__(
        self,
        game: EngagementGame,
        action_type: str = "discrete",
        revision: str = "one",
        observation: str = "aggregate",
        observe_id: bool = False,
        max_cycles: int = 500,
        reward_scale: str = "per_user",
        terminate_at_equilibrium: bool = False,
        info_regrets: bool = True,
        tol: float = 1e-9,
        dtype: str = "float32",
        table: bool | str = "auto",
        info_deviations: bool = False,
    ):
        if action_type != "discrete":
            raise ValueError(
                f"action_type must be 'discrete' for the JAX env (basis vectors on the "
                f"count-vector state), got {action_type!r}"
            )
        params = EnvParams.build(
            game=game, action_type="discrete", observation=observation, observe_id=observe_id,
            revision=revision, max_cycles=max_cycles, reward_scale=reward_scale,
            terminate_at_equilibrium=terminate_at_equilibrium, info_regrets=info_regrets,
            tol=tol,
        )  # fmt: skip
        if params.deviations != "basis":  # pragma: no cover - discrete actions mean basis
            raise ValueError("the JAX env checks basis deviations")
        dtype = _checks.check_choice(dtype, "dtype", ("float32", "float64"))
        if dtype == "float64" and not jax.config.jax_enable_x64:
            raise ValueError(
                "dtype='float64' needs JAX's 64-bit mode: call "
                "jax.config.update('jax_enable_x64', True) before making any array"
            )
        n, dim = game.n_producers, game.dim
        if _Base is not object:
            super().__init__(num_agents=n)
        self.game, self.params = game, params
        self.num_agents, self.dim = n, dim
        self.n_producers = n
        self.agents = [f"producer_{i}" for i in range(n)]
        self.dtype = jnp.float32 if dtype == "float32" else jnp.float64
        self.layout: ObservationLayout = params.layout
        self.revision, self.max_cycles = params.revision, params.max_cycles
        self.terminate = params.terminate_at_equilibrium
        self.info_regrets, self.tol = params.info_regrets, params.tol
        self.info_deviations = bool(info_deviations)
        self.reward_scale = params.layout.reward_scale
        self._u = _Utilities(game, self.dtype)
        #: the population's arrays, data of every step (``consts`` arguments)
        self.consts = {"u": self._u.consts}
        if isinstance(table, str):
            from .utility_cache import batched_rule, choose

            _checks.check_choice(table, "table", ("auto",))
            batched = batched_rule(game.rule, n, game.k)
            table = choose("auto", n, dim, game.n_users, batched) == "table"
        if not isinstance(table, (bool, np.bool_)):
            raise TypeError(f"table must be True, False or 'auto', got {table!r}")
        self.table = bool(table)
        if table:
            lattice = Lattice(n, dim)
            if lattice.size >= 2**31:
                raise ValueError(f"table=True: {lattice.size:,} count vectors, too many")
            cache = game.cache
            if cache is not None and cache.mode == "table":  # the game's own table, shared
                cache.fill()
                values = cache._table
            else:
                values = game.batch_count_utilities(lattice.unrank(np.arange(lattice.size)))
            self.consts["table"] = jnp.asarray(values, self.dtype)
            self.consts["binomials"] = jnp.asarray(lattice._table, jnp.int32)
        self._signature = (
            self._u.signature, n, dim, self.revision, self.layout, self.max_cycles,
            self.terminate, self.info_regrets, self.info_deviations, self.tol,
            str(self.dtype), self.table,
        )  # fmt: skip
        space = self.layout.space()
        self.observation_spaces = {
            a: _box(space.low, space.high, space.shape, jnp.float32) for a in self.agents
        }
        self.action_spaces = {a: _discrete(dim) for a in self.agents}

    # ------------------------------------------------------------------ JaxMARL's API
    def observation_space(self, agent: str):
        return self.observation_spaces[agent]

    def action_space(self, agent: str):
        return self.action_spaces[agent]

    def get_avail_actions(self, state: JaxState) -> dict:
        """Every feature is always a legal action: ones, per agent."""
        ones = jnp.ones(self.dim, dtype=jnp.int32)
        return {a: ones for a in self.agents}

    def reset(self, key, consts=None):
        """(observations, state) of a new game: every producer on a uniformly random feature,
        the stream words drawn from ``key``."""
        start_key, words_key = jax.random.split(key)
        assignment = jax.random.randint(start_key, (self.n_producers,), 0, self.dim)
        words = jax.random.bits(words_key, (2,), jnp.uint32)
        state = self.state_from(assignment, words, consts)
        return self.get_obs(state), state

    def state_from(self, assignment, words, consts=None) -> JaxState:
        """The state of a game that starts from ``assignment`` (n,) with stream ``words``
        (2,) uint32 (a NumPy env's ``words``: the same moves follow)."""
        assignment = jnp.asarray(assignment, jnp.int32)
        state = JaxState(
            assignment=assignment,
            counts=self._counts(assignment),
            words=jnp.asarray(words, jnp.uint32),
            step=jnp.zeros((), jnp.int32),
            done=jnp.zeros((), bool),
            utilities=jnp.zeros(self.n_producers, self.dtype),
            regrets=jnp.zeros(self.n_producers, self.dtype),
            improvable=jnp.ones((), bool),
            deviations=jnp.zeros(
                (self.n_producers, self.dim if self.info_deviations else 0), self.dtype
            ),
        )
        return self._evaluate(state, consts)

    def step(self, key, state, actions, reset_state=None, consts=None):
        """One step, then JaxMARL's autoreset: a finished game's state and observations are
        replaced by a fresh start's (``jax.lax.select``); rewards, dones and infos are the
        step's own. As in JaxMARL, ``reset_state`` (an evaluated start, e.g. from
        :meth:`reset`) replaces the fresh start: under ``vmap`` both branches of the select
        are computed at every step, and a given start saves evaluating one."""
        key, reset_key = jax.random.split(key)
        obs_st, state_st, rewards, dones, infos = self.step_env(key, state, actions, consts)
        if reset_state is None:
            obs_re, state_re = self.reset(reset_key, consts)
        else:
            state_re, obs_re = reset_state, self.get_obs(reset_state)
        done = dones["__all__"]
        state = jax.tree_util.tree_map(lambda x, y: jax.lax.select(done, x, y), state_re, state_st)
        obs = jax.tree_util.tree_map(lambda x, y: jax.lax.select(done, x, y), obs_re, obs_st)
        return obs, state, rewards, dones, infos

    def step_env(self, key, state, actions, consts=None):
        """One step without autoreset: (observations, state, rewards, dones, infos).

        ``consts`` (default :attr:`consts`) are the population's arrays: a trainer passes
        them as data so that its compiled program serves every population of this shape."""
        requested = jnp.stack([jnp.asarray(actions[a], jnp.int32) for a in self.agents])
        differs = requested != state.assignment
        if self.revision == "one":  # the requester with the smallest key (streams.py)
            keys = mover_keys(state.words, state.step, self.n_producers)
            masked = jnp.where(differs, keys, jnp.array(np.iinfo(np.uint32).max, jnp.uint32))
            first = jnp.argmin(masked)
            # every requester's key is the mask value itself (probability ~2^-32): the first
            # requester, as the NumPy envs' int64 keys decide
            first = jnp.where(differs[first], first, jnp.argmax(differs))
            moved = differs & (jnp.arange(self.n_producers) == first)
        else:
            moved = differs
        assignment = jnp.where(moved, requested, state.assignment)
        state = state._replace(
            assignment=assignment, counts=self._counts(assignment), step=state.step + 1
        )
        state = self._evaluate(state, consts)
        done = state.step >= self.max_cycles
        if self.terminate:
            done = done | ~state.improvable
        state = state._replace(done=done)
        rewards = {a: state.utilities[i] * self.reward_scale for i, a in enumerate(self.agents)}
        dones = {a: done for a in self.agents}
        dones["__all__"] = done
        infos = {"utility": state.utilities, "counts": state.counts, "moved": moved}
        if self.info_regrets:
            infos["regret"] = state.regrets
            infos["nash_conv"] = state.regrets.sum()
        if self.info_deviations:
            infos["deviation_rewards"] = state.deviations * self.reward_scale
        return self.get_obs(state), state, rewards, dones, infos

    def get_obs(self, state) -> dict:
        """Every agent's observation, the NumPy env's layout (float32)."""
        n, dim, layout = self.n_producers, self.dim, self.layout
        own = jax.nn.one_hot(state.assignment, dim, dtype=jnp.float32)  # (n, dim)
        if layout.observation == "aggregate":
            middle = state.counts.astype(jnp.float32)[None, :] - own
        else:
            middle = jnp.broadcast_to(own.reshape(1, n * dim), (n, n * dim))
        reward = (state.utilities * self.reward_scale).astype(jnp.float32)[:, None]
        parts = [own, middle, reward]
        if layout.observe_id:
            parts.append(jnp.eye(n, dtype=jnp.float32))
        table = jnp.concatenate(parts, axis=1)
        return {a: table[i] for i, a in enumerate(self.agents)}

    # ------------------------------------------------------------------ arithmetic
    def _counts(self, assignment):
        return jnp.zeros(self.dim, jnp.int32).at[assignment].add(1)

    def _rank(self, counts, binomials):
        """Lattice ranks of (..., dim) count vectors (recsys_eq_env.lattice, in jnp)."""
        bars = jnp.cumsum(counts[..., :-1], axis=-1) + jnp.arange(self.dim - 1)
        return binomials[bars, jnp.arange(1, self.dim)].sum(-1)

    def utilities_of(self, counts, consts=None):
        """(..., dim) ``U`` of (..., dim) count vectors (the table where there is one)."""
        consts = self.consts if consts is None else consts
        if self.table:
            return consts["table"][self._rank(counts, consts["binomials"])]
        return self._u.apply(consts["u"], counts)

    def _evaluate(self, state, consts=None):
        counts, assignment = state.counts, state.assignment
        per_feature = self.utilities_of(counts, consts)
        utilities = per_feature[assignment]
        if not (self.info_regrets or self.info_deviations):
            return state._replace(utilities=utilities)
        dim = self.dim
        eye = jnp.eye(dim, dtype=jnp.int32)
        moved = counts[None, None, :] - eye[:, None, :] + eye[None, :, :]  # (a, b, dim)
        moved = jnp.where((counts > 0)[:, None, None], moved, counts[None, None, :])
        table = self.utilities_of(moved, consts)  # (a, b, dim)
        rows = jnp.take_along_axis(table, jnp.arange(dim)[None, :, None], axis=2)[..., 0]
        diagonal = per_feature
        best = rows.max(axis=1)
        scale = self.tol * jnp.maximum(jnp.abs(diagonal), 1e-12)
        improving = (counts > 0) & (best > diagonal + scale)
        regrets = jnp.maximum(best - diagonal, 0.0)
        return state._replace(
            utilities=utilities,
            regrets=regrets[assignment],
            improvable=improving.any(),
            deviations=rows[assignment] if self.info_deviations else state.deviations,
        )

    @property
    def signature(self) -> tuple:
        """What a compiled step depends on besides :attr:`consts`: two envs of one signature
        can share a program that takes their ``consts`` as data (agents.jax_learners)."""
        return self._signature

    @property
    def name(self) -> str:
        return "recsys_eq_v0"

    def __repr__(self) -> str:
        return f"JaxEngagementEnv({self.game!r}, revision={self.revision!r})"
