"""The demo region's carpool operator: a small standard-covoiturage server (issue 16).

`oura serve` on the demo region runs it beside the API (like the realtime publisher), on
``DEMO_CARPOOL_URL``, and OùRA asks it for offers as it would a real operator. Its drivers live in
the rural towns of the département coach networks and drive to the nearest railway station in
the morning (06:30-09:00, to catch a TER) and back in the evening (17:00-19:30), on weekdays;
a few also on Saturday mornings. Every journey is a pure function of (seed, day, route): the same
query gets the same answer, and ids name the route, the day and the time
(``le-cheylard.livron-20260921-0815-a0``: to the station, the day's first
driver of that minute; ``-r`` back). Each town also has regular trips (``/driver_regular_trips``).

Bookings (``POST /bookings``) are instant: answered CONFIRMED while the journey has a free seat
(seats counted in memory, under a lock), else 400 ``{"error": "no_seat_available"}``; ``PATCH`` and
``GET /bookings/{id}`` follow the standard (404 ``missing_booking``, 409 ``status_already_set``).
``POST /control/mode`` ``{"mode": "ok" | "hang" | "fail_500"}`` makes it misbehave, to show that a
failing operator costs a journey at most its timeout.

Only `oura.demo`, `oura.clock` and aiohttp are imported (ARCHITECTURE.md's table): the server
speaks the standard's JSON by hand, as any other operator would.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from .region import COACH_NETWORKS, REGION_TIMEZONE, STATIONS

__all__ = ["DEMO_CARPOOL_OPERATOR", "DEMO_CARPOOL_URL", "DemoRoute", "demo_routes", "journeys_of_day",
           "create_carpool_operator_app", "serve_carpool_operator", "demo_carpool_context"]

log = logging.getLogger(__name__)

DEMO_CARPOOL_OPERATOR = "covoit-demo.oura.example"
DEMO_CARPOOL_URL = "http://127.0.0.1:8091"
_ZONE = ZoneInfo(REGION_TIMEZONE)
_ROAD_FACTOR = 1.3  # road km per km as the crow flies, in the hills
_SPEED_KMH = 55.0
_MAX_TO_STATION_KM = 45.0
_DRIVERS = ("Marc", "Sophie", "Julien", "Nathalie", "Thomas", "Camille", "Nicolas", "Élodie", "Pierre", "Aurélie",
            "Laurent", "Manon", "Olivier", "Chloé", "Sébastien", "Léa")
_CARS = (("Clio", "Renault"), ("208", "Peugeot"), ("C3", "Citroën"), ("Sandero", "Dacia"), ("Yaris", "Toyota"))
_STATUSES = ("WAITING_CONFIRMATION", "CONFIRMED", "CANCELLED", "COMPLETED_PENDING_VALIDATION", "VALIDATED")
_FLOW = {"WAITING_CONFIRMATION": {"CONFIRMED", "CANCELLED"},
         "CONFIRMED": {"COMPLETED_PENDING_VALIDATION", "CANCELLED"},
         "COMPLETED_PENDING_VALIDATION": {"VALIDATED", "CANCELLED"}, "VALIDATED": set(), "CANCELLED": set()}


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def _draw(*parts: object) -> int:
    """A deterministic integer of its parts (the same on every machine and run)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


@dataclass(frozen=True, slots=True)
class DemoRoute:
    """A rural town and the nearest railway station, the way the town's drivers go."""

    key: str
    town: str
    town_lat: float
    town_lon: float
    station: str
    station_lat: float
    station_lon: float
    road_km: float

    @property
    def duration_s(self) -> int:
        return int(round(self.road_km / _SPEED_KMH * 3600 / 60)) * 60


