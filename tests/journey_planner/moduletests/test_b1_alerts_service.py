"""FEATURE UNDER TEST: the planner applies alerts as they come and go (issue 13: "a new alert or its
end is applied within one snapshot").

`PlannerService.on_alerts` (publisher's ids) and `set_operator_disruptions` (namespaced) publish a
snapshot that routes around the closure; when an active period ends (or starts) with no new data,
the one boundary timer rebuilds, with the service's clock deciding what is active.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from feeds.realtime.model import Alert, EntitySelector, ResolvedTripUpdate, TimeRange
from journey_planner.core import PlanRequest, plan
from journey_planner.service import PlannerService
from journey_planner.snapshot import Snapshot
from oura.clock import FixedClock
from tests.journey_planner._data import build_network, local_ts, place, render
from tests.journey_planner.moduletests.test_b1_alerts_routing import DAY, FEED

NOW = datetime(2024, 3, 4, 6, 0, tzinfo=UTC)


def board_b(snapshot: Snapshot) -> str:
    net = snapshot.network(True)
    result = plan(net.timetable, PlanRequest(place(net, "B"), place(net, "C"), local_ts(f"{DAY} 07:55")))
    return render(net, result).split("\n")[0]


async def next_snapshot(service: PlannerService, after: int, timeout_s: float = 10.0) -> Snapshot:
    """The first snapshot published after version ``after`` (the boundary timer's), bounded wait."""
    async def wait() -> Snapshot:
        while service.get_snapshot().version <= after:
            await asyncio.sleep(0.02)
        return service.get_snapshot()
    return await asyncio.wait_for(wait(), timeout_s)


def closing_b(entity_id: str, start: int | None, end: int | None, stop_id: str = "B") -> Alert:
    return Alert(entity_id, active_periods=(TimeRange(start, end),), informed_entities=(EntitySelector(stop_id=stop_id),),
                 effect="NO_SERVICE", header_text={"": "B closed"})


@pytest.mark.slow
async def test_on_alerts_closes_the_stop_during_its_period_and_its_end_lifts_it_without_new_data(tmp_path):
    # one second before T1 leaves B (08:10 local); the works end two seconds later
    clock = FixedClock(datetime.fromtimestamp(local_ts(f"{DAY} 08:09:59"), UTC))
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock)
    open_board = board_b(service.get_snapshot())
    assert open_board == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
    now_s = int(clock.now().timestamp())
    await service.on_alerts("t", [closing_b("works", now_s - 60, now_s + 2)], clock.now())
    closed = service.get_snapshot()
    # T1's departure from B (08:10:00) is inside the period, T2's (09:10) after its end
    assert board_b(closed) == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"
    assert [a.entity_id for a in closed.alerts.alerts] == ["t:works"]
    assert any("t:works" in ids for ids in closed.overlay.alert_ids.values())
    # the clock moves on (two days): at the end boundary the timer rebuilds with no new data, and
    # an alert ended before the horizon no longer changes any run nor is listed
    clock.advance(timedelta(days=2))
    lifted = await next_snapshot(service, closed.version)
    assert board_b(lifted) == open_board
    assert len(lifted.alerts) == 0 and lifted.overlay.alert_ids == {}


@pytest.mark.slow
async def test_an_alert_starting_later_closes_from_its_start_and_its_start_rebuilds(tmp_path):
    clock = FixedClock(NOW)
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock)
    now_s = int(NOW.timestamp())
    # the period starts in 1 s and lasts until after T1's departure from B
    await service.on_alerts("t", [closing_b("later", now_s + 1, local_ts(f"{DAY} 09:00"))], clock.now())
    before = service.get_snapshot()
    # a period inside the horizon is already applied: routing looks at the stop-time's own time
    assert board_b(before) == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"
    clock.advance(timedelta(seconds=3))
    started = await next_snapshot(service, before.version)
    assert board_b(started) == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"


async def test_a_feed_replacing_its_alerts_lifts_the_closure(tmp_path):
    clock = FixedClock(NOW)
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock)
    await service.on_alerts("t", [closing_b("works", None, None)], clock.now())
    assert board_b(service.get_snapshot()) == ""
    await service.on_alerts("t", [], clock.now())
    assert board_b(service.get_snapshot()) == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"


async def test_operator_disruptions_are_applied_once_the_call_returns_and_replaced_by_the_next(tmp_path):
    clock = FixedClock(NOW)
    service = PlannerService.of_network(build_network(tmp_path, FEED), clock)
    closure = closing_b("disruptions:1", None, None, stop_id="t:B")
    cancel = ResolvedTripUpdate("disruptions", "t:T2", "20240304", True, False, ())
    published = await service.set_operator_disruptions([closure], [cancel], clock.now())
    assert published is service.get_snapshot() and board_b(published) == ""
    assert [a.entity_id for a in published.alerts.alerts] == ["disruptions:1"]
    assert len(published.overlay.canceled) >= 1
    # alerts from a feed and the operator's set live side by side; the next set replaces the previous
    await service.on_alerts("t", [closing_b("other", None, None, stop_id="D")], clock.now())
    lifted = await service.set_operator_disruptions([], [], clock.now())
    assert board_b(lifted) == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
    assert [a.entity_id for a in lifted.alerts.alerts] == ["t:other"]
