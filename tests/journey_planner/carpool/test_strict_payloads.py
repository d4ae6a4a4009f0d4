"""What OùRA's carpool routes receive is held to the standard (journey_planner.carpool.model,
``parse(..., strict=True)``): a null member is refused naming it, ids stay within the standard's
255 characters, UUIDs are UUIDs; what operators answer is still read leniently.
"""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio

from journey_planner.carpool.model import (
    CarpoolBookingEvent,
    CarpoolPayloadError,
    RegularTrip,
    parse,
    to_json,
)
from journey_planner.carpool.standard_http import PREFIX
from oura.app import create_app
from oura.auth import create_key
from oura.keys import POOL

TRIP = {
    "operator": "whoever", "driver": {"id": "driver-7", "operator": "whoever", "alias": "Marc"},
    "passengerPickupLat": 44.7351, "passengerPickupLng": 4.5987, "passengerDropLat": 44.9331,
    "passengerDropLng": 4.8921, "duration": 1800,
    "schedules": [{"passengerPickupDay": "MON", "passengerPickupTimeOfDay": "07:10:00",
                   "journeySchedules": [{"id": "s-1", "passengerPickupDate": 1_790_000_000, "type": "PLANNED"}]}],
}
EVENT = {
    "id": "b481a503-12f0-41a2-ad41-9faded5bf3de", "idToken": "eyJ...",
    "data": {"id": "op-booking-1", "passengerPickupDate": 1_790_000_000, "passengerPickupLat": 44.9,
             "passengerPickupLng": 4.4, "passengerDropLat": 44.93, "passengerDropLng": 4.89, "status": "CONFIRMED",
             "webUrl": "https://op.example/b/1", "passenger": {"id": "p1", "operator": "op.example", "alias": "Léa"}},
}


def _schedule(**changes) -> dict:
    (schedule,) = TRIP["schedules"]
    (journey,) = schedule["journeySchedules"]
    return {**TRIP, "schedules": [{**schedule, "journeySchedules": [{**journey, **changes}]}]}


def _refusal(cls, payload, path="") -> CarpoolPayloadError:
    with pytest.raises(CarpoolPayloadError) as refused:
        parse(cls, payload, path, strict=True)
    return refused.value


# --- the parser -----------------------------------------------------------------------------------


def test_a_regular_trip_reads_the_standards_walking_members_and_refuses_a_wrong_type():
    # schemathesis sent dropoffToArrivalWalkingDuration: {} and got 201: RegularTrip lacked the
    # four walking members DriverTrip has, so they were ignored instead of checked
    trip = parse(RegularTrip, {**TRIP, "dropoffToArrivalWalkingDuration": 240}, strict=True)
    assert trip.dropoff_to_arrival_walking_duration == 240
    assert to_json(trip)["dropoffToArrivalWalkingDuration"] == 240
    error = _refusal(RegularTrip, {**TRIP, "dropoffToArrivalWalkingDuration": {}}, "trip")
    assert error.path == "trip.dropoffToArrivalWalkingDuration"


def test_a_driver_without_operator_is_refused_when_strict_and_given_the_trips_otherwise():
    # schemathesis sent driver.operator null, then absent, and got 201 (the trip's operator was
    # inherited): the standard requires it, so OùRA's routes refuse it; operators' answers keep the leniency
    absent = {k: v for k, v in TRIP["driver"].items() if k != "operator"}
    for driver in ({**absent, "operator": None}, absent):
        error = _refusal(RegularTrip, {**TRIP, "driver": driver}, "trip")
        assert error.path == "trip.driver.operator"
        assert parse(RegularTrip, {**TRIP, "driver": driver}).driver.operator == "whoever"


def test_a_null_optional_member_is_refused_naming_it_when_strict_and_absent_otherwise():
    payload = _schedule(webUrl=None)
    error = _refusal(RegularTrip, payload, "trip")
    assert error.path == "trip.schedules[0].journeySchedules[0].webUrl"
    assert "null" in error.reason
    assert parse(RegularTrip, payload).schedules[0].journey_schedules[0].web_url is None  # an operator's answer
    nested = {**EVENT, "data": {**EVENT["data"], "car": {"brand": None}}}
    assert _refusal(CarpoolBookingEvent, nested).path == "data.car.brand"
    user = {**EVENT, "data": {**EVENT["data"], "passenger": {**EVENT["data"]["passenger"], "verifiedIdentity": None}}}
    assert _refusal(CarpoolBookingEvent, user).path == "data.passenger.verifiedIdentity"


