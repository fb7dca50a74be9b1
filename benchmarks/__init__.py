"""Benchmarks: the fast core against a naive implementation, in the same process and input.

Timings are single-threaded (one core) unless the caller sets the thread variables itself:
they must be set before NumPy is first imported, which is why they are set here.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
