"""Work and memory bounds, computed before anything is allocated.

Every analysis that could run for hours or allocate gigabytes states its cost up front and
refuses above a bound, naming the numbers and the way out (issue 20): a bound that is only
checked after the allocation is no bound.
"""

from __future__ import annotations

#: The largest array (bytes) an analysis builds unless given a larger ``max_bytes``.
MAX_BYTES = 2 * 2**30


def human(nbytes: float) -> str:
    """``1.6 GiB``: a byte count for a message."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.3g} EiB"  # pragma: no cover


def check_bytes(nbytes: float, what: str, max_bytes: float = MAX_BYTES, way_out: str = "") -> None:
    """Refuse ``what`` when it needs more than ``max_bytes`` (a ValueError with the numbers)."""
    if not nbytes <= max_bytes:
        raise ValueError(
            f"{what} needs {human(nbytes)} of memory, more than max_bytes={human(max_bytes)}"
            + (f"; {way_out}" if way_out else "")
        )
