"""`CarpoolService`: offers from every operator, bookings that never sell a seat twice, and
the journeys drivers publish through OùRA.

**Offers.** `search(query)` returns the journeys published through OùRA (hosted, in PostgreSQL)
and the configured operators' (`client.search_all`: partial results and failure reports, each
operator bounded by its timeout). The other operators' offers are remembered a while (an hour,
10,000 at most) so a traveller can book one by its operator and id: the standard has no "get one
journey" operation.

**Bookings** (`book`): one request per Idempotency-Key (the key is unique in PostgreSQL with the
digest of the request: the same key again returns the booking made, with another request it is
refused). A booking locks its offer's row (``SELECT ... FOR UPDATE``), counts the seats its live
bookings hold (every status but CANCELLED), and inserts itself only if its seats fit: bookings of
one offer queue on that lock, so a seat is never sold twice. ``seat_lock=False`` reads without the
lock (for the lock-pair test only, with ``between_read_and_write``). The first booking of another
operator's journey records it with the seats the operator announced; then OùRA relays the booking
to the operator (`POST /bookings`, WAITING_CONFIRMATION). If the operator fails or refuses, the
booking is withdrawn (deleted: its seats free, its key reusable) and the answer says why. An
operator answering CONFIRMED (instant booking) confirms it; else it waits for the operator's
PATCH on OùRA's standard endpoint. Journeys published through OùRA are instant: their bookings
are CONFIRMED at once.

**Status flow** (`set_status`): the standard's (`model.BOOKING_TRANSITIONS`); only the driver's
side confirms. A change made on OùRA's side of a booking at another operator is relayed to it
(`PATCH /bookings/{id}`) before it is stored: if the operator cannot be told, nothing changes.

**The standard's side** (`receive_booking`, `standard_booking`, `receive_booking_event`): OùRA as
an operator, for other platforms booking the journeys published through it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg

from oura.clock import Clock
from oura.db.pool import transaction
from oura.db.queries import QueryFile

from .client import JourneyQuery, OperatorClient, OperatorError, OperatorFailure, RegularTripQuery, SearchResults, search_all
from .errors import (
    BookingIdTaken,
    InvalidCarpoolBody,
    InvalidStatusTransition,
    MissingBooking,
    MissingJourney,
    NoSeatAvailable,
    NotEnoughSeats,
    IdempotencyKeyReused,
    OperatorRefusedBooking,
    OperatorUnavailable,
    StatusAlreadySet,
    StatusNotYours,
    UnknownOperator,
)
from .identity import identity_key, phone_trunc
from .model import (
    BOOKING_TRANSITIONS,
    Booking,
    BookingStatus,
    CarpoolBookingEvent,
    DriverJourney,
    Price,
    RegularTrip,
    User,
    parse,
    to_json,
)

__all__ = ["OURA_OPERATOR", "Traveller", "BookingRequest", "CarpoolService", "SOURCES"]

log = logging.getLogger(__name__)

OURA_OPERATOR = "oura.example"  # OùRA's operator id in the standard (the journeys published through it)
SOURCES = ("passenger", "operator", "platform", "driver")  # who set a status (carpool_booking_events.source)
_KM_PER_DEGREE = 111.2


_q = QueryFile(Path(__file__).with_name("queries.sql"))


@dataclass(frozen=True, slots=True)
class Traveller:
    """The passenger of a booking through OùRA. The phone is kept only as the register takes it."""

    alias: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None  # E.164 or French form; needed (with last_name) for the proof register
    over_18: bool | None = None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    operator: str
    driver_journey_id: str
    passenger: Traveller
    seats: int = 1
    medium_serial: str | None = None  # the traveller's OùRA card: the proof's travel_pass

    def digest(self) -> bytes:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()).digest()


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dlat = math.radians(lat2 - lat1)
    dlng = math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlng / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def _box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = radius_km / _KM_PER_DEGREE
    dlng = radius_km / (_KM_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


class _Seen:
    """The other operators' offers met in searches: (operator, id) -> offer, bounded, for a while."""

    def __init__(self, clock: Clock, entries: int, ttl_s: float) -> None:
        self._clock = clock
        self._entries = entries
        self._ttl_s = ttl_s
        self._items: OrderedDict[tuple[str, str], tuple[float, DriverJourney]] = OrderedDict()

    def remember(self, offers: Sequence[DriverJourney]) -> None:
        until = self._clock.monotonic() + self._ttl_s
        for offer in offers:
            if offer.id is None:
                continue  # without an id an offer cannot be booked by API (only by its web_url)
            key = (offer.operator, offer.id)
            self._items[key] = (until, offer)
            self._items.move_to_end(key)
        while len(self._items) > self._entries:
            self._items.popitem(last=False)

    def find(self, operator: str, journey_id: str) -> DriverJourney | None:
        item = self._items.get((operator, journey_id))
        if item is None or item[0] <= self._clock.monotonic():
            return None
        return item[1]


