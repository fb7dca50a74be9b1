"""What several test modules share: the data beside the project and the tiny grid config."""

import os
from pathlib import Path

#: The data every developer and CI run has beside the project (read-only).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_file(*parts) -> Path:
    """A file of ../shared/data; missing fails in CI and skips (with the reason) elsewhere."""
    import pytest

    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must have ../shared/data beside the project")
        pytest.skip(f"{path} is missing (../shared/data is not beside this checkout)")
    return path


#: A grid config small enough for a test: two synthetic populations, two dims, two sizes.
TINY = """
n_users: 400
max_iter: 60
base_seed: 7
datasets: [synthetic-uniform, synthetic-skewed]
dims: [3, 5]
n_producers: [4, 9]
embedding_seeds: [13, 17]
exp1:
  embedding_seeds: [17]
  runs_per_cell: 3
  serving:
    - {rule: softmax, temperature: 1.0}
    - {rule: linear}
exp2:
  runs_per_cell: 1
  serving:
    - {rule: softmax, temperature: 0.01}
    - {rule: softmax, temperature: 1.0}
    - {rule: softmax, temperature: 100.0}
    - {rule: linear}
certify:
  datasets: [synthetic-uniform]
  n_users: 300
  dims: [3]
  n_producers: [4]
  embedding_seeds: [13]
  starts: 4
  utilities: [engagement, exposure]
"""
