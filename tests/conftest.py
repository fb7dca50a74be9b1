import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn to files, never shown
# JAX's persistent compilation cache: compiled steps and trainers are reused across runs.
_JAX_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "jax"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_JAX_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
sys.path.insert(0, str(Path(__file__).parent))  # the naive reference in tests/reference.py

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
# CI replays a fixed set of examples so a red run can be reproduced locally with CI=true.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

from helpers import SHARED, shared_file  # noqa: E402 (fixtures below use them)


def _movielens_loader(tmp_path_factory):
    import recsys_eq_env as rq

    shared_file("ml-100k", "u.data")
    cache = tmp_path_factory.mktemp("movielens-cache")

    def load(dim: int, seed: int):
        return rq.load_users(
            "movielens-100k", dim, seed, data_home=SHARED, cache_home=cache, progress=False
        )

    return load


def pytest_configure(config):
    import pytest

    # MovieLens-100k users by the paper's NMF protocol: movielens_users(dim, seed).
    globals()["movielens_users"] = pytest.fixture(scope="session", name="movielens_users")(
        _movielens_loader
    )
