"""Stop search, the use case behind ``GET /v1/stops``: by name, or nearest to a point.

Name search folds accents and case: "part dieu" finds "Lyon Part-Dieu". `StopSearchIndex` is
built once per network (`PlannerService.lookups_for`) and read by every search.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from oura.http.schemas import NUMBER, STRING, nullable, object_of

from .compile import Network
from .mapping import NO_OVERLAY, Mapper
from .places import distances_m
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .service import PlannerService

__all__ = ["StopSearchIndex", "fold_text", "find_stops", "search_stops", "STOP_SEARCH_COMPONENTS"]


def fold_text(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces: the form names are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


@dataclass(frozen=True, eq=False)
class StopSearchIndex:
    """What name search reads, built once per network."""

    folded_names: list[str]

    @staticmethod
    def of(network: Network) -> StopSearchIndex:
        return StopSearchIndex([fold_text(str(n)) for n in network.stop_names])


def find_stops(network: Network, query: str, index: StopSearchIndex | None = None, limit: int = 20) -> list[int]:
    """Stops whose folded name contains every folded word of the query; stations first."""
    words = fold_text(query).split()
    if not words:
        return []
    names = (index or StopSearchIndex.of(network)).folded_names
    hits = [i for i, name in enumerate(names) if all(w in name for w in words)]
    hits.sort(key=lambda i: (
        0 if network.stop_is_station[i] else 1,
        0 if names[i].startswith(words[0]) else 1,
        len(names[i]),
        names[i],
    ))
    # a station's platforms add nothing when the station itself is listed
    stations = {i for i in hits if network.stop_is_station[i]}
    parent = network.timetable.stop_parent
    hits = [i for i in hits if parent[i] < 0 or int(parent[i]) not in stations]
    return hits[:limit]


def search_stops(service: PlannerService, snapshot: Snapshot, q: str | None,
                 near: tuple[float, float] | None, limit: int) -> list[dict]:
    """The `StopMatch` items of ``GET /v1/stops``."""
    network = snapshot.static
    lookups = service.lookups_for(network)
    mapper = Mapper(network, NO_OVERLAY, False)
    tt = network.timetable
    if q:
        hits = find_stops(network, q, lookups.search, limit=limit * 5 if near else limit)
        if near is not None and hits:
            d = distances_m(tt.stop_lat[hits], tt.stop_lon[hits], *near)
            hits = [hits[i] for i in np.argsort(d, kind="stable")]
        hits = hits[:limit]
        dist = None
    elif near is not None:
        stops, dist_m = lookups.spatial.list_within(near[0], near[1], service.walk_radius_m * 2, limit)
        hits, dist = stops.tolist(), dist_m.tolist()
    else:
        return []
    out = []
    for i, s in enumerate(hits):
        item = mapper.stop_json(s) | {
            "location_type": "station" if network.stop_is_station[s] else "stop",
            "parent_station": str(network.stop_ids[tt.stop_parent[s]]) if tt.stop_parent[s] >= 0 else None,
        }
        if dist is not None:
            item["distance_m"] = round(float(dist[i]), 1)
        elif near is not None:
            item["distance_m"] = round(float(distances_m(tt.stop_lat[[s]], tt.stop_lon[[s]], *near)[0]), 1)
        out.append(item)
    return out


STOP_SEARCH_COMPONENTS: dict[str, Any] = {
    "StopMatch": object_of({
        "id": {"type": "string", "description": "namespaced stop id (network:stop_id)"},
        "name": STRING,
        "lat": NUMBER,
        "lon": NUMBER,
        "wheelchair_accessible": {"type": "boolean"},
        "location_type": {"enum": ["stop", "station"]},
        "parent_station": nullable(STRING),
        "distance_m": NUMBER,
    }, optional=("distance_m",), description="a stop or station found by name or near a point (distance_m: near only)"),
}
