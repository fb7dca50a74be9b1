"""Actions and reset arguments, validated: what a producer asks for, as content on the simplex.

Shared by both NumPy envs (through :mod:`recsys_eq_env.functional`) and the agents.
"""

from __future__ import annotations

import numbers

import gymnasium
import numpy as np

ACTION_TYPES = ("simplex", "signed", "discrete")
#: A simplex request within this max-norm distance of the current content means "stay".
STAY_TOL = 1e-6


# ---------------------------------------------------------------------- validation
#: What ``reset(options=...)`` accepts (the vector env adds ``reset_mask``).
RESET_OPTIONS = ("assignment", "profile")


def check_reset_options(options, extra: tuple = (), strict: bool = True) -> dict:
    """``options`` as a dict, refusing unknown keys (a typo would silently reset
    everything) and both starts at once (which one wins would be a guess). ``strict=False``
    ignores unknown keys: PettingZoo's API makes options env-specific, and its own API test
    passes a key of its own, so a PettingZoo env must accept (and ignore) them."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    known = (*RESET_OPTIONS, *extra)
    unknown = sorted(set(options) - set(known), key=str)
    if unknown:
        message = (
            f"options has unknown key(s) {', '.join(map(repr, unknown))}; known keys: "
            f"{', '.join(map(repr, known))}"
        )
        if strict:
            raise ValueError(message)
    if "assignment" in options and "profile" in options:
        raise ValueError("options may hold 'assignment' or 'profile', not both")
    return dict(options)


def check_seed(seed, name: str = "seed"):
    """None or a non-negative integer (bools, floats and strings refused)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None or an integer >= 0, got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {seed}")
    return int(seed)


def real_actions(actions, what: str = "actions") -> np.ndarray:
    """``actions`` as float64, refusing complex numbers (NumPy would drop the imaginary part
    with only a warning) and non-numeric input."""
    if np.iscomplexobj(actions):
        raise TypeError(f"{what} must be real numbers, got complex values")
    try:
        return np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a numeric array, got {type(actions).__name__}") from None


def action_space(action_type: str, dim: int) -> gymnasium.spaces.Space:
    """One producer's action space."""
    if action_type == "simplex":
        return gymnasium.spaces.Box(0.0, 1.0, (dim,), dtype=np.float32)
    if action_type == "signed":
        return gymnasium.spaces.Box(-1.0, 1.0, (dim,), dtype=np.float32)
    return gymnasium.spaces.Discrete(dim)


def requested_content(actions: np.ndarray, action_type: str, dim: int):
    """(content, wants): what each producer asks for, from validated actions.

    ``actions`` is (..., n) integer features (``discrete``) or (..., n, dim) finite reals;
    returns content (..., n, dim) float64 on the simplex (rows where ``wants`` is False are
    undefined) and ``wants`` (..., n) bool.
    """
    if action_type == "discrete":
        content = np.zeros((*actions.shape, dim))
        np.put_along_axis(content, actions[..., None], 1.0, axis=-1)
        return content, np.ones(actions.shape, dtype=bool)
    values = np.asarray(actions, dtype=np.float64)
    if action_type == "signed":
        values = (np.clip(values, -1.0, 1.0) + 1.0) / 2.0
    peak = values.max(axis=-1, keepdims=True)
    wants = peak[..., 0] > 0
    # Overflow-safe normalisation: divide by the largest entry first ([1e308] * d works).
    content = np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)
    content /= np.where(wants, content.sum(axis=-1), 1.0)[..., None]
    return content, wants


def action_for(content, action_type: str, dim: int | None = None):
    """The action that asks for ``content`` (a point of the simplex) under ``action_type``.

    ``discrete``: the feature index (``content`` must be a basis vector); ``simplex``: the
    content itself; ``signed``: ``2 c / max(c) - 1``, which :func:`requested_content` maps back
    to ``c``. ``content=None`` asks to keep the current content (all zeros for ``simplex``,
    all -1 for ``signed``; ``dim`` gives the length).
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


def differing_requests(profile, content, wants):
    """(..., n) which requests differ from the producer's content (max-norm above
    :data:`STAY_TOL`): only these can apply."""
    return wants & (np.abs(content - profile).max(axis=-1) > STAY_TOL)
