"""A client of one carpool operator's standard-covoiturage API, and the search over all of them.

A slow operator must never slow a journey: every call is bounded by the operator's timeout
(300 ms by default, the whole exchange: connect, send, read the body), and a `CircuitBreaker`
per operator stops calling an operator that failed ``failures`` times in a row (timeouts,
connection errors, 5xx, 429, unreadable answers) for ``cooldown_s``; then one trial call is let
through (half-open): success closes the breaker, failure opens it again. A 4xx answer other than
429 is the caller's mistake, not the operator's failure: it does not count. While open, a call
costs nothing: `OperatorError` with `OperatorFailure.CIRCUIT_OPEN`, at once.

Searches (`/driver_journeys`, `/driver_regular_trips`) are cached for ``cache_ttl_s`` (60 s) per
operator, keyed on the query rounded to a 100 m grid (3 decimals of a degree) and to the minute;
the rounded query is what is sent, so a cached answer is exactly the answer to its key. Only
successful answers are cached.

`search_all(clients, query)` asks every operator at once and returns what came back within the
deadline: offers, and one `OperatorFailureReport` per operator that failed (it never raises for
an operator). The clock (`oura.clock.Clock`, its ``monotonic``) is injected: tests move time.

The standard declares no authentication scheme (only 401 answers); an operator's API key, when
configured, is sent in the header ``api_key_header`` (``X-API-KEY`` unless the operator says
otherwise).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

from oura.clock import Clock, SystemClock

from .model import (
    Booking,
    BookingStatus,
    CarpoolBookingEvent,
    CarpoolPayloadError,
    DriverJourney,
    RegularTrip,
    Weekday,
    parse,
    parse_list,
    to_json,
)

__all__ = [
    "OperatorConfig",
    "JourneyQuery",
    "RegularTripQuery",
    "OperatorFailure",
    "OperatorError",
    "OperatorFailureReport",
    "SearchResults",
    "BreakerState",
    "CircuitBreaker",
    "TtlCache",
    "OperatorClient",
    "search_all",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    """One carpool operator as configured: where its API is and how patient to be with it."""

    id: str  # the operator's domain name, as its answers spell it
    base_url: str  # without the trailing slash: f"{base_url}/driver_journeys"
    api_key: str | None = None
    api_key_header: str = "X-API-KEY"
    timeout_s: float = 0.3
    cache_ttl_s: float = 60.0
    cache_entries: int = 256
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.timeout_s > 0 or self.breaker_failures < 1 or self.breaker_cooldown_s < 0:
            raise ValueError(f"operator {self.id}: timeout_s > 0, breaker_failures >= 1, breaker_cooldown_s >= 0")


@dataclass(frozen=True, slots=True)
class JourneyQuery:
    """`GET /driver_journeys`: punctual driver journeys near a trip at a time."""

    departure_lat: float
    departure_lng: float
    arrival_lat: float
    arrival_lng: float
    departure_date: int  # POSIX seconds
    time_delta_s: int = 900
    departure_radius_km: float = 1.0
    arrival_radius_km: float = 1.0
    count: int | None = None

    def rounded(self) -> JourneyQuery:
        """The query on a 100 m grid and to the minute: the cache key, and what is sent."""
        return JourneyQuery(
            round(self.departure_lat, 3), round(self.departure_lng, 3),
            round(self.arrival_lat, 3), round(self.arrival_lng, 3),
            self.departure_date - self.departure_date % 60, self.time_delta_s,
            self.departure_radius_km, self.arrival_radius_km, self.count,
        )

    def params(self) -> dict[str, str]:
        params = {
            "departureLat": _number(self.departure_lat), "departureLng": _number(self.departure_lng),
            "arrivalLat": _number(self.arrival_lat), "arrivalLng": _number(self.arrival_lng),
            "departureDate": str(self.departure_date), "timeDelta": str(self.time_delta_s),
            "departureRadius": _number(self.departure_radius_km), "arrivalRadius": _number(self.arrival_radius_km),
        }
        if self.count is not None:
            params["count"] = str(self.count)
        return params


@dataclass(frozen=True, slots=True)
class RegularTripQuery:
    """`GET /driver_regular_trips`: drivers who make a trip regularly, at a time of day."""

    departure_lat: float
    departure_lng: float
    arrival_lat: float
    arrival_lng: float
    departure_time_of_day: str  # "07:30:00"
    departure_weekdays: tuple[Weekday, ...] = tuple(Weekday)
    time_delta_s: int = 900
    departure_radius_km: float = 1.0
    arrival_radius_km: float = 1.0
    min_departure_date: int | None = None
    max_departure_date: int | None = None
    count: int | None = None

    def rounded(self) -> RegularTripQuery:
        hours, minutes, _seconds = self.departure_time_of_day.split(":")
        return RegularTripQuery(
            round(self.departure_lat, 3), round(self.departure_lng, 3),
            round(self.arrival_lat, 3), round(self.arrival_lng, 3),
            f"{hours}:{minutes}:00", self.departure_weekdays, self.time_delta_s,
            self.departure_radius_km, self.arrival_radius_km,
            self.min_departure_date, self.max_departure_date, self.count,
        )

    def params(self) -> dict[str, str]:
        params = {
            "departureLat": _number(self.departure_lat), "departureLng": _number(self.departure_lng),
            "arrivalLat": _number(self.arrival_lat), "arrivalLng": _number(self.arrival_lng),
            "departureTimeOfDay": self.departure_time_of_day,
            "departureWeekdays": ",".join(day.value for day in self.departure_weekdays),
            "timeDelta": str(self.time_delta_s),
            "departureRadius": _number(self.departure_radius_km), "arrivalRadius": _number(self.arrival_radius_km),
        }
        for name, value in (("minDepartureDate", self.min_departure_date),
                            ("maxDepartureDate", self.max_departure_date), ("count", self.count)):
            if value is not None:
                params[name] = str(value)
        return params


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class OperatorFailure(enum.StrEnum):
    """Why a call to an operator gave nothing (the kind of an `OperatorError`)."""

    TIMEOUT = "timeout"  # no complete answer within the operator's timeout
    UNREACHABLE = "unreachable"  # connection refused, reset, DNS...
    SERVER_ERROR = "server_error"  # 5xx, or 429 (it asks us to slow down)
    BAD_ANSWER = "bad_answer"  # an answer that is not the standard's JSON
    REFUSED = "refused"  # a 4xx: the request was wrong (does not open the breaker)
    CIRCUIT_OPEN = "circuit_open"  # not called: the breaker is open


class OperatorError(Exception):
    """A call to an operator that gave nothing, and why."""

    def __init__(self, operator: str, failure: OperatorFailure, detail: str, status: int | None = None) -> None:
        self.operator = operator
        self.failure = failure
        self.detail = detail
        self.status = status
        super().__init__(f"{operator}: {failure.value}: {detail}")


@dataclass(frozen=True, slots=True)
class OperatorFailureReport:
    operator: str
    failure: OperatorFailure
    detail: str
    status: int | None = None


@dataclass(frozen=True, slots=True)
class SearchResults:
    offers: tuple[DriverJourney, ...]
    errors: tuple[OperatorFailureReport, ...]


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; one trial call after ``cooldown_s``."""

    failures: int
    cooldown_s: float
    clock: Clock
    consecutive_failures: int = 0
    opened_at: float | None = None
    _trial_running: bool = field(default=False, repr=False)

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if self.clock.monotonic() - self.opened_at >= self.cooldown_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def try_acquire(self) -> bool:
        """May a call go out now? In half-open, only one call at a time (the trial)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self.opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self._trial_running or self.consecutive_failures >= self.failures:
            self.opened_at = self.clock.monotonic()
        self._trial_running = False


class TtlCache:
    """At most ``entries`` answers, each for ``ttl_s`` seconds of the injected clock (oldest out first)."""

    def __init__(self, ttl_s: float, entries: int, clock: Clock) -> None:
        self._ttl_s = ttl_s
        self._entries = entries
        self._clock = clock
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock.monotonic():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: Any, value: Any) -> None:
        if self._ttl_s <= 0:
            return
        self._items[key] = (self._clock.monotonic() + self._ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self._entries:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_FAILURE_OPENS = frozenset({OperatorFailure.TIMEOUT, OperatorFailure.UNREACHABLE,
                            OperatorFailure.SERVER_ERROR, OperatorFailure.BAD_ANSWER})


class OperatorClient:
    """The standard's operations against one operator (an aiohttp session is handed in)."""

    def __init__(self, operator: OperatorConfig, session: aiohttp.ClientSession, *, clock: Clock | None = None) -> None:
        self.operator = operator
        self._session = session
        clock = clock or SystemClock()
        self.breaker = CircuitBreaker(operator.breaker_failures, operator.breaker_cooldown_s, clock)
        self.cache = TtlCache(operator.cache_ttl_s, operator.cache_entries, clock)
        self.calls = 0  # requests that actually went out (cache hits and open-breaker refusals do not)

    # --- the standard's operations --------------------------------------------------------------

    async def search_driver_journeys(self, query: JourneyQuery) -> list[DriverJourney]:
        sent = query.rounded()
        return await self._cached(("driver_journeys", sent), lambda: self._search(
            "/driver_journeys", sent.params(), lambda body: parse_list(DriverJourney, body)))

    async def search_driver_regular_trips(self, query: RegularTripQuery) -> list[RegularTrip]:
        sent = query.rounded()
        return await self._cached(("driver_regular_trips", sent), lambda: self._search(
            "/driver_regular_trips", sent.params(), lambda body: parse_list(RegularTrip, body)))

    async def create_booking(self, booking: Booking) -> Booking:
        """`POST /bookings` (the booking's status must be WAITING_CONFIRMATION): the operator's copy."""
        if booking.status is not BookingStatus.WAITING_CONFIRMATION:
            raise ValueError("a new booking is posted as WAITING_CONFIRMATION (the standard)")
        return await self._call("POST", "/bookings", json_body=to_json(booking), expect=(201,),
                                read=lambda body: parse(Booking, body))

    async def update_booking_status(self, booking_id: str, status: BookingStatus, message: str | None = None) -> None:
        """`PATCH /bookings/{id}?status=...`; a 409 (status already set) is `REFUSED` with status 409."""
        params = {"status": status.value}
        if message is not None:
            params["message"] = message[:500]
        await self._call("PATCH", f"/bookings/{booking_id}", params=params, expect=(200,))

    async def get_booking(self, booking_id: str) -> Booking:
        return await self._call("GET", f"/bookings/{booking_id}", expect=(200,), read=lambda body: parse(Booking, body))

    async def send_booking_event(self, event: CarpoolBookingEvent) -> None:
        await self._call("POST", "/booking_events", json_body=to_json(event), expect=(200,))

    async def status(self) -> bool:
        """`GET /status`: True when the operator says it is available (failures are counted as any call)."""
        try:
            await self._call("GET", "/status", expect=(200,))
        except OperatorError:
            return False
        return True

    # --- the machinery --------------------------------------------------------------------------

    async def _cached(self, key: Any, fetch: Callable[[], Awaitable[list[T]]]) -> list[T]:
        hit = self.cache.get(key)
        if hit is not None:
            return list(hit)
        found = await fetch()
        self.cache.put(key, tuple(found))
        return found

    async def _search(self, path: str, params: Mapping[str, str], read: Callable[[Any], list[T]]) -> list[T]:
        return await self._call("GET", path, params=params, expect=(200,), read=read)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.operator.api_key:
            headers[self.operator.api_key_header] = self.operator.api_key
        return headers

    async def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                    json_body: Any = None, expect: Sequence[int], read: Callable[[Any], T] | None = None) -> T | None:
        """One request within the timeout, through the breaker: ``read`` of its JSON body (None without ``read``).

        The breaker hears of the outcome once, after the body is read: an answer that is not the
        standard's JSON is a failure of the operator like a 500.
        """
        name = self.operator.id
        if not self.breaker.try_acquire():
            raise OperatorError(name, OperatorFailure.CIRCUIT_OPEN, "the circuit breaker is open")
        self.calls += 1
        try:
            async with asyncio.timeout(self.operator.timeout_s):
                async with self._session.request(method, self.operator.base_url + path, params=params,
                                                 json=json_body, headers=self._headers()) as response:
                    status = response.status
                    text = await response.text() if read is not None or status not in expect else ""
        except asyncio.CancelledError:  # the caller's deadline came first: as slow as a timeout
            self.breaker.record_failure()
            raise
        except TimeoutError:
            failure = OperatorError(name, OperatorFailure.TIMEOUT, f"no answer within {self.operator.timeout_s:g} s")
        except aiohttp.ClientError as error:
            failure = OperatorError(name, OperatorFailure.UNREACHABLE, f"{type(error).__name__}: {error}")
        else:
            failure = _failure_of(name, status, text, expect)
            if failure is None:
                if read is None:
                    self.breaker.record_success()
                    return None
                body = _json(text)
                if body is _NOT_JSON:
                    failure = OperatorError(name, OperatorFailure.BAD_ANSWER, "the answer is not JSON", status)
                else:
                    try:
                        value = read(body)
                    except CarpoolPayloadError as error:
                        failure = OperatorError(name, OperatorFailure.BAD_ANSWER, str(error)[:300], status)
                    else:
                        self.breaker.record_success()
                        return value
        if failure.failure in _FAILURE_OPENS:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()  # the operator answered, sanely: it is up
        raise failure


