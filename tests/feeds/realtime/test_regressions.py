"""Regressions found in the bug hunt of the realtime half: times that are not POSIX seconds, and
a publisher clock ahead of ours.

FEATURE UNDER TEST: a publisher writing times in milliseconds (a common real-world mistake: year
~55000 when read as seconds) or a header from the future must never crash matching, the alert
store or the vehicle endpoint, nor lock a source out of every later correct payload.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from feeds.realtime.decode import decode_feed_message
from feeds.realtime.match import resolve_trip_updates
from feeds.realtime.model import FeedKind
from feeds.realtime.poller import RealtimePoller, RealtimeSource
from oura.clock import FixedClock
from tests.feeds.realtime.conftest import rt_message, rt_payload

# 2024-03-29 08:00 Europe/Paris (UTC+1), the scheduled departure of T1 from A.
T1_DEPARTURE_S = int(dt.datetime(2024, 3, 29, 7, 0, tzinfo=dt.UTC).timestamp())


def _t1_update(time_s: int) -> dict:
    return {
        "id": "e1",
        "tripUpdate": {
            "trip": {"tripId": "T1"},
            "stopTimeUpdate": [{"stopSequence": 2, "stopId": "B", "arrival": {"time": str(time_s)}}],
        },
    }


def test_a_header_in_milliseconds_does_not_crash_matching(demo_index) -> None:
    message = rt_message([_t1_update(T1_DEPARTURE_S + 660)], timestamp=T1_DEPARTURE_S * 1000)
    resolved, errors = resolve_trip_updates(message, demo_index)
    # the unusable header is ignored: the service day comes from the stop times instead
    assert errors == []
    (update,) = resolved
    assert update.trip_id == "demo:T1" and update.service_date == "20240329"
    assert update.stop_time_updates[0].arrival_delay_s == 60


def test_times_in_milliseconds_are_not_taken_for_times(demo_index) -> None:
    payload = rt_payload(
        [
            {"id": "added", "tripUpdate": {
                "trip": {"tripId": "X1", "routeId": "R1", "scheduleRelationship": "ADDED"},
                "timestamp": str(T1_DEPARTURE_S * 1000),
                "stopTimeUpdate": [
                    {"stopId": "A", "departure": {"time": str(T1_DEPARTURE_S * 1000)}},
                    {"stopId": "B", "arrival": {"time": str((T1_DEPARTURE_S + 600) * 1000)}},
                ]}},
            {"id": "bus", "vehicle": {"timestamp": str(T1_DEPARTURE_S * 1000),
                                      "position": {"latitude": 45.0, "longitude": 4.0}}},
            {"id": "closed", "alert": {"activePeriod": [{"start": str(T1_DEPARTURE_S),
                                                          "end": str(T1_DEPARTURE_S * 1000)}],
                                       "informedEntity": [{"stopId": "A"}]}},
        ],
        timestamp=T1_DEPARTURE_S,
    )
    message = decode_feed_message(payload, feed_id="demo")
    resolved, errors = resolve_trip_updates(message, demo_index)  # must not raise
    assert resolved == [] and errors  # the added trip has no usable time: counted, not applied
    (vehicle,) = message.vehicle_positions
    assert vehicle.timestamp is None  # never a datetime beyond year 9999 downstream (/v1/vehicles)
    ((start, end),) = [(p.start, p.end) for p in message.alerts[0].active_periods]
    assert start == T1_DEPARTURE_S and end is None  # open end: "ends after year 9999" (alert store)
    for value in (start, end):
        if value is not None:
            dt.datetime.fromtimestamp(value, dt.UTC)


class _Sink:
    def __init__(self) -> None:
        self.calls: list[int] = []

    async def on_trip_updates(self, feed_id, resolved, received_at) -> None:
        self.calls.append(len(resolved))

    async def on_alerts(self, feed_id, alerts, received_at) -> None:
        self.calls.append(len(alerts))

    async def on_vehicle_positions(self, feed_id, vehicles, received_at) -> None:
        self.calls.append(len(vehicles))


def _write(path: Path, payload: bytes, mtime_s: int) -> None:
    path.write_bytes(payload)
    os.utime(path, (mtime_s, mtime_s))


async def test_a_header_from_the_future_does_not_lock_the_source_out(demo_index, tmp_path: Path) -> None:
    now = T1_DEPARTURE_S
    clock = FixedClock(dt.datetime.fromtimestamp(now, dt.UTC))
    file = tmp_path / "tu.pb"
    source = RealtimeSource("demo", FeedKind.TRIP_UPDATES, str(file), poll_s=30)
    sink = _Sink()
    poller = RealtimePoller(None, [source], sink=sink, find_index={"demo": demo_index}.get,  # type: ignore[arg-type]
                            clock=clock)

    # one payload stamped a day ahead (the publisher's clock was wrong for a moment)
    _write(file, rt_payload([_t1_update(now + 660)], timestamp=now + 86_400), 1)
    assert (await poller.poll_once(source)).result == "applied"

    # the publisher's clock is right again: its next payloads must be applied, not refused as
    # "older than the served state" for a whole day
    for step in range(1, 4):
        clock.advance(30)
        _write(file, rt_payload([_t1_update(now + 660 + step)], timestamp=now + 30 * step), 1 + step)
        outcome = await poller.poll_once(source)
        assert outcome.result == "applied", outcome
    assert sink.calls == [1, 1, 1, 1]

    # and the served state still expires when the publisher stops
    clock.advance(10 * 60)
    assert (await poller.poll_once(source)).expired
