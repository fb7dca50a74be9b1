"""A scenario zoo: the strategic-creator models of 2018-2025 as named environments.

``recsys_eq_env.make(name, **kwargs)`` returns the PettingZoo parallel env of a scenario;
``recsys_eq_env.scenarios()`` lists their ids (``<model>-v<version>``, PettingZoo style). Every
scenario is a small module of this package whose docstring is its page (model, spaces,
rewards, arguments, the paper it follows, the result it reproduces, version history), built on
the one game core (:class:`recsys_eq_env.EngagementGame`): no scenario forks the env.

A scenario's keyword arguments are of two kinds: those of its ``game`` function (the model's
parameters: users, producers, temperature, costs, ...) and those of
:func:`recsys_eq_env.parallel_env` (action type, episode length, revision, ...), which
``make`` passes through. ``reproduce()`` runs the computation behind the scenario's headline
result (``recsys-eq scenarios`` writes it to ``scenarios.parquet``) and ``verdict`` reads the
result back from that table.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import dataclass

#: id -> module of this package, in the order the docs list them.
_MODULES = {
    "acharya-engagement-v0": "acharya_engagement",
    "yao-topk-v0": "yao_topk",
    "jagadeesan-supply-v0": "jagadeesan_supply",
    "benporat-top-v0": "benporat_top",
    "hron-exposure-simplex-v0": "hron_exposure",
}

#: The columns of a scenario's result rows (``scenarios.parquet``).
COLUMNS = ("scenario", "setting", "metric", "value")


@dataclass(frozen=True)
class Scenario:
    """What the registry knows of a scenario (the module's constants)."""

    id: str
    #: One line: the model.
    model: str
    #: The paper it follows (authors, title, venue, year, arXiv id).
    paper: str
    #: The paper's words it reproduces, quoted.
    claim: str
    #: Where in the paper the words are.
    source: str
    #: The measurable form of the claim this library tests.
    measure: str
    module: str

    def _module(self):
        return importlib.import_module(f"{__name__}.{self.module}")

    def game(self, **kwargs):
        """The scenario's :class:`recsys_eq_env.EngagementGame` (its model's arguments)."""
        return self._module().game(**kwargs)

    def reproduce(self, quick: bool = False) -> list[dict]:
        """The rows behind the headline result (:data:`COLUMNS`); ``quick`` runs fewer
        instances (for tests)."""
        return self._module().reproduce(quick=quick)

    def verdict(self, rows) -> tuple[str, bool]:
        """(our number, in words; whether the claim holds) from this scenario's rows."""
        return self._module().verdict(rows)


def scenarios() -> tuple[str, ...]:
    """The ids of every registered scenario."""
    return tuple(_MODULES)


def spec(name: str) -> Scenario:
    """The :class:`Scenario` registered as ``name`` (a ValueError naming the ids if none)."""
    if not isinstance(name, str) or name not in _MODULES:
        close = difflib.get_close_matches(str(name), _MODULES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"name must be one of the registered scenarios {', '.join(_MODULES)}; got "
            f"{name!r}{hint}"
        )
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return Scenario(
        id=name,
        model=module.MODEL,
        paper=module.PAPER,
        claim=module.CLAIM,
        source=module.SOURCE,
        measure=module.MEASURE,
        module=_MODULES[name],
    )


def _env_arguments() -> set[str]:
    """The keyword arguments of the envs (``parallel_env``; the JAX env takes a subset)."""
    from ..functional import EnvParams

    return set(inspect.signature(EnvParams.build).parameters) | {"render_mode"}


def _split(name: str, kwargs: dict) -> tuple[object, dict]:
    """(the scenario's game, the env's keyword arguments) from ``make``'s ``kwargs``."""
    module = importlib.import_module(f"{__name__}.{spec(name).module}")
    names = set(inspect.signature(module.game).parameters)
    if "game" in kwargs:
        raise ValueError(
            f"make({name!r}) builds the scenario's game: pass its arguments "
            f"({', '.join(sorted(names))}), not game="
        )
    unknown = sorted(set(kwargs) - names - _env_arguments())
    if unknown:
        raise ValueError(
            f"make({name!r}) got unknown arguments {', '.join(unknown)}: its game takes "
            f"{', '.join(sorted(names))}, and the env takes parallel_env's arguments"
        )
    game = module.game(**{k: v for k, v in kwargs.items() if k in names})
    env_kwargs = dict(getattr(module, "ENV_DEFAULTS", {}))
    env_kwargs.update({k: v for k, v in kwargs.items() if k not in names})
    return game, env_kwargs


def make(name: str, **kwargs):
    """The scenario ``name`` as a PettingZoo parallel env (:class:`recsys_eq_env.EngagementEnv`).

    Keyword arguments of the scenario's ``game`` build its game; the rest go to
    :func:`recsys_eq_env.parallel_env` (over the scenario's own env defaults, e.g. discrete
    actions where the paper's producers choose from a finite set).
    """
    from ..environment import parallel_env

    game, env_kwargs = _split(name, kwargs)
    env = parallel_env(game=game, **env_kwargs)
    env.metadata = {**env.metadata, "name": name.replace("-", "_")}  # this env's own copy
    return env


def make_jax(name: str, **kwargs):
    """The scenario as a :class:`recsys_eq_env.jax.JaxEngagementEnv` where the core allows it
    (not with production costs); arguments as :func:`make`."""
    from ..jax import JaxEngagementEnv

    game, env_kwargs = _split(name, kwargs)
    return JaxEngagementEnv(game=game, **env_kwargs)


__all__ = ["COLUMNS", "Scenario", "make", "make_jax", "scenarios", "spec"]
