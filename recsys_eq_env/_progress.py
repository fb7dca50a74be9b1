"""Progress bars for long library calls: off unless asked for (the CLI asks), tqdm if
installed, a silent stand-in otherwise."""

from __future__ import annotations


def progress_bar(total=None, enabled: bool = False, **kwargs):
    """A tqdm bar when ``enabled`` and tqdm is installed, else one that does nothing."""
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the core install has no tqdm: no bar
            pass
        else:
            return tqdm(total=total, **kwargs)
    return _Silent()


class _Silent:
    def update(self, *args):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
