"""Run a grid of specs in parallel, resumably, with a progress bar.

Runs are independent and each derives its RNG from its own cell (see
:attr:`experiments.config.RunSpec.seed`), so the results do not depend on the number of
workers or the order in which runs finish. Finished rows are flushed to the store every few
seconds (and on Ctrl-C or SIGTERM), so an interrupted grid loses at most the last few seconds.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .config import RunSpec
from .runner import run_one
from .store import ResultStore

FLUSH_SECONDS = 2.0
BACKENDS = ("joblib", "dask")
FLUSH_ROWS = 500


@dataclass(frozen=True)
class GridSummary:
    name: str
    total: int
    new: int
    resumed: int
    converged: int
    seconds: float
    table: pd.DataFrame

    def line(self, path) -> str:
        return (
            f"{self.name}: {self.total} runs ({self.new} new, {self.resumed} resumed) in "
            f"{_duration(self.seconds)}; {self.converged}/{self.total} converged; table {path}"
        )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_grid(
    specs: list[RunSpec],
    store: ResultStore,
    engine: str = "rollout",
    n_jobs: int | None = None,
    progress: bool = True,
    flush_seconds: float = FLUSH_SECONDS,
    backend: str = "joblib",
    scheduler: str | None = None,
) -> GridSummary:
    """Run every spec not already in ``store`` and return the consolidated table.

    ``backend="joblib"`` uses local processes; ``backend="dask"`` submits the runs to a
    dask.distributed scheduler (``scheduler`` address, else a ``LocalCluster`` of ``n_jobs``
    workers on 127.0.0.1), broadcasting every population to the workers once.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    start = time.perf_counter()
    finished = store.finished_keys()
    todo = [s for s in specs if s.key not in finished]
    resumed = len(specs) - len(todo)
    n_jobs = default_jobs() if n_jobs is None else n_jobs
    bar = tqdm(
        total=len(specs),
        initial=resumed,
        desc=store.name,
        unit="run",
        disable=not progress,
        smoothing=0.05,
        dynamic_ncols=True,
    )
    buffer: list[dict] = []
    last_flush = time.monotonic()

    def flush():
        nonlocal last_flush
        store.append(buffer)
        buffer.clear()
        last_flush = time.monotonic()

    previous = _on_sigterm(_raise_interrupt)
    try:
        if todo:
            # Heavy cells first keeps the workers busy until the end.
            todo.sort(key=lambda s: -s.n_producers * s.dim)
            if backend == "dask":
                rows = _dask_rows(todo, engine, n_jobs, scheduler)
            else:
                parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
                rows = parallel(delayed(run_one)(spec, engine) for spec in todo)
            for row in rows:
                buffer.append(row)
                bar.update()
                if len(buffer) >= FLUSH_ROWS or time.monotonic() - last_flush >= flush_seconds:
                    flush()
    finally:
        flush()  # also on KeyboardInterrupt / SIGTERM: finished runs are never lost
        _on_sigterm(previous)
        bar.close()
    table = store.consolidate(keys=[s.key for s in specs])
    return GridSummary(
        name=store.name,
        total=len(specs),
        new=len(todo),
        resumed=resumed,
        converged=int(table["converged"].sum()) if len(table) else 0,
        seconds=time.perf_counter() - start,
        table=table,
    )


def _dask_rows(specs, engine, n_jobs, scheduler):
    """Rows of ``specs`` computed on a dask.distributed cluster, as they finish."""
    from dask.distributed import Client, LocalCluster, as_completed

    from .populations import population, population_key

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_jobs,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        shared = {}  # each population travels to every worker once, not once per task
        for spec in specs:
            key = population_key(spec)
            if key not in shared:
                shared[key] = client.scatter(population(*key), broadcast=True)
        futures = []
        for spec in specs:
            key = population_key(spec)
            futures.append(
                client.submit(_run_with_users, spec, engine, key, shared[key], pure=False)
            )
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_with_users(spec, engine, key, users):
    from .populations import provide

    provide(key, users)
    return run_one(spec, engine)


def _on_sigterm(handler):
    """Install a SIGTERM handler (main thread only) and return the previous one."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m{secs:04.1f}s" if minutes else f"{secs:.1f}s"
