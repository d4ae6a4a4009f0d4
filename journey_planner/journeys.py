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

from .carpool_legs import DEFAULT_MODES, CarpoolAsk, FoundOffers, carpool_asks, carpool_itinerary_json, chain_offers
from .compile import Network
from .core import Journey, Place, PlanRequest, PlanResult, plan
from .errors import NoStopWithinReach, OutsideTimetable, SamePlace, UnknownPlace, WindowTooLarge
from .explain import Explanation, explain
from .itineraries import encode_itinerary_id, itinerary_ref
from .journey_pages import Page, decode_cursor, encode_cursor, neighbours
from .mapping import NO_OVERLAY, Mapper
from .places import PlaceError, WalkingRules, distances_m, parse_coordinate, place_point, resolve_access, resolve_place
from .snapshot import Snapshot
from .walk_only import has_ride, walk_only_journey, with_walk_only

if TYPE_CHECKING:
    from .service import Lookups, PlannerService

__all__ = ["JourneyQuery", "carpool_asks_of", "plan_journeys", "wants_carpool"]


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
    modes: frozenset[str] = DEFAULT_MODES  # of `carpool_legs.MODES`: transit, walk (walk-only journeys), carpool


def plan_journeys(service: PlannerService, snapshot: Snapshot, query: JourneyQuery,
                  found: FoundOffers = FoundOffers()) -> dict:
    """The `Journeys` answer of one query (raises the package's errors on a bad request);
    ``found``: the carpool offers of `carpool_asks_of` for this query (`carpool_legs`)."""
    use_rt = query.realtime and snapshot.has_realtime()
    network = snapshot.network(use_rt)
    lookups = service.lookups_for(network)
    page = _page(service, query)
    carpool = wants_carpool(query)
    origin = _resolve_end(service, network, "from", query.origin, lookups, query.walking, carpool)
    destination = _resolve_end(service, network, "to", query.destination, lookups, query.walking, carpool)
    if query.origin.strip() == query.destination.strip() or (
        origin is not None and destination is not None
        and set(origin.stops.tolist()) == set(destination.stops.tolist()) and not np.any(origin.walk_s)
    ):
        raise SamePlace()
    _check_time(network, page.time_s)
    nowhere = Place.of_stops([])  # an end without stops (carpool only): no transit from or to it
    request = PlanRequest(
        origin or nowhere, destination or nowhere, page.time_s, arrive_by=page.arrive_by,
        max_transfers=query.max_transfers, transfer_slack_s=query.transfer_slack_s, wheelchair=query.wheelchair,
        window_s=page.window_s, max_journeys=query.num,
    )
    reversed_tt = snapshot.reversed_timetable(use_rt)  # built before publication; depart-at uses it too
    transit = "transit" in query.modes and origin is not None and destination is not None
    result = plan(network.timetable, request, reversed_tt) if transit else PlanResult((), 0, 0)
    mapper = Mapper(network, snapshot.overlay if use_rt else NO_OVERLAY, use_rt,
                    service.pricing, query.rider_category, snapshot.alerts if use_rt else None, query.langs)
    place_from = _place_json(network, query.origin, origin)
    place_to = _place_json(network, query.destination, destination)
    explanation = explain(network, request, result, reversed_tt) if transit else Explanation([], [])
    walk = _walk_only(page, place_from, place_to, query.walking) if "walk" in query.modes else None
    chosen, order = with_walk_only(result.journeys, walk, page.arrive_by, query.walking, query.num)
    ref_stop = _ref_stop(lookups, origin, destination, place_from)
    journeys = []
    for journey, index in zip(chosen, order, strict=True):
        ref = itinerary_ref(network, journey, query.origin.strip(), query.destination.strip())
        item = {"id": encode_itinerary_id(ref)} | mapper.journey_json(journey, place_from, place_to)
        if index < 0:
            _zone_walk_only(item, mapper, journey, ref_stop)
        item["constraints"] = [] if index < 0 else explanation.constraints[index]
        journeys.append(item)
    answer = {
        "realtime": use_rt,
        "realtime_at": snapshot.realtime_at.isoformat() if use_rt and snapshot.realtime_at else None,
        "snapshot_version": snapshot.version,
        "query": _query_json(query, page, mapper.iso(page.time_s, ref_stop)),
        "walking": query.walking.as_json(),
        **_cursors(query, page, result),
        "journeys": journeys,
        "reasons": explanation.reasons,
    }
    if carpool:
        _add_carpool(answer, network, lookups, mapper, snapshot, use_rt, query, page, request, result,
                     (origin, destination), (place_from, place_to), found, ref_stop)
    return answer


