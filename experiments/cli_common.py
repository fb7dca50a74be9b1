"""What the ``recsys-eq`` commands share: common options, the population, the results folder."""

from __future__ import annotations

import math
import os
import shlex
import sys
from pathlib import Path


def _run_arguments(sub, out: Path | None, jobs: str | None = "worker processes"):
    """The options every long command takes: --out, --jobs (when it runs in parallel) and
    --no-progress."""
    sub.add_argument("--out", type=Path, default=out, help="results folder")
    if jobs is not None:
        sub.add_argument("--jobs", type=int, default=None, help=f"{jobs} (default: all cores)")
    sub.add_argument("--no-progress", action="store_true", help="no progress bar")


def _population_arguments(sub, n_users, dim, n_producers):
    from .populations import dataset_names

    sub.add_argument(
        "--dataset",
        default="synthetic-uniform",
        choices=dataset_names(),
        help="the population (real ones by the paper's NMF protocol; see --data-home)",
    )
    sub.add_argument("--n-users", type=int, default=n_users, help="synthetic populations' size")
    sub.add_argument("--dim", type=int, default=dim)
    sub.add_argument("--n-producers", type=int, default=n_producers)
    sub.add_argument("--embedding-seed", type=int, default=13, help="the population's seed")
    sub.add_argument(
        "--generator",
        choices=("default", "paper"),
        default="paper",
        help="synthetic uniform/skewed users: the authors' instances (paper) or ours",
    )
    sub.add_argument("--data-home", type=Path, default=None, help="folder with rating files")


def _population(args):
    import os

    from .config import population_size
    from .populations import population

    if args.data_home is not None:
        if not args.data_home.is_dir():
            raise ValueError(f"--data-home {args.data_home} is not a folder")
        os.environ["RECSYS_EQ_DATA"] = str(args.data_home)
    for flag in ("n_users", "dim", "n_producers"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    synthetic = args.dataset in ("synthetic-uniform", "synthetic-skewed")
    return population(
        args.dataset,
        population_size(args.dataset, args.n_users),
        args.dim,
        args.embedding_seed,
        args.generator if synthetic else "default",
    )


def _config(args):
    import os

    from .config import load_config
    from .populations import dataset_names

    _check_run_flags(args)
    if getattr(args, "data_home", None) is not None:
        if not args.data_home.is_dir():
            raise ValueError(f"--data-home {args.data_home} is not a folder")
        os.environ["RECSYS_EQ_DATA"] = str(args.data_home)  # worker processes inherit it
    config = load_config("quick" if args.quick else args.config)
    if args.dataset:
        for name in args.dataset:
            if name not in dataset_names():
                raise ValueError(
                    f"--dataset must be among {', '.join(dataset_names())}; got {name!r}"
                )
        config = config.with_datasets(args.dataset)
    return config


def _out(args, config) -> Path:
    """The results folder, created and checked writable before any work starts."""
    return check_out(args.out if args.out is not None else Path("results") / config.name)


def check_out(out: Path) -> Path:
    """Create ``out`` if needed and prove it writable (a clear error names the path)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"--out {out} is not writable: {exc.strerror or exc}") from None
    return out


def _check_run_flags(args) -> None:
    """Flags that argparse cannot check alone (``--jobs`` is checked for every command by
    :func:`main`)."""
    flush = getattr(args, "flush_seconds", None)
    if flush is not None and not (math.isfinite(flush) and flush >= 0):
        raise ValueError(f"--flush-seconds must be a finite number >= 0, got {flush}")
    if getattr(args, "scheduler", None) is not None and args.backend != "dask":
        raise ValueError("--scheduler needs --backend dask (it names a Dask scheduler)")


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20)


def _command(fallback: str) -> str:
    if len(sys.argv) > 1 and sys.argv[1] in (
        "reproduce",
        "compare",
        "welfare",
        "design",
        "scenarios",
    ):
        return "recsys-eq " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"recsys-eq {fallback}"
