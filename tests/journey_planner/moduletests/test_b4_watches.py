"""FEATURE UNDER TEST: watched journeys, the pure part (journey_planner.watches): a new snapshot
re-checks only the watches whose runs changed (counted), the diff of two snapshots, where the
traveller is (waiting, on board, between legs, arrived) and alternatives from the next stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import TransitLeg
from journey_planner.itineraries import ItineraryRef, LegRef
from journey_planner.realtime import apply_trip_updates
from journey_planner.snapshot import Snapshot
from journey_planner.watches import (
    BROKEN, RESTORED, Watch, WatchIndex, diff_snapshots, locate, plan_alternatives, recheck, run_check,
)
from tests.journey_planner._data import build_network, local_ts

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,5.00
B,B,45.02,5.00
C,C,45.04,5.00
D,D,45.06,5.00
E,E,45.04,5.05
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
R1,S,T3
R2,S,T4
R3,S,T5
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T1,08:20:00,08:20:00,C,3
T1,08:30:00,08:30:00,D,4
T2,08:25:00,08:25:00,C,1
T2,08:40:00,08:40:00,E,2
T3,08:30:00,08:30:00,A,1
T3,08:40:00,08:40:00,B,2
T3,08:50:00,08:50:00,C,3
T3,09:00:00,09:00:00,D,4
T4,08:55:00,08:55:00,C,1
T4,09:10:00,09:10:00,E,2
T5,08:15:00,08:15:00,B,1
T5,08:45:00,08:45:00,E,2
"""
DAY = "20240304"
ITINERARY = ItineraryRef((LegRef("t:T1", DAY, "t:A", "t:C"), LegRef("t:T2", DAY, "t:C", "t:E")))


@pytest.fixture
def static(tmp_path):
    return build_network(tmp_path, FEED)


def _snapshot(static, updates, previous=None) -> Snapshot:
    realtime, overlay = apply_trip_updates(static, updates)
    return Snapshot.prepared(static, realtime, overlay, version=0 if previous is None else previous.version + 1,
                             previous=previous)


def _cancel(trip: str) -> ResolvedTripUpdate:
    return ResolvedTripUpdate("t", f"t:{trip}", DAY, True, False, ())


def _delay(trip: str, first_stop: str, at: str, delay_s: int) -> ResolvedTripUpdate:
    """``trip`` late by ``delay_s`` from its first stop on (T1's stops: each one written)."""
    calls = [(0, first_stop, at)] if trip != "T1" else [(0, "A", "08:00"), (1, "B", "08:10"), (2, "C", "08:20"),
                                                         (3, "D", "08:30")]
    updates = []
    for index, stop, hm in calls:
        t = local_ts(f"2024-03-04 {hm}") + delay_s
        updates.append(ResolvedStopTimeUpdate(index, f"t:{stop}", t, t, delay_s, delay_s))
    return ResolvedTripUpdate("t", f"t:{trip}", DAY, False, False, tuple(updates))


def _watch(watch_id: str, ref: ItineraryRef = ITINERARY) -> Watch:
    now = datetime(2024, 3, 4, 6, tzinfo=UTC)
    return Watch(watch_id, "i1.x", ref, now + timedelta(hours=4), now)


def _counting():
    calls: list[str] = []

    def check(snapshot, ref):
        calls.append(ref.legs[0].trip_id)
        return run_check(snapshot, ref)

    return calls, check


def test_only_the_watches_of_changed_runs_are_rechecked(static):
    index = WatchIndex()
    index.add(_watch("w1"))  # rides T1 then T2
    index.add(_watch("w2", ItineraryRef((LegRef("t:T5", DAY, "t:B", "t:E"),))))
    index.add(_watch("w3", ItineraryRef((LegRef("t:T4", DAY, "t:C", "t:E"),))))
    index.add(_watch("w4", ItineraryRef((LegRef("t:T2", "20240305", "t:C", "t:E"),))))  # T2 another day
    before = _snapshot(static, [])
    after = _snapshot(static, [_cancel("T2")], before)
    affected = index.list_affected(diff_snapshots(before, after))
    calls, check = _counting()
    transitions, checked = recheck(after, affected, check)
    assert [w.id for w in affected] == ["w1"] and checked == 1 and calls == ["t:T1"]
    assert [(t.watch.id, t.kind) for t in transitions] == [("w1", BROKEN)]
    assert [p.code for p in transitions[0].check.problems] == ["trip_canceled"]


def test_a_new_static_network_rechecks_every_watch(static, tmp_path):
    index = WatchIndex()
    for i in range(3):
        index.add(_watch(f"w{i}"))
    other = build_network(tmp_path / "again", FEED)
    changes = diff_snapshots(_snapshot(static, []), _snapshot(other, []))
    assert changes.static_changed and len(index.list_affected(changes)) == 3


def test_the_diff_names_changed_runs_only(static):
    first = _snapshot(static, [_delay("T1", "A", "08:00", 120)])
    same = _snapshot(static, [_delay("T1", "A", "08:00", 120)], first)
    assert diff_snapshots(first, same).runs == frozenset(), "the same times again: nothing changed"
    later = _snapshot(static, [_delay("T1", "A", "08:00", 300)], same)
    assert diff_snapshots(same, later).runs == {("t:T1", DAY)}, "other realtime times of a replaced run"
    canceled = _snapshot(static, [_delay("T1", "A", "08:00", 300), _cancel("T4")], later)
    assert diff_snapshots(later, canceled).runs == {("t:T4", DAY)}
    back = _snapshot(static, [], canceled)
    assert diff_snapshots(canceled, back).runs == {("t:T1", DAY), ("t:T4", DAY)}


