"""Reading GTFS table columns as numpy arrays: the few conversions every compile step shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feeds.gtfs.model import parse_gtfs_integers

__all__ = ["column", "int_cells", "namespaced", "optional_namespaced"]


def column(table: pd.DataFrame | None, name: str, n: int | None = None, default: str = "") -> np.ndarray:
    """One column as an object array; an absent table or column reads as ``default`` everywhere."""
    if table is None:
        return np.full(n or 0, default, dtype=object)
    if name in table.columns:
        return table[name].to_numpy(dtype=object)
    return np.full(len(table), default, dtype=object)


def int_cells(values: np.ndarray, default: int) -> np.ndarray:
    """Integer cells (surrounding spaces allowed); empty or malformed -> default."""
    return parse_gtfs_integers(values, default)


def namespaced(feed_id: str, values: np.ndarray) -> np.ndarray:
    """``<feed>:<id>`` for every id (an empty id too)."""
    return np.array([f"{feed_id}:{value}" for value in values], dtype=object)


def optional_namespaced(feed_id: str, values: np.ndarray) -> np.ndarray:
    """``<feed>:<id>`` for every id; an empty id stays empty (no parent station, no shape)."""
    return np.array([f"{feed_id}:{value}" if value else "" for value in values], dtype=object)
