"""The demo realtime simulator's control endpoint: injected cancellations, delays and stop closures
change the next payloads (parsed as protobuf), and the ETag with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from google.transit import gtfs_realtime_pb2 as rt

from oura.demo.live import build_feed
from oura.demo.feed_arrays import load_network_timetable
from oura.demo.live_events import InjectedEvent
from oura.demo.realtime import create_realtime_app
from tests.oura.demo.conftest import SettableClock, parse_feed

MORNING = datetime(2025, 3, 4, 7, 3, 30, tzinfo=UTC)  # Tuesday 08:03:30 in Lyon
SKIPPED = rt.TripUpdate.StopTimeUpdate.SKIPPED


@pytest.fixture(scope="module")
def tcl(small_region):
    return load_network_timetable("tcl", str(Path(small_region.out_dir) / small_region.get_feed("tcl").path),
                                  "Europe/Paris")


@pytest.fixture
async def live(make_client, small_region):
    clock = SettableClock(MORNING)
    client = await make_client(create_realtime_app(small_region.registry, seed=3, clock=clock))
    client.clock = clock
    return client


async def _updates(client) -> tuple[str, dict[str, rt.TripUpdate]]:
    etag, _, updates = await _message(client)
    return etag, updates


async def _message(client) -> tuple[str, int, dict[str, rt.TripUpdate]]:
    """The ETag, header timestamp and trip updates (by trip id) of the TCL payload."""
    response = await client.get("/rt/tcl/trip-updates.pb")
    assert response.status == 200
    message = parse_feed(await response.read())
    updates = {e.trip_update.trip.trip_id: e.trip_update for e in message.entity}
    return response.headers["ETag"], message.header.timestamp, updates


def _trip_starting_later(tt, hours: float) -> str:
    """A trip of today's services starting about ``hours`` after MORNING (outside the look-ahead)."""
    services = tt.services_by_date[MORNING.date()]
    start_s = 8 * 3600 + 3.5 * 60 + hours * 3600
    runs = np.isin(tt.service_ids, list(services)) & (tt.first_departure_s >= start_s)
    return str(tt.trip_ids[np.flatnonzero(runs)[np.argmin(tt.first_departure_s[runs])]])


async def test_a_cancellation_is_published_at_once_and_lifted_by_deletion(live, tcl):
    trip_id = _trip_starting_later(tcl, 2)
    etag, published, before = await _message(live)
    assert trip_id not in before  # beyond the simulator's 30-minute look-ahead
    created = await live.post("/control/events", json={"network": "tcl", "kind": "cancel", "trip_id": trip_id,
                                                       "service_date": "20250304"})
    assert created.status == 201
    event = await created.json()
    assert (event["kind"], event["trip_id"], event["service_date"], event["active"]) == ("cancel", trip_id, "20250304", True)
    stale = await live.get("/rt/tcl/trip-updates.pb", headers={"If-None-Match": etag})
    assert stale.status == 200  # the ETag changed with the injection: no 304
    new_etag, republished, after = await _message(live)
    assert new_etag != etag
    # Dated after the payload it replaces, although the clock did not move: a consumer that
    # skips a payload with the header timestamp it already has still takes this one.
    assert republished > published == int(MORNING.timestamp())  # MORNING falls on a 30 s step
    assert after[trip_id].trip.schedule_relationship == rt.TripDescriptor.CANCELED
    assert after[trip_id].trip.start_date == "20250304"
    listed = await (await live.get("/control/events")).json()
    assert [e["id"] for e in listed["events"]] == [event["id"]]
    assert (await live.delete(f"/control/events/{event['id']}")).status == 204
    assert (await live.delete(f"/control/events/{event['id']}")).status == 404
    etag_again, lifted, restored = await _message(live)
    assert trip_id not in restored and etag_again not in (etag, new_etag) and lifted > republished


async def test_a_delay_shifts_the_stop_times_ahead(live):
    _, before = await _updates(live)
    trip_id, update = next((t, u) for t, u in before.items()
                           if u.trip.schedule_relationship == rt.TripDescriptor.SCHEDULED and u.stop_time_update)
    # The trip id as the OùRA API shows it (namespaced by its feed) names the same trip.
    created = await live.post("/control/events", json={"network": "tcl", "kind": "delay", "trip_id": f"tcl:{trip_id}",
                                                       "delay_s": 600})
    assert created.status == 201 and (await created.json())["trip_id"] == trip_id
    _, after = await _updates(live)
    old = {s.stop_sequence: s.departure.time or s.arrival.time for s in update.stop_time_update}
    new = {s.stop_sequence: s.departure.time or s.arrival.time for s in after[trip_id].stop_time_update}
    common = sorted(set(old) & set(new))
    assert common and all(new[seq] - old[seq] == 600 for seq in common)
    assert after[trip_id].delay == update.delay + 600
    # Other trips are unchanged.
    other = next(t for t in before if t != trip_id)
    assert after[other] == before[other]