def demo_routes() -> tuple[DemoRoute, ...]:
    """Every coach-network town farther than 3 km from any station, to its nearest station (within 45 km)."""
    routes = []
    for network in COACH_NETWORKS:
        for town in network.towns:
            station = min(STATIONS.values(), key=lambda s: _km(town.lat, town.lon, s.lat, s.lon))
            crow = _km(town.lat, town.lon, station.lat, station.lon)
            if 3.0 < crow <= _MAX_TO_STATION_KM:
                routes.append(DemoRoute(f"{town.key}.{station.key}", town.name, town.lat, town.lon, station.name,
                                        station.lat, station.lon, round(crow * _ROAD_FACTOR, 1)))
    return tuple(sorted({route.key: route for route in routes}.values(), key=lambda r: r.key))


def _user(route: DemoRoute, n: int) -> dict:
    alias = _DRIVERS[_draw(route.key, "driver", n) % len(_DRIVERS)]
    return {"id": f"driver-{_draw(route.key, n) % 100_000:05d}", "operator": DEMO_CARPOOL_OPERATOR, "alias": alias,
            "grade": 3 + _draw(route.key, "grade", n) % 3}


def _price(route: DemoRoute) -> dict:
    # the register's usual shared cost: about 8 cents per passenger-km, rounded to 10 cents
    return {"type": "PAYING", "amount": round(max(1.0, route.road_km * 0.08), 1), "currency": "EUR"}


