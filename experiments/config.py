"""Experiment grids: a YAML file with a default block, expanded into one spec per run.

Configuration files are read strictly (:class:`Reader`): an unknown key, a value of the wrong
type (``dims: [3.7]``), a repeated grid value or an empty grid is an error that names the file
and the key, never a silent guess.
"""

from __future__ import annotations

import math
import numbers
import zlib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from recsys_eq_env._checks import RULES, UTILITIES

EXPERIMENTS = ("exp1", "exp2")
#: Bump when a change to the code changes the rows a run produces: old rows become stale.
RESULTS_VERSION = 2
ENGINES = ("rollout", "direct")


@dataclass(frozen=True)
class Serving:
    """A serving rule and its temperature (``None`` for rules without one)."""

    rule: str
    temperature: float | None = None

    @property
    def label(self) -> str:
        return self.rule if self.temperature is None else f"{self.rule}@{self.temperature:g}"


@dataclass(frozen=True)
class ExperimentGrid:
    runs_per_cell: int
    serving: tuple[Serving, ...]
    embedding_seeds: tuple[int, ...]


@dataclass(frozen=True)
class CertifyGrid:
    datasets: tuple[str, ...]
    n_users: int
    dims: tuple[int, ...]
    n_producers: tuple[int, ...]
    embedding_seeds: tuple[int, ...]
    starts: int
    utilities: tuple[str, ...] = ("engagement",)


@dataclass(frozen=True)
class Config:
    name: str
    n_users: int
    max_iter: int
    base_seed: int
    datasets: tuple[str, ...]
    dims: tuple[int, ...]
    n_producers: tuple[int, ...]
    embedding_seeds: tuple[int, ...]
    experiments: dict[str, ExperimentGrid] = field(repr=False)
    certify: CertifyGrid = field(repr=False)

    def with_datasets(self, datasets) -> Config:
        return replace(self, datasets=tuple(datasets))


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run; its seed derives from the cell and the run index."""

    experiment: str
    dataset: str
    n_users: int
    dim: int
    n_producers: int
    embedding_seed: int
    rule: str
    temperature: float | None
    run: int
    max_iter: int
    base_seed: int
    utility: str = "engagement"

    @property
    def serving(self) -> str:
        return Serving(self.rule, self.temperature).label

    @property
    def cell(self) -> str:
        """The cell, independent of the experiment: the same cell gives the same runs."""
        utility = "" if self.utility == "engagement" else f"|{self.utility}"
        return (
            f"{self.dataset}|{self.n_users}|{self.dim}|{self.n_producers}|"
            f"{self.embedding_seed}|{self.serving}{utility}"
        )

    @property
    def key(self) -> str:
        return f"{self.experiment}|{self.cell}|{self.run}"

    @property
    def seed(self) -> int:
        """The run's seed: SeedSequence(base_seed, spawn_key=(cell hash, run))."""
        sequence = np.random.SeedSequence(
            self.base_seed, spawn_key=(zlib.crc32(self.cell.encode()), self.run)
        )
        return int(sequence.generate_state(1, np.uint32)[0])

    def settings(self, engine: str) -> dict:
        """What changes this run's row beyond its key (its fingerprint's contents)."""
        return {
            "base_seed": self.base_seed,
            "max_iter": self.max_iter,
            "engine": engine,
            "results_version": RESULTS_VERSION,
        }


