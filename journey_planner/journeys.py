"""Journeys, the use case: a `JourneyQuery` over one snapshot -> the `Journeys` answer.

Resolves the places (coordinates: growing access radius, `places.resolve_access`), reads the
page (the query's time, or its ``cursor``: `journey_pages`), checks the request against the
timetable, runs the core (`core.plan`), adds a walk-only journey when walking is competitive
(`walk_only`) and maps the result with the same snapshot, with the ``next``/``previous``
cursors. Runs in the executor (`PlannerService.plan_journeys`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .compile import Network
from .core import Journey, Place, PlanRequest, PlanResult, plan
from .errors import OutsideTimetable, SamePlace, UnknownPlace, WindowTooLarge
from .explain import explain
from .itineraries import encode_itinerary_id, itinerary_ref
from .journey_pages import Page, decode_cursor, encode_cursor, neighbours
from .mapping import NO_OVERLAY, Mapper
from .places import PlaceError, WalkingRules, distances_m, parse_coordinate, place_point, resolve_access, resolve_place
from .snapshot import Snapshot
from .walk_only import has_ride, walk_only_journey, with_walk_only

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
    cursor: str | None = None  # a page of an earlier answer: replaces at, arrive_by and window_s
    walking: WalkingRules = WalkingRules()  # the server's rules ([planner] settings)
    langs: tuple[str, ...] = ()  # languages of alert texts, preferred first (lang, else Accept-Language)


def plan_journeys(service: PlannerService, snapshot: Snapshot, query: JourneyQuery) -> dict:
    """The `Journeys` answer of one query (raises the package's errors on a bad request)."""
    use_rt = query.realtime and snapshot.has_realtime()
    network = snapshot.network(use_rt)
    lookups = service.lookups_for(network)
    page = _page(service, query)
    origin = resolve_journey_place(service, network, "from", query.origin, lookups, query.walking)
    destination = resolve_journey_place(service, network, "to", query.destination, lookups, query.walking)
    if query.origin.strip() == query.destination.strip() or (
        set(origin.stops.tolist()) == set(destination.stops.tolist()) and not np.any(origin.walk_s)
    ):
        raise SamePlace()
    _check_time(network, page.time_s)
    request = PlanRequest(
        origin, destination, page.time_s, arrive_by=page.arrive_by, max_transfers=query.max_transfers,
        transfer_slack_s=query.transfer_slack_s, wheelchair=query.wheelchair,
        window_s=page.window_s, max_journeys=query.num,
    )
    reversed_tt = snapshot.reversed_timetable(use_rt)  # built before publication; depart-at uses it too
    result = plan(network.timetable, request, reversed_tt)
    mapper = Mapper(network, snapshot.overlay if use_rt else NO_OVERLAY, use_rt,
                    service.pricing, query.rider_category, snapshot.alerts if use_rt else None, query.langs)
    place_from = _place_json(network, query.origin, origin)
    place_to = _place_json(network, query.destination, destination)
    explanation = explain(network, request, result, reversed_tt)
    walk = _walk_only(page, place_from, place_to, query.walking)
    chosen, order = with_walk_only(result.journeys, walk, page.arrive_by, query.walking, query.num)
    journeys = []
    for journey, index in zip(chosen, order, strict=True):
        ref = itinerary_ref(network, journey, query.origin.strip(), query.destination.strip())
        item = {"id": encode_itinerary_id(ref)} | mapper.journey_json(journey, place_from, place_to)
        if index < 0:
            _zone_walk_only(item, mapper, journey, int(origin.stops[0]))
        item["constraints"] = [] if index < 0 else explanation.constraints[index]
        journeys.append(item)
    return {
        "realtime": use_rt,
        "realtime_at": snapshot.realtime_at.isoformat() if use_rt and snapshot.realtime_at else None,
        "snapshot_version": snapshot.version,
        "query": _query_json(query, page, mapper.iso(page.time_s, int(origin.stops[0]))),
        "walking": query.walking.as_json(),
        **_cursors(query, page, result),
        "journeys": journeys,
        "reasons": explanation.reasons,
    }


def _page(service: PlannerService, query: JourneyQuery) -> Page:
    """The page asked for: the cursor's, else the query's time (now by default), direction and window."""
    if query.cursor is not None:
        page = decode_cursor(query.cursor, query.origin, query.destination)
    else:
        at = query.at or service.clock.now()
        page = Page(int(at.timestamp()), query.arrive_by, query.window_s)
    if page.window_s > service.max_window_s:
        raise WindowTooLarge(service.max_window_s)
    return page


def _check_time(network: Network, t: int) -> None:
    tt = network.timetable
    first = int(tt.day_base_s[0].min()) if tt.day_count else 0
    last = int(tt.day_base_s[-1].max()) + tt.max_stop_time_s if tt.day_count else 0
    if not first - 86400 <= t <= last + 86400:
        at = dt.datetime.fromtimestamp(t, dt.UTC)
        raise OutsideTimetable(f"{at.isoformat()} is outside the service days of the loaded timetables")


def _query_json(query: JourneyQuery, page: Page, datetime_iso: str | None) -> dict:
    return {
        "from": query.origin, "to": query.destination,
        "datetime": query.at.isoformat() if query.at and query.cursor is None else datetime_iso,
        "arrive_by": page.arrive_by, "max_transfers": query.max_transfers,
        "wheelchair": query.wheelchair, "window_s": page.window_s, "num": query.num,
        "rider_category": query.rider_category, "cursor": query.cursor,
    }


def _cursors(query: JourneyQuery, page: Page, result: PlanResult) -> dict:
    next_page, previous_page = neighbours(page, [j for j in result.journeys if has_ride(j)])
    return {"next": encode_cursor(next_page, query.origin, query.destination),
            "previous": encode_cursor(previous_page, query.origin, query.destination)}


def _walk_only(page: Page, place_from: dict | None, place_to: dict | None, rules: WalkingRules) -> Journey | None:
    if place_from is None or place_to is None:
        return None
    straight = float(distances_m(np.array([place_to["lat"]]), np.array([place_to["lon"]]),
                                 place_from["lat"], place_from["lon"])[0])
    return walk_only_journey(page, straight, rules)


def _zone_walk_only(item: dict, mapper: Mapper, journey: Journey, ref_stop: int) -> None:
    """A walk from place to place has no stop: its times are in the zone of the origin's nearest stop."""
    item["departure"] = mapper.iso(journey.departure_s, ref_stop)
    item["arrival"] = mapper.iso(journey.arrival_s, ref_stop)
    for leg in item["legs"]:
        leg["departure"], leg["arrival"] = item["departure"], item["arrival"]


def resolve_journey_place(service: PlannerService, network: Network, name: str, text: str, lookups: Lookups,
                          walking: WalkingRules) -> Place:
    """A journey end as /v1/journeys reads it: a hub, a coordinate (walking access to the stops
    around it), or a stop or station id; `UnknownPlace` naming parameter ``name`` otherwise."""
    hub_stops = lookups.hubs.find(text)
    if hub_stops is not None:
        return Place.of_stops(hub_stops)
    try:
        coordinate = parse_coordinate(text)
        if coordinate is not None:
            return resolve_access(network, coordinate[0], coordinate[1], walking, lookups.spatial, name)
        return resolve_place(network, text, spatial=lookups.spatial, radius_m=service.walk_radius_m)
    except PlaceError as error:
        raise UnknownPlace(name, str(error)) from None


def _place_json(network: Network, text: str, place: Place) -> dict | None:
    """The place as a walk leg's end: the coordinate typed (id null), or the stop/station/hub."""
    point = place_point(network, place, text)
    if point is None:
        return None
    if parse_coordinate(text) is not None:
        return {"id": None, "name": text, "lat": point[0], "lon": point[1]}
    s = network.find_stop(text.strip())
    name = str(network.stop_names[s]) if s is not None else text.strip()
    return {"id": text.strip(), "name": name, "lat": point[0], "lon": point[1]}
