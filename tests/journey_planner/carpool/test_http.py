"""The carpool routes over HTTP, on the full app (every answer is also checked against OùRA's own
OpenAPI document by the suite's fixture).

OùRA's standard-covoiturage routes are checked as a server against the standard's stored
document: each request sent is one the document admits (`StandardSpec.request_errors`), each
answer one it declares, with the body its schema gives (`StandardSpec.response_errors`).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio

from journey_planner.carpool.client import OperatorConfig
from journey_planner.carpool.service import OURA_OPERATOR
from journey_planner.carpool.standard_http import PREFIX
from journey_planner.carpool.startup import CARPOOL_OPERATORS
from oura.app import create_app
from oura.auth import create_key
from oura.keys import POOL

pytestmark = [pytest.mark.realdata]

PICKUP_AT = 1_790_000_000  # 2026-09-21T14:13:20Z
JOURNEY = {
    "operator": "whoever", "driver": {"id": "driver-7", "operator": "whoever", "alias": "Marc"},
    "passengerPickupLat": 44.7351, "passengerPickupLng": 4.5987, "passengerDropLat": 44.9331,
    "passengerDropLng": 4.8921, "duration": 1800, "passengerPickupDate": PICKUP_AT, "type": "PLANNED",
    "id": "j-1", "availableSeats": 3, "price": {"type": "PAYING", "amount": 3.0, "currency": "EUR"},
    "passengerPickupAddress": "Le Cheylard, place de la Poste", "passengerDropAddress": "Gare de Valence-Ville",
}
SEARCH = {"departureLat": "44.735", "departureLng": "4.599", "arrivalLat": "44.933", "arrivalLng": "4.892",
          "departureDate": str(PICKUP_AT + 300)}


@pytest_asyncio.fixture
async def carpool(app_config, make_client, serve):
    """(client, admin headers, the stub operator 'op.example' the app asks, and a hanging one)."""
    stub, url = await serve("op.example")
    stub.mode = "instant"
    slow, slow_url = await serve("slow.example")
    slow.mode = "hang"
    app = create_app(app_config)
    app[CARPOOL_OPERATORS] = (OperatorConfig(id="op.example", base_url=url),
                              OperatorConfig(id="slow.example", base_url=slow_url, timeout_s=0.05))
    client = await make_client(app)
    _, token = await create_key(app[POOL], "admin", None, label="test")
    return client, {"Authorization": f"Bearer {token}"}, stub


def _booking_body(journey_id="j-1", operator=OURA_OPERATOR, **more):
    return {"operator": operator, "driver_journey_id": journey_id,
            "passenger": {"alias": "Léa", "last_name": "Martin", "phone": "+33601020304"}, **more}


async def _publish(client, headers, **changes):
    response = await client.post("/v1/carpool/driver_journeys", headers=headers,
                                 json={"journey": {**JOURNEY, **changes}, "driver_phone": "06 11 22 33 44",
                                       "driver_last_name": "Durand"})
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_published_journey_is_served_as_the_standard_says(carpool, spec):
    client, headers, _ = carpool
    published = await _publish(client, headers)
    assert published["operator"] == published["driver"]["operator"] == OURA_OPERATOR
    assert spec.schema_errors("DriverJourney", published) == []
    assert spec.request_errors("GET", "/driver_journeys", SEARCH) == []
    response = await client.get(PREFIX + "/driver_journeys", params=SEARCH)
    body = await response.json()
    assert spec.response_errors("GET", "/driver_journeys", response.status, body) == []
    assert [(j["id"], j["availableSeats"]) for j in body] == [("j-1", 3)]
    far = {**SEARCH, "departureLat": "44.80"}  # 7 km from the pickup: outside the 1 km default radius
    assert await (await client.get(PREFIX + "/driver_journeys", params=far)).json() == []
    late = {**SEARCH, "departureDate": str(PICKUP_AT + 3600)}
    assert await (await client.get(PREFIX + "/driver_journeys", params=late)).json() == []
    bad = await client.get(PREFIX + "/driver_journeys", params={**SEARCH, "departureLat": "north"})
    assert bad.status == 400
    problem = await bad.json()
    assert spec.response_errors("GET", "/driver_journeys", 400, problem) == []
    assert problem["error"] == "invalid_carpool_parameter"
    status = await client.get(PREFIX + "/status")
    assert status.status == 200 and spec.response_errors("GET", "/status", 200, None) == []


async def test_regular_trips_are_served_by_weekday_and_time_of_day(carpool, spec):
    client, headers, _ = carpool
    trip = {key: JOURNEY[key] for key in ("operator", "driver", "passengerPickupLat", "passengerPickupLng",
                                          "passengerDropLat", "passengerDropLng", "duration")}
    trip["schedules"] = [{"passengerPickupDay": day, "passengerPickupTimeOfDay": "07:10:00"} for day in ("MON", "TUE")]
    response = await client.post("/v1/carpool/driver_regular_trips", headers=headers,
                                 json={"trip_id": "t-1", "trip": trip})
    assert response.status == 201, await response.text()
    params = {key: SEARCH[key] for key in ("departureLat", "departureLng", "arrivalLat", "arrivalLng")}
    for days, time_of_day, found in (("MON,FRI", "07:20:00", 1), ("WED", "07:10:00", 0), ("TUE", "09:00:00", 0)):
        query = {**params, "departureTimeOfDay": time_of_day, "departureWeekdays": days}
        assert spec.request_errors("GET", "/driver_regular_trips", query) == []
        answer = await client.get(PREFIX + "/driver_regular_trips", params=query)
        body = await answer.json()
        assert spec.response_errors("GET", "/driver_regular_trips", answer.status, body) == []
        assert len(body) == found, (days, time_of_day)


async def test_booking_twice_with_one_key_gives_one_booking(carpool):
    client, headers, _ = carpool
    await _publish(client, headers)
    first = await client.post("/v1/carpool/bookings", json=_booking_body(), headers={"Idempotency-Key": "abc-1"})
    again = await client.post("/v1/carpool/bookings", json=_booking_body(), headers={"Idempotency-Key": "abc-1"})
    assert (first.status, again.status) == (201, 200)
    booking = await first.json()
    assert (await again.json())["id"] == booking["id"] and booking["status"] == "CONFIRMED"
    reused = await client.post("/v1/carpool/bookings", json=_booking_body(seats=2), headers={"Idempotency-Key": "abc-1"})
    assert reused.status == 409 and (await reused.json())["code"] == "idempotency_key_reused"
    keyless = await client.post("/v1/carpool/bookings", json=_booking_body())
    assert keyless.status == 400
    seen = await client.get(f"/v1/carpool/bookings/{booking['id']}")
    assert (await seen.json())["seats"] == 1
    done = await client.patch(f"/v1/carpool/bookings/{booking['id']}", json={"status": "COMPLETED_PENDING_VALIDATION"})
    assert done.status == 200 and (await done.json())["status"] == "COMPLETED_PENDING_VALIDATION"
    back = await client.patch(f"/v1/carpool/bookings/{booking['id']}", json={"status": "CANCELLED"})
    assert back.status == 200
    final = await client.patch(f"/v1/carpool/bookings/{booking['id']}", json={"status": "VALIDATED"})
    assert final.status == 400 and (await final.json())["code"] == "invalid_status_transition"
    missing = await client.get(f"/v1/carpool/bookings/{uuid.uuid4()}")
    assert missing.status == 404


async def test_twenty_concurrent_bookings_of_three_seats_confirm_three(carpool):
    client, headers, _ = carpool
    await _publish(client, headers)
    responses = await asyncio.gather(*(client.post("/v1/carpool/bookings", json=_booking_body(),
                                                   headers={"Idempotency-Key": f"k-{i}"}) for i in range(20)))
    statuses = sorted(response.status for response in responses)
    assert statuses == [201] * 3 + [409] * 17
    bodies = [await response.json() for response in responses]
    assert {b["status"] for b in bodies if "status" in b and isinstance(b["status"], str)} == {"CONFIRMED"}
    assert {b["code"] for b in bodies if "code" in b} == {"no_seat_available"}


async def test_offers_of_every_operator_and_a_relayed_booking(carpool, spec):
    client, headers, stub = carpool
    await _publish(client, headers)
    response = await client.get("/v1/carpool/offers", params={"from": "44.7351,4.5987", "to": "44.9331,4.8921",
                                                               "departure": "2026-09-21T14:15:00Z"})
    found = await response.json()
    assert response.status == 200
    assert sorted({offer["operator"] for offer in found["offers"]}) == ["op.example", OURA_OPERATOR]
    assert [(f["operator"], f["failure"]) for f in found["failures"]] == [("slow.example", "timeout")]
    external = next(offer for offer in found["offers"] if offer["operator"] == "op.example")
    booked = await client.post("/v1/carpool/bookings", json=_booking_body(external["id"], "op.example"),
                               headers={"Idempotency-Key": "ext-1"})
    booking = await booked.json()
    assert booked.status == 201 and booking["status"] == "CONFIRMED" and booking["hosted"] is False
    assert list(stub.bookings) == [booking["id"]] and stub.request_errors == []
    # the operator reports the trip done on OùRA's standard route (its PATCH), then a booking event
    patched = await client.patch(f"{PREFIX}/bookings/{booking['id']}", headers=headers,
                                 params={"status": "COMPLETED_PENDING_VALIDATION"})
    assert spec.response_errors("PATCH", "/bookings/{bookingId}", patched.status, await patched.json()) == []
    again = await client.patch(f"{PREFIX}/bookings/{booking['id']}", headers=headers,
                               params={"status": "COMPLETED_PENDING_VALIDATION"})
    problem = await again.json()
    assert again.status == 409 and problem["error"] == "status_already_set"
    assert spec.response_errors("PATCH", "/bookings/{bookingId}", 409, problem) == []
    event = {"id": str(uuid.uuid4()), "idToken": "token", "data": {
        **{k: booking["booking"][k] for k in ("id", "passengerPickupDate", "passengerPickupLat", "passengerPickupLng",
                                              "passengerDropLat", "passengerDropLng", "driver", "price")},
        "status": "VALIDATED", "webUrl": "https://op.example/bookings/1"}}
    assert spec.request_errors("POST", "/booking_events", {}, event) == []
    told = await client.post(PREFIX + "/booking_events", headers=headers, json=event)
    assert told.status == 200 and await told.json() == {"known": True}
    assert (await (await client.get(f"/v1/carpool/bookings/{booking['id']}")).json())["status"] == "VALIDATED"


async def test_another_platform_books_a_published_journey_on_the_standard_routes(carpool, spec):
    client, headers, _ = carpool
    await _publish(client, headers, availableSeats=1)
    posted = {"id": str(uuid.uuid4()), "driver": {"id": "driver-7", "operator": OURA_OPERATOR, "alias": "Marc"},
              "passenger": {"id": "u-1", "operator": "maas.example", "alias": "Zoé"},
              "passengerPickupDate": PICKUP_AT, "passengerPickupLat": 44.7351, "passengerPickupLng": 4.5987,
              "passengerDropLat": 44.9331, "passengerDropLng": 4.8921, "status": "WAITING_CONFIRMATION",
              "price": {"type": "PAYING", "amount": 3.0, "currency": "EUR"}, "driverJourneyId": "j-1"}
    assert spec.request_errors("POST", "/bookings", {}, posted) == []
    response = await client.post(PREFIX + "/bookings", headers=headers, json=posted)
    body = await response.json()
    assert response.status == 201 and body["status"] == "CONFIRMED"
    assert spec.response_errors("POST", "/bookings", 201, body) == []
    full = await client.post(PREFIX + "/bookings", headers=headers, json={**posted, "id": str(uuid.uuid4())})
    problem = await full.json()
    assert full.status == 400 and problem["error"] == "not_enough_seats"
    assert spec.response_errors("POST", "/bookings", 400, problem) == []
    fetched = await client.get(f"{PREFIX}/bookings/{posted['id']}", headers=headers)
    assert spec.response_errors("GET", "/bookings/{bookingId}", 200, await fetched.json()) == []
    missing = await client.get(f"{PREFIX}/bookings/{uuid.uuid4()}", headers=headers)
    problem = await missing.json()
    assert missing.status == 404 and problem["error"] == "missing_booking"
    assert spec.response_errors("GET", "/bookings/{bookingId}", 404, problem) == []
    anonymous = await client.post(PREFIX + "/bookings", json=posted)
    assert anonymous.status == 401 and spec.response_errors("POST", "/bookings", 401, None) == []
