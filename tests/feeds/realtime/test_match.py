"""Matching GTFS-realtime to a static feed: trips, service days, delays, skipped stops, errors.

Inline cases use the ``demo-2024-03-31`` feed of conftest.py (Europe/Paris); the Caltrain cases
use the real payload and static feed of ../shared/data/caltrain-2023-rt.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from feeds.gtfs.reader import parse_gtfs_times, read_gtfs
from feeds.realtime.decode import decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates, resolve_vehicle_positions
from feeds.realtime.model import FeedMessage, RtErrorType
from tests.conftest import require_shared_data
from tests.feeds.realtime.conftest import rt_message

PARIS = ZoneInfo("Europe/Paris")


def paris(day: str, hours: int, minutes: int = 0) -> int:
    """POSIX seconds of a wall-clock time in Paris (hours may exceed 23: next calendar day)."""
    date = dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))
    extra, hours = divmod(hours, 24)
    local = dt.datetime.combine(date + dt.timedelta(days=extra), dt.time(hours, minutes), PARIS)
    return int(local.timestamp())


def trip_update(trip: dict, stop_time_updates: list[dict], *, entity_id: str = "e1", **extra) -> dict:
    return {"id": entity_id, "tripUpdate": {"trip": trip, "stopTimeUpdate": stop_time_updates, **extra}}


def resolve(index: StaticTripIndex, entities: list[dict], timestamp: int):
    return resolve_trip_updates(rt_message(entities, timestamp=timestamp), index)


T1_ON_APRIL_2 = {"tripId": "T1", "startDate": "20240402"}


def test_a01_delay_propagates_downstream_and_not_upstream(demo_index: StaticTripIndex) -> None:
    (update,), errors = resolve(
        demo_index,
        [trip_update(T1_ON_APRIL_2, [{"stopSequence": 2, "arrival": {"delay": 120}}])],
        paris("20240402", 8, 5),
    )
    assert errors == []
    assert (update.trip_id, update.route_id, update.service_date) == ("demo:T1", "demo:R1", "20240402")
    assert update.start_time_s == 8 * 3600
    rendered = [(s.stop_index, s.stop_id, s.arrival_time, s.departure_time, s.arrival_delay_s) for s in update.stop_time_updates]
    assert rendered == [
        (1, "demo:B", paris("20240402", 8, 12), paris("20240402", 8, 14), 120),
        (2, "demo:C", paris("20240402", 8, 22), paris("20240402", 8, 22), 120),
        (3, "demo:D", paris("20240402", 8, 32), paris("20240402", 8, 32), 120),
    ]


def test_a02_next_update_with_data_replaces_the_propagated_delay(demo_index: StaticTripIndex) -> None:
    (update,), _ = resolve(
        demo_index,
        [
            trip_update(
                T1_ON_APRIL_2,
                [
                    {"stopSequence": 2, "departure": {"delay": 300}},
                    {"stopId": "C", "arrival": {"time": str(paris("20240402", 8, 21))}},
                ],
            )
        ],
        paris("20240402", 8, 5),
    )
    delays = [(s.stop_id, s.arrival_delay_s, s.departure_delay_s) for s in update.stop_time_updates]
    # B: arrival inferred from its departure delay; C: time-only gives delay = time - scheduled.
    assert delays == [("demo:B", 300, 300), ("demo:C", 60, 60), ("demo:D", 60, 60)]


def test_a03_scheduled_times_follow_the_dst_change(demo_index: StaticTripIndex) -> None:
    # 2024-03-31 is 23 hours long in Paris: "noon minus 12h" keeps 08:00 at 08:00 local time.
    for day in ("20240330", "20240331", "20240401"):
        (update,), _ = resolve(
            demo_index,
            [trip_update({"tripId": "T1", "startDate": day}, [{"stopSequence": 1, "departure": {"delay": 0}}])],
            paris(day, 7),
        )
        first = update.stop_time_updates[0]
        assert first.departure_time == paris(day, 8, 0)
        assert first.departure_delay_s == 0


def test_a04_skipped_stop_is_marked_and_delay_carries_on(demo_index: StaticTripIndex) -> None:
    (update,), _ = resolve(
        demo_index,
        [
            trip_update(
                T1_ON_APRIL_2,
                [
                    {"stopSequence": 2, "arrival": {"delay": 60}},
                    {"stopSequence": 3, "scheduleRelationship": "SKIPPED"},
                ],
            )
        ],
        paris("20240402", 8),
    )
    rendered = [(s.stop_id, s.skipped, s.arrival_delay_s) for s in update.stop_time_updates]
    assert rendered == [("demo:B", False, 60), ("demo:C", True, None), ("demo:D", False, 60)]


def test_a05_no_data_stops_the_propagation(demo_index: StaticTripIndex) -> None:
    (update,), _ = resolve(
        demo_index,
        [
            trip_update(
                T1_ON_APRIL_2,
                [
                    {"stopSequence": 1, "departure": {"delay": 60}},
                    {"stopSequence": 3, "scheduleRelationship": "NO_DATA"},
                ],
            )
        ],
        paris("20240402", 8),
    )
    assert [s.stop_id for s in update.stop_time_updates] == ["demo:A", "demo:B"]


def test_a06_times_going_backwards_drop_the_update(demo_index: StaticTripIndex) -> None:
    updates, errors = resolve(
        demo_index,
        [
            trip_update(
                T1_ON_APRIL_2,
                [
                    {"stopSequence": 2, "departure": {"delay": 600}},
                    {"stopSequence": 3, "arrival": {"delay": 0}},
                ],
            )
        ],
        paris("20240402", 8),
    )
    assert updates == []
    assert [(e.type, e.trip_id) for e in errors] == [(RtErrorType.NEGATIVE_HOP_TIME, "T1")]


def test_a07_unknown_stop_drops_only_that_stop_time_update(demo_index: StaticTripIndex) -> None:
    (update,), errors = resolve(
        demo_index,
        [
            trip_update(
                T1_ON_APRIL_2,
                [
                    {"stopId": "NOWHERE", "arrival": {"delay": 30}},
                    {"stopId": "C", "arrival": {"delay": 90}},
                ],
            )
        ],
        paris("20240402", 8),
    )
    assert [(e.type, e.stop_id) for e in errors] == [(RtErrorType.UNKNOWN_STOP, "NOWHERE")]
    assert [(s.stop_id, s.arrival_delay_s) for s in update.stop_time_updates] == [
        ("demo:C", 90),
        ("demo:D", 90),
    ]


def test_a08_fallback_match_by_route_direction_start_time(demo_index: StaticTripIndex) -> None:
    descriptor = {"routeId": "R1", "directionId": 0, "startTime": "08:00:00", "startDate": "20240402"}
    (update,), errors = resolve(
        demo_index,
        [trip_update(descriptor, [{"stopSequence": 4, "arrival": {"delay": 45}}])],
        paris("20240402", 8),
    )
    assert errors == []
    assert update.trip_id == "demo:T1"
    # An unknown trip_id with a usable route + start time falls back the same way.
    (again,), _ = resolve(
        demo_index,
        [trip_update({**descriptor, "tripId": "RENAMED"}, [{"stopSequence": 4, "arrival": {"delay": 45}}])],
        paris("20240402", 8),
    )
    assert again.trip_id == "demo:T1"


@pytest.mark.parametrize(
    "descriptor, expected",
    [
        ({"tripId": "GHOST", "startDate": "20240402"}, RtErrorType.UNKNOWN_TRIP),
        ({"routeId": "R9", "startTime": "08:00:00"}, RtErrorType.UNKNOWN_ROUTE),
        ({"routeId": "R1", "directionId": 0, "startTime": "08:01:00"}, RtErrorType.UNKNOWN_TRIP),
        ({"tripId": "T1", "startDate": "20250101"}, RtErrorType.NO_SERVICE_ON_DATE),
        ({"tripId": "T1", "startDate": "20240501"}, RtErrorType.NO_SERVICE_ON_DATE),  # removed
        ({"routeId": "R1"}, RtErrorType.MISSING_TRIP_DESCRIPTOR),
    ],
)
def test_a09_unmatched_trips_are_counted(demo_index: StaticTripIndex, descriptor: dict, expected: RtErrorType) -> None:
    updates, errors = resolve(
        demo_index, [trip_update(descriptor, [{"stopSequence": 1, "arrival": {"delay": 0}}])], paris("20240402", 8)
    )
    assert updates == []
    assert [e.type for e in errors] == [expected]


def test_a10_service_day_of_a_trip_past_midnight_is_the_previous_day(demo_index: StaticTripIndex) -> None:
    # T2 runs 23:50 -> 24:30. At 00:20 on April 2 (no start_date) it is the April 1 run.
    (update,), _ = resolve(
        demo_index,
        [trip_update({"tripId": "T2"}, [{"stopSequence": 20, "arrival": {"delay": 120}}])],
        paris("20240402", 0, 20),
    )
    assert update.service_date == "20240401"
    assert update.stop_time_updates[0].arrival_time == paris("20240401", 24, 12)
    # At 23:40 on April 2, the same trip is the April 2 run.
    (later,), _ = resolve(
        demo_index,
        [trip_update({"tripId": "T2"}, [{"stopSequence": 20, "arrival": {"delay": 120}}])],
        paris("20240402", 23, 40),
    )
    assert later.service_date == "20240402"


def test_a11_frequency_run_is_matched_by_start_time(demo_index: StaticTripIndex) -> None:
    (update,), errors = resolve(
        demo_index,
        [
            trip_update(
                {"tripId": "F1", "startTime": "07:30:00", "startDate": "20240402"},
                [{"stopSequence": 2, "arrival": {"delay": 60}}],
            )
        ],
        paris("20240402", 7, 30),
    )
    assert errors == []
    assert update.start_time_s == 7 * 3600 + 30 * 60
    assert [(s.stop_id, s.arrival_time) for s in update.stop_time_updates] == [
        ("demo:B", paris("20240402", 7, 36)),
        ("demo:C", paris("20240402", 7, 41)),
    ]
    # exact_times=1: 07:31 is not a run of the 15-minute schedule; no start_time is ambiguous.
    _, off_schedule = resolve(
        demo_index,
        [trip_update({"tripId": "F1", "startTime": "07:31:00", "startDate": "20240402"}, [])],
        paris("20240402", 7, 30),
    )
    _, without_start = resolve(demo_index, [trip_update({"tripId": "F1"}, [])], paris("20240402", 7, 30))
    assert [e.type for e in off_schedule] == [RtErrorType.UNKNOWN_TRIP]
    assert [e.type for e in without_start] == [RtErrorType.AMBIGUOUS_TRIP]


def test_a12_canceled_and_added_trips(demo_index: StaticTripIndex) -> None:
    updates, errors = resolve(
        demo_index,
        [
            trip_update({**T1_ON_APRIL_2, "scheduleRelationship": "CANCELED"}, [], entity_id="c"),
            trip_update(
                {"tripId": "EXTRA-1", "routeId": "R1", "scheduleRelationship": "ADDED", "startDate": "20240402"},
                [
                    {"stopId": "A", "departure": {"time": str(paris("20240402", 9, 0))}},
                    {"stopId": "C", "arrival": {"time": str(paris("20240402", 9, 15))}},
                ],
                entity_id="a",
            ),
        ],
        paris("20240402", 8),
    )
    assert errors == []
    canceled, added = updates
    assert canceled.canceled and canceled.stop_time_updates == () and canceled.trip_id == "demo:T1"
    assert added.added and added.trip_id == "demo:EXTRA-1" and added.route_id == "demo:R1"
    assert added.added_stops == (
        ("demo:A", paris("20240402", 9), paris("20240402", 9)),
        ("demo:C", paris("20240402", 9, 15), paris("20240402", 9, 15)),
    )
    assert added.start_time_s == 9 * 3600


def test_a13_trip_level_delay_applies_from_the_first_stop(demo_index: StaticTripIndex) -> None:
    (update,), _ = resolve(demo_index, [trip_update(T1_ON_APRIL_2, [], delay=180)], paris("20240402", 8))
    assert [s.arrival_delay_s for s in update.stop_time_updates] == [180, 180, 180, 180]
    assert update.stop_time_updates[0].departure_time == paris("20240402", 8, 3)


# --- real data: Caltrain -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def caltrain() -> tuple[StaticTripIndex, FeedMessage]:
    tables = read_gtfs(require_shared_data("caltrain-2023-rt", "ct.zip"))
    payload = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    return StaticTripIndex.from_gtfs("ct", tables), decode_feed_message(payload, feed_id="ct")


@pytest.mark.realdata
def test_caltrain_every_update_matches_by_trip_id(caltrain) -> None:
    index, message = caltrain
    resolved, errors = resolve_trip_updates(message, index)
    assert errors == []
    assert len(resolved) == 19
    assert {u.trip_id for u in resolved} == {f"ct:{tu.trip.trip_id}" for tu in message.trip_updates}
    assert all(u.service_date == tu.trip.start_date for u, tu in zip(resolved, message.trip_updates))
    # Every published stop time is kept verbatim, on the stop it names.
    for update, source in zip(resolved, message.trip_updates):
        by_stop = {s.stop_id: s for s in update.stop_time_updates}
        for stu in source.stop_time_updates:
            got = by_stop[f"ct:{stu.stop_id}"]
            if stu.arrival is not None:
                assert got.arrival_time == stu.arrival.time
            if stu.departure is not None:
                assert got.departure_time == stu.departure.time
    assert sum(len(u.stop_time_updates) for u in resolved) >= 220


@pytest.mark.realdata
def test_caltrain_delays_are_time_minus_schedule(caltrain) -> None:
    index, message = caltrain
    resolved, _ = resolve_trip_updates(message, index)
    stop_times = read_gtfs(require_shared_data("caltrain-2023-rt", "ct.zip"), only=["stop_times"]).get("stop_times")
    departures = dict(
        zip(zip(stop_times["trip_id"], stop_times["stop_id"]), parse_gtfs_times(stop_times["departure_time"]).tolist())
    )
    zone = ZoneInfo("America/Los_Angeles")
    for update in resolved:
        date = dt.date(int(update.service_date[:4]), int(update.service_date[4:6]), int(update.service_date[6:]))
        origin = int(dt.datetime.combine(date, dt.time(12), zone).timestamp()) - 12 * 3600
        trip_id = update.trip_id.removeprefix("ct:")
        for stop in update.stop_time_updates:
            scheduled = origin + departures[(trip_id, stop.stop_id.removeprefix("ct:"))]
            assert stop.departure_delay_s == stop.departure_time - scheduled


@pytest.mark.realdata
def test_caltrain_fallback_without_trip_ids_finds_the_same_trips(caltrain) -> None:
    index, message = caltrain
    stripped = dataclasses.replace(
        message,
        trip_updates=tuple(
            dataclasses.replace(tu, trip=dataclasses.replace(tu.trip, trip_id=None)) for tu in message.trip_updates
        ),
    )
    by_id, _ = resolve_trip_updates(message, index)
    by_route, errors = resolve_trip_updates(stripped, index)
    assert errors == []
    assert [u.trip_id for u in by_route] == [u.trip_id for u in by_id]
    assert [u.stop_time_updates for u in by_route] == [u.stop_time_updates for u in by_id]


@pytest.mark.realdata
def test_caltrain_vehicles_match_by_trip() -> None:
    index = StaticTripIndex.from_gtfs("ct", read_gtfs(require_shared_data("caltrain-2023-rt", "ct.zip")))
    message = decode_feed_message(require_shared_data("caltrain-2023-rt", "ct-vehicle-positions.pb").read_bytes())
    vehicles, errors = resolve_vehicle_positions(message, index)
    assert errors == []
    assert len(vehicles) == 14
    assert all(v.matched_by == "trip" and v.trip_id.startswith("ct:") for v in vehicles)


@pytest.mark.realdata
def test_bullrunner_vehicles_match_by_route() -> None:
    tables = read_gtfs(require_shared_data("bullrunner-usf", "bullrunner-gtfs.zip"))
    index = StaticTripIndex.from_gtfs("bullrunner", tables)
    payload = require_shared_data("bullrunner-usf", "bullrunner-vehicle-positions.pb").read_bytes()
    vehicles, errors = resolve_vehicle_positions(decode_feed_message(payload), index)
    assert errors == []
    assert len(vehicles) == 10
    static_routes = {f"bullrunner:{r}" for r in tables.get("routes")["route_id"].str.strip()}
    for vehicle in vehicles:
        assert vehicle.matched_by == "route" and vehicle.trip_id is None
        assert vehicle.route_id in static_routes
