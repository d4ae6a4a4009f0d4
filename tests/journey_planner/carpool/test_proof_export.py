"""Validated trips exported to the proof register once (journey_planner.carpool.proof_export and
``GET /v1/carpool/proofs``), each journey validated against the stored v3.3 document
(../shared/specs/preuve-covoiturage/api-v3.3.yaml).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from functools import cache

import jsonschema
import pytest
import pytest_asyncio
import yaml

from journey_planner.carpool.model import BookingStatus, DriverJourney, JourneyType, Price, PriceType, User
from journey_planner.carpool.proof_export import export_validated
from journey_planner.carpool.service import OURA_OPERATOR, BookingRequest, CarpoolService, Traveller
from oura.app import create_app
from oura.auth import create_key
from oura.clock import FixedClock
from oura.keys import POOL
from tests.conftest import require_shared_data

pytestmark = [pytest.mark.realdata]

PICKUP_AT = 1_790_000_000  # 2026-09-21T14:13:20Z
DAY = dt.datetime(2026, 9, 21, tzinfo=dt.UTC)


@cache
def _document() -> dict:
    path = require_shared_data("..", "specs", "preuve-covoiturage", "api-v3.3.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def register_errors(journey: dict) -> list[str]:
    """What the stored v3.3 document refuses in a journey (POST /journeys); date-times checked apart."""
    document = _document()
    schema = {**document["paths"]["/journeys"]["post"]["requestBody"]["content"]["application/json"]["schema"],
              "components": document["components"]}
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
             for e in jsonschema.Draft202012Validator(schema).iter_errors(journey)]
    for end in ("start", "end"):
        when = journey.get(end, {}).get("datetime", "")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", when):
            found.append(f"{end}/datetime: {when!r} is not YYYY-MM-DDThh:mm:ssZ")
    return sorted(found)


async def _publish(service: CarpoolService, journey_id: str) -> None:
    await service.publish_journey(DriverJourney(
        operator=OURA_OPERATOR, driver=User("driver-1", OURA_OPERATOR, "Marc"), passenger_pickup_lat=44.906,
        passenger_pickup_lng=4.423, passenger_drop_lat=44.773, passenger_drop_lng=4.842, duration=3060,
        passenger_pickup_date=PICKUP_AT, type=JourneyType.PLANNED, id=journey_id, available_seats=8,
        price=Price(PriceType.PAYING, 3.8, "EUR"), distance=47_100),
        driver_phone="06 11 22 33 44", driver_last_name="Durand")


async def _trip(service: CarpoolService, journey_id: str, key: str, *, until: BookingStatus,
                identity: bool = True) -> str:
    """A booking taken along the flow up to ``until`` (at the service's clock)."""
    passenger = Traveller("Léa", last_name="Martin", phone="07 01 02 03 04") if identity else Traveller("Léa")
    booking, _ = await service.book(BookingRequest(OURA_OPERATOR, journey_id, passenger,
                                                   medium_serial="OURA-2026-000042"), key)
    for status in (BookingStatus.COMPLETED_PENDING_VALIDATION, BookingStatus.VALIDATED):
        await service.set_status(booking["id"], status, source="passenger")
        if status is until:
            break
    return booking["id"]


@pytest_asyncio.fixture
async def trips(db_pool):
    """(clock, service, ids): 'a' validated at 18:00, 'b' at 19:00, 'pending' only completed, 'anonymous'
    validated at 18:00 without identity."""
    clock = FixedClock(DAY.replace(hour=18))
    service = CarpoolService(db_pool, clock)
    await _publish(service, "le-cheylard.livron-0710")
    ids = {"a": await _trip(service, "le-cheylard.livron-0710", "ka", until=BookingStatus.VALIDATED),
           "pending": await _trip(service, "le-cheylard.livron-0710", "kp",
                                  until=BookingStatus.COMPLETED_PENDING_VALIDATION),
           "anonymous": await _trip(service, "le-cheylard.livron-0710", "kn", until=BookingStatus.VALIDATED,
                                    identity=False)}
    clock.set(DAY.replace(hour=19))
    ids["b"] = await _trip(service, "le-cheylard.livron-0710", "kb", until=BookingStatus.VALIDATED)
    return clock, service, ids


async def test_a_window_exports_the_trips_validated_in_it_as_valid_register_journeys(db_pool, trips):
    clock, _, ids = trips
    clock.set(DAY.replace(hour=20))
    window = await export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1))
    assert [j.booking_id for j in window.journeys] == [ids["a"], ids["b"]]  # not the pending one
    assert window.skipped == ((ids["anonymous"], "no passenger_phone_trunc (a phone and a last name are needed)"),)
    for exported in window.journeys:
        assert register_errors(exported.journey) == []
        assert "travel_pass" not in exported.journey["passenger"]["identity"]
        assert (exported.first_export, exported.exported_at) == (True, DAY.replace(hour=20))
    assert [j.validated_at for j in window.journeys] == [DAY.replace(hour=18), DAY.replace(hour=19)]
    assert window.journeys[0].journey["operator_journey_id"] == ids["a"].replace("-", "")


