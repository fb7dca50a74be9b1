"""What an :class:`recsys_eq_env.EngagementGame` keeps between calls, in one object.

A game may be used from several threads at once (a thread pool, threaded Dask workers, several
envs on one game): scratch buffers are per thread; the count-vector engine, the utility cache,
the feature-major users and a small cache of tables and analyses are shared, built on first
use under one lock. None of it is pickled: a game sent to a worker rebuilds it there.
"""

from __future__ import annotations

import threading

import numpy as np

from . import serving
from . import utility_cache as utility_cache_module
from .counts import CountOracle

#: Tables and analyses kept per game (an env step and its agents look at the same counts).
CACHE_SIZE = 16


class GameState:
    """The shared and per-thread state of one game (module docstring)."""

    def __init__(self, game):
        self.game = game
        self._local = threading.local()
        self._lock = threading.Lock()
        self._results: dict[tuple, object] = {}
        self._users_t: np.ndarray | None = None
        self._oracle: CountOracle | None = None
        self._cache: utility_cache_module.UtilityCache | None = None

    # ------------------------------------------------------------------ shared, built once
    @property
    def users_t(self) -> np.ndarray:
        """The users feature-major (dim, n_users), built on first use (read-only, shared)."""
        if self._users_t is None:
            users_t = np.ascontiguousarray(self.game.users.T)
            users_t.setflags(write=False)
            self._users_t = users_t  # a race builds two equal arrays: harmless
        return self._users_t

    @property
    def oracle(self) -> CountOracle:
        """The count-vector engine (built on first use, O(n_users * dim))."""
        if self._oracle is None:
            g = self.game
            with self._lock:
                if self._oracle is None:
                    self._oracle = CountOracle._trusted(
                        g.users, g.rule, g.temperature, g.k, g.utility, g.precision, g.costs
                    )
        return self._oracle

    @property
    def cache(self) -> utility_cache_module.UtilityCache | None:
        """The count-vector utility cache (None with ``utility_cache="off"``)."""
        g = self.game
        if g.utility_cache == "off":
            return None
        if self._cache is None:
            oracle = self.oracle  # takes the lock itself: outside ours
            with self._lock:
                if self._cache is None:
                    self._cache = utility_cache_module.UtilityCache(
                        oracle, g.n_producers, g.dim, g.utility_cache
                    )
        return self._cache

    def get(self, key):
        """A cached result, or None."""
        return self._results.get(key)

    def cached(self, key, compute):
        """Small FIFO cache of results keyed by count vector (read-only arrays), shared by
        threads: computed outside the lock, stored and evicted under it."""
        value = self._results.get(key)
        if value is None:
            value = compute()
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            with self._lock:
                while len(self._results) >= CACHE_SIZE:
                    del self._results[next(iter(self._results))]
                self._results[key] = value
        return value

    # ------------------------------------------------------------------ per thread
    def workspace(self):
        """Users feature-major and two (n_producers, n_users) buffers, reused by the
        mixed-profile fast paths of this thread (they run once per env step)."""
        work = getattr(self._local, "work", None)
        if work is None:
            g = self.game
            work = self._local.work = (
                self.users_t,
                np.empty((g.n_producers, g.n_users)),
                np.empty((g.n_producers, g.n_users)),
            )
        return work

    def workspace32(self):
        """The float32 twin of :meth:`workspace` (the float32 fast path of mixed profiles)."""
        work = getattr(self._local, "work32", None)
        if work is None:
            g = self.game
            shape = (g.n_producers, g.n_users)
            work = self._local.work32 = (
                np.ascontiguousarray(g.users.T, np.float32),
                np.empty(shape, np.float32),
                np.empty(shape, np.float32),
            )
        return work

    def deviation_work(self):
        """This thread's buffers for the mixed-profile deviation table (one env step each)."""
        work = getattr(self._local, "deviations", None)
        if work is None:
            g = self.game
            work = self._local.deviations = serving.deviation_workspace(
                g.n_producers, g.dim, g.n_users
            )
        return work


__all__ = ["CACHE_SIZE", "GameState"]
