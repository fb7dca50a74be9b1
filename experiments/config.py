"""Experiment grids: a YAML file with a default block, expanded into one spec per run.

Configuration files are read strictly (:class:`Reader`): an unknown key, a value of the wrong
type (``dims: [3.7]``), a repeated grid value or an empty grid is an error that names the file
and the key, never a silent guess.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from recsys_eq_env._checks import RULES, UTILITIES

from .reader import Reader, read_yaml

EXPERIMENTS = ("exp1", "exp2", "variants")
#: Experiments a config must define (``variants``, the later revision's rules, is optional).
REQUIRED = ("exp1", "exp2")
GENERATORS = ("default", "paper")
#: Bump when a change to the code changes the rows a run produces: old rows become stale
#: (3: the revision stream of streams.py replaced per-game Generator permutations).
RESULTS_VERSION = 3
#: Bump when the certificate over the simplex changes what it finds (certified rows go stale).
CERTIFICATE_VERSION = 1
ENGINES = ("rollout", "direct")


@dataclass(frozen=True)
class Serving:
    """A serving rule, its temperature (``None`` for rules without one) and its ``k``."""

    rule: str
    temperature: float | None = None
    k: int | None = None

    @property
    def label(self) -> str:
        return serving_label(self.rule, self.temperature, self.k)


def serving_label(rule: str, temperature: float | None, k: int | None = None) -> str:
    """``softmax@1``, ``linear``, ``topk_softmax@1,k=5``: a serving rule in one word."""
    label = rule if temperature is None else f"{rule}@{temperature:g}"
    return label if k is None else f"{label},k={k}"


@dataclass(frozen=True)
class ExperimentGrid:
    #: Runs per cell by embedding seed (the authors ran 40 on seed 17 and 10 on the others).
    runs: dict
    serving: tuple[Serving, ...]
    embedding_seeds: tuple[int, ...]
    #: Datasets of this experiment (None: the config's).
    datasets: tuple[str, ...] | None = None

    def runs_per_cell(self, seed: int) -> int:
        return self.runs.get(seed, self.runs["default"])


@dataclass(frozen=True)
class CertifyGrid:
    datasets: tuple[str, ...]
    n_users: int
    dims: tuple[int, ...]
    n_producers: tuple[int, ...]
    embedding_seeds: tuple[int, ...]
    starts: int
    utilities: tuple[str, ...] = ("engagement",)
    #: Extra sampled cells: large games and real populations, engagement only.
    samples: tuple = ()


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
    generator: str = "default"

    def with_datasets(self, datasets) -> Config:
        """The config on other datasets (an experiment that names its own keeps them)."""
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
    k: int | None = None
    #: How synthetic uniform and skewed users are drawn: ``default`` or ``paper``.
    generator: str = "default"

    @property
    def serving(self) -> str:
        return serving_label(self.rule, self.temperature, self.k)

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
        """The run's seed: :func:`derive_seed` of the base seed, the cell and the run."""
        return derive_seed(self.base_seed, self.cell, self.run)

    def as_row(self, n_users: int) -> dict:
        """The spec's columns of a results row (``n_users``: the population's real size)."""
        return {
            "experiment": self.experiment,
            "dataset": self.dataset,
            "n_users": n_users,
            "dim": self.dim,
            "n_producers": self.n_producers,
            "embedding_seed": self.embedding_seed,
            "serving": self.serving,
            "rule": self.rule,
            "temperature": temperature_value(self.temperature),
            "k": temperature_value(self.k),  # NaN for rules without a shortlist
            "utility": self.utility,
            "run": self.run,
        }

    def settings(self, engine: str) -> dict:
        """What changes this run's row beyond its key (its fingerprint's contents)."""
        settings = {
            "base_seed": self.base_seed,
            "max_iter": self.max_iter,
            "engine": engine,
            "generator": self.population_generator,
            "results_version": RESULTS_VERSION,
        }
        if self.certified:
            settings["certificate"] = CERTIFICATE_VERSION
        return settings

    @property
    def certified(self) -> bool:
        """Whether the run's equilibrium is certified over the simplex: the later revision's
        rules (``variants``), which the report ranks, and where basis vectors are not
        enough (hardmax, top-k). The paper's grids (exp1, exp2) are the paper's heuristic
        over basis vectors, compared cell by cell with the authors' tables."""
        return self.experiment == "variants"

    @property
    def population_generator(self) -> str:
        """The generator that makes this run's users (``paper`` exists for synthetic uniform
        and skewed users only; everything else is ``default``)."""
        if self.dataset in ("synthetic-uniform", "synthetic-skewed"):
            return self.generator
        return "default"