# ---------------------------------------------------------------------- strict reading
class Reader:
    """Reads one mapping of a YAML file, refusing unknown keys and badly typed values.

    Every error names the file (``source``) and the key's path (``exp1.serving[0].rule``).
    """

    def __init__(self, raw, source: str, where: str = ""):
        self.source = source
        self.where = where
        if not isinstance(raw, dict):
            raise self.error(f"must be a mapping of keys to values, got {_kind(raw)}")
        self.raw = raw
        self.used: set[str] = set()

    def error(self, message: str, key: str | None = None) -> ValueError:
        path = ".".join(p for p in (self.where, key) if p)
        return ValueError(f"config {self.source}: {path + ' ' if path else ''}{message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, default=...):
        if key not in self.raw:
            if default is ...:
                raise self.error("is missing", key)
            return default
        self.used.add(key)
        return self.raw[key]

    def section(self, key: str, default=...) -> Reader:
        value = self.get(key, default)
        return Reader(value, self.source, ".".join(p for p in (self.where, key) if p))

    def int(self, key: str, minimum: int | None = None, default=...) -> int:
        return _int(self.get(key, default), self._error_for(key), minimum)

    def number(self, key: str, positive: bool = False, default=...) -> float | None:
        value = self.get(key, default)
        if value is None:
            return None
        return _number(value, self._error_for(key), positive)

    def choice(self, key: str, choices, default=...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or value not in choices:
            raise self.error(f"must be one of {', '.join(choices)}, got {value!r}", key)
        return value

    def ints(self, key: str, minimum: int | None = None, default=...) -> tuple[int, ...]:
        values = self._list(key, default)
        out = tuple(_int(v, self._error_for(f"{key}[{i}]"), minimum) for i, v in enumerate(values))
        self._unique(key, out)
        return out

    def strings(self, key: str, choices=None, default=...) -> tuple[str, ...]:
        values = self._list(key, default)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"must be a string, got {value!r}", f"{key}[{i}]")
            if choices is not None and value not in choices:
                raise self.error(
                    f"must be one of {', '.join(choices)}, got {value!r}", f"{key}[{i}]"
                )
        self._unique(key, tuple(values))
        return tuple(values)

    def items(self, key: str, default=...) -> list[Reader]:
        values = self._list(key, default)
        return [
            Reader(v, self.source, f"{'.'.join(p for p in (self.where, key) if p)}[{i}]")
            for i, v in enumerate(values)
        ]

    def done(self) -> None:
        """Refuse keys nobody asked for (a typo would otherwise be ignored)."""
        unknown = [k for k in self.raw if k not in self.used]
        if unknown:
            known = ", ".join(sorted(self.used)) or "none"
            raise self.error(f"has unknown key {unknown[0]!r} (known here: {known})")

    def _list(self, key, default):
        values = self.get(key, default)
        if not isinstance(values, list) or not values:
            raise self.error(f"must be a non-empty list, got {values!r}", key)
        return values

    def _unique(self, key, values):
        seen = set()
        for value in values:
            if value in seen:
                raise self.error(f"lists {value!r} twice", key)
            seen.add(value)

    def _error_for(self, key):
        return lambda message: self.error(message, key)


def _kind(value) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _int(value, error, minimum=None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise error(f"must be >= {minimum}, got {value}")
    return int(value)


def _number(value, error, positive=False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise error(f"must be a finite number{' > 0' if positive else ''}, got {value!r}")
    return value


def read_yaml(source: str, kind: str, packaged: tuple[str, ...]) -> tuple[dict, str]:
    """The parsed YAML of a packaged config (by name) or a file (by path), and its name."""
    path = Path(source)
    if source in packaged:
        text = (resources.files("experiments") / "configs" / f"{source}.yaml").read_text()
        name = source
    elif path.suffix in (".yaml", ".yml") or path.exists() or "/" in source:
        if path.is_dir():
            raise ValueError(f"{kind} {source} is a directory, not a YAML file")
        if not path.exists():
            raise FileNotFoundError(f"{kind} file {source} not found")
        text, name = path.read_text(), path.stem
    else:
        raise ValueError(
            f"{kind} must be {', '.join(repr(p) for p in packaged)} or a .yaml file, got {source!r}"
        )
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(f"{kind} {source} is not valid YAML: {' '.join(first[:3])}") from None
    return raw, name


def load_config(source: str = "paper") -> Config:
    """A packaged grid by name (``paper``, ``quick``) or a YAML file by path."""
    raw, name = read_yaml(source, "config", ("paper", "quick"))
    return parse_config(raw, name, source)


def parse_config(raw, name: str, source: str) -> Config:
    """A :class:`Config` from parsed YAML, strictly (see :class:`Reader`)."""
    from .populations import dataset_names

    top = Reader(raw, source)
    n_users = top.int("n_users", minimum=1)
    max_iter = top.int("max_iter", minimum=1)
    base_seed = top.int("base_seed", minimum=0)
    datasets = top.strings("datasets", dataset_names())
    dims = top.ints("dims", minimum=1)
    n_producers = top.ints("n_producers", minimum=1)
    embedding_seeds = top.ints("embedding_seeds", minimum=0)
    experiments = {}
    for exp in EXPERIMENTS:
        block = top.section(exp)
        serving = []
        for item in block.items("serving"):
            rule = item.choice("rule", RULES)
            if rule == "topk_softmax":
                raise item.error("topk_softmax is not supported by the grids yet", "rule")
            temperature = item.number("temperature", positive=True, default=None)
            if rule == "softmax" and temperature is None:
                raise item.error("is required for rule softmax", "temperature")
            if rule != "softmax" and temperature is not None:
                raise item.error(f"is only used by softmax, not {rule}", "temperature")
            item.done()
            serving.append(Serving(rule, temperature))
        labels = [s.label for s in serving]
        if len(set(labels)) < len(labels):
            raise block.error("lists a serving rule twice", "serving")
        seeds = block.ints("embedding_seeds", minimum=0) if block.has("embedding_seeds") else None
        experiments[exp] = ExperimentGrid(
            runs_per_cell=block.int("runs_per_cell", minimum=1),
            serving=tuple(serving),
            embedding_seeds=seeds if seeds is not None else embedding_seeds,
        )
        block.done()
    cert = top.section("certify")
    certify = CertifyGrid(
        datasets=cert.strings("datasets", dataset_names()),
        n_users=cert.int("n_users", minimum=1),
        dims=cert.ints("dims", minimum=1),
        n_producers=cert.ints("n_producers", minimum=1),
        embedding_seeds=cert.ints("embedding_seeds", minimum=0),
        starts=cert.int("starts", minimum=1),
        utilities=cert.strings("utilities", UTILITIES, default=["engagement"]),
    )
    cert.done()
    top.done()
    return Config(
        name=name,
        n_users=n_users,
        max_iter=max_iter,
        base_seed=base_seed,
        datasets=datasets,
        dims=dims,
        n_producers=n_producers,
        embedding_seeds=embedding_seeds,
        experiments=experiments,
        certify=certify,
    )


def expand(config: Config, experiment: str) -> list[RunSpec]:
    """Every run of one experiment, in a fixed order."""
    grid = config.experiments[experiment]
    specs = []
    for dataset in config.datasets:
        for dim in config.dims:
            for n in config.n_producers:
                for seed in grid.embedding_seeds:
                    for serving in grid.serving:
                        for run in range(grid.runs_per_cell):
                            specs.append(
                                RunSpec(
                                    experiment=experiment,
                                    dataset=dataset,
                                    n_users=population_size(dataset, config.n_users),
                                    dim=dim,
                                    n_producers=n,
                                    embedding_seed=seed,
                                    rule=serving.rule,
                                    temperature=serving.temperature,
                                    run=run,
                                    max_iter=config.max_iter,
                                    base_seed=config.base_seed,
                                )
                            )
    return specs


def serving_order(labels) -> list[str]:
    """Serving labels sorted: softmax by temperature, then the rules without one."""
    return sorted(labels, key=lambda s: (0, float(s.split("@")[1])) if "@" in s else (1, 0.0))


def population_size(dataset: str, n_users: int) -> int:
    """Synthetic populations take the grid's size; real ones keep all their users (0)."""
    return n_users if dataset.startswith("synthetic-") else 0


def temperature_value(temperature: float | None) -> float:
    """Temperatures as table values: NaN for rules without one."""
    return math.nan if temperature is None else float(temperature)
