"""The demo region's carpool operator (oura.demo.carpool_operator), asked by OùRA's client.

Its answers are checked against the standard's stored document; its journeys go from the
region's rural towns to their nearest railway stations; it books instantly and never more than
a journey's seats; and OùRA's bookings through it hold end to end (the acceptance's 20 bookings
of a 3-seat offer).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from journey_planner.carpool.client import JourneyQuery, OperatorClient, OperatorConfig, OperatorFailure, RegularTripQuery
from journey_planner.carpool.errors import NoSeatAvailable
from journey_planner.carpool.model import Booking, BookingStatus, Price, User
from journey_planner.carpool.service import BookingRequest, CarpoolService, Traveller
from oura.clock import FixedClock
from oura.demo.carpool_operator import DEMO_CARPOOL_OPERATOR, create_carpool_operator_app, demo_routes, journeys_of_day
from oura.demo.region import STATIONS

pytestmark = [pytest.mark.http, pytest.mark.realdata]

DAY = date(2026, 9, 21)  # a Monday
PARIS = ZoneInfo("Europe/Paris")


@pytest_asyncio.fixture
async def demo():
    server = TestServer(create_carpool_operator_app(seed=1))
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        url = str(server.make_url("")).rstrip("/")
        client = OperatorClient(OperatorConfig(id=DEMO_CARPOOL_OPERATOR, base_url=url, timeout_s=2.0, cache_ttl_s=0),
                                session, clock=FixedClock())
        yield client, session, url
    await server.close()


def _morning_journey(route_key: str) -> dict:
    return next(j for j in journeys_of_day(demo_routes(), DAY, 1) if j["id"].startswith(route_key + "-")
                and _outward(j))


def _outward(journey: dict) -> bool:
    return journey["id"].rsplit("-", 1)[-1].startswith("a")


def test_journeys_go_from_rural_towns_to_stations_on_weekdays():
    routes = demo_routes()
    assert len(routes) >= 30
    stations = {(s.lat, s.lon) for s in STATIONS.values()}
    journeys = journeys_of_day(routes, DAY, 1)
    for journey in journeys:
        ends = {(journey["passengerPickupLat"], journey["passengerPickupLng"]),
                (journey["passengerDropLat"], journey["passengerDropLng"])}
        assert len(ends & stations) == 1, journey["id"]
        hour = datetime.fromtimestamp(journey["passengerPickupDate"], PARIS).hour
        assert (6 <= hour < 9) if _outward(journey) else (17 <= hour < 20)
    assert len({journey["id"] for journey in journeys}) == len(journeys)  # two drivers at one minute: two ids
    assert journeys == journeys_of_day(routes, DAY, 1)  # a pure function of (seed, day)
    assert journeys_of_day(routes, date(2026, 9, 27), 1) == []  # Sunday


async def test_answers_are_the_standards_and_bookings_never_exceed_the_seats(demo, spec):
    client, session, url = demo
    journey = _morning_journey("le-cheylard.livron")
    query = JourneyQuery(journey["passengerPickupLat"], journey["passengerPickupLng"], journey["passengerDropLat"],
                         journey["passengerDropLng"], journey["passengerPickupDate"])
    async with session.get(url + "/driver_journeys", params=query.rounded().params()) as response:
        body = await response.json()
    assert spec.request_errors("GET", "/driver_journeys", query.rounded().params()) == []
    assert spec.response_errors("GET", "/driver_journeys", response.status, body) == []
    offers = await client.search_driver_journeys(query)
    assert journey["id"] in {o.id for o in offers}
    trips = await client.search_driver_regular_trips(RegularTripQuery(query.departure_lat, query.departure_lng,
                                                                      query.arrival_lat, query.arrival_lng, "07:30:00"))
    assert trips and all(t.operator == DEMO_CARPOOL_OPERATOR for t in trips)
    offer = next(o for o in offers if o.id == journey["id"])

    def booking() -> Booking:
        return Booking(id=str(uuid.uuid4()), driver=offer.driver, passenger=User("p", "oura.example", "Léa"),
                       passenger_pickup_date=offer.passenger_pickup_date, passenger_pickup_lat=offer.passenger_pickup_lat,
                       passenger_pickup_lng=offer.passenger_pickup_lng, passenger_drop_lat=offer.passenger_drop_lat,
                       passenger_drop_lng=offer.passenger_drop_lng, status=BookingStatus.WAITING_CONFIRMATION,
                       price=offer.price or Price(), driver_journey_id=offer.id)

    answers = await asyncio.gather(*(client.create_booking(booking()) for _ in range(6)), return_exceptions=True)
    confirmed = [a for a in answers if isinstance(a, Booking)]
    assert len(confirmed) == journey["availableSeats"] and {a.status for a in confirmed} == {BookingStatus.CONFIRMED}
    assert {a.status for a in answers if not isinstance(a, Booking)} == {400}
    assert journey["id"] not in {o.id for o in await client.search_driver_journeys(query)}  # full
    await client.update_booking_status(confirmed[0].id, BookingStatus.CANCELLED)
    assert journey["id"] in {o.id for o in await client.search_driver_journeys(query)}  # a seat again


async def test_oura_books_the_demo_operator_exactly_its_seats(demo, db_pool):
    client, _, _ = demo
    journey = next(j for j in journeys_of_day(demo_routes(), DAY, 1) if j["availableSeats"] == 3)
    service = CarpoolService(db_pool, FixedClock(), [client])
    found = await service.search(JourneyQuery(journey["passengerPickupLat"], journey["passengerPickupLng"],
                                              journey["passengerDropLat"], journey["passengerDropLng"],
                                              journey["passengerPickupDate"]))
    assert journey["id"] in {o.id for o in found.offers}
    request = BookingRequest(DEMO_CARPOOL_OPERATOR, journey["id"], Traveller("Léa"))

    async def one(i: int):
        try:
            return await service.book(request, f"key-{i}")
        except NoSeatAvailable as refused:
            return refused

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    booked = [o for o in outcomes if not isinstance(o, NoSeatAvailable)]
    assert len(booked) == 3 and {d["status"] for d, _ in booked} == {"CONFIRMED"}
    winner = next(i for i, o in enumerate(outcomes) if not isinstance(o, NoSeatAvailable))
    again, created = await service.book(request, f"key-{winner}")  # the same key again: the same booking
    assert not created and again["id"] == outcomes[winner][0]["id"]


async def test_the_failing_modes(demo):
    client, session, url = demo
    for mode, failure in (("fail_500", OperatorFailure.SERVER_ERROR), ("hang", OperatorFailure.TIMEOUT)):
        async with session.post(url + "/control/mode", json={"mode": mode}) as response:
            assert response.status == 200
        quick = OperatorClient(OperatorConfig(id=DEMO_CARPOOL_OPERATOR, base_url=url, timeout_s=0.05), session,
                               clock=FixedClock())
        with pytest.raises(Exception) as raised:
            await quick.search_driver_journeys(JourneyQuery(44.9, 4.4, 44.77, 4.84, 1_790_000_000))
        assert raised.value.failure is failure
