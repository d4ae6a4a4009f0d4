"""The planner's single writer under a burst of realtime feeds: one new snapshot per burst."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.service import PlannerService
from oura.clock import FixedClock
from tests.journey_planner._data import build_network, local_ts

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.0,5.0
B,B,45.01,5.0
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T2,09:00:00,09:00:00,A,1
T2,09:10:00,09:10:00,B,2
"""


async def _writer_done(service: PlannerService) -> None:
    """Wait (bounded) until the coalescing writer has finished: every rebuild the updates so far
    asked for has been published, and no other is coming until the next update."""
    task = service._rebuild_task
    assert task is not None, "an update with coalescing starts the writer"
    await asyncio.wait_for(asyncio.shield(task), timeout=30)


def _delay(trip: str, at: str, delay_s: int) -> ResolvedTripUpdate:
    t = local_ts(at) + delay_s
    return ResolvedTripUpdate(
        feed_id="t", trip_id=f"t:{trip}", service_date="20240304", canceled=False, added=False,
        stop_time_updates=(ResolvedStopTimeUpdate(0, "t:A", t, t, delay_s, delay_s),),
    )


async def test_a_burst_of_feeds_gives_one_snapshot_and_late_updates_another(tmp_path):
    clock = FixedClock(datetime(2024, 3, 4, 6, 0, tzinfo=UTC))
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock, coalesce_s=0.05)
    start = service.get_snapshot().version
    received = clock.now()
    await service.on_trip_updates("t", [_delay("T1", "2024-03-04 08:00", 120)], received)
    await service.on_trip_updates("u", [], received)
    await service.on_trip_updates("v", [], received)
    assert service.get_snapshot().version == start, "coalesced: nothing rebuilt yet"
    await _writer_done(service)  # a second rebuild, if the burst wrongly caused one, is done too
    first = service.get_snapshot()
    assert first.version == start + 1 and first.has_realtime()
    await service.on_trip_updates("t", [_delay("T2", "2024-03-04 09:00", 300)], received)
    await _writer_done(service)
    assert service.get_snapshot().version == start + 2, "an update after the burst is applied too"


async def test_without_coalescing_each_call_publishes_at_once(tmp_path):
    clock = FixedClock(datetime(2024, 3, 4, 6, 0, tzinfo=UTC))
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock)
    start = service.get_snapshot().version
    await service.on_trip_updates("t", [_delay("T1", "2024-03-04 08:00", 120)], clock.now())
    assert service.get_snapshot().version == start + 1
