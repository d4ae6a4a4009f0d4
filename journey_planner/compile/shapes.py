"""shapes.txt -> the points of every shape, compiled into the network (and its cache) so that
rendering an itinerary's geometry reads arrays and never a feed file during a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.model import GtfsTables, parse_gtfs_numbers

from .columns import column

__all__ = ["Shapes", "feed_shapes", "merge_shapes"]


@dataclass(frozen=True)
class Shapes:
    ids: np.ndarray  # shape -> namespaced shape_id (object)
    point_offsets: np.ndarray  # shape -> first point in shape_lat/shape_lon, CSR (int64 [n+1])
    lat: np.ndarray  # point -> latitude, in shape_pt_sequence order (float64)
    lon: np.ndarray  # point -> longitude (float64)


def _no_shapes() -> Shapes:
    return Shapes(np.zeros(0, dtype=object), np.zeros(1, dtype=np.int64), np.zeros(0), np.zeros(0))


def feed_shapes(feed_id: str, tables: GtfsTables) -> Shapes:
    """One feed's shapes, each one's points in shape_pt_sequence order."""
    table = tables.find("shapes")
    if table is None or not len(table) or "shape_id" not in table:
        return _no_shapes()
    shape_of_point, shape_ids = pd.factorize(column(table, "shape_id"))  # shapes in order of appearance
    lat = parse_gtfs_numbers(column(table, "shape_pt_lat"))
    lon = parse_gtfs_numbers(column(table, "shape_pt_lon"))
    sequence = parse_gtfs_numbers(column(table, "shape_pt_sequence"))
    order = np.lexsort((sequence, shape_of_point))
    counts = np.bincount(shape_of_point, minlength=len(shape_ids))
    return Shapes(
        ids=np.array([f"{feed_id}:{shape_id}" for shape_id in shape_ids], dtype=object),
        point_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        lat=lat[order], lon=lon[order],
    )


def merge_shapes(shapes: Sequence[Shapes]) -> Shapes:
    """The feeds' shapes end to end (point offsets shifted)."""
    if not shapes:
        return _no_shapes()
    point_starts = np.cumsum([0] + [s.lat.size for s in shapes])
    offsets = [s.point_offsets[:-1] + start for s, start in zip(shapes, point_starts)]
    return Shapes(
        ids=np.concatenate([s.ids for s in shapes]),
        point_offsets=np.r_[np.concatenate(offsets), point_starts[-1]].astype(np.int64),
        lat=np.concatenate([s.lat for s in shapes]),
        lon=np.concatenate([s.lon for s in shapes]),
    )