class CarpoolService:
    def __init__(self, pool: asyncpg.Pool, clock: Clock, clients: Sequence[OperatorClient] = (), *,
                 own_operator: str = OURA_OPERATOR, seat_lock: bool = True,
                 seen_entries: int = 10_000, seen_ttl_s: float = 3600.0) -> None:
        self.pool = pool
        self.clock = clock
        self.clients: dict[str, OperatorClient] = {client.operator.id: client for client in clients}
        self.own_operator = own_operator
        self.seat_lock = seat_lock
        self.seen = _Seen(clock, seen_entries, seen_ttl_s)
        # tests only: awaited inside the booking transaction, after the seats are read, before the insert
        self.between_read_and_write: Callable[[], Awaitable[None]] | None = None

    # --- offers ---------------------------------------------------------------------------------

    async def search(self, query: JourneyQuery) -> SearchResults:
        """Hosted journeys and every operator's, sorted by pickup time; operators' failures reported."""
        hosted = await self.list_hosted_journeys(query)
        found = await search_all(list(self.clients.values()), query)
        self.seen.remember(found.offers)
        offers = sorted([*hosted, *found.offers], key=lambda o: (o.passenger_pickup_date, o.operator, o.id or ""))
        return SearchResults(tuple(offers), found.errors)

    async def list_hosted_journeys(self, query: JourneyQuery) -> list[DriverJourney]:
        """The journeys published through OùRA picking up within the radii and ``time_delta_s`` of
        the query, with a free seat, each with its free seats as ``available_seats``."""
        start, end = _at(query.departure_date - query.time_delta_s), _at(query.departure_date + query.time_delta_s)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_hosted_offers_near"), start, end,
                                    *_box(query.departure_lat, query.departure_lng, query.departure_radius_km),
                                    *_box(query.arrival_lat, query.arrival_lng, query.arrival_radius_km))
        found = []
        for row in rows:
            offer = parse(DriverJourney, row["offer"])
            if row["free"] <= 0:
                continue
            if _km(query.departure_lat, query.departure_lng, offer.passenger_pickup_lat, offer.passenger_pickup_lng) \
                    > query.departure_radius_km:
                continue
            if _km(query.arrival_lat, query.arrival_lng, offer.passenger_drop_lat, offer.passenger_drop_lng) \
                    > query.arrival_radius_km:
                continue
            found.append(replace(offer, available_seats=row["free"]))
        return found[:query.count] if query.count is not None else found

    async def list_hosted_regular_trips(self, query: RegularTripQuery) -> list[RegularTrip]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_hosted_regular_trips_near"),
                                    *_box(query.departure_lat, query.departure_lng, query.departure_radius_km),
                                    *_box(query.arrival_lat, query.arrival_lng, query.arrival_radius_km))
        days = set(query.departure_weekdays)
        wanted = _seconds_of_day(query.departure_time_of_day)
        found = []
        for row in rows:
            trip = parse(RegularTrip, row["trip"])
            if any(s.passenger_pickup_day in days and s.passenger_pickup_time_of_day is not None
                   and _circular_gap(_seconds_of_day(s.passenger_pickup_time_of_day), wanted) <= query.time_delta_s
                   for s in trip.schedules):
                found.append(trip)
        return found[:query.count] if query.count is not None else found

    async def publish_journey(self, journey: DriverJourney, *, driver_phone: str | None = None,
                              driver_last_name: str | None = None) -> DriverJourney:
        """A driver journey published through OùRA (its id made when absent); returned as stored."""
        journey = replace(journey, operator=self.own_operator, id=journey.id or uuid.uuid4().hex,
                          driver=replace(journey.driver, operator=self.own_operator))
        seats = min(8, max(0, journey.available_seats if journey.available_seats is not None else 1))
        trunc, key = _identity(driver_phone, driver_last_name)
        async with self.pool.acquire() as conn:
            await conn.execute(_q("upsert_hosted_offer"), self.own_operator, journey.id, seats,
                               _at(journey.passenger_pickup_date), journey.passenger_pickup_lat,
                               journey.passenger_pickup_lng, journey.passenger_drop_lat, journey.passenger_drop_lng,
                               to_json(journey), trunc, key, self.clock.now())
        return journey

    async def publish_regular_trip(self, trip_id: str, trip: RegularTrip) -> RegularTrip:
        trip = replace(trip, operator=self.own_operator, driver=replace(trip.driver, operator=self.own_operator))
        async with self.pool.acquire() as conn:
            await conn.execute(_q("upsert_hosted_regular_trip"), self.own_operator, trip_id, trip.passenger_pickup_lat,
                               trip.passenger_pickup_lng, trip.passenger_drop_lat, trip.passenger_drop_lng,
                               to_json(trip), self.clock.now())
        return trip

    # --- bookings through OùRA's API ------------------------------------------------------------

    async def book(self, request: BookingRequest, idempotency_key: str) -> tuple[dict[str, Any], bool]:
        """The booking (OùRA's JSON) and whether this request made it (False: the key's earlier one)."""
        digest = request.digest()
        earlier = await self._booking_of_key(idempotency_key, digest)
        if earlier is not None:
            return await self.describe(earlier), False
        offer, hosted = await self._offer(request.operator, request.driver_journey_id)
        client = None if hosted else self.clients.get(offer.operator)
        if not hosted and client is None:
            raise UnknownOperator(f"no carpool operator {offer.operator!r} is configured")
        if not 1 <= request.seats <= 8:
            raise InvalidCarpoolBody("seats must be 1 to 8")
        try:
            passenger_trunc, passenger_key = _identity(request.passenger.phone, request.passenger.last_name)
        except ValueError as error:
            raise InvalidCarpoolBody(f"passenger.phone: {error}") from None
        booking = Booking(
            id=str(uuid.uuid4()), driver=offer.driver,
            passenger=User(id=_passenger_id(request), operator=self.own_operator, alias=request.passenger.alias,
                           first_name=request.passenger.first_name, last_name=request.passenger.last_name),
            passenger_pickup_date=offer.passenger_pickup_date, passenger_pickup_lat=offer.passenger_pickup_lat,
            passenger_pickup_lng=offer.passenger_pickup_lng, passenger_drop_lat=offer.passenger_drop_lat,
            passenger_drop_lng=offer.passenger_drop_lng, status=BookingStatus.WAITING_CONFIRMATION,
            price=offer.price or Price(), passenger_pickup_address=offer.passenger_pickup_address,
            passenger_drop_address=offer.passenger_drop_address, duration=offer.duration, distance=offer.distance,
            web_url=offer.web_url, car=offer.car, driver_journey_id=offer.id,
        )
        made = await self._reserve(offer, hosted, booking, request.seats, origin="oura", key=idempotency_key,
                                   digest=digest, identity=(passenger_trunc, passenger_key),
                                   medium_serial=request.medium_serial, refusal=NoSeatAvailable)
        if made != booking.id:  # the same key won a race meanwhile
            return await self.describe(made), False
        if hosted:
            await self._apply(booking.id, BookingStatus.CONFIRMED, "driver", "instant booking")
        else:
            await self._relay_new(client, booking)
        return await self.describe(booking.id), True

    async def _relay_new(self, client: OperatorClient, booking: Booking) -> None:
        try:
            answer = await client.create_booking(booking)
        except OperatorError as error:
            await self._withdraw(booking.id)
            if error.failure is OperatorFailure.TIMEOUT:  # it may have arrived: tell the operator it is off
                try:
                    await client.update_booking_status(booking.id, BookingStatus.CANCELLED, "not confirmed in time")
                except OperatorError:
                    pass
            if error.failure is OperatorFailure.REFUSED:
                raise OperatorRefusedBooking(f"{error.operator} refused the booking: {error.detail}") from None
            raise OperatorUnavailable(f"{error.operator}: {error.failure.value}: {error.detail}") from None
        if answer.status is BookingStatus.CONFIRMED:
            await self._apply(booking.id, BookingStatus.CONFIRMED, "operator", "confirmed at booking")

    async def _booking_of_key(self, key: str, digest: bytes) -> str | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_q("find_booking_by_key"), key)
        if row is None:
            return None
        if bytes(row["request_digest"]) != digest:
            raise IdempotencyKeyReused()
        return str(row["booking_id"])

    async def _offer(self, operator: str, journey_id: str) -> tuple[DriverJourney, bool]:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_q("find_offer"), operator, journey_id)
        if row is not None and row["hosted"]:
            return parse(DriverJourney, row["offer"]), True
        seen = self.seen.find(operator, journey_id)
        if seen is not None:
            return seen, False
        if row is not None:  # booked before, no longer in a recent search: the announced journey
            return parse(DriverJourney, row["offer"]), False
        raise MissingJourney()

    async def _reserve(self, offer: DriverJourney, hosted: bool, booking: Booking, seats: int, *, origin: str,
                       key: str | None, digest: bytes | None, identity: tuple[str | None, str | None],
                       medium_serial: str | None, refusal: type[Exception]) -> str:
        """Insert the booking if its seats fit, under the offer's lock: the id of the booking made,
        or of the one this key made meanwhile."""
        now = self.clock.now()
        try:
            async with transaction(self.pool) as conn:
                if not hosted:
                    await conn.execute(_q("record_external_offer"), offer.operator, offer.id,
                                       min(8, max(0, offer.available_seats if offer.available_seats is not None else 1)),
                                       _at(offer.passenger_pickup_date), offer.passenger_pickup_lat,
                                       offer.passenger_pickup_lng, offer.passenger_drop_lat, offer.passenger_drop_lng,
                                       to_json(offer), now)
                locked = await conn.fetchrow(_q("lock_offer" if self.seat_lock else "read_offer_unlocked"),
                                             offer.operator, offer.id)
                if key is not None:
                    again = await conn.fetchrow(_q("find_booking_by_key"), key)
                    if again is not None:
                        if bytes(again["request_digest"]) != digest:
                            raise IdempotencyKeyReused()
                        return str(again["booking_id"])
                held = await conn.fetchval(_q("seats_held"), offer.operator, offer.id)
                if self.between_read_and_write is not None:
                    await self.between_read_and_write()
                if held + seats > locked["seats"]:
                    raise refusal(f"{locked['seats'] - held} seat(s) free on this journey, {seats} asked")
                await conn.execute(_q("insert_booking"), uuid.UUID(booking.id), key, digest, offer.operator, offer.id,
                                   seats, booking.status.value, origin, to_json(booking), identity[0], identity[1],
                                   medium_serial, now)
                await conn.execute(_q("insert_event"), uuid.UUID(booking.id), booking.status.value,
                                   "passenger" if origin == "oura" else "platform", None, now)
        except asyncpg.UniqueViolationError:
            if key is None:
                raise BookingIdTaken() from None
            made = await self._booking_of_key(key, digest)
            if made is None:  # pragma: no cover - a unique violation on the key leaves its row
                raise
            return made
        return booking.id

    async def _withdraw(self, booking_id: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(_q("delete_booking"), uuid.UUID(booking_id))

    # --- the status flow ------------------------------------------------------------------------

    async def set_status(self, booking_id: str, status: BookingStatus, *, source: str,
                         message: str | None = None) -> dict[str, Any]:
        """Move a booking along the standard's flow (relayed to its operator first when it is one
        OùRA made elsewhere and the change is OùRA's side); its description after."""
        row = await self._find(booking_id)
        _check_transition(BookingStatus(row["status"]), status, source)
        relay = row["origin"] == "oura" and not row["hosted"] and source in ("passenger", "driver")
        if relay:
            client = self.clients.get(row["operator"])
            if client is None:
                raise UnknownOperator(f"no carpool operator {row['operator']!r} is configured")
            try:
                await client.update_booking_status(booking_id, status, message)
            except OperatorError as error:
                if not (error.failure is OperatorFailure.REFUSED and error.status == 409):  # already set there
                    if error.failure is OperatorFailure.REFUSED:
                        raise OperatorRefusedBooking(f"{error.operator}: {error.detail}") from None
                    raise OperatorUnavailable(f"{error.operator}: {error.failure.value}: {error.detail}") from None
        await self._apply(booking_id, status, source, message)
        return await self.describe(booking_id)

    async def _apply(self, booking_id: str, status: BookingStatus, source: str, message: str | None) -> None:
        now = self.clock.now()
        async with transaction(self.pool) as conn:
            row = await conn.fetchrow(_q("lock_booking"), uuid.UUID(booking_id))
            if row is None:
                raise MissingBooking()
            _check_transition(BookingStatus(row["status"]), status, source)
            booking = {**row["booking"], "status": status.value}
            await conn.execute(_q("set_booking_status"), uuid.UUID(booking_id), status.value, booking, now)
            await conn.execute(_q("insert_event"), uuid.UUID(booking_id), status.value, source,
                               message[:500] if message else None, now)

    async def _find(self, booking_id: str) -> asyncpg.Record:
        try:
            key = uuid.UUID(booking_id)
        except ValueError:
            raise MissingBooking() from None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_q("find_booking"), key)
        if row is None:
            raise MissingBooking()
        return row

    async def describe(self, booking_id: str) -> dict[str, Any]:
        """A booking as OùRA's API shows it: its status, history and the standard's Booking."""
        row = await self._find(booking_id)
        async with self.pool.acquire() as conn:
            events = await conn.fetch(_q("list_events"), uuid.UUID(booking_id))
        return {
            "id": str(row["booking_id"]),
            "status": row["status"],
            "operator": row["operator"],
            "driver_journey_id": row["journey_id"],
            "seats": row["seats"],
            "hosted": row["hosted"],
            "travel_pass": row["medium_serial"] is not None,
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
            "events": [{"status": e["status"], "source": e["source"], "message": e["message"],
                        "at": e["at"].isoformat()} for e in events],
            "booking": row["booking"],
        }

    # --- the standard's side: OùRA as the operator of the journeys published through it ----------

    async def receive_booking(self, booking: Booking) -> Booking:
        """`POST /bookings` from another platform: a booking of a hosted journey (one seat)."""
        if booking.status is not BookingStatus.WAITING_CONFIRMATION:
            raise InvalidCarpoolBody("a new booking's status must be WAITING_CONFIRMATION")
        if booking.driver_journey_id is None:
            raise InvalidCarpoolBody("driverJourneyId is required: OùRA books its drivers' journeys")
        try:
            uuid.UUID(booking.id)
        except ValueError:
            raise InvalidCarpoolBody("id must be a UUID") from None
        try:
            stored = await self.standard_booking(booking.id)
        except MissingBooking:
            stored = None
        if stored is not None:
            if replace(stored, status=booking.status) != booking:
                raise BookingIdTaken()
            return stored  # the same booking posted again
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_q("find_offer"), self.own_operator, booking.driver_journey_id)
        if row is None or not row["hosted"]:
            raise MissingJourney()
        offer = parse(DriverJourney, row["offer"])
        await self._reserve(offer, True, booking, 1, origin="platform", key=None, digest=None, identity=(None, None),
                            medium_serial=None, refusal=NotEnoughSeats)
        await self._apply(booking.id, BookingStatus.CONFIRMED, "driver", "instant booking")
        return await self.standard_booking(booking.id)

    async def standard_booking(self, booking_id: str) -> Booking:
        return parse(Booking, (await self._find(booking_id))["booking"])

    async def standard_set_status(self, booking_id: str, status: BookingStatus, message: str | None) -> None:
        """`PATCH /bookings/{id}` from the other side: the operator of a booking OùRA made there, or
        the platform that booked a hosted journey. Not relayed (it comes from that side)."""
        row = await self._find(booking_id)
        await self._apply(booking_id, status, "operator" if row["origin"] == "oura" else "platform", message)

    async def receive_booking_event(self, event: CarpoolBookingEvent) -> bool:
        """`POST /booking_events`: an operator tells OùRA a booking's status (True: a booking OùRA knows)."""
        try:
            row = await self._find(event.data.id)
        except MissingBooking:
            log.info("carpool booking event for an unknown booking", extra={"booking_id": event.data.id})
            return False
        current = BookingStatus(row["status"])
        if event.data.status is current:
            return True
        try:
            await self._apply(event.data.id, event.data.status, "operator", "booking event")
        except (InvalidStatusTransition, StatusAlreadySet):
            log.warning("carpool booking event out of the status flow",
                        extra={"booking_id": event.data.id, "from": current.value, "to": event.data.status.value})
        return True

    # --- proof ----------------------------------------------------------------------------------

    async def list_completed_hosted(self, since: dt.datetime, until: dt.datetime) -> list[Mapping[str, Any]]:
        """Bookings of hosted journeys carried out, updated in [since, until): the proof register's input."""
        async with self.pool.acquire() as conn:
            return [dict(row) for row in await conn.fetch(_q("list_completed_hosted"), since, until)]


def _check_transition(current: BookingStatus, status: BookingStatus, source: str) -> None:
    if status is current:
        raise StatusAlreadySet()
    if status not in BOOKING_TRANSITIONS[current]:
        raise InvalidStatusTransition(f"a booking cannot go from {current.value} to {status.value}")
    if status is BookingStatus.CONFIRMED and source == "passenger":
        raise StatusNotYours()


def _identity(phone: str | None, last_name: str | None) -> tuple[str | None, str | None]:
    if phone is None:
        return None, None
    return phone_trunc(phone), identity_key(phone, last_name) if last_name else None


def _passenger_id(request: BookingRequest) -> str:
    """Stable per OùRA card (the register counts a person's trips), else one per booking."""
    if request.medium_serial:
        return "card-" + hashlib.sha256(f"oura-card:{request.medium_serial}".encode()).hexdigest()[:24]
    return "p-" + uuid.uuid4().hex


def _seconds_of_day(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text[:8].split(":"))
    return 3600 * hours + 60 * minutes + seconds


def _circular_gap(a: int, b: int) -> int:
    gap = abs(a - b) % 86_400
    return min(gap, 86_400 - gap)
