"""Completed trips exported in the proof register's v3.3 journey format (journey_planner.carpool.proof),
validated against the stored document (../shared/specs/preuve-covoiturage/api-v3.3.yaml).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import jsonschema
import pytest
import yaml

from journey_planner.carpool.identity import identity_key
from journey_planner.carpool.model import BookingStatus, DriverJourney, JourneyType, Price, PriceType, User
from journey_planner.carpool.proof import export_journeys
from journey_planner.carpool.service import OURA_OPERATOR, BookingRequest, CarpoolService, Traveller
from oura.clock import FixedClock
from tests.conftest import require_shared_data

pytestmark = [pytest.mark.realdata]

PICKUP_AT = 1_790_000_000


@cache
def _document() -> dict:
    path = require_shared_data("..", "specs", "preuve-covoiturage", "api-v3.3.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _errors(journey: dict, document: dict | None = None) -> list[str]:
    document = document or _document()
    schema = {**document["paths"]["/journeys"]["post"]["requestBody"]["content"]["application/json"]["schema"],
              "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema)  # date-time is checked below (no rfc3339 checker here)
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(journey)]
    for end in ("start", "end"):
        when = journey.get(end, {}).get("datetime", "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", when) or not dt.datetime.fromisoformat(when):
            found.append(f"{end}/datetime: {when!r} is not YYYY-MM-DDThh:mm:ssZ")
    return sorted(found)


async def _completed(db_pool, **passenger):
    service = CarpoolService(db_pool, FixedClock(dt.datetime(2026, 9, 21, 18, tzinfo=dt.UTC)))
    await service.publish_journey(DriverJourney(
        operator=OURA_OPERATOR, driver=User("driver-1", OURA_OPERATOR, "Marc"), passenger_pickup_lat=44.906,
        passenger_pickup_lng=4.423, passenger_drop_lat=44.773, passenger_drop_lng=4.842, duration=3060,
        passenger_pickup_date=PICKUP_AT, type=JourneyType.PLANNED, id="le-cheylard.livron-20260921-0710",
        available_seats=3, price=Price(PriceType.PAYING, 3.8, "EUR"), distance=47_100),
        driver_phone="06 11 22 33 44", driver_last_name="Durand")
    booking, _ = await service.book(BookingRequest(OURA_OPERATOR, "le-cheylard.livron-20260921-0710",
                                                   Traveller("Léa", **passenger), seats=2,
                                                   medium_serial="OURA-2026-000042"), "k")
    await service.set_status(booking["id"], BookingStatus.COMPLETED_PENDING_VALIDATION, source="driver")
    rows = await service.list_completed_hosted(dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                               dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    return booking, rows


async def test_a_completed_trip_is_a_register_journey(db_pool):
    booking, rows = await _completed(db_pool, last_name="D'Hérûg-de-l'Hérault", phone="07 01 02 03 04")
    export = export_journeys(rows)
    (journey,) = export.journeys
    assert export.skipped == ()
    assert journey["operator_journey_id"] == booking["id"].replace("-", "")
    assert journey["operator_class"] == "A"
    assert journey["start"] == {"datetime": "2026-09-21T14:13:20Z", "lat": 44.906, "lon": 4.423}
    assert journey["end"]["datetime"] == "2026-09-21T15:04:20Z"
    passenger = journey["passenger"]
    assert passenger["identity"]["phone_trunc"] == "+337010203"
    assert passenger["identity"]["identity_key"] == identity_key("+33701020304", "D HERUG DE L HERAULT")
    assert passenger["identity"]["travel_pass"] == {"name": "oura", "user_id": "OURA-2026-000042"}
    assert (passenger["contribution"], passenger["seats"], journey["driver"]["revenue"]) == (760, 2, 760)
    assert journey["driver"]["identity"]["phone_trunc"] == "+336112233"
    # the stored document lists one travel pass name (navigo): OùRA's card is refused on that member only
    assert _errors(journey) == ["passenger/identity/travel_pass/name: 'oura' is not one of ['navigo']"]
    document = _document()
    listed = {**document, "components": {**document["components"], "schemas": {
        **document["components"]["schemas"],
        "travel_pass": {**document["components"]["schemas"]["travel_pass"], "properties": {
            **document["components"]["schemas"]["travel_pass"]["properties"],
            "name": {"enum": ["navigo", "oura"]}}}}}}
    assert _errors(journey, listed) == []
    (without_card,) = export_journeys(rows, travel_pass_name=None).journeys
    assert _errors(without_card) == []
    assert "travel_pass" not in without_card["passenger"]["identity"]


async def test_a_trip_without_identities_is_skipped_with_its_reason(db_pool):
    booking, rows = await _completed(db_pool)
    export = export_journeys(rows)
    assert export.journeys == ()
    assert export.skipped == ((booking["id"], "no passenger_phone_trunc (a phone and a last name are needed)"),)


def test_the_validator_refuses_a_journey_missing_its_class():
    assert any("operator_class" in e for e in _errors({"operator_journey_id": "x"}))