def test_a_null_required_member_is_refused_naming_it():
    assert _refusal(RegularTrip, {**TRIP, "duration": None}).path == "duration"
    with pytest.raises(CarpoolPayloadError, match="duration: is required"):
        parse(RegularTrip, {**TRIP, "duration": None})


def test_ids_are_bounded_as_the_standard_says_when_strict():
    assert parse(RegularTrip, _schedule(id="x" * 255), strict=True).schedules[0].journey_schedules[0].id == "x" * 255
    assert "at most 255" in _refusal(RegularTrip, _schedule(id="x" * 256)).reason
    assert "at least 1" in _refusal(RegularTrip, _schedule(id="")).reason
    assert parse(RegularTrip, _schedule(id="x" * 256)).schedules[0].journey_schedules[0].id == "x" * 256  # lenient
    assert "UUID" in _refusal(CarpoolBookingEvent, {**EVENT, "id": "b481a503"}).reason


def test_the_time_of_day_is_hh_mm_ss_when_strict():
    (schedule,) = TRIP["schedules"]
    for wrong in ("7:10", "24:00:00", "07:10:00garbage"):
        error = _refusal(RegularTrip, {**TRIP, "schedules": [{**schedule, "passengerPickupTimeOfDay": wrong}]})
        assert error.path == "schedules[0].passengerPickupTimeOfDay", wrong


def test_a_strict_reading_still_round_trips():
    trip = parse(RegularTrip, TRIP, strict=True)
    assert parse(RegularTrip, to_json(trip), strict=True) == trip
    assert parse(CarpoolBookingEvent, EVENT, strict=True).data.passenger.alias == "Léa"


# --- over HTTP --------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def carpool(app_config, make_client):
    app = create_app(app_config)
    client = await make_client(app)
    _, token = await create_key(app[POOL], "admin", None, label="test")
    return client, {"Authorization": f"Bearer {token}"}


async def _problem(response, status=400) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    return await response.json()


@pytest.mark.realdata
async def test_publishing_a_regular_trip_with_a_null_or_an_overlong_id_is_a_400_naming_the_member(carpool):
    client, headers = carpool
    for trip, member in ((_schedule(webUrl=None), "trip.schedules[0].journeySchedules[0].webUrl"),
                         (_schedule(id="x" * 256), "trip.schedules[0].journeySchedules[0].id"),
                         ({**TRIP, "webUrl": None}, "trip.webUrl")):
        problem = await _problem(await client.post("/v1/carpool/driver_regular_trips", headers=headers,
                                                   json={"trip_id": "t-1", "trip": trip}))
        assert member in problem["detail"], problem
        assert problem["error"] == "invalid_carpool_parameter"
    published = await client.post("/v1/carpool/driver_regular_trips", headers=headers,
                                  json={"trip_id": "t-1", "trip": _schedule(id="x" * 255)})
    assert published.status == 201, await published.text()
    body = await published.json()
    assert body["schedules"][0]["journeySchedules"][0]["id"] == "x" * 255


@pytest.mark.realdata
async def test_a_booking_event_with_a_null_member_is_a_400_naming_it(carpool):
    client, headers = carpool
    nested = {**EVENT, "id": str(uuid.uuid4()), "data": {**EVENT["data"], "passengerDropAddress": None}}
    problem = await _problem(await client.post(PREFIX + "/booking_events", headers=headers, json=nested))
    assert "data.passengerDropAddress" in problem["detail"]
    assert problem["error"] == "invalid_carpool_body"
    not_uuid = await _problem(await client.post(PREFIX + "/booking_events", headers=headers,
                                                json={**EVENT, "id": "12"}))
    assert "id" in not_uuid["detail"] and "UUID" in not_uuid["detail"]
    fine = await client.post(PREFIX + "/booking_events", headers=headers, json={**EVENT, "id": str(uuid.uuid4())})
    assert fine.status == 200, await fine.text()