async def test_the_same_window_again_answers_the_same_journeys_with_their_first_export(db_pool, trips):
    clock, _, ids = trips
    clock.set(DAY.replace(hour=20))
    first = await export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1))
    clock.set(DAY.replace(hour=21))
    again = await export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1))
    assert [j.journey for j in again.journeys] == [j.journey for j in first.journeys]
    assert [(j.first_export, j.exported_at) for j in again.journeys] == [(False, DAY.replace(hour=20))] * 2
    assert again.skipped == first.skipped  # never exported: still listed


async def test_consecutive_windows_hold_each_trip_once(db_pool, trips):
    clock, _, ids = trips
    clock.set(DAY.replace(hour=22))
    evening = DAY.replace(hour=18, minute=30)
    before = await export_validated(db_pool, clock, DAY, evening)
    after = await export_validated(db_pool, clock, evening, DAY + dt.timedelta(days=1))
    assert [j.booking_id for j in before.journeys] == [ids["a"]]
    assert [j.booking_id for j in after.journeys] == [ids["b"]]
    assert all(j.first_export for j in (*before.journeys, *after.journeys))
    # a wider window later finds both exported already
    wide = await export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1))
    assert [(j.booking_id, j.first_export) for j in wide.journeys] == [(ids["a"], False), (ids["b"], False)]


async def test_two_exports_of_one_window_at_once_mark_each_trip_first_once(db_pool, trips):
    clock, _, ids = trips
    clock.set(DAY.replace(hour=20))
    answers = await asyncio.gather(*(export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1))
                                     for _ in range(4)))
    firsts = [j.booking_id for answer in answers for j in answer.journeys if j.first_export]
    assert sorted(firsts) == sorted([ids["a"], ids["b"]])


async def test_the_travel_pass_is_the_oura_card_when_asked(db_pool, trips):
    clock, _, _ = trips
    window = await export_validated(db_pool, clock, DAY, DAY + dt.timedelta(days=1), travel_pass_name="oura")
    identity = window.journeys[0].journey["passenger"]["identity"]
    assert identity["travel_pass"] == {"name": "oura", "user_id": "OURA-2026-000042"}
    # the stored document lists one travel pass name (navigo): refused on that member only
    assert register_errors(window.journeys[0].journey) == [
        "passenger/identity/travel_pass/name: 'oura' is not one of ['navigo']"]


# --- over HTTP --------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def proofs(app_config, make_client):
    """(client, admin headers, authority headers, the app's clock) with two validated trips."""
    clock = FixedClock(DAY.replace(hour=18))
    app = create_app(app_config, clock=clock)
    client = await make_client(app)
    _, admin = await create_key(app[POOL], "admin", None, label="test")
    _, authority = await create_key(app[POOL], "authority", "sytral", label="test")
    service = CarpoolService(app[POOL], clock)
    await _publish(service, "le-cheylard.livron-0710")
    await _trip(service, "le-cheylard.livron-0710", "ka", until=BookingStatus.VALIDATED)
    await _trip(service, "le-cheylard.livron-0710", "kb", until=BookingStatus.VALIDATED)
    return (client, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {authority}"}, clock)


async def test_an_admin_gets_the_windows_journeys_once_marked(proofs):
    client, admin, _, clock = proofs
    clock.set(DAY.replace(hour=20))
    params = {"since": "2026-09-21T00:00:00+02:00", "until": "2026-09-22T00:00:00+02:00"}
    response = await client.get("/v1/carpool/proofs", params=params, headers=admin)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert len(body["journeys"]) == 2 and body["skipped"] == []
    for item in body["journeys"]:
        assert register_errors(item["journey"]) == []
        assert item["first_export"] is True
    again = await (await client.get("/v1/carpool/proofs", params=params, headers=admin)).json()
    assert [j["journey"] for j in again["journeys"]] == [j["journey"] for j in body["journeys"]]
    assert [j["first_export"] for j in again["journeys"]] == [False, False]
    assert [j["exported_at"] for j in again["journeys"]] == [j["exported_at"] for j in body["journeys"]]
    with_card = await (await client.get("/v1/carpool/proofs", params={**params, "travel_pass": "true"},
                                        headers=admin)).json()
    assert with_card["journeys"][0]["journey"]["passenger"]["identity"]["travel_pass"]["name"] == "oura"


async def test_the_proofs_are_an_admins_and_the_window_is_bounded(proofs):
    client, admin, authority, _ = proofs
    day = {"since": "2026-09-21T00:00:00Z", "until": "2026-09-22T00:00:00Z"}
    assert (await client.get("/v1/carpool/proofs", params=day, headers=authority)).status == 403
    assert (await client.get("/v1/carpool/proofs", params=day)).status == 401
    for since, until in (("2026-09-22T00:00:00Z", "2026-09-21T00:00:00Z"),
                         ("2026-09-21T00:00:00Z", "2026-09-21T00:00:00Z"),
                         ("2026-08-01T00:00:00Z", "2026-09-21T00:00:00Z"),
                         ("0001-01-01T00:00:00+01:00", "0001-01-02T00:00:00Z")):
        response = await client.get("/v1/carpool/proofs", params={"since": since, "until": until}, headers=admin)
        assert response.status == 400, (since, until, await response.text())
        assert response.content_type == "application/problem+json"
