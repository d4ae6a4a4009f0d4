"""The standard's payloads (journey_planner.carpool.model) against the stored OpenAPI document.

Every example payload of ../shared/specs/standard-covoiturage (the playground's data) is checked
three ways: the document's schema accepts it (or the test says why not), `parse` reads it, and
`to_json` of what was read is accepted by the schema again and reads back to the same object.
"""

from __future__ import annotations

import json
import uuid

import pytest

from journey_planner.carpool.model import (
    BOOKING_TRANSITIONS,
    Booking,
    BookingStatus,
    CarpoolBooking,
    CarpoolBookingEvent,
    CarpoolPayloadError,
    DriverJourney,
    JourneyType,
    Price,
    PriceType,
    RegularTrip,
    User,
    camel,
    parse,
    parse_list,
    to_json,
)
from tests.journey_planner.carpool.stdcov_spec import StandardSpec, spec_path

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def spec() -> StandardSpec:
    return StandardSpec.load()


def _examples(name: str) -> dict:
    return json.loads(spec_path(name).read_text(encoding="utf-8"))


def _regular_trip_schema(spec: StandardSpec) -> dict:
    return spec.operation("GET", "/driver_regular_trips")["responses"][200]["content"]["application/json"]["schema"]["items"]


def _round_trip(spec: StandardSpec, cls, schema_check, payload) -> None:
    read = parse(cls, payload)
    written = to_json(read)
    assert schema_check(written) == [], written
    assert parse(cls, written) == read


def test_every_driver_journey_example_is_valid_parses_and_round_trips(spec):
    journeys = _examples("playground_testData.gen.json")["driverJourneys"]
    assert len(journeys) == 22
    for payload in journeys:
        assert spec.schema_errors("DriverJourney", payload) == []
        _round_trip(spec, DriverJourney, lambda j: spec.schema_errors("DriverJourney", j), payload)
    first = parse(DriverJourney, journeys[0])
    assert (first.operator, first.type, first.passenger_pickup_lat) == ("example.com", JourneyType.DYNAMIC, 46.1613442)


def test_the_default_data_drivers_lack_their_operator_and_inherit_the_journeys(spec):
    # The playground's default data omits driver.operator, which the document requires: the schema
    # refuses it, the parser reads the driver as the journey's operator's (model docstring).
    for payload in _examples("playground_defaultData.json")["driverJourneys"]:
        assert spec.schema_errors("DriverJourney", payload) == ["driver: 'operator' is a required property"]
        journey = parse(DriverJourney, payload)
        assert journey.driver == User(id="1", operator="operator.example.org", alias="bob")
        assert spec.schema_errors("DriverJourney", to_json(journey)) == []


def test_every_regular_trip_example_parses_and_round_trips(spec):
    trips = _examples("playground_testData.gen.json")["driverRegularTrips"]
    schema = _regular_trip_schema(spec)
    assert len(trips) == 18
    for payload in trips:
        assert spec.errors(schema, payload) == []
        _round_trip(spec, RegularTrip, lambda t: spec.errors(schema, t), payload)
    # the playground spells the member "Schedules": not the standard's "schedules", so it is ignored
    assert all("Schedules" in payload and "schedules" not in payload for payload in trips)
    assert parse(RegularTrip, trips[0]).schedules == ()
    fixed = {**trips[0], "schedules": trips[0]["Schedules"]}
    (schedule,) = parse(RegularTrip, fixed).schedules
    assert (schedule.passenger_pickup_day.value, schedule.passenger_pickup_time_of_day) == ("TUE", "08:00:00")
    assert schedule.journey_schedules[0].passenger_pickup_date == 21020400
    _round_trip(spec, RegularTrip, lambda t: spec.errors(schema, t), fixed)


def test_every_booking_and_user_example_parses_and_round_trips(spec):
    data = _examples("playground_testData.gen.json")
    assert len(data["bookings"]) == 12
    for payload in data["bookings"]:
        assert spec.schema_errors("Booking", payload) == []
        _round_trip(spec, Booking, lambda b: spec.schema_errors("Booking", b), payload)
    assert {parse(Booking, b).status for b in data["bookings"]} <= set(BookingStatus)
    for payload in data["users"]:
        assert spec.schema_errors("User", payload) == []
        _round_trip(spec, User, lambda u: spec.schema_errors("User", u), payload)


