"""The operator client (journey_planner.carpool.client) against local operators on loopback.

A stub operator (conftest.py) serves the standard's routes from the playground's example payloads and checks
every request it receives against the stored OpenAPI document (query parameters and bodies); the
client's answers are checked against the document too. Other stubs hang, answer 500, or answer
something that is not the standard's JSON. Time for the breaker and the cache is a `FixedClock`;
the timeouts are real (a hanging operator is cut at its timeout: the test would hang otherwise,
and is bounded by a guard of its own).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from journey_planner.carpool.client import (
    BreakerState,
    JourneyQuery,
    OperatorClient,
    OperatorConfig,
    OperatorError,
    OperatorFailure,
    RegularTripQuery,
    search_all,
)
from journey_planner.carpool.model import Booking, BookingStatus, CarpoolBookingEvent, Price, User, parse
from oura.clock import FixedClock

pytestmark = [pytest.mark.http, pytest.mark.realdata]

GUARD_S = 10.0  # a test that would hang fails after this instead
QUERY = JourneyQuery(44.7351234, 4.5987654, 44.9331, 4.8921, 1_790_000_013)


def _client(session, url: str, name: str, clock: FixedClock | None = None, **options) -> OperatorClient:
    return OperatorClient(OperatorConfig(id=name, base_url=url, **options), session, clock=clock or FixedClock())


async def test_searches_send_valid_requests_and_read_valid_answers(serve, session, spec):
    stub, url = await serve("op-a.example")
    client = _client(session, url, "op-a.example", api_key="secret")
    async with asyncio.timeout(GUARD_S):
        journeys = await client.search_driver_journeys(QUERY)
        trips = await client.search_driver_regular_trips(RegularTripQuery(44.735, 4.598, 44.933, 4.892, "07:31:40",
                                                                          min_departure_date=1_790_000_000))
        assert await client.status() is True
    assert [j.id for j in journeys] == ["op-a.example-0", "op-a.example-1", "op-a.example-2"]
    assert len(trips) == 2
    assert stub.request_errors == []
    (_, _, sent), (_, _, sent_trips), _ = stub.requests
    # the query is sent rounded (100 m, the minute): what the cache keys on
    assert (sent["departureLat"], sent["departureLng"], sent["departureDate"]) == ("44.735", "4.599", "1789999980")
    assert sent_trips["departureTimeOfDay"] == "07:31:00"
    assert sent_trips["departureWeekdays"] == "MON,TUE,WED,THU,FRI,SAT,SUN"
    assert spec.response_errors("GET", "/driver_journeys", 200, stub.journeys) == []


async def test_bookings_are_relayed_as_the_standard_says(serve, session):
    stub, url = await serve("op-b.example")
    client = _client(session, url, "op-b.example")
    booking = Booking(id=str(uuid.uuid4()), driver=User("d1", "op-b.example", "Marc"),
                      passenger=User("p1", "oura.example", "Léa"), passenger_pickup_date=1_790_000_000,
                      passenger_pickup_lat=44.73, passenger_pickup_lng=4.59, passenger_drop_lat=44.93,
                      passenger_drop_lng=4.89, status=BookingStatus.WAITING_CONFIRMATION,
                      price=Price(amount=2.5, currency="EUR"), driver_journey_id="op-b.example-0")
    async with asyncio.timeout(GUARD_S):
        assert await client.create_booking(booking) == booking
        await client.update_booking_status(booking.id, BookingStatus.CONFIRMED, "ok")
        assert (await client.get_booking(booking.id)).status is BookingStatus.CONFIRMED
        with pytest.raises(OperatorError) as raised:
            await client.update_booking_status(booking.id, BookingStatus.CONFIRMED)
        assert (raised.value.failure, raised.value.status) == (OperatorFailure.REFUSED, 409)
        assert "status_already_set" in raised.value.detail
        with pytest.raises(OperatorError) as raised:
            await client.get_booking(str(uuid.uuid4()))
        assert raised.value.status == 404
        event = parse(CarpoolBookingEvent, {"id": str(uuid.uuid4()), "idToken": "t", "data": {
            "id": booking.id, "passengerPickupDate": 1_790_000_000, "passengerPickupLat": 44.73,
            "passengerPickupLng": 4.59, "passengerDropLat": 44.93, "passengerDropLng": 4.89,
            "status": "CONFIRMED", "webUrl": "https://op-b.example/b", "passenger": {"id": "p1", "operator": "o",
                                                                                    "alias": "Léa"}}})
        await client.send_booking_event(event)
    assert stub.request_errors == []
    assert client.breaker.state is BreakerState.CLOSED  # refusals (409, 404) are not the operator's failures
    with pytest.raises(ValueError):  # a new booking is posted WAITING_CONFIRMATION
        await client.create_booking(replace(booking, status=BookingStatus.CONFIRMED))


async def test_a_hanging_operator_costs_its_timeout_and_counts_as_a_failure(serve, session):
    stub, url = await serve("slow.example")
    stub.mode = "hang"
    client = _client(session, url, "slow.example", timeout_s=0.05)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(OperatorError) as raised:
            await client.search_driver_journeys(QUERY)
    assert raised.value.failure is OperatorFailure.TIMEOUT
    assert client.breaker.consecutive_failures == 1
    assert not stub.release.is_set()  # the operator never answered: the client gave up on its own


async def test_500s_open_the_breaker_then_a_trial_call_closes_it(serve, session):
    stub, url = await serve("broken.example")
    stub.mode = "fail_500"
    clock = FixedClock()
    client = _client(session, url, "broken.example", clock, breaker_failures=3, breaker_cooldown_s=30)
    async with asyncio.timeout(GUARD_S):
        for _ in range(3):
            with pytest.raises(OperatorError) as raised:
                await client.search_driver_journeys(QUERY)
            assert raised.value.failure is OperatorFailure.SERVER_ERROR
        assert client.breaker.state is BreakerState.OPEN
        with pytest.raises(OperatorError) as raised:
            await client.search_driver_journeys(QUERY)
        assert raised.value.failure is OperatorFailure.CIRCUIT_OPEN
        assert client.calls == len(stub.requests) == 3  # the open breaker sent nothing
        clock.advance(30)
        assert client.breaker.state is BreakerState.HALF_OPEN
        with pytest.raises(OperatorError):  # the trial fails: open again, for another cooldown
            await client.search_driver_journeys(QUERY)
        assert client.breaker.state is BreakerState.OPEN and len(stub.requests) == 4
        clock.advance(30)
        stub.mode = "ok"
        assert len(await client.search_driver_journeys(QUERY)) == 3
    assert client.breaker.state is BreakerState.CLOSED


async def test_unreadable_answers_count_as_failures(serve, session):
    stub, url = await serve("odd.example")
    client = _client(session, url, "odd.example", breaker_failures=2)
    async with asyncio.timeout(GUARD_S):
        for mode in ("not_json", "wrong_shape"):
            stub.mode = mode
            with pytest.raises(OperatorError) as raised:
                await client.search_driver_journeys(QUERY)
            assert raised.value.failure is OperatorFailure.BAD_ANSWER
    assert client.breaker.state is BreakerState.OPEN


async def test_a_refused_key_is_not_an_operator_failure(serve, session):
    stub, url = await serve("keyed.example")
    client = _client(session, url, "keyed.example", api_key="wrong", breaker_failures=1)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(OperatorError) as raised:
            await client.search_driver_journeys(QUERY)
    assert (raised.value.failure, raised.value.status) == (OperatorFailure.REFUSED, 401)
    assert client.breaker.state is BreakerState.CLOSED


async def test_searches_are_cached_per_rounded_query_until_the_ttl(serve, session):
    stub, url = await serve("cached.example")
    clock = FixedClock()
    client = _client(session, url, "cached.example", clock, cache_ttl_s=60)
    nearby = JourneyQuery(44.7352, 4.5988, 44.9331, 4.8921, 1_790_000_030)  # same 100 m cell, same minute
    async with asyncio.timeout(GUARD_S):
        first = await client.search_driver_journeys(QUERY)
        assert await client.search_driver_journeys(nearby) == first
        assert len(stub.requests) == 1
        stub.mode = "fail_500"  # a cached answer does not ask the operator
        assert await client.search_driver_journeys(QUERY) == first
        clock.advance(61)
        with pytest.raises(OperatorError):
            await client.search_driver_journeys(QUERY)
        assert len(stub.requests) == 2
        stub.mode = "ok"
        clock.advance(60)  # failures are not cached
        assert await client.search_driver_journeys(QUERY) == first
    assert len(stub.requests) == 3


async def test_search_all_returns_the_offers_that_came_and_reports_the_others(serve, session):
    good, good_url = await serve("good.example")
    other, other_url = await serve("other.example")
    slow, slow_url = await serve("slow.example")
    slow.mode = "hang"
    broken, broken_url = await serve("broken.example")
    broken.mode = "fail_500"
    clients = [_client(session, good_url, "good.example"), _client(session, slow_url, "slow.example", timeout_s=0.05),
               _client(session, broken_url, "broken.example"), _client(session, other_url, "other.example")]
    async with asyncio.timeout(GUARD_S):
        results = await search_all(clients, QUERY)
    assert sorted({offer.operator for offer in results.offers}) == ["good.example", "other.example"]
    assert len(results.offers) == 6
    times = [offer.passenger_pickup_date for offer in results.offers]
    assert times == sorted(times)
    assert {(e.operator, e.failure) for e in results.errors} == {
        ("slow.example", OperatorFailure.TIMEOUT), ("broken.example", OperatorFailure.SERVER_ERROR)}
    assert (await search_all([], QUERY)).offers == ()


async def test_search_all_cuts_an_overrunning_call_at_its_deadline(session):
    class Stuck:  # a client whose call overruns its own timeout (a bug, or a slow DNS outside aiohttp)
        operator = OperatorConfig(id="stuck.example", base_url="http://127.0.0.1:9", timeout_s=0.05)

        async def search_driver_journeys(self, query):
            await asyncio.Event().wait()

    async with asyncio.timeout(GUARD_S):
        results = await search_all([Stuck()], QUERY, deadline_s=0.05)
    (report,) = results.errors
    assert (report.operator, report.failure) == ("stuck.example", OperatorFailure.TIMEOUT)
