"""Carpool in journeys: what to ask the operators for a query, and itineraries chaining their
offers with transit (issue 16, "Planning").

Three shapes, as a traveller in a village with one coach a day needs them:

- **access**: a car from near the origin to a railway station, then transit (drive to the TER);
- **egress**: transit to a railway station near the destination, then a car from there;
- **direct**: a car from near the origin to near the destination, no transit.

`carpool_asks` turns a query into the standard-covoiturage searches (`/driver_journeys`): one
direct, and one per railway station within `STATION_REACH_KM` of the origin (access) or of the
destination (egress), the `STATIONS_PER_END` nearest. The service runs them (operators are I/O,
bounded by their timeouts), then `chain_offers` plans the transit part of each offer with the
core (`core.plan`, from the drop point at the drop time; or arriving at the pickup point
`CHANGE_S` before the pickup) and keeps the chained itineraries that no transit journey and no
other chained one beats on departure and arrival. `carpool_itinerary_json` renders one: the
carpool leg (``mode: carpool``: operator, pickup and drop points and times, seats, price, what
to book it with) and the transit part as the mapper renders it; the transit part's fare is the
itinerary's ``fare`` (the fare engine never sees the carpool leg), ``total_price`` adds the
carpool's price to it.

Carpool is left out of wheelchair queries: the standard says nothing about a car's access.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .carpool.client import JourneyQuery as CarpoolQuery
from .carpool.client import OperatorFailureReport, SearchResults
from .carpool.model import DriverJourney, PriceType
from .compile import Network
from .core import Journey, Place, PlanRequest, TransitLeg, WalkLeg, plan
from .core.timetable import Timetable
from .errors import NoStopWithinReach
from .mapping import Mapper
from .places import PlaceError, StopSpatialIndex, WalkingRules, distances_m, resolve_access

__all__ = [
    "CHANGE_S", "MODES", "MODES_PATTERN", "DEFAULT_MODES", "CarpoolAsk", "CarpoolSearch", "Chained", "FoundOffers", "RailStations",
    "carpool_asks", "chain_offers", "carpool_itinerary_json", "parse_modes",
]

MODES = ("transit", "walk", "carpool")
MODES_PATTERN = r"^(transit|walk|carpool)(,(transit|walk|carpool))*$"
DEFAULT_MODES = frozenset({"transit", "walk"})  # carpool when asked for: its legs are booked, not boarded
STATION_REACH_KM = 45.0  # a station farther than this from the origin is not a drive to the TER
STATIONS_PER_END = 4  # railway stations asked for per end (access, egress)
SEARCH_WINDOW_S = 3 * 3600  # pickups within this long after the query time (before it, arrive-by)
END_RADIUS_KM = 1.0  # pickups and drops within this distance of the place or station asked for
MIN_DIRECT_KM = 3.0  # no direct carpool between places closer than this
CHANGE_S = 300  # between a car and a train at a station (both ways)
OFFERS_PER_SHAPE = 6  # offers whose transit part is planned, per shape (earliest first)
MAX_CHAINED = 3  # chained itineraries in an answer at most


class CarpoolSearch(Protocol):
    """What the planner needs of the carpool service (`journey_planner.carpool.service.CarpoolService`)."""

    async def search(self, query: CarpoolQuery) -> SearchResults: ...


def parse_modes(text: str | None) -> frozenset[str] | None:
    """``transit,walk,carpool`` (any order, any subset but empty) -> the set; None when a word is
    not a mode or the list is empty. None text: the default."""
    if text is None:
        return DEFAULT_MODES
    words = [w.strip() for w in text.split(",")]
    if not words or any(w not in MODES for w in words):
        return None
    return frozenset(words)


@dataclass(frozen=True, eq=False)
class RailStations:
    """The railway stations of a network: a stop served by a rail route, grouped by station."""

    stop: np.ndarray  # -> StopIdx of the station (its parent station when it has one)
    lat: np.ndarray
    lon: np.ndarray

    @staticmethod
    def of(network: Network) -> RailStations:
        tt = network.timetable
        types = np.asarray(network.route_types, dtype=np.int64)
        rail_route = (types == 2) | ((types >= 100) & (types < 200))
        rail_pattern = rail_route[tt.pattern_route]
        counts = np.diff(tt.pattern_stop_offsets)
        stops = tt.pattern_stops[np.repeat(rail_pattern, counts)]
        stations = np.where(tt.stop_parent[stops] >= 0, tt.stop_parent[stops], stops)
        stations = np.unique(stations)
        ok = np.isfinite(tt.stop_lat[stations]) & np.isfinite(tt.stop_lon[stations])
        stations = stations[ok].astype(np.int32)
        return RailStations(stations, tt.stop_lat[stations], tt.stop_lon[stations])

    def nearest(self, lat: float, lon: float, reach_km: float, count: int) -> list[tuple[int, float]]:
        """(StopIdx, km) of the ``count`` nearest stations within ``reach_km``, nearest first."""
        if self.stop.size == 0:
            return []
        km = distances_m(self.lat, self.lon, lat, lon) / 1000.0
        order = np.argsort(km, kind="stable")[:count]
        return [(int(self.stop[i]), float(km[i])) for i in order if km[i] <= reach_km]


@dataclass(frozen=True)
class CarpoolAsk:
    """One search of the operators: ``shape`` direct, access (drop at ``station``) or egress (pickup there)."""

    shape: str
    station: int  # StopIdx; -1 for direct
    query: CarpoolQuery


@dataclass(frozen=True)
class FoundOffers:
    """What the operators answered to the asks of one query."""

    asks: tuple[CarpoolAsk, ...] = ()
    offers: tuple[tuple[DriverJourney, ...], ...] = ()  # per ask
    errors: tuple[OperatorFailureReport, ...] = ()
    searched: bool = False  # False: no carpool service, or carpool not asked for


def carpool_asks(network: Network, stations: RailStations, origin: tuple[float, float] | None,
                 destination: tuple[float, float] | None, time_s: int, arrive_by: bool) -> tuple[CarpoolAsk, ...]:
    """The operators' searches for a journey between two points at ``time_s`` (see the module)."""
    if origin is None or destination is None:
        return ()
    centre = time_s - SEARCH_WINDOW_S // 2 if arrive_by else time_s + SEARCH_WINDOW_S // 2

    def query(a: tuple[float, float], b: tuple[float, float]) -> CarpoolQuery:
        return CarpoolQuery(a[0], a[1], b[0], b[1], centre, SEARCH_WINDOW_S // 2, END_RADIUS_KM, END_RADIUS_KM)

    asks = []
    if _km(origin, destination) >= MIN_DIRECT_KM:
        asks.append(CarpoolAsk("direct", -1, query(origin, destination)))
    tt = network.timetable
    for shape, end, other in (("access", origin, destination), ("egress", destination, origin)):
        for station, km in stations.nearest(end[0], end[1], STATION_REACH_KM, STATIONS_PER_END):
            point = (float(tt.stop_lat[station]), float(tt.stop_lon[station]))
            if km < END_RADIUS_KM or _km(point, other) < MIN_DIRECT_KM:
                continue  # the place is at the station, or the station at the other end
            asks.append(CarpoolAsk(shape, station, query(origin, point) if shape == "access" else query(point, destination)))
    return tuple(asks)


@dataclass(frozen=True)
class Chained:
    """An itinerary with a carpool leg: walk to the pickup, ride, walk from the drop, and the
    transit part before (egress) or after (access) it; times in POSIX seconds."""

    shape: str
    offer: DriverJourney
    pickup_s: int
    drop_s: int
    walk_to_pickup: tuple[int, float]  # (seconds, metres) from the origin (access, direct)
    walk_from_drop: tuple[int, float]  # (seconds, metres) to the destination (egress, direct)
    transit: Journey | None  # the transit part, planned from the drop point or to the pickup point
    station: int  # StopIdx of the station the transit part starts or ends at (-1 direct)

    @property
    def departure_s(self) -> int:
        if self.shape == "egress" and self.transit is not None:
            return self.transit.departure_s
        return self.pickup_s - self.walk_to_pickup[0]

    @property
    def arrival_s(self) -> int:
        if self.shape == "access" and self.transit is not None:
            return self.transit.arrival_s
        return self.drop_s + self.walk_from_drop[0]


def chain_offers(tt: Timetable, reversed_tt: Timetable | None, network: Network, spatial: StopSpatialIndex,
                 found: FoundOffers, origin_place: Place | None, destination_place: Place | None,
                 origin: tuple[float, float], destination: tuple[float, float], time_s: int, arrive_by: bool,
                 rules: WalkingRules, request: PlanRequest, transit: Sequence[Journey]) -> list[Chained]:
    """The chained itineraries worth showing next to ``transit`` (best first; see the module)."""
    candidates: list[Chained] = []
    by_shape: dict[str, list[tuple[CarpoolAsk, DriverJourney]]] = {"direct": [], "access": [], "egress": []}
    for ask, offers in zip(found.asks, found.offers, strict=True):
        by_shape[ask.shape] += [(ask, offer) for offer in offers if _usable(offer)]
    for shape, pairs in by_shape.items():
        pairs.sort(key=lambda pair: (pair[1].passenger_pickup_date, pair[1].operator, pair[1].id or ""))
        planned = 0
        for ask, offer in pairs:
            if planned >= OFFERS_PER_SHAPE:
                break
            pickup = (offer.passenger_pickup_lat, offer.passenger_pickup_lng)
            drop = (offer.passenger_drop_lat, offer.passenger_drop_lng)
            pickup_s = offer.passenger_pickup_date
            drop_s = pickup_s + offer.duration
            to_pickup = _walk(rules, origin, pickup)
            from_drop = _walk(rules, drop, destination)
            if shape == "direct":
                chained = Chained(shape, offer, pickup_s, drop_s, to_pickup, from_drop, None, -1)
            elif shape == "access":
                if destination_place is None or (not arrive_by and pickup_s - to_pickup[0] < time_s):
                    continue
                planned += 1
                journey = _plan_from(tt, reversed_tt, network, spatial, rules, drop, drop_s + CHANGE_S,
                                     destination_place, request)
                if journey is None:
                    continue
                chained = Chained(shape, offer, pickup_s, drop_s, to_pickup, (0, 0.0), journey, ask.station)
            else:
                if origin_place is None or (arrive_by and drop_s + from_drop[0] > time_s):
                    continue
                planned += 1
                journey = _plan_to(tt, reversed_tt, network, spatial, rules, pickup, pickup_s - CHANGE_S,
                                   origin_place, request)
                if journey is None:
                    continue
                chained = Chained(shape, offer, pickup_s, drop_s, (0, 0.0), from_drop, journey, ask.station)
            if (chained.departure_s >= time_s) if not arrive_by else (chained.arrival_s <= time_s):
                candidates.append(chained)
    return _best(candidates, transit, arrive_by)


def _usable(offer: DriverJourney) -> bool:
    return offer.available_seats is None or offer.available_seats > 0


def _plan_from(tt: Timetable, reversed_tt: Timetable | None, network: Network, spatial: StopSpatialIndex,
               rules: WalkingRules, point: tuple[float, float], at_s: int, destination: Place,
               request: PlanRequest) -> Journey | None:
    """The earliest-arriving transit journey from ``point`` leaving at ``at_s``."""
    return _plan_transit(tt, reversed_tt, network, spatial, rules, point, at_s, destination, request, arrive_by=False)


def _plan_to(tt: Timetable, reversed_tt: Timetable | None, network: Network, spatial: StopSpatialIndex,
             rules: WalkingRules, point: tuple[float, float], by_s: int, origin: Place,
             request: PlanRequest) -> Journey | None:
    """The latest-departing transit journey to ``point`` arriving by ``by_s``."""
    return _plan_transit(tt, reversed_tt, network, spatial, rules, point, by_s, origin, request, arrive_by=True)


def _plan_transit(tt: Timetable, reversed_tt: Timetable | None, network: Network, spatial: StopSpatialIndex,
                  rules: WalkingRules, point: tuple[float, float], time_s: int, other: Place, request: PlanRequest,
                  *, arrive_by: bool) -> Journey | None:
    """The best transit journey between ``point`` (the car's drop, or with ``arrive_by`` its
    pickup) and the query's ``other`` end; None when none rides or no stop is near ``point``."""
    try:
        near = resolve_access(network, point[0], point[1], rules, spatial, "pickup" if arrive_by else "drop")
    except (PlaceError, NoStopWithinReach):
        return None
    sub = PlanRequest(other if arrive_by else near, near if arrive_by else other, time_s, arrive_by=arrive_by,
                      max_transfers=request.max_transfers, transfer_slack_s=request.transfer_slack_s,
                      wheelchair=request.wheelchair, max_journeys=3)
    journeys = [j for j in plan(tt, sub, reversed_tt).journeys if any(isinstance(x, TransitLeg) for x in j.legs)]
    if arrive_by:
        return max(journeys, key=lambda j: (j.departure_s, -j.transfers), default=None)
    return min(journeys, key=lambda j: (j.arrival_s, j.transfers), default=None)


def _best(candidates: list[Chained], transit: Sequence[Journey], arrive_by: bool) -> list[Chained]:
    """Those no transit journey and no better chained one beats (leaves no earlier and arrives
    no later), best first, at most `MAX_CHAINED`."""
    def key(c: Chained) -> tuple[int, int]:
        return (-c.departure_s, c.arrival_s) if arrive_by else (c.arrival_s, -c.departure_s)

    rides = [j for j in transit if any(isinstance(x, TransitLeg) for x in j.legs)]
    kept: list[Chained] = []
    for c in sorted(candidates, key=key):
        beaten = any(j.departure_s >= c.departure_s and j.arrival_s <= c.arrival_s for j in rides) or any(
            k.departure_s >= c.departure_s and k.arrival_s <= c.arrival_s for k in kept)
        if not beaten:
            kept.append(c)
        if len(kept) == MAX_CHAINED:
            break
    return kept


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(distances_m(np.array([b[0]]), np.array([b[1]]), a[0], a[1])[0]) / 1000.0


def _walk(rules: WalkingRules, a: tuple[float, float], b: tuple[float, float]) -> tuple[int, float]:
    """(seconds, metres) of a walk between two points by ``rules`` (0 under 50 m: the same corner)."""
    straight = _km(a, b) * 1000.0
    if straight < 50.0:
        return 0, 0.0
    metres = float(rules.walk_m(straight))
    return int(math.ceil(metres / rules.speed_mps)), metres


# --- rendering ----------------------------------------------------------------------------------

def carpool_itinerary_json(mapper: Mapper, chained: Chained, place_from: dict, place_to: dict,
                           ref_stop: int) -> dict:
    """The `Itinerary` of a chained journey (without ``id`` and ``constraints``)."""
    offer = chained.offer
    pickup = _point(offer.passenger_pickup_address or "pickup point", offer.passenger_pickup_lat,
                    offer.passenger_pickup_lng)
    drop = _point(offer.passenger_drop_address or "drop-off point", offer.passenger_drop_lat, offer.passenger_drop_lng)
    zone_stop = chained.station if chained.station >= 0 else ref_stop
    legs: list[dict] = []
    transit_json: dict | None = None
    walk_m = 0.0
    if chained.shape == "egress" and chained.transit is not None:
        transit_json = mapper.journey_json(chained.transit, place_from, pickup)
        legs += transit_json["legs"]
        walk_m += transit_json["walking_distance_m"]
    if chained.walk_to_pickup[0] > 0:
        legs.append(_walk_json(mapper, place_from, pickup, chained.pickup_s - chained.walk_to_pickup[0],
                               chained.walk_to_pickup, zone_stop))
        walk_m += chained.walk_to_pickup[1]
    legs.append(_carpool_leg_json(mapper, chained, pickup, drop, zone_stop))
    if chained.walk_from_drop[0] > 0:
        legs.append(_walk_json(mapper, drop, place_to, chained.drop_s, chained.walk_from_drop, zone_stop))
        walk_m += chained.walk_from_drop[1]
    if chained.shape == "access" and chained.transit is not None:
        transit_json = mapper.journey_json(chained.transit, drop, place_to)
        legs += transit_json["legs"]
        walk_m += transit_json["walking_distance_m"]
    rides = sum(leg["type"] in ("transit", "carpool") for leg in legs)
    fare = transit_json["fare"] if transit_json is not None else None
    return {
        "departure": mapper.iso(chained.departure_s, zone_stop),
        "arrival": mapper.iso(chained.arrival_s, zone_stop),
        "duration_s": chained.arrival_s - chained.departure_s,
        "transfers": max(0, rides - 1),
        "walking_distance_m": round(walk_m, 1),
        "realtime": any(leg.get("realtime") for leg in legs),
        "legs": legs,
        "fare": fare,
        "total_price": _total_price(fare, offer, transit_json is not None),
    }


def _point(name: str, lat: float, lon: float) -> dict:
    return {"id": None, "name": name, "lat": float(lat), "lon": float(lon)}


def _walk_json(mapper: Mapper, a: dict, b: dict, start_s: int, walk: tuple[int, float], zone_stop: int) -> dict:
    return {
        "mode": "walk", "type": "walk", "from": a, "to": b,
        "departure": mapper.iso(start_s, zone_stop), "arrival": mapper.iso(start_s + walk[0], zone_stop),
        "duration_s": walk[0], "distance_m": round(walk[1], 1),
        "geometry": {"type": "LineString", "coordinates": [[a["lon"], a["lat"]], [b["lon"], b["lat"]]]},
    }


def _carpool_leg_json(mapper: Mapper, chained: Chained, pickup: dict, drop: dict, zone_stop: int) -> dict:
    offer = chained.offer
    departure, arrival = mapper.iso(chained.pickup_s, zone_stop), mapper.iso(chained.drop_s, zone_stop)
    distance = offer.distance if offer.distance is not None else round(
        _km((pickup["lat"], pickup["lon"]), (drop["lat"], drop["lon"])) * 1300.0)
    return {
        "mode": "carpool",
        "type": "carpool",
        "from": pickup | {"departure": departure},
        "to": drop | {"arrival": arrival},
        "departure": departure,
        "arrival": arrival,
        "duration_s": chained.drop_s - chained.pickup_s,
        "distance_m": float(distance),
        "realtime": False,
        "operator": offer.operator,
        "driver": {"alias": offer.driver.alias, "grade": offer.driver.grade},
        "car": None if offer.car is None else {"model": offer.car.model, "brand": offer.car.brand},
        "seats": offer.available_seats,
        "price": _price_json(offer),
        "booking": {"operator": offer.operator, "driver_journey_id": offer.id, "url": offer.web_url},
        "geometry": {"type": "LineString",
                     "coordinates": [[pickup["lon"], pickup["lat"]], [drop["lon"], drop["lat"]]]},
    }


def _price_json(offer: DriverJourney) -> dict | None:
    price = offer.price
    if price is None or price.type is None:
        return None
    if price.type == PriceType.FREE:
        return {"type": "FREE", "amount_minor": 0, "currency": price.currency or "EUR"}
    if price.amount is None or price.currency is None:
        return {"type": str(price.type), "amount_minor": None, "currency": price.currency}
    return {"type": str(price.type), "amount_minor": int(round(price.amount * 100)), "currency": price.currency}


def _total_price(fare: dict | None, offer: DriverJourney, has_transit: bool) -> dict | None:
    """The transit fare plus the carpool's price: None when the currencies differ; ``is_complete``
    false when a part has no known price."""
    carpool = _price_json(offer)
    known = carpool is not None and carpool["amount_minor"] is not None
    currency = (carpool or {}).get("currency") or (fare or {}).get("currency")
    if fare is not None and currency != fare["currency"]:
        return None
    if currency is None:
        return None
    total = (carpool["amount_minor"] if known else 0) + (fare["total_minor"] if fare is not None else 0)
    complete = known and (not has_transit or (fare is not None and bool(fare["is_complete"])))
    return {"total_minor": total, "currency": currency, "is_complete": complete}
