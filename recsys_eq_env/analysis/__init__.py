"""Equilibrium analysis over count vectors: every pure equilibrium, the best-response graph,
basins, symmetric mixed equilibria (:mod:`recsys_eq_env.mixed`) and welfare.

Basis-vector profiles are symmetric (MODEL.md section 2): what a producer on feature ``a``
earns depends only on the count vector ``c``. Write ``U(c)[a]`` for it. A producer on ``a``
that moves to ``b`` lands in ``c - e_a + e_b`` and earns ``U(c - e_a + e_b)[b]``, so one batched
pass over all C(n + d - 1, d - 1) count vectors (:mod:`recsys_eq_env.lattice` numbers them
without a table) gives every deviation of every profile: instead of ``d^n`` profiles, and
instead of ``d`` deviation rows per count vector. With ``V(o)[b] = U(o + e_b)[b]``, the
utility of joining feature ``b`` against others ``o`` (a count vector of ``n - 1``),

* ``c`` is a pure Nash equilibrium iff every occupied ``a`` has
  ``max_b V(c - e_a)[b] <= U(c)[a] + tol * max(|U(c)[a]|, 1e-12)`` (the paper's rule,
  MODEL.md section 3);
* a symmetric mixed equilibrium over basis vectors is a share vector ``x`` with
  ``f(x) = E_{o ~ Multinomial(n - 1, x)} V(o)`` equal on the support of ``x`` and no larger off
  it; ``f`` is a polynomial in ``x``, exact over the lattice of ``n - 1``;
* the best-response graph has an edge ``c -> c - e_a + e_b`` for every strict improvement;
  better-response paths cannot cycle iff the graph is acyclic (on count vectors as on
  profiles: a profile cycle projects to a count cycle, and a count cycle repeated lifts back),
  which proves convergence of the paper's dynamics per instance (a finite improvement
  property) or exhibits a cycle.
"""

from __future__ import annotations

from ..correlated import CorrelatedEquilibria, correlated_equilibria
from ..evolution import (
    AlphaRank,
    SymmetricPayoffs,
    alpha_rank,
    classify_symmetric_equilibria,
    fictitious_play,
    logit_dynamics,
    replicator,
    stability,
)
from ..mixed import (
    EXACT_OPPONENTS,
    MixedEquilibrium,
    symmetric_mixed_equilibrium,
)
from ..mixed_certificate import mixed_certificate
from ..oracles import MAX_NORMAL_FORM, normal_form, openspiel_policy, to_gambit, to_openspiel
from ..qre import QREPath, qre_path
from ..supports import symmetric_equilibria, tied_features
from ._common import CHUNK, MAX_WORK, _utilities  # noqa: F401 (the batched utilities, for tests)
from .graph import ResponseGraph, response_graph
from .pure import PureEquilibria, count_welfare, pure_equilibria
from .welfare import Welfare, mixed_welfare, welfare

__all__ = [
    "EXACT_OPPONENTS",
    "MAX_NORMAL_FORM",
    "MAX_WORK",
    "AlphaRank",
    "CorrelatedEquilibria",
    "MixedEquilibrium",
    "PureEquilibria",
    "QREPath",
    "ResponseGraph",
    "SymmetricPayoffs",
    "Welfare",
    "alpha_rank",
    "classify_symmetric_equilibria",
    "correlated_equilibria",
    "count_welfare",
    "fictitious_play",
    "logit_dynamics",
    "mixed_certificate",
    "mixed_welfare",
    "normal_form",
    "openspiel_policy",
    "pure_equilibria",
    "qre_path",
    "replicator",
    "response_graph",
    "stability",
    "symmetric_equilibria",
    "symmetric_mixed_equilibrium",
    "tied_features",
    "to_gambit",
    "to_openspiel",
    "welfare",
]
