"""The demo realtime server: real protobuf, consistent with the static feeds, deterministic, cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as rt

from feeds.gtfs.reader import read_gtfs
from oura.demo.live import build_feed
from oura.demo.feed_arrays import load_network_timetable
from oura.demo.realtime import PROTOBUF, create_realtime_app
from tests.oura.demo.conftest import SettableClock, parse_feed

# Tuesday 4 March 2025, 08:03:30 in Lyon: morning peak of a school day
MORNING = datetime(2025, 3, 4, 7, 3, 30, tzinfo=UTC)


@pytest.fixture
async def live_client(make_client, small_region):
    clock = SettableClock(MORNING)
    client = await make_client(create_realtime_app(small_region.registry, seed=3, clock=clock))
    client.clock = clock
    return client


@pytest.mark.parametrize("network_id", ["tcl", "ter", "cars-isere"])
async def test_feeds_parse_and_reference_static_trips_and_stops(live_client, small_region, network_id):
    static = read_gtfs(Path(small_region.out_dir) / small_region.get_feed(network_id).path,
                       only=["trips", "stops", "routes"])
    trip_ids = set(static.get("trips")["trip_id"])
    stop_ids = set(static.get("stops")["stop_id"])
    route_ids = set(static.get("routes")["route_id"])
    updates = await live_client.get(f"/rt/{network_id}/trip-updates.pb")
    assert updates.status == 200 and updates.headers["Content-Type"] == PROTOBUF
    message = parse_feed(await updates.read())
    assert message.header.gtfs_realtime_version == "2.0" and message.entity
    for entity in message.entity:
        trip = entity.trip_update.trip
        assert trip.route_id in route_ids
        if trip.schedule_relationship != rt.TripDescriptor.ADDED:
            assert trip.trip_id in trip_ids
        for stu in entity.trip_update.stop_time_update:
            assert stu.stop_id in stop_ids
    vehicles = parse_feed(await (await live_client.get(f"/rt/{network_id}/vehicle-positions.pb")).read())
    assert vehicles.entity
    for entity in vehicles.entity:
        assert entity.vehicle.stop_id in stop_ids
        if entity.vehicle.trip.schedule_relationship != rt.TripDescriptor.ADDED:
            assert entity.vehicle.trip.trip_id in trip_ids
        assert 44.0 < entity.vehicle.position.latitude < 47.0
    alerts = parse_feed(await (await live_client.get(f"/rt/{network_id}/alerts.pb")).read())
    for entity in alerts.entity:
        for informed in entity.alert.informed_entity:
            assert informed.stop_id in stop_ids or informed.route_id in route_ids


async def test_the_busy_network_shows_every_kind_of_event(live_client):
    message = parse_feed(await (await live_client.get("/rt/tcl/trip-updates.pb")).read())
    relationships = {e.trip_update.trip.schedule_relationship for e in message.entity}
    assert {rt.TripDescriptor.SCHEDULED, rt.TripDescriptor.CANCELED} <= relationships
    skipped = [stu for e in message.entity for stu in e.trip_update.stop_time_update
               if stu.schedule_relationship == rt.TripUpdate.StopTimeUpdate.SKIPPED]
    assert skipped
    assert any(e.trip_update.delay > 60 for e in message.entity)
    alerts = parse_feed(await (await live_client.get("/rt/tcl/alerts.pb")).read())
    effects = {e.alert.effect for e in alerts.entity}
    assert rt.Alert.NO_SERVICE in effects  # the closed stop of the day


async def test_an_added_trip_appears_within_the_day(live_client):
    seen = False
    for minutes in range(0, 240, 20):
        live_client.clock.now = MORNING + timedelta(minutes=minutes)
        message = parse_feed(await (await live_client.get("/rt/stas/trip-updates.pb")).read())
        added = [e for e in message.entity if e.trip_update.trip.schedule_relationship == rt.TripDescriptor.ADDED]
        for entity in added:
            seen = True
            times = [stu.departure.time or stu.arrival.time for stu in entity.trip_update.stop_time_update]
            assert times == sorted(times) and all(stu.stop_id for stu in entity.trip_update.stop_time_update)
    assert seen


async def test_predicted_times_increase_along_each_trip(live_client):
    message = parse_feed(await (await live_client.get("/rt/tcl/trip-updates.pb")).read())
    for entity in message.entity:
        times = []
        for stu in entity.trip_update.stop_time_update:
            if stu.schedule_relationship == rt.TripUpdate.StopTimeUpdate.SKIPPED:
                continue
            if stu.HasField("arrival"):
                times.append(stu.arrival.time)
            if stu.HasField("departure"):
                times.append(stu.departure.time)
        assert times == sorted(times), entity.id


async def test_etag_gives_304_until_the_content_changes(live_client):
    first = await live_client.get("/rt/ter/vehicle-positions.pb")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = await live_client.get("/rt/ter/vehicle-positions.pb", headers={"If-None-Match": etag})
    assert again.status == 304
    live_client.clock.now = MORNING + timedelta(seconds=10)  # same 30 s step
    assert (await live_client.get("/rt/ter/vehicle-positions.pb", headers={"If-None-Match": etag})).status == 304
    live_client.clock.now = MORNING + timedelta(minutes=2)
    later = await live_client.get("/rt/ter/vehicle-positions.pb", headers={"If-None-Match": etag})
    assert later.status == 200 and later.headers["ETag"] != etag


async def test_vehicles_move_and_delays_evolve_with_the_clock(live_client):
    before = parse_feed(await (await live_client.get("/rt/tcl/vehicle-positions.pb")).read())
    live_client.clock.now = MORNING + timedelta(minutes=3)
    after = parse_feed(await (await live_client.get("/rt/tcl/vehicle-positions.pb")).read())
    where = {e.vehicle.vehicle.id: (e.vehicle.position.latitude, e.vehicle.position.longitude) for e in before.entity}
    moved = [e for e in after.entity if e.vehicle.vehicle.id in where
             and where[e.vehicle.vehicle.id] != (e.vehicle.position.latitude, e.vehicle.position.longitude)]
    assert len(moved) > len(after.entity) // 2


def test_content_is_a_function_of_seed_and_time(small_region):
    path = str(Path(small_region.out_dir) / small_region.get_feed("m-reso").path)
    timetable = load_network_timetable("m-reso", path, "Europe/Paris")
    a = build_feed(timetable, "trip-updates", seed=3, now=MORNING)
    b = build_feed(load_network_timetable("m-reso", path, "Europe/Paris"), "trip-updates", seed=3, now=MORNING)
    assert a == b
    assert build_feed(timetable, "trip-updates", seed=4, now=MORNING) != a
    assert build_feed(timetable, "trip-updates", seed=3, now=MORNING + timedelta(minutes=5)) != a


async def test_static_feeds_and_index_are_served(live_client):
    index = await (await live_client.get("/")).json()
    assert len(index["networks"]) == 27
    response = await live_client.get("/static/tcl.zip")
    assert response.status == 200 and response.headers["Content-Type"] == "application/zip"
    body = await response.read()
    assert body[:2] == b"PK"
    assert (await live_client.get("/static/tcl.zip", headers={"If-None-Match": response.headers["ETag"]})).status == 304
    assert (await live_client.get("/rt/nowhere/alerts.pb")).status == 404


@pytest.mark.parametrize("network_id", ["tcl", "babus", "ter"])
async def test_a_consumer_applying_the_updates_finds_no_negative_hop(live_client, small_region, network_id):
    """Stops without their own prediction take the last given delay (GTFS-RT propagation): the
    published predictions must stay consistent once that rule fills the gaps."""
    from feeds.realtime.decode import decode_feed_message
    from feeds.realtime.match import StaticTripIndex, resolve_trip_updates
    from feeds.realtime.model import RtErrorType

    static = next(Path(small_region.out_dir).rglob(f"{network_id}"), None) or next(
        Path(small_region.out_dir).rglob(f"{network_id}.zip")
    )
    index = StaticTripIndex.from_gtfs(network_id, read_gtfs(static))
    for minutes in (0, 25, 50, 75):
        live_client.clock.now = MORNING + timedelta(minutes=minutes)
        body = await (await live_client.get(f"/rt/{network_id}/trip-updates.pb")).read()
        resolved, errors = resolve_trip_updates(decode_feed_message(body, feed_id=network_id), index)
        assert resolved
        hops = [e for e in errors if e.type is RtErrorType.NEGATIVE_HOP_TIME]
        assert not hops, hops[:3]
