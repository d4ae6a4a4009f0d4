"""Journeys, the use case: a `JourneyQuery` over one snapshot -> the `Journeys` answer.

Resolves the places, checks the request against the timetable, runs the core (`core.plan`) and
maps its result with the same snapshot. Runs in the executor (`PlannerService.plan_journeys`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .compile import Network
from .core import Place, PlanRequest, plan
from .errors import OutsideTimetable, SamePlace, UnknownPlace, WindowTooLarge
from .explain import explain
from .mapping import NO_OVERLAY, Mapper
from .places import PlaceError, parse_coordinate, resolve_place
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .service import Lookups, PlannerService

__all__ = ["JourneyQuery", "plan_journeys"]


@dataclass(frozen=True)
class JourneyQuery:
    origin: str
    destination: str
    at: dt.datetime | None = None  # None: now
    arrive_by: bool = False
    max_transfers: int = 6
    wheelchair: bool = False
    window_s: int = 0
    num: int = 5
    realtime: bool = True
    transfer_slack_s: int = 120
    rider_category: str | None = None  # price itineraries for this Fares v2 rider_category_id


def plan_journeys(service: PlannerService, snapshot: Snapshot, query: JourneyQuery) -> dict:
    """The `Journeys` answer of one query (raises the package's errors on a bad request)."""
    use_rt = query.realtime and snapshot.has_realtime()
    network = snapshot.network(use_rt)
    lookups = service.lookups_for(network)
    if query.window_s > service.max_window_s:
        raise WindowTooLarge(service.max_window_s)
    origin = _place(service, network, "from", query.origin, lookups)
    destination = _place(service, network, "to", query.destination, lookups)
    if query.origin.strip() == query.destination.strip() or (
        set(origin.stops.tolist()) == set(destination.stops.tolist()) and not np.any(origin.walk_s)
    ):
        raise SamePlace()
    at = query.at or service.clock.now()
    t = int(at.timestamp())
    tt = network.timetable
    first = int(tt.day_base_s[0].min()) if tt.day_count else 0
    last = int(tt.day_base_s[-1].max()) + tt.max_stop_time_s if tt.day_count else 0
    if not first - 86400 <= t <= last + 86400:
        raise OutsideTimetable(f"{at.isoformat()} is outside the service days of the loaded timetables")
    request = PlanRequest(
        origin, destination, t, arrive_by=query.arrive_by, max_transfers=query.max_transfers,
        transfer_slack_s=query.transfer_slack_s, wheelchair=query.wheelchair,
        window_s=query.window_s, max_journeys=query.num,
    )
    reversed_tt = snapshot.reversed_timetable(use_rt) if query.arrive_by else None
    result = plan(tt, request, reversed_tt)
    mapper = Mapper(network, snapshot.overlay if use_rt else NO_OVERLAY, use_rt,
                    service.pricing, query.rider_category)
    place_from = _place_json(query.origin)
    place_to = _place_json(query.destination)
    explanation = explain(network, request, result, reversed_tt)
    journeys = []
    for journey, constraints in zip(result.journeys, explanation.constraints, strict=True):
        item = mapper.journey_json(journey, place_from, place_to)
        item["constraints"] = constraints
        journeys.append(item)
    return {
        "realtime": use_rt,
        "realtime_at": snapshot.realtime_at.isoformat() if use_rt and snapshot.realtime_at else None,
        "snapshot_version": snapshot.version,
        "query": {
            "from": query.origin, "to": query.destination, "datetime": at.isoformat(),
            "arrive_by": query.arrive_by, "max_transfers": query.max_transfers,
            "wheelchair": query.wheelchair, "window_s": query.window_s, "num": query.num,
            "rider_category": query.rider_category,
        },
        "journeys": journeys,
        "reasons": explanation.reasons,
    }


def _place(service: PlannerService, network: Network, name: str, text: str, lookups: Lookups) -> Place:
    hub_stops = lookups.hubs.find(text)
    if hub_stops is not None:
        return Place.of_stops(hub_stops)
    try:
        return resolve_place(network, text, spatial=lookups.spatial, radius_m=service.walk_radius_m)
    except PlaceError as error:
        raise UnknownPlace(name, str(error)) from None


def _place_json(text: str) -> dict | None:
    try:
        c = parse_coordinate(text)
    except PlaceError:
        return None
    return None if c is None else {"id": None, "name": text, "lat": c[0], "lon": c[1]}
