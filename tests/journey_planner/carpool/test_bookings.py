"""Carpool bookings (journey_planner.carpool.service) on PostgreSQL, relayed to stub operators.

A seat is never sold twice: the lock pair shows two bookings of the last seat both succeeding
when the seats are read without the offer's lock (an injected pause between the read and the
insert lets both read before either writes), and one refused with it; then 20 concurrent
bookings of a 3-seat offer confirm exactly 3, for a journey published through OùRA and for
another operator's. An Idempotency-Key makes one booking however often (and however
concurrently) it is sent.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from journey_planner.carpool.client import JourneyQuery, OperatorClient, OperatorConfig
from journey_planner.carpool.errors import (
    BookingIdTaken,
    IdempotencyKeyReused,
    InvalidStatusTransition,
    MissingBooking,
    MissingJourney,
    NoSeatAvailable,
    NotEnoughSeats,
    OperatorRefusedBooking,
    OperatorUnavailable,
    StatusAlreadySet,
    StatusNotYours,
)
from journey_planner.carpool.model import Booking, BookingStatus, DriverJourney, JourneyType, Price, PriceType, User, parse
from journey_planner.carpool.service import OURA_OPERATOR, BookingRequest, CarpoolService, Traveller
from oura.clock import FixedClock

pytestmark = [pytest.mark.realdata]

GUARD_S = 30.0
PICKUP_AT = 1_790_000_000
QUERY = JourneyQuery(44.7351, 4.5987, 44.9331, 4.8921, PICKUP_AT)  # the stubs' offers are found by any query


def _journey(seats: int, journey_id: str = "j-1") -> DriverJourney:
    return DriverJourney(
        operator=OURA_OPERATOR, driver=User("driver-1", OURA_OPERATOR, "Marc"), passenger_pickup_lat=44.7351,
        passenger_pickup_lng=4.5987, passenger_drop_lat=44.9331, passenger_drop_lng=4.8921, duration=1800,
        passenger_pickup_date=PICKUP_AT, type=JourneyType.PLANNED, id=journey_id, available_seats=seats,
        price=Price(PriceType.PAYING, 3.0, "EUR"), distance=31_000)


def _request(journey_id: str = "j-1", operator: str = OURA_OPERATOR, **changes) -> BookingRequest:
    return BookingRequest(operator=operator, driver_journey_id=journey_id,
                          passenger=Traveller("Léa", last_name="Martin", phone="06 01 02 03 04"), **changes)


async def _outcomes(service: CarpoolService, requests: list[tuple[BookingRequest, str]]) -> list:
    async def one(request, key):
        try:
            return await service.book(request, key)
        except NoSeatAvailable as refused:
            return refused
    async with asyncio.timeout(GUARD_S):
        return await asyncio.gather(*(one(request, key) for request, key in requests))


def _pause_until_the_other_reads_or_waits(pool):
    """The injected pause: the first booking to have read the seats waits until the second has
    read them too (no lock) or is waiting for a lock (the offer's row is locked)."""
    second_read = asyncio.Event()
    arrived = 0

    async def pause() -> None:
        nonlocal arrived
        arrived += 1
        if arrived > 1:
            second_read.set()
            return
        while not second_read.is_set():
            waiting = await pool.fetchval("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if waiting:
                return
            await asyncio.sleep(0.005)

    return pause


async def _held(pool, journey_id="j-1", operator=OURA_OPERATOR) -> int:
    return await pool.fetchval("SELECT coalesce(sum(seats), 0) FROM carpool_bookings WHERE operator = $1 "
                               "AND journey_id = $2 AND status <> 'CANCELLED'", operator, journey_id)


@pytest.mark.parametrize("seat_lock", [False, True], ids=["without the lock", "with the lock"])
async def test_lock_pair_the_last_seat_is_sold_once_only_with_the_lock(db_pool, seat_lock):
    service = CarpoolService(db_pool, FixedClock(), seat_lock=seat_lock)
    await service.publish_journey(_journey(seats=3))
    for i in range(2):
        await service.book(_request(), f"before-{i}")
    service.between_read_and_write = _pause_until_the_other_reads_or_waits(db_pool)
    outcomes = await _outcomes(service, [(_request(), "last-a"), (_request(), "last-b")])
    booked = [o for o in outcomes if not isinstance(o, NoSeatAvailable)]
    if seat_lock:
        assert len(booked) == 1 and await _held(db_pool) == 3
    else:  # the race: both read 2 of 3 seats held, both insert
        assert len(booked) == 2 and await _held(db_pool) == 4


async def test_twenty_concurrent_bookings_of_a_three_seat_journey_confirm_three(db_pool):
    service = CarpoolService(db_pool, FixedClock())
    await service.publish_journey(_journey(seats=3))
    outcomes = await _outcomes(service, [(_request(), f"key-{i}") for i in range(20)])
    booked = [o for o in outcomes if not isinstance(o, NoSeatAvailable)]
    assert len(booked) == 3
    assert {description["status"] for description, created in booked} == {"CONFIRMED"}
    assert all(created for _, created in booked)
    assert await _held(db_pool) == 3
    assert (await service.list_hosted_journeys(QUERY)) == []  # full: no longer offered


async def test_one_idempotency_key_makes_one_booking(db_pool):
    service = CarpoolService(db_pool, FixedClock())
    await service.publish_journey(_journey(seats=3))
    first, created = await service.book(_request(), "same-key")
    again, created_again = await service.book(_request(), "same-key")
    assert (created, created_again) == (True, False) and again["id"] == first["id"]
    outcomes = await _outcomes(service, [(_request(), "racing-key")] * 8)
    assert len({description["id"] for description, _ in outcomes}) == 1
    assert sum(created for _, created in outcomes) == 1
    assert await _held(db_pool) == 2
    with pytest.raises(IdempotencyKeyReused):
        await service.book(_request(seats=2), "same-key")


async def test_the_status_flow_of_a_hosted_journey(db_pool):
    service = CarpoolService(db_pool, FixedClock())
    await service.publish_journey(_journey(seats=3))
    booking, _ = await service.book(_request(medium_serial="OURA-0001"), "k")
    assert booking["status"] == "CONFIRMED" and booking["travel_pass"] is True
    assert [e["status"] for e in booking["events"]] == ["WAITING_CONFIRMATION", "CONFIRMED"]
    with pytest.raises(StatusAlreadySet):
        await service.set_status(booking["id"], BookingStatus.CONFIRMED, source="driver")
    with pytest.raises(InvalidStatusTransition):
        await service.set_status(booking["id"], BookingStatus.VALIDATED, source="passenger")
    done = await service.set_status(booking["id"], BookingStatus.COMPLETED_PENDING_VALIDATION, source="driver")
    assert done["booking"]["status"] == "COMPLETED_PENDING_VALIDATION"
    validated = await service.set_status(booking["id"], BookingStatus.VALIDATED, source="passenger")
    assert [(e["status"], e["source"]) for e in validated["events"]][-2:] == [
        ("COMPLETED_PENDING_VALIDATION", "driver"), ("VALIDATED", "passenger")]
    with pytest.raises(InvalidStatusTransition):  # VALIDATED is final
        await service.set_status(booking["id"], BookingStatus.CANCELLED, source="passenger")
    cancelled, _ = await service.book(_request(), "k2")
    await service.set_status(cancelled["id"], BookingStatus.CANCELLED, source="passenger", message="plans changed")
    assert await _held(db_pool) == 1  # a cancelled booking frees its seat
    with pytest.raises(MissingBooking):
        await service.describe(str(uuid.uuid4()))
    with pytest.raises(MissingJourney):
        await service.book(_request("nowhere"), "k3")


async def _external(db_pool, serve, session, name="op.example", **options):
    stub, url = await serve(name)
    client = OperatorClient(OperatorConfig(id=name, base_url=url, **options), session, clock=FixedClock())
    service = CarpoolService(db_pool, FixedClock(), [client])
    return stub, service


async def test_a_booking_at_another_operator_is_relayed_and_follows_its_answers(db_pool, serve, session, spec):
    stub, service = await _external(db_pool, serve, session)
    found = await service.search(QUERY)
    assert len(found.offers) == 3 and found.errors == ()
    booking, _ = await service.book(_request("op.example-0", "op.example"), "k")
    assert booking["status"] == "WAITING_CONFIRMATION"
    ((sent_id, sent),) = stub.bookings.items()
    assert sent_id == booking["id"] and sent["status"] == "WAITING_CONFIRMATION"
    assert spec.schema_errors("Booking", booking["booking"]) == []
    assert sent["passenger"]["operator"] == OURA_OPERATOR and sent["driverJourneyId"] == "op.example-0"
    with pytest.raises(StatusNotYours):  # the driver's side confirms, not the passenger
        await service.set_status(booking["id"], BookingStatus.CONFIRMED, source="passenger")
    await service.standard_set_status(booking["id"], BookingStatus.CONFIRMED, "ok")  # the operator's PATCH on OùRA
    assert stub.bookings[booking["id"]]["status"] == "WAITING_CONFIRMATION"  # not relayed back
    await service.set_status(booking["id"], BookingStatus.COMPLETED_PENDING_VALIDATION, source="passenger")
    assert stub.bookings[booking["id"]]["status"] == "COMPLETED_PENDING_VALIDATION"  # relayed
    assert [r[:2] for r in stub.requests[-1:]] == [("PATCH", f"/bookings/{booking['id']}")]
    assert stub.request_errors == []
    stub.mode = "fail_500"
    with pytest.raises(OperatorUnavailable):  # the operator cannot be told: nothing changes
        await service.set_status(booking["id"], BookingStatus.VALIDATED, source="passenger")
    assert (await service.describe(booking["id"]))["status"] == "COMPLETED_PENDING_VALIDATION"


async def test_twenty_concurrent_bookings_at_an_instant_operator_confirm_three(db_pool, serve, session):
    stub, service = await _external(db_pool, serve, session)
    stub.mode = "instant"
    await service.search(QUERY)
    outcomes = await _outcomes(service, [(_request("op.example-1", "op.example"), f"key-{i}") for i in range(20)])
    booked = [o for o in outcomes if not isinstance(o, NoSeatAvailable)]
    assert len(booked) == 3 and {d["status"] for d, _ in booked} == {"CONFIRMED"}
    assert len(stub.bookings) == 3  # the refused ones never reached the operator
    assert await _held(db_pool, "op.example-1", "op.example") == 3


@pytest.mark.parametrize("mode, error", [("fail_500", OperatorUnavailable), ("hang", OperatorUnavailable),
                                         ("refuse", OperatorRefusedBooking)])
async def test_a_booking_the_operator_does_not_take_is_withdrawn(db_pool, serve, session, mode, error):
    stub, service = await _external(db_pool, serve, session, timeout_s=0.05)
    await service.search(QUERY)
    stub.mode = mode
    with pytest.raises(error):
        async with asyncio.timeout(GUARD_S):
            await service.book(_request("op.example-0", "op.example"), "k")
    assert await _held(db_pool, "op.example-0", "op.example") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM carpool_bookings") == 0
    stub.mode = "ok"
    stub.release.set()
    booking, created = await service.book(_request("op.example-0", "op.example"), "k")  # the same key, again
    assert created and booking["status"] == "WAITING_CONFIRMATION"


async def test_an_offer_not_seen_in_a_search_cannot_be_booked(db_pool, serve, session):
    _, service = await _external(db_pool, serve, session)
    with pytest.raises(MissingJourney):
        await service.book(_request("op.example-0", "op.example"), "k")


def _standard_booking_json(booking_id: str) -> dict:
    return {"id": booking_id, "driver": {"id": "driver-1", "operator": OURA_OPERATOR, "alias": "Marc"},
            "passenger": {"id": "p9", "operator": "maas.example", "alias": "Zoé"},
            "passengerPickupDate": PICKUP_AT, "passengerPickupLat": 44.7351, "passengerPickupLng": 4.5987,
            "passengerDropLat": 44.9331, "passengerDropLng": 4.8921, "status": "WAITING_CONFIRMATION",
            "price": {"type": "PAYING", "amount": 3.0, "currency": "EUR"}, "driverJourneyId": "j-1"}


async def test_the_standard_side_books_a_hosted_journey_once_per_id(db_pool):
    service = CarpoolService(db_pool, FixedClock())
    await service.publish_journey(_journey(seats=1))
    posted = parse(Booking, _standard_booking_json(str(uuid.uuid4())))
    stored = await service.receive_booking(posted)
    assert stored.status is BookingStatus.CONFIRMED
    assert await service.receive_booking(posted) == stored  # posted again: the same booking
    with pytest.raises(BookingIdTaken):  # the same id, another booking
        await service.receive_booking(replace(posted, passenger_pickup_lat=45.0))
    with pytest.raises(NotEnoughSeats):
        await service.receive_booking(parse(Booking, _standard_booking_json(str(uuid.uuid4()))))
    await service.standard_set_status(posted.id, BookingStatus.CANCELLED, "the passenger cancelled")
    assert (await service.standard_booking(posted.id)).status is BookingStatus.CANCELLED