def test_a_skipped_stop_is_a_changed_stop(static):
    skip = ResolvedTripUpdate("t", "t:T3", DAY, False, False,
                              (ResolvedStopTimeUpdate(1, "t:B", None, None, None, None, skipped=True),))
    before = _snapshot(static, [])
    changes = diff_snapshots(before, _snapshot(static, [skip], before))
    assert changes.runs == {("t:T3", DAY)} and changes.stop_ids == {"t:B"}
    index = WatchIndex()
    index.add(_watch("w5", ItineraryRef((LegRef("t:T5", DAY, "t:B", "t:E"),))))  # boards at B, another trip
    assert [w.id for w in index.list_affected(changes)] == ["w5"]


def test_a_watch_breaks_once_per_reason_and_is_restored(static):
    watch = _watch("w1")
    late = _snapshot(static, [_delay("T1", "A", "08:00", 420)])  # reaches C at 08:27, T2 left at 08:25
    transitions, _ = recheck(late, [watch])
    assert [t.kind for t in transitions] == [BROKEN]
    assert [(p.code, p.leg_index) for p in transitions[0].check.problems] == [("connection_missed", 1)]
    watch.status, watch.reason = BROKEN, ("connection_missed@1",)
    assert recheck(late, [watch])[0] == [], "the same reason again: no second event"
    canceled = _snapshot(static, [_delay("T1", "A", "08:00", 420), _cancel("T2")], late)
    assert [t.kind for t in recheck(canceled, [watch])[0]] == [BROKEN], "another reason: a new event"
    restored = _snapshot(static, [], canceled)
    assert [t.kind for t in recheck(restored, [watch])[0]] == [RESTORED]


def test_where_the_traveller_is(static):
    snapshot = _snapshot(static, [])
    network = snapshot.network(True)
    check = run_check(snapshot, ITINERARY)
    assert check.ok

    def at(hm: str):
        position = locate(network, ITINERARY, check, local_ts(f"2024-03-04 {hm}"))
        return position.kind, position.leg_index, [str(network.stop_ids[s]) for s in position.stops], \
            list(position.offsets_s)

    assert at("07:50") == ("waiting", 0, ["t:A"], [0])
    assert at("08:05") == ("on_board", 0, ["t:B", "t:C", "t:D"], [300, 900, 1500])
    assert at("08:22") == ("waiting", 1, ["t:C"], [0]), "between legs: at the change stop"
    assert at("08:30") == ("on_board", 1, ["t:E"], [600])
    assert at("08:41")[0] == "arrived"


def test_alternatives_from_the_next_stops_of_the_current_trip(static):
    snapshot = _snapshot(static, [_cancel("T2")])
    check = run_check(snapshot, ITINERARY)
    now = local_ts("2024-03-04 08:05")
    position = locate(snapshot.network(True), ITINERARY, check, now)
    assert position.kind == "on_board"
    network, journeys = plan_alternatives(snapshot, ITINERARY, position, now)
    assert journeys, "an alternative exists"
    first = [leg for leg in journeys[0].legs if isinstance(leg, TransitLeg)]
    # staying on board to B, then T5 to E at 08:45, beats T4 from C (09:10)
    assert str(network.trip_ids[first[0].trip]) == "t:T5" and str(network.stop_ids[first[0].from_stop]) == "t:B"
    assert journeys[0].arrival_s == local_ts("2024-03-04 08:45")
    assert all(str(network.trip_ids[leg.trip]) != "t:T2" for j in journeys for leg in j.legs
               if isinstance(leg, TransitLeg))


def test_alternatives_when_waiting_start_at_the_boarding_stop_now(static):
    snapshot = _snapshot(static, [_cancel("T1")])
    check = run_check(snapshot, ITINERARY)
    now = local_ts("2024-03-04 07:55")
    position = locate(snapshot.network(True), ITINERARY, check, now)
    assert position.kind == "waiting" and position.leg_index == 0
    network, journeys = plan_alternatives(snapshot, ITINERARY, position, now)
    first = [leg for leg in journeys[0].legs if isinstance(leg, TransitLeg)][0]
    assert str(network.trip_ids[first.trip]) == "t:T3" and str(network.stop_ids[first.from_stop]) == "t:A"


def test_expired_watches_leave_the_index(static):
    index = WatchIndex()
    w1, w2 = _watch("w1"), _watch("w2")
    w2.expires_at = w1.expires_at + timedelta(hours=1)
    index.add(w1)
    index.add(w2)
    assert [w.id for w in index.pop_expired(w1.expires_at)] == ["w1"]
    assert index.find("w1") is None and index.by_run.get(("t:T1", DAY)) == {"w2"}
    assert index.pop_expired(w1.expires_at) == []


def test_a_canceled_trip_never_came_so_the_traveller_still_waits_at_its_boarding_stop(static):
    snapshot = _snapshot(static, [_cancel("T1")])
    network = snapshot.network(True)
    check = run_check(snapshot, ITINERARY)
    position = locate(network, ITINERARY, check, local_ts("2024-03-04 08:05"))  # T1 would be on its way
    assert (position.kind, position.leg_index) == ("waiting", 0)
    assert [str(network.stop_ids[s]) for s in position.stops] == ["t:A"]
