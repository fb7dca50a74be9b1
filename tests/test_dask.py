"""Grids on a real distributed engine: dask.distributed gives the local run's rows."""

import pandas as pd
import pytest
from test_experiments import TINY

from experiments.config import expand, load_config
from experiments.grid import run_grid
from experiments.store import ResultStore

pytestmark = pytest.mark.slow  # whole module: make test-fast skips it


def test_local_cluster_gives_the_same_rows_and_broadcasts_populations(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    scattered = []
    real_scatter = distributed.Client.scatter

    def counting_scatter(self, data, *args, **kwargs):
        scattered.append(kwargs.get("broadcast"))
        return real_scatter(self, data, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", counting_scatter)
    config_path = tmp_path / "tiny.yaml"
    config_path.write_text(TINY)
    specs = expand(load_config(str(config_path)), "exp2")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        on_dask = run_grid(
            specs,
            ResultStore(tmp_path / "dask", "exp2"),
            engine="rollout",
            backend="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        ).table
        with distributed.Client(cluster) as client:
            held = client.run(_provided)  # worker address -> population keys it was handed
    finally:
        cluster.close()
    local = run_grid(
        specs, ResultStore(tmp_path / "local", "exp2"), engine="rollout", n_jobs=1, progress=False
    ).table
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
    config_path = tmp_path / "tiny.yaml"
    config_path.write_text(TINY)
    specs = expand(load_config(str(config_path)), "exp1")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=4, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        threaded = run_grid(
            specs,
            ResultStore(tmp_path / "dask", "exp1"),
            engine="direct",
            backend="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        ).table
    finally:
        cluster.close()
    serial = run_grid(
        specs, ResultStore(tmp_path / "serial", "exp1"), engine="direct", n_jobs=1, progress=False
    ).table
    pd.testing.assert_frame_equal(threaded, serial)