def journeys_of_day(routes: tuple[DemoRoute, ...], day: date, seed: int) -> list[dict]:
    """The DriverJourneys of ``day`` (standard JSON, without seats left): 1-3 drivers per town and
    peak, towards the station in the morning and back in the evening (weekdays; Saturday mornings)."""
    weekday = day.weekday()
    if weekday == 6:
        return []
    journeys = []
    for route in routes:
        peaks = (("am", 6 * 60 + 30),) if weekday == 5 else (("am", 6 * 60 + 30), ("pm", 17 * 60))
        for peak, start_min in peaks:
            drivers = 1 + _draw(seed, route.key, day, peak) % 3
            for n in range(drivers):
                minute = start_min + 5 * (_draw(seed, route.key, day, peak, n) % 30)  # within 2.5 h, every 5 min
                local = datetime.combine(day, time(minute // 60, minute % 60), _ZONE)
                outward = peak == "am"
                pickup = (route.town_lat, route.town_lon) if outward else (route.station_lat, route.station_lon)
                drop = (route.station_lat, route.station_lon) if outward else (route.town_lat, route.town_lon)
                # a (to the station) or r (back), then the driver: two drivers may leave at the same minute
                journey_id = f"{route.key}-{day:%Y%m%d}-{minute // 60:02d}{minute % 60:02d}-{'a' if outward else 'r'}{n}"
                journeys.append({
                    "id": journey_id, "operator": DEMO_CARPOOL_OPERATOR, "driver": _user(route, n), "type": "PLANNED",
                    "passengerPickupLat": pickup[0], "passengerPickupLng": pickup[1],
                    "passengerDropLat": drop[0], "passengerDropLng": drop[1],
                    "passengerPickupAddress": route.town if outward else f"Gare de {route.station}",
                    "passengerDropAddress": f"Gare de {route.station}" if outward else route.town,
                    "passengerPickupDate": int(local.timestamp()), "driverDepartureDate": int(local.timestamp()),
                    "duration": route.duration_s, "distance": int(route.road_km * 1000),
                    "availableSeats": 1 + _draw(seed, journey_id, "seats") % 3, "price": _price(route),
                    "webUrl": f"https://{DEMO_CARPOOL_OPERATOR}/journeys/{journey_id}",
                    "car": dict(zip(("model", "brand"), _CARS[_draw(route.key, "car", n) % len(_CARS)])),
                })
    return journeys


def _regular_trips(routes: tuple[DemoRoute, ...], seed: int) -> list[dict]:
    trips = []
    for route in routes:
        minute = 6 * 60 + 45 + 5 * (_draw(seed, route.key, "regular") % 18)
        trips.append({
            "operator": DEMO_CARPOOL_OPERATOR, "driver": _user(route, 9),
            "passengerPickupLat": route.town_lat, "passengerPickupLng": route.town_lon,
            "passengerDropLat": route.station_lat, "passengerDropLng": route.station_lon,
            "passengerPickupAddress": route.town, "passengerDropAddress": f"Gare de {route.station}",
            "duration": route.duration_s, "distance": int(route.road_km * 1000),
            "webUrl": f"https://{DEMO_CARPOOL_OPERATOR}/regular/{route.key}",
            "schedules": [{"passengerPickupDay": day, "passengerPickupTimeOfDay": f"{minute // 60:02d}:{minute % 60:02d}:00"}
                          for day in ("MON", "TUE", "WED", "THU", "FRI")],
        })
    return trips


class _Operator:
    def __init__(self, seed: int, clock: Callable[[], datetime]) -> None:
        self.seed = seed
        self.clock = clock
        self.routes = demo_routes()
        self.trips = _regular_trips(self.routes, seed)
        self.bookings: dict[str, dict] = {}
        self.held: dict[str, int] = {}  # journey id -> seats held by live bookings
        self.lock = asyncio.Lock()
        self.mode = "ok"
        self._days: dict[date, dict[str, dict]] = {}

    def day(self, day: date) -> dict[str, dict]:
        if day not in self._days:
            if len(self._days) > 60:
                self._days.clear()
            self._days[day] = {j["id"]: j for j in journeys_of_day(self.routes, day, self.seed)}
        return self._days[day]

    def find(self, journey_id: str) -> dict | None:
        try:
            day = datetime.strptime(journey_id.rsplit("-", 3)[-3], "%Y%m%d").date()
        except (ValueError, IndexError):
            return None
        return self.day(day).get(journey_id)

    def free(self, journey: dict) -> int:
        return journey["availableSeats"] - self.held.get(journey["id"], 0)


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _float(query, name: str, default: float | None = None) -> float:
    value = query.get(name)
    if value is None:
        if default is None:
            raise ValueError(f"{name} is required")
        return default
    return float(value)


def create_carpool_operator_app(*, seed: int = 1, clock: Callable[[], datetime] | None = None) -> web.Application:
    state = _Operator(seed, clock or (lambda: datetime.now(UTC)))
    app = web.Application()

    @web.middleware
    async def misbehave(request: web.Request, handler):  # noqa: ANN001, ANN202
        if not request.path.startswith("/control"):
            if state.mode == "hang":
                await asyncio.Event().wait()
            if state.mode == "fail_500":
                return web.json_response({"error": "internal error (demo mode fail_500)"}, status=500)
        return await handler(request)

    app.middlewares.append(misbehave)

    async def driver_journeys(request: web.Request) -> web.Response:
        q = request.query
        try:
            lat, lng = _float(q, "departureLat"), _float(q, "departureLng")
            to_lat, to_lng = _float(q, "arrivalLat"), _float(q, "arrivalLng")
            when = int(q["departureDate"]) if "departureDate" in q else None
            if when is None:
                raise ValueError("departureDate is required")
            delta = int(q.get("timeDelta", 900))
            radius, to_radius = _float(q, "departureRadius", 1.0), _float(q, "arrivalRadius", 1.0)
            count = int(q["count"]) if "count" in q else None
        except ValueError as error:
            return _bad(str(error))
        local_day = datetime.fromtimestamp(when, _ZONE).date()
        found = []
        for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
            for journey in state.day(day).values():
                if abs(journey["passengerPickupDate"] - when) > delta or state.free(journey) <= 0:
                    continue
                if _km(lat, lng, journey["passengerPickupLat"], journey["passengerPickupLng"]) > radius:
                    continue
                if _km(to_lat, to_lng, journey["passengerDropLat"], journey["passengerDropLng"]) > to_radius:
                    continue
                found.append({**journey, "availableSeats": state.free(journey)})
        found.sort(key=lambda j: (j["passengerPickupDate"], j["id"]))
        return web.json_response(found[:count] if count is not None else found)

    async def driver_regular_trips(request: web.Request) -> web.Response:
        q = request.query
        try:
            lat, lng = _float(q, "departureLat"), _float(q, "departureLng")
            to_lat, to_lng = _float(q, "arrivalLat"), _float(q, "arrivalLng")
            radius, to_radius = _float(q, "departureRadius", 1.0), _float(q, "arrivalRadius", 1.0)
        except ValueError as error:
            return _bad(str(error))
        return web.json_response([
            trip for trip in state.trips
            if _km(lat, lng, trip["passengerPickupLat"], trip["passengerPickupLng"]) <= radius
            and _km(to_lat, to_lng, trip["passengerDropLat"], trip["passengerDropLng"]) <= to_radius])

    async def post_bookings(request: web.Request) -> web.Response:
        try:
            booking = await request.json()
        except ValueError:
            return _bad("the body is not JSON")
        if not isinstance(booking, dict) or not isinstance(booking.get("id"), str):
            return _bad("a Booking with an id is required")
        if booking.get("status") != "WAITING_CONFIRMATION":
            return _bad("a new booking's status must be WAITING_CONFIRMATION")
        async with state.lock:
            if booking["id"] in state.bookings:
                return web.json_response(state.bookings[booking["id"]], status=201)
            journey = state.find(str(booking.get("driverJourneyId", "")))
            if journey is None:
                return _bad("missing_journey")
            if state.free(journey) <= 0:
                return _bad("no_seat_available")
            state.held[journey["id"]] = state.held.get(journey["id"], 0) + 1
            stored = {**booking, "status": "CONFIRMED"}  # instant booking
            state.bookings[booking["id"]] = stored
        return web.json_response(stored, status=201)

    async def get_booking(request: web.Request) -> web.Response:
        booking = state.bookings.get(request.match_info["booking_id"])
        return web.json_response(booking) if booking is not None else _bad("missing_booking", 404)

    async def patch_booking(request: web.Request) -> web.Response:
        status = request.query.get("status")
        if status not in _STATUSES:
            return _bad("status must be a bookingStatus")
        async with state.lock:
            booking = state.bookings.get(request.match_info["booking_id"])
            if booking is None:
                return _bad("missing_booking", 404)
            if booking["status"] == status:
                return _bad("status_already_set", 409)
            if status not in _FLOW[booking["status"]]:
                return _bad(f"a booking cannot go from {booking['status']} to {status}")
            if status == "CANCELLED":
                journey_id = str(booking.get("driverJourneyId", ""))
                state.held[journey_id] = max(0, state.held.get(journey_id, 0) - 1)
            booking["status"] = status
        return web.Response(status=200)

    async def booking_events(request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def control_mode(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("mode") not in ("ok", "hang", "fail_500"):
            return _bad("mode is ok, hang or fail_500")
        state.mode = body["mode"]
        return web.json_response({"mode": state.mode})

    app.router.add_get("/driver_journeys", driver_journeys)
    app.router.add_get("/driver_regular_trips", driver_regular_trips)
    app.router.add_post("/bookings", post_bookings)
    app.router.add_get("/bookings/{booking_id}", get_booking)
    app.router.add_patch("/bookings/{booking_id}", patch_booking)
    app.router.add_post("/booking_events", booking_events)
    app.router.add_get("/status", status)
    app.router.add_post("/control/mode", control_mode)
    return app


async def serve_carpool_operator(*, host: str = "127.0.0.1", port: int = 8091, seed: int = 1,
                                 clock: Callable[[], datetime] | None = None, ready: asyncio.Event | None = None) -> None:
    """Serve until cancelled. ``ready`` is set once the port is listening."""
    runner = web.AppRunner(create_carpool_operator_app(seed=seed, clock=clock), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("demo carpool operator on http://%s:%d", host, port)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def demo_carpool_context(*, seed: int = 1, url: str = DEMO_CARPOOL_URL) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the demo carpool operator beside the API."""
    from urllib.parse import urlsplit

    base = urlsplit(url)

    async def context(app: web.Application) -> AsyncIterator[None]:
        ready = asyncio.Event()
        task = asyncio.create_task(serve_carpool_operator(host=base.hostname or "127.0.0.1", port=base.port or 8091,
                                                          seed=seed, ready=ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            log.error("demo carpool operator could not start: %s", task.exception())
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass

    return context
