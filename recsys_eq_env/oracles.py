"""The game over basis vectors for outside solvers: a normal-form tensor, Gambit, OpenSpiel.

These are the oracles the tests and the game-theory analysis check the count-vector code
against. Each is built from the count-vector utilities ``U(c)`` as everything else, on the
``d ** n`` profiles, so it is for small games only: a disagreement with a solver of the
tensor is a disagreement with ``U(c)``.
"""

from __future__ import annotations

import numpy as np

from .game import EngagementGame
from .lattice import Lattice

#: Basis-vector profiles above which the normal form is not built (d ** n payoff entries).
MAX_NORMAL_FORM = 1_000_000


def normal_form(game: EngagementGame) -> np.ndarray:
    """The game over basis vectors as a normal-form payoff tensor.

    ``payoffs[i][a_1, ..., a_n]`` is producer ``i``'s utility when producer ``j`` plays basis
    vector ``a_j``: shape ``(n, d, ..., d)``, d ** n profiles, for small games only (a
    ValueError above 1,000,000 profiles).
    """
    if not isinstance(game, EngagementGame):
        raise TypeError(f"game must be an EngagementGame, got {type(game).__name__}")
    n, d = game.n_producers, game.dim
    if d**n > MAX_NORMAL_FORM:
        raise ValueError(
            f"game has {d}^{n} = {d**n:,} basis-vector profiles; the normal form is built for "
            f"at most {MAX_NORMAL_FORM:,}"
        )
    profiles = np.array(np.unravel_index(np.arange(d**n), (d,) * n)).T  # (d^n, n)
    counts = np.zeros((len(profiles), d), dtype=np.int64)
    for j in range(n):
        np.add.at(counts, (np.arange(len(profiles)), profiles[:, j]), 1)
    lattice = Lattice(n, d)
    ranks = lattice.rank(counts)
    unique, inverse = np.unique(ranks, return_inverse=True)
    per_count = game.batch_count_utilities(lattice.unrank(unique), np.float64)  # (m, d): U(c)[a]
    payoffs = per_count[inverse[:, None], profiles]  # (d^n, n): producer j's utility
    return payoffs.T.reshape((n,) + (d,) * n)


def _title(game: EngagementGame) -> str:
    return f"engagement game: {game.n_producers} producers, {game.dim} features, {game.rule}"


def to_gambit(game: EngagementGame, title: str | None = None):
    """The game over basis vectors as a ``pygambit.Game`` (the ``gametheory`` extra).

    Strategies of every player are the ``d`` basis vectors, labelled ``e0 .. e{d-1}``; payoffs
    are :func:`normal_form` (floats). Gambit's solvers (``pygambit.nash.enumpure_solve``,
    ``enummixed_solve``, ``logit_solve``, ...) then apply to it.
    """
    try:
        import pygambit
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_gambit needs pygambit: pip install 'recsys-eq-env[gametheory]'"
        ) from exc
    payoffs = normal_form(game)
    result = pygambit.Game.from_arrays(*payoffs, title=title or _title(game))
    for player in result.players:
        for k, strategy in enumerate(player.strategies):
            strategy.label = f"e{k}"
    return result


def _pyspiel():
    try:
        import pyspiel
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_openspiel needs OpenSpiel: pip install 'recsys-eq-env[openspiel]'"
        ) from exc
    return pyspiel


def to_openspiel(game: EngagementGame, turn_based: bool = True):
    """The game over basis vectors as an OpenSpiel game (the ``openspiel`` extra).

    A tensor game of :func:`normal_form` (action ``k`` is basis vector ``e_k``). With
    ``turn_based`` (the default) it is passed through ``pyspiel.convert_to_turn_based``, the
    form OpenSpiel's ``TabularPolicy`` and ``exploitability.nash_conv`` take (each player
    moves without seeing the others' moves, so the game is the same); ``turn_based=False``
    gives the simultaneous-move tensor game for its matrix-game solvers.

    Example::

        from open_spiel.python.algorithms import exploitability
        spiel = analysis.to_openspiel(game)
        eq = analysis.symmetric_mixed_equilibrium(game)
        exploitability.nash_conv(spiel, analysis.openspiel_policy(spiel, eq.shares))  # ~0
    """
    pyspiel = _pyspiel()
    if not isinstance(turn_based, bool):
        raise TypeError(f"turn_based must be a bool, got {turn_based!r}")
    tensor = pyspiel.create_tensor_game([np.ascontiguousarray(p) for p in normal_form(game)])
    return pyspiel.convert_to_turn_based(tensor) if turn_based else tensor


def openspiel_policy(spiel_game, strategies):
    """An OpenSpiel ``TabularPolicy`` of the turn-based game from :func:`to_openspiel`.

    ``strategies`` is a ``(d,)`` probability vector every producer plays (a symmetric
    profile, e.g. ``MixedEquilibrium.shares``), an ``(n, d)`` array with one row per
    producer, or an ``(n,)`` integer array of basis-vector indices (a pure profile, as
    ``basis_assignment`` returns it). Rows must be probability vectors.
    """
    from open_spiel.python import policy as policy_lib

    n, d = spiel_game.num_players(), spiel_game.num_distinct_actions()
    values = np.asarray(strategies)
    if values.ndim == 1 and values.shape == (n,) and np.issubdtype(values.dtype, np.integer):
        if values.min(initial=0) < 0 or values.max(initial=0) >= d:
            raise ValueError(f"strategies: basis indices must lie in [0, {d}), got {values}")
        rows = np.eye(d)[values]
    elif values.ndim == 1 and values.shape == (d,):
        rows = np.tile(values.astype(np.float64), (n, 1))
    elif values.shape == (n, d):
        rows = values.astype(np.float64)
    else:
        raise ValueError(
            f"strategies must have shape ({d},), ({n}, {d}) or ({n},) of basis indices; got "
            f"shape {values.shape}"
        )
    if not np.isfinite(rows).all() or (rows < 0).any() or not np.allclose(rows.sum(1), 1.0):
        raise ValueError("strategies: every row must be a probability vector (>= 0, sums to 1)")
    if spiel_game.get_type().dynamics != spiel_game.get_type().dynamics.SEQUENTIAL:
        raise ValueError(
            "spiel_game must be the turn-based game from to_openspiel (turn_based=True); got a "
            "simultaneous-move game"
        )
    policy = policy_lib.TabularPolicy(spiel_game)
    for player, states in enumerate(policy.states_per_player):
        if len(states) != 1:
            raise ValueError(
                "spiel_game must be the turn-based game from to_openspiel (one information "
                f"state per player); player {player} has {len(states)}"
            )
        policy.action_probability_array[policy.state_lookup[states[0]]] = rows[player]
    return policy


__all__ = ["MAX_NORMAL_FORM", "normal_form", "openspiel_policy", "to_gambit", "to_openspiel"]
