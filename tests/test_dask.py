"""Grids on a real distributed engine: dask.distributed gives the local run's rows."""

import pandas as pd
import pytest
from test_experiments import TINY

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