async def test_a_stop_closure_is_an_alert_and_skipped_stop_times_until_it_ends(live, tcl):
    _, before = await _updates(live)
    trip_id, update = next((t, u) for t, u in before.items()
                           if u.trip.schedule_relationship == rt.TripDescriptor.SCHEDULED and len(u.stop_time_update) > 2)
    stop_id = update.stop_time_update[-1].stop_id  # a stop the trip still reaches
    until = MORNING + timedelta(hours=1)
    created = await live.post("/control/events", json={"network": "tcl", "kind": "close_stop", "stop_id": stop_id,
                                                       "until": until.isoformat()})
    assert created.status == 201
    alerts = parse_feed(await (await live.get("/rt/tcl/alerts.pb")).read())
    (injected,) = [e for e in alerts.entity if e.id.startswith("injected-")]
    assert injected.alert.effect == rt.Alert.NO_SERVICE
    assert [i.stop_id for i in injected.alert.informed_entity] == [stop_id]
    assert injected.alert.active_period[0].end == int(until.timestamp())
    _, after = await _updates(live)
    assert any(s.stop_id == stop_id and s.schedule_relationship == SKIPPED for s in after[trip_id].stop_time_update)
    live.clock.now = until + timedelta(minutes=1)  # the closure is over: no alert any more
    alerts = parse_feed(await (await live.get("/rt/tcl/alerts.pb")).read())
    assert not [e for e in alerts.entity if e.id.startswith("injected-")]
    assert (await (await live.get("/control/events")).json())["events"][0]["active"] is False


@pytest.mark.parametrize("body, detail", [
    ({"network": "tcl", "kind": "explode", "trip_id": "x"}, "kind"),
    ({"network": "nowhere", "kind": "cancel", "trip_id": "x"}, "unknown network"),
    ({"network": "tcl", "kind": "cancel", "trip_id": "no-such-trip"}, "no trip"),
    ({"network": "tcl", "kind": "cancel"}, "trip_id"),
    ({"network": "tcl", "kind": "delay", "trip_id": "x", "delay_s": "10"}, "delay_s"),
    ({"network": "tcl", "kind": "close_stop", "stop_id": "no-such-stop"}, "no stop"),
    ({"network": "tcl", "kind": "close_stop", "stop_id": "x", "until": "2025-03-04T06:00:00Z"}, "past"),
    ({"network": "tcl", "kind": "close_stop", "stop_id": "x", "until": "2025-03-04T09:00:00"}, "offset"),
    ({"network": "tcl", "kind": "cancel", "trip_id": "x", "service_date": "2025-03-04"}, "YYYYMMDD"),
    (["not", "an", "object"], "object"),
])
async def test_malformed_control_requests_are_400_problems(live, body, detail):
    response = await live.post("/control/events", json=body)
    assert response.status == 400 and response.headers["Content-Type"].startswith("application/problem+json")
    assert detail in (await response.json())["detail"]
    assert (await (await live.get("/control/events")).json())["events"] == []


def test_build_feed_stays_a_function_of_seed_time_and_events(tcl):
    trip_id = _trip_starting_later(tcl, 3)
    event = InjectedEvent(id="1", network_id="tcl", kind="cancel", created_at=MORNING, trip_id=trip_id)
    other_network = InjectedEvent(id="2", network_id="ter", kind="cancel", created_at=MORNING, trip_id=trip_id)
    plain = build_feed(tcl, "trip-updates", seed=3, now=MORNING)
    assert build_feed(tcl, "trip-updates", seed=3, now=MORNING, events=[other_network]) == plain
    injected = build_feed(tcl, "trip-updates", seed=3, now=MORNING, events=[event])
    assert injected == build_feed(tcl, "trip-updates", seed=3, now=MORNING, events=[event]) != plain
    canceled = {e.trip_update.trip.trip_id for e in parse_feed(injected).entity
                if e.trip_update.trip.schedule_relationship == rt.TripDescriptor.CANCELED}
    assert trip_id in canceled
    # The cancelled run's vehicle is not published either.
    vehicles = parse_feed(build_feed(tcl, "vehicle-positions", seed=3, now=MORNING + timedelta(hours=3, minutes=5),
                                 events=[event]))
    assert trip_id not in {e.vehicle.trip.trip_id for e in vehicles.entity}
