"""What the analysis modules share: the work bound, the batched utilities, the lattice pass."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._progress import progress_bar
from .._threads import blas_limit
from ..game import EngagementGame
from ..lattice import Lattice

#: Refuse (count vectors x users x features) above this many operations unless asked.
MAX_WORK = 5e12
#: Count vectors per batch of the lattice pass.
CHUNK = 4096


def _engagement_twin(game: EngagementGame) -> EngagementGame:
    """The same game with engagement utility (user welfare is engagement)."""
    if game.utility == "engagement":
        return game
    return EngagementGame(
        game.users, game.n_producers, game.rule, game.temperature, "engagement", game.k
    )


def _utilities(game: EngagementGame, counts: np.ndarray) -> np.ndarray:
    """(m, d) utility of a producer on each feature of m count vectors (0 where absent)."""
    return game.batch_count_utilities(counts, np.float64)


def _check_work(game, lattice_size, max_work, what):
    work = float(lattice_size) * game.n_users * game.dim
    if not work <= max_work:
        raise ValueError(
            f"{what} needs {lattice_size:,} count vectors x {game.n_users:,} users x "
            f"{game.dim} features, about {work:.1e} operations, more than max_work="
            f"{max_work:.1e}; use fewer users, producers or features, or raise max_work"
        )


def _passes(lattice: Lattice, threads: int, function, progress, desc):
    """Run ``function(lo, counts)`` over the lattice in chunks, on ``threads`` threads."""
    chunks = [(lo, min(lo + CHUNK, lattice.size)) for lo in range(0, lattice.size, CHUNK)]
    bar = progress_bar(len(chunks), progress, desc=desc, unit="chunk")

    def work(bounds):
        lo, hi = bounds
        result = function(lo, lattice.unrank(np.arange(lo, hi)))
        bar.update()
        return result

    with blas_limit(1):
        if threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(work, chunks))
        else:
            results = [work(c) for c in chunks]
    bar.close()
    return results
