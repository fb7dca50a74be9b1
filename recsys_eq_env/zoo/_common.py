"""What the scenario modules share: result rows and reading them back."""

from __future__ import annotations

import numpy as np


def row(scenario: str, setting: str, metric: str, value) -> dict:
    """One result row (``recsys_eq_env.zoo.COLUMNS``); ``value`` a finite number or NaN."""
    return {"scenario": scenario, "setting": setting, "metric": metric, "value": float(value)}


def values(rows, metric: str, setting: str | None = None) -> np.ndarray:
    """The values of ``metric`` (in one ``setting``, or all) among a scenario's ``rows`` (a
    DataFrame or a list of row dicts), in row order; a ValueError when there are none."""
    import pandas as pd

    frame = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    keep = frame["metric"] == metric
    if setting is not None:
        keep &= frame["setting"] == setting
    if not keep.any():
        where = "" if setting is None else f" in setting {setting!r}"
        raise ValueError(f"the scenario's rows have no {metric!r}{where}: rerun it")
    return frame.loc[keep, "value"].to_numpy(dtype=np.float64)


def settings(rows, metric: str) -> list[str]:
    """The settings that have ``metric``, in row order."""
    import pandas as pd

    frame = pd.DataFrame(list(rows) if not isinstance(rows, pd.DataFrame) else rows)
    return list(dict.fromkeys(frame.loc[frame["metric"] == metric, "setting"]))