_NOT_JSON = object()


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return _NOT_JSON


def _failure_of(operator: str, status: int, text: str, expect: Sequence[int]) -> OperatorError | None:
    if status in expect:
        return None
    if status >= 500 or status == 429:
        return OperatorError(operator, OperatorFailure.SERVER_ERROR, f"HTTP {status}", status)
    detail = f"HTTP {status}"
    body = _json(text)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        detail += f": {body['error'][:200]}"
    if 400 <= status < 500:
        return OperatorError(operator, OperatorFailure.REFUSED, detail, status)
    return OperatorError(operator, OperatorFailure.BAD_ANSWER, detail, status)


async def search_all(clients: Sequence[OperatorClient], query: JourneyQuery, *,
                     deadline_s: float | None = None) -> SearchResults:
    """Every operator's driver journeys for ``query``, asked at once.

    Each operator is bounded by its own timeout; ``deadline_s`` (default: the largest timeout
    plus 50 ms) bounds the whole, should a call overrun. An operator that fails or overruns is an
    entry of ``errors``; the offers of the others are returned. Offers are sorted by pickup time.
    """
    if deadline_s is None:
        deadline_s = max((client.operator.timeout_s for client in clients), default=0.0) + 0.05

    async def one(client: OperatorClient) -> list[DriverJourney] | OperatorFailureReport:
        try:
            async with asyncio.timeout(deadline_s):
                return await client.search_driver_journeys(query)
        except OperatorError as error:
            return OperatorFailureReport(error.operator, error.failure, error.detail, error.status)
        except TimeoutError:
            return OperatorFailureReport(client.operator.id, OperatorFailure.TIMEOUT,
                                         f"no answer within the search deadline ({deadline_s:g} s)")
        except Exception as error:  # never let one operator break the search; log it, it is a bug
            log.exception("carpool search of %s failed", client.operator.id)
            return OperatorFailureReport(client.operator.id, OperatorFailure.BAD_ANSWER, type(error).__name__)

    answers = await asyncio.gather(*(one(client) for client in clients))
    offers = [offer for answer in answers if isinstance(answer, list) for offer in answer]
    offers.sort(key=lambda offer: (offer.passenger_pickup_date, offer.operator, offer.id or ""))
    errors = tuple(answer for answer in answers if isinstance(answer, OperatorFailureReport))
    return SearchResults(tuple(offers), errors)
