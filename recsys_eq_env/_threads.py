"""Keep small products off BLAS thread pools.

An env step multiplies a few (n_producers x dim) and (dim x n_users) matrices: too small for a
BLAS thread pool to pay off, and while another process holds the cores, spinning BLAS threads
make a step 3-10x slower (measured: 67 to 920 simplex steps per second on the same machine).
:func:`blas_limit` caps the BLAS pools of NumPy and SciPy for the duration of a block, through
threadpoolctl (a few microseconds), and does nothing where threadpoolctl is not installed.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_STATE = threading.local()
_CONTROLLERS: list | None = None
_LOCK = threading.Lock()


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
def blas_limit(threads: int | None = 1):
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