def test_a_booking_event_round_trips_in_both_shapes(spec):
    common = {"id": str(uuid.uuid4()), "passengerPickupDate": 1_790_000_000, "passengerPickupLat": 44.9,
              "passengerPickupLng": 4.4, "passengerDropLat": 44.93, "passengerDropLng": 4.89,
              "status": "CONFIRMED", "webUrl": "https://op.example/b/1"}
    driver = {"id": "d1", "operator": "op.example", "alias": "Marc"}
    for data in ({**common, "driver": driver, "price": {"type": "PAYING", "amount": 3.5, "currency": "EUR"}},
                 {**common, "passenger": {**driver, "id": "p1"}}):
        event = {"id": str(uuid.uuid4()), "idToken": "eyJ...", "data": data}
        assert spec.schema_errors("CarpoolBookingEvent", event) == []
        _round_trip(spec, CarpoolBookingEvent, lambda e: spec.schema_errors("CarpoolBookingEvent", e), event)
    assert isinstance(parse(CarpoolBookingEvent, event).data, CarpoolBooking)


def test_the_parser_refuses_what_the_schema_refuses_naming_the_member(spec):
    good = _examples("playground_testData.gen.json")["driverJourneys"][0]
    for broken, path in (({**good, "passengerPickupLat": "46.1"}, "passengerPickupLat"),
                         ({k: v for k, v in good.items() if k != "duration"}, "duration"),
                         ({**good, "type": "SOMETIMES"}, "type"),
                         ({**good, "driver": {"id": "x", "operator": "o"}}, "driver.alias"),
                         ({**good, "passengerPickupDate": 1.5}, "passengerPickupDate")):
        with pytest.raises(CarpoolPayloadError) as raised:
            parse(DriverJourney, broken)
        assert raised.value.path == path
        if path != "passengerPickupDate":  # "number, format long": 1.5 passes the schema, not the parser
            assert spec.schema_errors("DriverJourney", broken) != []
    with pytest.raises(CarpoolPayloadError) as raised:
        parse_list(DriverJourney, [good, {**good, "duration": True}])
    assert raised.value.path == "[1].duration"
    with pytest.raises(CarpoolPayloadError):
        parse_list(DriverJourney, {"driverJourneys": []})


def test_to_json_leaves_out_none_and_writes_enums_and_camel_case():
    price = Price(type=PriceType.PAYING, amount=2.0, currency="EUR")
    assert to_json(price) == {"type": "PAYING", "amount": 2.0, "currency": "EUR"}
    assert to_json(Price()) == {}
    assert camel("departure_to_pickup_walking_distance") == "departureToPickupWalkingDistance"


def test_the_status_flow_is_the_standards():
    assert BOOKING_TRANSITIONS[BookingStatus.WAITING_CONFIRMATION] == {BookingStatus.CONFIRMED, BookingStatus.CANCELLED}
    assert BOOKING_TRANSITIONS[BookingStatus.CONFIRMED] == {BookingStatus.COMPLETED_PENDING_VALIDATION,
                                                            BookingStatus.CANCELLED}
    assert BOOKING_TRANSITIONS[BookingStatus.COMPLETED_PENDING_VALIDATION] == {BookingStatus.VALIDATED,
                                                                               BookingStatus.CANCELLED}
    assert BOOKING_TRANSITIONS[BookingStatus.VALIDATED] == BOOKING_TRANSITIONS[BookingStatus.CANCELLED] == set()


def test_the_spec_helper_finds_errors(spec):
    assert spec.schema_errors("Booking", {"id": "not-a-uuid"}) != []
    assert any("uuid" in e for e in spec.schema_errors("bookingId", "not-a-uuid"))
    assert spec.request_errors("GET", "/driver_journeys", {"departureLat": "x"}) != []
    assert "query departureLatt: not a parameter of GET /driver_journeys" in spec.request_errors(
        "GET", "/driver_journeys", {"departureLatt": "1"})
    assert spec.response_errors("GET", "/driver_journeys", 418, None) != []
