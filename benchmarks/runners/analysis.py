"""Runners of the analysis and NMF cases (one case in-process)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..cases import SHARED_DATA, Case, users_for
from .core import _peak_mb


def run_analysis(case: Case, steps: int) -> dict:
    """Equilibrium analysis: time of the lattice pass against the per-vector enumeration
    (``pure_nash_equilibria``, timed on a sample of count vectors and extrapolated)."""
    import numpy as np

    import recsys_eq_env as rq
    from recsys_eq_env import analysis
    from recsys_eq_env.lattice import Lattice

    if case.name.startswith("design"):
        from experiments.design import design_study
        from experiments.populations import population as load

        if SHARED_DATA.is_dir():  # the raw MovieLens file beside the project (tests, benchmarks)
            os.environ.setdefault("RECSYS_EQ_DATA", str(SHARED_DATA))

        users = load("movielens-100k", 0, case.dim, 13)
        start = time.perf_counter()
        table = design_study(users, case.n_producers, progress=False)
        seconds = time.perf_counter() - start
        best = table.loc[table["user_welfare_mean"].idxmax(), "serving"]
        return {"population": "movielens-100k (NMF, seed 13)", "seconds": seconds,
                "result": f"{len(table)} rules; best {best}", "peak_mb": _peak_mb()}  # fmt: skip
    users, population = users_for(case)
    game = rq.EngagementGame(users, case.n_producers, case.rule, case.temperature)
    start = time.perf_counter()
    if case.name.startswith("equilibria"):
        found = analysis.pure_equilibria(game, threads=2)
        result = f"{len(found.counts)} equilibria of {found.examined:,} count vectors"
    elif case.name.startswith("graph"):
        graph = analysis.response_graph(game)
        _, never = graph.basins()
        result = (
            f"{len(graph.counts):,} count vectors, cycle: {graph.has_cycle}, "
            f"{len(graph.equilibria)} equilibria, basins computed ({never:.0e} never end)"
        )
    elif case.name.startswith("symmetric"):
        found = analysis.classify_symmetric_equilibria(game, certify=False)
        stable = sum(e.stability.stable for e in found)
        result = (f"{len(found)} symmetric equilibria, {stable} stable, indices sum to "
                  f"{sum(e.stability.index for e in found)}")  # fmt: skip
    elif case.name.startswith("alpharank"):
        sweep = analysis.alpha_rank(game)
        result = f"{len(sweep)} alphas; top feature {int(sweep[-1].ranking[0])}"
    elif case.name.startswith("qre"):
        path = analysis.qre_path(game)
        result = (
            f"{len(path.lambdas)} points to lambda {path.lambdas[-1]:.2g}, end nash_conv "
            f"{path.nash_conv[-1]:.1e}, selects one: {path.selected is not None}"
        )
    elif case.name.startswith("cce"):
        ce = analysis.correlated_equilibria(game, "coarse")
        result = (f"CCE welfare [{ce.worst.welfare:.6g}, {ce.best.welfare:.6g}] over "
                  f"{ce.variables:,} count vectors")  # fmt: skip
    else:
        mixed = analysis.symmetric_mixed_equilibrium(game, certify=False)
        result = f"nash_conv {mixed.nash_conv:.1e} ({mixed.method})"
    seconds = time.perf_counter() - start
    peak_mb = _peak_mb()
    row = {"population": population, "seconds": seconds, "result": result, "peak_mb": peak_mb}
    if case.name.startswith("equilibria"):
        lattice = Lattice(case.n_producers, case.dim)
        sample = lattice.unrank(np.random.default_rng(0).integers(0, lattice.size, 2000))
        oracle = game.oracle
        begin = time.perf_counter()
        for counts in sample:  # the per-vector work of pure_nash_equilibria
            for a in np.flatnonzero(counts):
                oracle._row(counts, int(a), None)
        naive = (time.perf_counter() - begin) / len(sample) * lattice.size
        row.update({"naive_s": naive, "speed-up": naive / seconds})
    return row


def run_nmf(case: Case, steps: int) -> dict:
    """The paper's embedding protocol (5-fold NMF) on a generated file of the Amazon Digital
    Music shape and size, through the real loader: read, check, factorise, cache."""
    import tempfile

    import recsys_eq_env as rq

    from ..ratings import AMAZON_RATINGS, write_amazon_csv

    with tempfile.TemporaryDirectory() as folder:
        raw = write_amazon_csv(Path(folder) / "amazon-digital-music" / "Digital_Music.csv")
        before = _peak_mb()
        start = time.perf_counter()
        users = rq.load_users(
            "amazon-digital-music", case.dim, 13, data_home=folder, cache_home=folder
        )
        seconds = time.perf_counter() - start
        size_mb = raw.stat().st_size / 2**20
    return {
        "population": f"Amazon-shaped ratings ({AMAZON_RATINGS:,}, {size_mb:.0f} MB CSV)",
        "seconds": seconds,
        "result": f"{len(users):,} users embedded",
        "peak_mb": _peak_mb(),
        "peak_before_mb": before,
    }
