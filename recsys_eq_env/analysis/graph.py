"""The better-response graph over count vectors: cycles, basins of the dynamics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .. import _checks
from .._threads import blas_limit
from ..counts import strictly_improves
from ..game import EngagementGame
from ..lattice import Lattice
from ..mixed import _log_multinomial
from ._common import CHUNK, _utilities


@dataclass(frozen=True)
class ResponseGraph:
    """The better- and best-response graphs over count vectors, and what they say."""

    #: (size, dim) every count vector, in lattice order (node i is ``counts[i]``).
    counts: np.ndarray
    #: Better-response graph: an edge for every strict improvement (scipy CSR, size x size).
    better: sparse.csr_matrix
    #: The paper's dynamics as a Markov chain: a uniformly random improving producer moves to
    #: its best feature (lowest index on ties); rows of equilibria are empty.
    dynamics: sparse.csr_matrix
    #: Node indices of the pure equilibria.
    equilibria: np.ndarray
    #: Whether better-response paths can cycle (False: every path ends at an equilibrium).
    has_cycle: bool
    #: One better-response cycle as a list of count vectors (empty when acyclic).
    cycle: list = field(default_factory=list)
    seconds: float = 0.0

    def basins(self, start=None, max_steps: int = 100_000) -> tuple[np.ndarray, float]:
        """(share of starts ending at each equilibrium, share never ending at one).

        ``start`` is a distribution over count vectors; by default the paper's start, every
        producer on a uniformly random feature (a multinomial over count vectors). Exact:
        the distribution is pushed through the dynamics' chain until no mass is left off the
        equilibria (or ``max_steps``; what remains then is in cycles).
        """
        n, dim = int(self.counts[0].sum()), self.counts.shape[1]
        max_steps = _checks.check_int(max_steps, "max_steps", minimum=1)
        if start is None:
            start = np.exp(_log_multinomial(self.counts, np.full(dim, 1.0 / dim), n))
        mass = _checks.as_float_matrix(np.atleast_2d(start), "start")[0].copy()
        size = len(self.counts)
        if np.ndim(start) != 1 or mass.shape != (size,):
            raise ValueError(
                f"start must be a distribution over the {size:,} count vectors (shape "
                f"({size},)), got shape {np.shape(start)}"
            )
        if mass.min() < 0 or not np.isclose(mass.sum(), 1.0, rtol=1e-9, atol=1e-12):
            raise ValueError(
                f"start must be a distribution: non-negative, summing to 1 (got sum "
                f"{mass.sum():.6g}, min {mass.min():.3g})"
            )
        absorbing = np.zeros(len(mass), dtype=bool)
        absorbing[self.equilibria] = True
        ended = np.zeros(len(mass))
        moving = self.dynamics.T.tocsr()
        for _ in range(max_steps):
            ended[absorbing] += mass[absorbing]
            mass[absorbing] = 0.0
            if mass.sum() < 1e-15:
                break
            mass = moving @ mass
        return ended[self.equilibria], float(mass.sum())


def response_graph(
    game: EngagementGame, tol: float = 1e-9, max_size: int = 500_000, progress: bool = False
) -> ResponseGraph:
    """Build the graphs over every count vector and test them for cycles (module docstring).

    Stores every count vector's utilities (``size x dim`` numbers): refused above
    ``max_size`` count vectors.
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    tol = _checks.check_tol(tol)
    start = time.perf_counter()
    n, dim = game.n_producers, game.dim
    lattice = Lattice(n, dim)
    if lattice.size > max_size:
        raise ValueError(
            f"the best-response graph has {lattice.size:,} count vectors (n_producers={n}, "
            f"dim={dim}), more than max_size={max_size:,}"
        )
    counts = lattice.unrank(np.arange(lattice.size))
    with blas_limit(1):
        u = np.concatenate(
            [_utilities(game, counts[lo : lo + CHUNK]) for lo in range(0, lattice.size, CHUNK)]
        )
    rows, cols, moves = [], [], []  # moves: (node, from, to, gain)
    for a in range(dim):
        on = np.flatnonzero(counts[:, a] > 0)
        current = u[on, a]
        gains = np.full((on.size, dim), -np.inf)
        targets = np.full((on.size, dim), -1)
        for b in range(dim):
            if b == a:
                continue
            moved = counts[on].copy()
            moved[:, a] -= 1
            moved[:, b] += 1
            target = lattice.rank(moved)
            value = u[target, b]
            better = strictly_improves(value, current, tol)
            rows.append(on[better])
            cols.append(target[better])
            gains[:, b] = np.where(better, value, -np.inf)
            targets[:, b] = target
        improving = np.isfinite(gains).any(axis=1)
        best = gains.argmax(axis=1)  # lowest index among equal best values
        moves.append((on[improving], a, targets[improving, best[improving]]))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    size = lattice.size
    better = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(size, size))
    # The dynamics: a uniformly random improving producer moves; producers on a are c_a of them.
    weight_rows, weight_cols, weights = [], [], []
    improving_producers = np.zeros(size)
    for nodes, a, _ in moves:
        improving_producers[nodes] += counts[nodes, a]
    for nodes, a, targets in moves:
        weight_rows.append(nodes)
        weight_cols.append(targets)
        weights.append(counts[nodes, a] / improving_producers[nodes])
    dynamics = sparse.csr_matrix(
        (np.concatenate(weights), (np.concatenate(weight_rows), np.concatenate(weight_cols))),
        shape=(size, size),
    )
    equilibria = np.flatnonzero(improving_producers == 0)
    _, labels = sparse.csgraph.connected_components(better, directed=True, connection="strong")
    sizes = np.bincount(labels)
    has_cycle = bool((sizes > 1).any())
    cycle = _find_cycle(better, labels, int(np.argmax(sizes)), counts) if has_cycle else []
    return ResponseGraph(
        counts, better, dynamics, equilibria, has_cycle, cycle, time.perf_counter() - start
    )


def _find_cycle(graph, labels, component, counts) -> list:
    """A cycle inside one strongly connected component (walk until a node repeats)."""
    nodes = np.flatnonzero(labels == component)
    inside = np.zeros(graph.shape[0], dtype=bool)
    inside[nodes] = True
    seen: dict[int, int] = {}
    path = []
    node = int(nodes[0])
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        successors = graph.indices[graph.indptr[node] : graph.indptr[node + 1]]
        node = int(successors[inside[successors]][0])
    return [counts[i].tolist() for i in [*path[seen[node] :], node]]