def derive_seed(base_seed: int, label: str, *index: int) -> int:
    """The one seeding scheme of the experiments: ``SeedSequence(base_seed, spawn_key=
    (crc32(label), *index))``, so a run's seed depends only on what it is (its cell's label
    and its index), never on the order or the process in which runs happen."""
    sequence = np.random.SeedSequence(base_seed, spawn_key=(zlib.crc32(label.encode()), *index))
    return int(sequence.generate_state(1, np.uint32)[0])


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
    generator = top.choice("generator", GENERATORS, default="default")
    experiments = {}
    for exp in EXPERIMENTS:
        if exp not in REQUIRED and not top.has(exp):
            continue
        block = top.section(exp)
        serving = []
        for item in block.items("serving"):
            rule = item.choice("rule", RULES)
            temperature = item.number("temperature", positive=True, default=None)
            if rule in ("softmax", "topk_softmax") and temperature is None:
                raise item.error(f"is required for rule {rule}", "temperature")
            if rule not in ("softmax", "topk_softmax") and temperature is not None:
                raise item.error(f"is only used by softmax and topk_softmax, not {rule}",
                                 "temperature")  # fmt: skip
            k = item.int("k", minimum=1, default=None)
            if (rule == "topk_softmax") != (k is not None):
                raise item.error("is required for topk_softmax and only used by it", "k")
            item.done()
            serving.append(Serving(rule, temperature, k))
        labels = [s.label for s in serving]
        if len(set(labels)) < len(labels):
            raise block.error("lists a serving rule twice", "serving")
        seeds = block.ints("embedding_seeds", minimum=0) if block.has("embedding_seeds") else None
        exp_datasets = block.strings("datasets", dataset_names()) if block.has("datasets") else None
        experiments[exp] = ExperimentGrid(
            runs=_runs(block, seeds if seeds is not None else embedding_seeds),
            serving=tuple(serving),
            embedding_seeds=seeds if seeds is not None else embedding_seeds,
            datasets=exp_datasets,
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
        samples=tuple(_certify_samples(cert, n_users)) if cert.has("samples") else (),
    )
    cert.done()
    top.done()
    return Config(
        generator=generator,
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


def _certify_samples(cert: Reader, n_users: int):
    for item in cert.items("samples"):
        yield CertifyGrid(
            datasets=(item.choice("dataset", _dataset_names()),),
            n_users=item.int("n_users", minimum=1, default=n_users),
            dims=item.ints("dims", minimum=1),
            n_producers=item.ints("n_producers", minimum=1),
            embedding_seeds=item.ints("embedding_seeds", minimum=0),
            starts=item.int("starts", minimum=1),
        )
        item.done()


def _dataset_names():
    from .populations import dataset_names

    return dataset_names()


def _runs(block: Reader, seeds) -> dict:
    """``runs_per_cell``: an int, or a mapping of embedding seed to runs with a ``default``."""
    value = block.get("runs_per_cell")
    if not isinstance(value, dict):
        return {"default": block.int("runs_per_cell", minimum=1)}
    runs = Reader(value, block.source, f"{block.where}.runs_per_cell")
    out = {"default": runs.int("default", minimum=1)}
    for seed in seeds:
        if runs.has(seed):
            out[seed] = runs.int(seed, minimum=1)
    runs.done()
    return out


def expand(config: Config, experiment: str) -> list[RunSpec]:
    """Every run of one experiment, in a fixed order (top-k cells need ``n >= k``)."""
    grid = config.experiments.get(experiment)
    if grid is None:
        return []
    datasets = config.datasets if grid.datasets is None else grid.datasets
    specs = []
    for dataset in datasets:
        for dim in config.dims:
            for n in config.n_producers:
                for seed in grid.embedding_seeds:
                    for serving in grid.serving:
                        if serving.k is not None and serving.k > n:
                            continue
                        for run in range(grid.runs_per_cell(seed)):
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
                                    k=serving.k,
                                    generator=config.generator,
                                )
                            )
    return specs


def serving_order(labels) -> list[str]:
    """Serving labels sorted: softmax by temperature, then top-k softmax, then the others."""
    ranks = {"softmax": 0, "topk_softmax": 1, "linear": 2, "uniform": 3, "hardmax": 4}

    def key(label):
        rule, _, rest = label.partition("@")
        temperature, _, k = rest.partition(",k=")
        return (ranks.get(rule, 5), float(temperature or 0), int(k or 0), label)

    return sorted(labels, key=key)


def population_size(dataset: str, n_users: int) -> int:
    """Synthetic populations take the grid's size; real ones keep all their users (0)."""
    return n_users if dataset.startswith("synthetic-") else 0


def temperature_value(temperature: float | None) -> float:
    """Temperatures as table values: NaN for rules without one."""
    return math.nan if temperature is None else float(temperature)
