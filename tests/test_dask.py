"""Grids on a real distributed engine: dask.distributed gives the local run's rows."""

import pandas as pd
import pytest
from helpers import TINY

from experiments.config import expand, load_config
from experiments.grid import run_grid
from experiments.store import ResultStore

pytestmark = pytest.mark.slow  # whole module: make test-fast skips it


def _tiny_specs(tmp_path, experiment):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return expand(load_config(str(path)), experiment)


def _cluster(distributed, workers: int, threads: int):
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


def _grid(specs, out, experiment, engine, cluster=None):
    """The grid's table, on the cluster when one is given, else serially in this process."""
    where = {"n_jobs": 1}
    if cluster is not None:
        where = {"backend": "dask", "scheduler": cluster.scheduler_address}
    store = ResultStore(out, experiment)
    return run_grid(specs, store, engine=engine, progress=False, **where).table


def test_local_cluster_gives_the_same_rows_and_broadcasts_populations(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    scattered = []
    real_scatter = distributed.Client.scatter

    def counting_scatter(self, data, *args, **kwargs):
        scattered.append(kwargs.get("broadcast"))
        return real_scatter(self, data, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", counting_scatter)
    specs = _tiny_specs(tmp_path, "exp2")
    cluster = _cluster(distributed, workers=2, threads=1)
    try:
        on_dask = _grid(specs, tmp_path / "dask", "exp2", "rollout", cluster)
        with distributed.Client(cluster) as client:
            held = client.run(_provided)  # worker address -> population keys it was handed
    finally:
        cluster.close()
    local = _grid(specs, tmp_path / "local", "exp2", "rollout")
    pd.testing.assert_frame_equal(on_dask, local)
    populations = {(s.dataset, s.n_users, s.dim, s.embedding_seed, "default") for s in specs}
    assert len(populations) < len(specs)
    assert scattered == [True] * len(populations)  # each population once, to every worker
    assert len(held) == 2
    for keys in held.values():  # every worker got each population (broadcast), never more
        assert set(keys) <= populations and len(keys) == len(set(keys))


def _provided():
    from experiments import populations

    return list(populations._PROVIDED)


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of joblib, dask"):
        run_grid([], ResultStore(tmp_path, "exp1"), backend="spark")


def test_workers_with_several_threads_give_the_serial_rows(tmp_path):
    """Threaded Dask workers share each cell's game between their threads (issue 10)."""
    distributed = pytest.importorskip("dask.distributed")
    specs = _tiny_specs(tmp_path, "exp1")
    cluster = _cluster(distributed, workers=1, threads=4)
    try:
        threaded = _grid(specs, tmp_path / "dask", "exp1", "direct", cluster)
    finally:
        cluster.close()
    serial = _grid(specs, tmp_path / "serial", "exp1", "direct")
    pd.testing.assert_frame_equal(threaded, serial)


def test_a_worker_killed_past_its_retries_is_an_error_not_a_clean_exit(tmp_path):
    """Issue 20: a worker killed on an external scheduler gave exit code 0 and an empty line.
    With no retries allowed, the lost task raises WorkerLostError (an OSError: the CLI's
    one-line error and exit code 2); finished rows stay saved."""
    import dataclasses
    import os
    import threading
    import time

    distributed = pytest.importorskip("dask.distributed")
    import dask

    from experiments.grid import WorkerLostError

    heavy = [  # runs of a few seconds each: the kill lands while they run
        dataclasses.replace(s, n_users=60_000, dim=20, n_producers=100, max_iter=400)
        for s in _tiny_specs(tmp_path, "exp2")[:2]
    ]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = _cluster(distributed, workers=1, threads=1)
        try:
            with distributed.Client(cluster) as client:

                def kill():  # once a task runs (a fixed delay raced the runs on a fast machine)
                    deadline = time.monotonic() + 120
                    while not any(client.processing().values()) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    time.sleep(0.2)
                    client.run(os._exit, 1)

                threading.Thread(target=kill, daemon=True).start()
                lost = r"a Dask task failed and could not be retried .*run the same command again"
                with pytest.raises(WorkerLostError, match=lost):
                    _grid(heavy, tmp_path / "killed", "exp2", "direct", cluster)
        finally:
            cluster.close()
