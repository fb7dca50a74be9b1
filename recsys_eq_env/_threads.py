"""Keep small products off BLAS thread pools.

An env step multiplies a few (n_producers x dim) and (dim x n_users) matrices: too small for a
BLAS thread pool to pay off, and while another process holds the cores, spinning BLAS threads
make a step 3-10x slower (measured: 67 to 920 simplex steps per second on the same machine).
:func:`blas_limit` caps the BLAS pools of NumPy and SciPy for the duration of a block, through
threadpoolctl (a few microseconds), and does nothing where threadpoolctl is not installed.

The environment variable ``RECSYS_EQ_BLAS_THREADS`` sets the cap the envs use (default 1;
``none`` leaves BLAS at its own thread count).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

_STATE = threading.local()
_CONTROLLERS: list | None = None
_LOCK = threading.Lock()


def _default_cap() -> int | None:
    value = os.environ.get("RECSYS_EQ_BLAS_THREADS", "1").strip().lower()
    if value in ("none", ""):
        return None
    try:
        cap = int(value)
    except ValueError:
        raise ValueError(
            f"RECSYS_EQ_BLAS_THREADS must be a positive integer or 'none', got {value!r}"
        ) from None
    if cap < 1:
        raise ValueError(f"RECSYS_EQ_BLAS_THREADS must be >= 1 or 'none', got {cap}")
    return cap


#: The cap the envs put on BLAS inside a step (``RECSYS_EQ_BLAS_THREADS``).
ENV_CAP = _default_cap()


def _blas_controllers() -> list:
    global _CONTROLLERS
    if _CONTROLLERS is None:
        with _LOCK:
            if _CONTROLLERS is None:
                try:
                    from threadpoolctl import ThreadpoolController
                except ImportError:  # pragma: no cover - threadpoolctl is a dependency
                    _CONTROLLERS = []
                else:
                    controller = ThreadpoolController()
                    _CONTROLLERS = [c for c in controller.lib_controllers if c.user_api == "blas"]
    return _CONTROLLERS


@contextmanager
def blas_limit(threads: int | None = ENV_CAP):
    """Cap BLAS at ``threads`` threads inside the block (``None``: leave BLAS alone).

    Nested blocks keep the outermost cap. BLAS thread counts are process-wide: another thread
    calling BLAS at the same moment runs under the same cap.
    """
    if threads is None or getattr(_STATE, "active", False):
        yield
        return
    controllers = _blas_controllers()
    previous = [c.num_threads for c in controllers]
    _STATE.active = True
    try:
        for c in controllers:
            if c.num_threads != threads:
                c.set_num_threads(threads)
        yield
    finally:
        for c, n in zip(controllers, previous, strict=True):
            if c.num_threads != n:
                c.set_num_threads(n)
        _STATE.active = False
