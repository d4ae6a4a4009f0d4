"""No cold requests: what queries read is built before a snapshot is published (issue 12).

After `PlannerService.publish` (and after each realtime rebuild) the arrive-by views of both
timetables and the stop lookups exist before any request; the warm-up queries all answer. These
tests assert that state, never timings.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core.planner import _REVERSED  # the core's own cache, for callers without a view
from journey_planner.core.timetable import reverse_timetable
from journey_planner.journeys import JourneyQuery
from journey_planner.hubs import HubPlace
from journey_planner.service import PlannerService, warm_up_queries
from journey_planner.snapshot import Snapshot, SnapshotHolder
from oura.clock import FixedClock
from tests.journey_planner._data import build_network, local_ts
from tests.journey_planner.test_http import FEED

NOW = datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris"))


def _delay(trip: str, minutes: int) -> ResolvedTripUpdate:
    t = local_ts("2024-03-04 08:00") + minutes * 60
    return ResolvedTripUpdate("t", f"t:{trip}", "20240304", False, False, tuple(
        ResolvedStopTimeUpdate(i, s, t + i * 600, t + i * 600, minutes * 60, minutes * 60)
        for i, s in enumerate(["t:PD1", "t:BEL", "t:PER"])))


async def test_publish_builds_reversed_timetables_and_lookups_before_any_request(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    snapshot = await service.publish(network)
    assert service.get_snapshot() is snapshot and snapshot.has_realtime()
    assert snapshot.has_reversed_timetable(realtime=False) and snapshot.has_reversed_timetable(realtime=True)
    lookups = service.find_lookups(network)
    assert lookups is not None
    assert service.find_lookups(snapshot.realtime) is lookups  # realtime networks share the stops
    assert service.lookups_for(network) is lookups  # a request finds them, builds nothing


async def test_a_realtime_rebuild_reverses_only_the_realtime_timetable(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    first = await service.publish(network)
    await service.on_trip_updates("t", [_delay("T1", 10)], NOW)
    second = service.get_snapshot()
    assert second.version > first.version and second.overlay.applied == 1
    assert second.has_reversed_timetable(realtime=True)
    assert second.reversed_timetable(False) is first.reversed_timetable(False)  # static view reused
    assert second.reversed_timetable(True) is not first.reversed_timetable(True)
    expected = reverse_timetable(second.realtime.timetable).arrays()
    built = second.reversed_timetable(True).arrays()
    assert built.keys() == expected.keys()
    assert all(np.array_equal(built[k], expected[k]) for k in expected)


async def test_cancellations_only_reuse_the_static_view_with_their_service_rows(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    await service.publish(network)
    await service.on_trip_updates("t", [ResolvedTripUpdate("t", "t:T1", "20240304", True, False, ())], NOW)
    snapshot = service.get_snapshot()
    assert snapshot.overlay.canceled
    expected = reverse_timetable(snapshot.realtime.timetable).arrays()
    built = snapshot.reversed_timetable(True).arrays()
    assert built.keys() == expected.keys()
    assert [k for k in expected if not np.array_equal(built[k], expected[k])] == []
    # the static view's patterns and times, not a second reversal
    assert snapshot.reversed_timetable(True).stop_time_arrival is snapshot.reversed_timetable(False).stop_time_arrival


async def test_every_warm_up_query_answers(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    snapshot = await service.publish(network)
    assert warm_up_queries(service, snapshot) == 7


def test_a_network_without_trips_publishes_without_warm_up(tmp_path):
    network = build_network(tmp_path, "stops.txt\nstop_id,stop_name,stop_lat,stop_lon\nA,A,45.0,4.0\n")
    service = PlannerService.of_network(network, FixedClock(NOW))
    assert warm_up_queries(service, service.get_snapshot()) == 0


async def test_set_hubs_rebuilds_the_hub_index_of_the_served_network(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    await service.publish(network)
    service.set_hubs([HubPlace("hub:lyon-part-dieu", "Lyon Part-Dieu", ("t:PD",))])
    lookups = service.find_lookups(network)
    assert lookups is not None and "hub:lyon-part-dieu" in lookups.hubs.stops_by_hub


def test_a_prepared_snapshot_keeps_its_views_when_the_holder_renumbers_it(tmp_path):
    network = build_network(tmp_path, FEED)
    holder = SnapshotHolder(Snapshot.prepared(network, version=3))
    holder.publish(Snapshot.prepared(network, version=0))
    assert holder.get().version == 4 and holder.get().has_reversed_timetable(realtime=False)


async def test_queries_use_the_snapshot_views_and_reverse_nothing_themselves(tmp_path):
    network = build_network(tmp_path, FEED)
    service = PlannerService(None, FixedClock(NOW))
    snapshot = await service.publish(network)
    _REVERSED.clear()  # what the warm-up left
    at = datetime(2024, 3, 4, 7, 55, tzinfo=ZoneInfo("Europe/Paris"))
    for realtime in (True, False):
        for arrive_by in (False, True):
            for frm, to in (("t:PD", "t:PER"), ("t:PER", "t:PD")):  # the second: no journey, explained
                await service.plan_journeys(JourneyQuery(frm, to, at, arrive_by=arrive_by, realtime=realtime))
    assert snapshot.static.timetable not in _REVERSED and snapshot.realtime.timetable not in _REVERSED