def wants_carpool(query: JourneyQuery) -> bool:
    """Carpool is asked for (and possible: not for wheelchair queries, see `carpool_legs`)."""
    return "carpool" in query.modes and not query.wheelchair


def carpool_asks_of(service: PlannerService, snapshot: Snapshot, query: JourneyQuery) -> tuple[CarpoolAsk, ...]:
    """The operators' searches for ``query`` (raises the package's errors on a bad request)."""
    network = snapshot.network(query.realtime and snapshot.has_realtime())
    lookups = service.lookups_for(network)
    page = _page(service, query)
    points = []
    for name, text in (("from", query.origin), ("to", query.destination)):
        place = _resolve_end(service, network, name, text, lookups, query.walking, True)
        points.append(place_point(network, place, text) if place is not None else parse_coordinate(text))
    return carpool_asks(network, lookups.rail, points[0], points[1], page.time_s, page.arrive_by)


def _add_carpool(answer: dict, network: Network, lookups: Lookups, mapper: Mapper, snapshot: Snapshot, use_rt: bool,
                 query: JourneyQuery, page: Page, request: PlanRequest, result: PlanResult,
                 places: tuple[Place | None, Place | None], ends: tuple[dict | None, dict | None],
                 found: FoundOffers, ref_stop: int) -> None:
    """Chained carpool itineraries merged into the answer's journeys (best first, at most num)."""
    answer["carpool"] = {"searched": found.searched, "asks": len(found.asks),
                         "offers": sum(len(offers) for offers in found.offers),
                         "operator_errors": [{"operator": e.operator, "failure": str(e.failure), "detail": e.detail}
                                             for e in found.errors]}
    place_from, place_to = ends
    if place_from is None or place_to is None or not found.asks:
        return
    chained = chain_offers(
        network.timetable, snapshot.reversed_timetable(use_rt), network, lookups.spatial, found, places[0], places[1],
        (place_from["lat"], place_from["lon"]), (place_to["lat"], place_to["lon"]), page.time_s, page.arrive_by,
        query.walking, request, result.journeys if "transit" in query.modes else ())
    if not chained:
        return
    items = []
    for c in chained:
        ref = itinerary_ref(network, c.transit or Journey((), c.departure_s, c.arrival_s),
                            query.origin.strip(), query.destination.strip())
        items.append({"id": encode_itinerary_id(ref)}
                     | carpool_itinerary_json(mapper, c, place_from, place_to, ref_stop) | {"constraints": []})
    merged = answer["journeys"] + items
    if page.arrive_by:
        merged.sort(key=lambda j: (-_epoch(j["departure"]), _epoch(j["arrival"])))
    else:
        merged.sort(key=lambda j: (_epoch(j["arrival"]), -_epoch(j["departure"])))
    answer["journeys"] = merged[:query.num]


def _ref_stop(lookups: Lookups, origin: Place | None, destination: Place | None, place_from: dict | None) -> int:
    """The stop whose zone the answer's times are in: the origin's (or the destination's) first
    stop, else the nearest stop to the origin."""
    for place in (origin, destination):
        if place is not None and place.stops.size:
            return int(place.stops[0])
    nearest = lookups.spatial.nearest(place_from["lat"], place_from["lon"]) if place_from is not None else None
    return nearest[0] if nearest is not None else 0


def _epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def _resolve_end(service: PlannerService, network: Network, name: str, text: str, lookups: Lookups,
                 walking: WalkingRules, carpool: bool) -> Place | None:
    """`resolve_journey_place`; with carpool, a coordinate without a stop in walking reach is
    None (a car may still pick the traveller up there)."""
    try:
        return resolve_journey_place(service, network, name, text, lookups, walking)
    except NoStopWithinReach:
        if carpool and parse_coordinate(text) is not None:
            return None
        raise


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
        "modes": sorted(query.modes),
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
