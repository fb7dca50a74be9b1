"""Run a grid of specs in parallel, resumably, with a progress bar.

Runs are independent and each derives its RNG from its own cell (see
:attr:`experiments.config.RunSpec.seed`), so the results do not depend on the number of
workers or the order in which runs finish. Finished rows are flushed to the store every few
seconds (and on Ctrl-C or SIGTERM), so an interrupted grid loses at most the last few seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .config import ENGINES, RunSpec
from .runner import run_one
from .store import ResultStore, fingerprint, plan

FLUSH_SECONDS = 2.0
#: How long to try to reach a Dask scheduler before giving up with an error.
SCHEDULER_TIMEOUT = "10s"
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
    recomputed: int = 0

    def line(self, path) -> str:
        again = f", {self.recomputed} of them recomputed" if self.recomputed else ""
        return (
            f"{self.name}: {self.total} runs ({self.new} new{again}, {self.resumed} resumed) "
            f"in {_duration(self.seconds)}; {self.converged}/{self.total} converged; table {path}"
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
    recompute: bool = False,
) -> GridSummary:
    """Run every spec not already in ``store`` and return the consolidated table.

    ``backend="joblib"`` uses local processes; ``backend="dask"`` submits the runs to a
    dask.distributed scheduler (``scheduler`` address, else a ``LocalCluster`` of ``n_jobs``
    workers on 127.0.0.1), broadcasting every population to the workers once. A finished run
    made with other settings (iteration budget, seeds, engine) is refused unless
    ``recompute`` (then its row is replaced).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if scheduler is not None and backend != "dask":
        raise ValueError("scheduler is only used with backend='dask'")
    if not (isinstance(flush_seconds, (int, float)) and flush_seconds >= 0):
        raise ValueError(f"flush_seconds must be a number >= 0, got {flush_seconds!r}")
    start = time.perf_counter()
    work = plan(
        store,
        specs,
        key=lambda s: s.key,
        print_of=lambda s: fingerprint(s.settings(engine)),
        recompute=recompute,
        describe=lambda table, spec: _difference(table, spec, engine),
    )
    todo, resumed = work.todo, work.resumed
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
        recomputed=work.stale,
    )


def _difference(table: pd.DataFrame, spec: RunSpec, engine: str) -> str:
    """What the stored row of ``spec`` was made with, against this run's settings."""
    stored = table[table["key"] == spec.key]
    if stored.empty:
        return ""
    old = stored.iloc[-1]
    new = spec.settings(engine)
    changes = [
        f"{name} {_plain(old[name])!r} there, {value!r} now"
        for name, value in new.items()
        if name in old.index and old[name] != value
    ]
    if not changes:
        return " (made by another version of this code)"
    return " (" + "; ".join(changes) + ")"


def _plain(value):
    """A table value as the plain Python scalar it was written from."""
    return value.item() if hasattr(value, "item") else value


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
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise OSError(f"could not reach the Dask scheduler at {scheduler}: {exc}") from None
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
        done = 0
        for future in as_completed(futures):
            try:
                row = future.result()
            except (Exception, asyncio.CancelledError) as exc:  # a worker died, a task cancelled
                if isinstance(exc, (ValueError, TypeError)):
                    raise  # the run's own error (bad input), as the joblib backend raises it
                raise WorkerLostError(
                    f"a Dask task failed and could not be retried ({type(exc).__name__}: "
                    f"{exc or 'no message'}); {done} of {len(futures)} runs finished and are "
                    "saved: run the same command again to resume"
                ) from exc
            done += 1
            yield row
        if done != len(futures):  # pragma: no cover - as_completed yields every future
            raise WorkerLostError(f"only {done} of {len(futures)} Dask tasks returned a row")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


class WorkerLostError(OSError):
    """A grid's task was lost on its cluster (a worker killed past the scheduler's retries):
    finished rows are saved; running again resumes."""


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
