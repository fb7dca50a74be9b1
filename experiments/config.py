"""Experiment grids: a YAML file with a default block, expanded into one spec per run."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from recsys_eq_env._checks import RULES

EXPERIMENTS = ("exp1", "exp2")


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

    @property
    def serving(self) -> str:
        return Serving(self.rule, self.temperature).label

    @property
    def cell(self) -> str:
        """The cell, independent of the experiment: the same cell gives the same runs."""
        return (
            f"{self.dataset}|{self.n_users}|{self.dim}|{self.n_producers}|"
            f"{self.embedding_seed}|{self.serving}"
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


def load_config(source: str = "paper") -> Config:
    """A packaged grid by name (``paper``, ``quick``) or a YAML file by path."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml") and path.exists():
        text, name = path.read_text(), path.stem
    else:
        packaged = resources.files("experiments") / "configs" / f"{source}.yaml"
        if not packaged.is_file():
            raise ValueError(f"config must be 'paper', 'quick' or a .yaml file, got {source!r}")
        text, name = packaged.read_text(), source
    raw = yaml.safe_load(text)
    try:
        return _parse(raw, name)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"config {source!r} is malformed: {exc!r}") from None


def _parse(raw: dict, name: str) -> Config:
    ints = lambda values: tuple(int(v) for v in values)  # noqa: E731
    experiments = {}
    for exp in EXPERIMENTS:
        block = raw[exp]
        serving = []
        for item in block["serving"]:
            rule = item["rule"]
            if rule not in RULES or rule == "topk_softmax":
                raise ValueError(f"config {name}: {exp} serving rule {rule!r} is not supported")
            temperature = item.get("temperature")
            serving.append(Serving(rule, None if temperature is None else float(temperature)))
        experiments[exp] = ExperimentGrid(
            runs_per_cell=int(block["runs_per_cell"]),
            serving=tuple(serving),
            embedding_seeds=ints(block.get("embedding_seeds", raw["embedding_seeds"])),
        )
    cert = raw["certify"]
    return Config(
        name=name,
        n_users=int(raw["n_users"]),
        max_iter=int(raw["max_iter"]),
        base_seed=int(raw["base_seed"]),
        datasets=tuple(raw["datasets"]),
        dims=ints(raw["dims"]),
        n_producers=ints(raw["n_producers"]),
        embedding_seeds=ints(raw["embedding_seeds"]),
        experiments=experiments,
        certify=CertifyGrid(
            datasets=tuple(cert["datasets"]),
            n_users=int(cert["n_users"]),
            dims=ints(cert["dims"]),
            n_producers=ints(cert["n_producers"]),
            embedding_seeds=ints(cert["embedding_seeds"]),
            starts=int(cert["starts"]),
        ),
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
