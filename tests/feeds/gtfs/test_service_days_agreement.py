"""The three consumers of GTFS service semantics agree (issue 11): on every real feed in
../shared/data and on every network of the demo region, the planner's compiled timetable, the
realtime trip index and the ticketing catalogue agree on the time zone, on which days every trip
runs and on every trip's first departure instant on each of those days.

All three read calendars and zones through `feeds.gtfs.service_days`; this test guards what each
consumer does around it (the planner's global day axis and per-zone day origins, the trip index's
service lookups and memoised day starts, the catalogue's zone choice and timeframe dates), so
that a consumer re-implementing a piece, or mapping trips to services wrongly, fails here.

Frequency-based trips are compared on their days only: the planner expands them into runs, the
trip index keeps the template and resolves runs on demand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from feeds.adapters import read_network_feed
from feeds.authorities import load_registry
from feeds.gtfs.model import GtfsTables, read_gtfs
from feeds.realtime.match import StaticTripIndex
from journey_planner.compile import compile_network
from oura.demo.generate import generate_region
from tests.feeds.conftest import REAL_FEEDS, real_feed_path
from ticketing.catalogue import _service_dates, build_catalogue

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

_DATE_FORMAT = "%Y%m%d"


def _planner_trips(
    tables: GtfsTables, feed_id: str, registry_zone: str | None
) -> tuple[str, int, range, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """(zone, trips dropped, its day axis as ordinals, namespaced trip_id -> (active day ordinals,
    first departure instants)) of the planner; for a frequency trip, the instants of its earliest run."""
    network = compile_network([(feed_id, tables)], registry_zones=[registry_zone or ""])
    tt = network.timetable
    planner_zone = network.timezones[network.feed_tz[0]]
    trips: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for trip in range(len(network.trip_ids)):
        pattern = int(tt.trip_pattern[trip])
        stop_count = int(tt.pattern_stop_offsets[pattern + 1] - tt.pattern_stop_offsets[pattern])
        first_row = int(tt.pattern_stop_time_offsets[pattern]) + (trip - int(tt.pattern_trip_offsets[pattern])) * stop_count
        day_indices = np.flatnonzero(tt.service_days[int(tt.trip_service[trip])])
        instants = tt.day_base_s[day_indices, int(tt.pattern_tz[pattern])] + int(tt.stop_time_departure[first_row])
        trip_id = str(network.trip_ids[trip])
        known = trips.get(trip_id)
        if known is None or instants.size and known[1].size and instants[0] < known[1][0]:
            trips[trip_id] = (day_indices + tt.first_day_ordinal, instants)
    axis = range(tt.first_day_ordinal, tt.first_day_ordinal + tt.service_days.shape[1])
    return planner_zone, network.report.trips_dropped, axis, trips


def _assert_agreement(feed_id: str, tables: GtfsTables, registry_zone: str | None) -> tuple[int, int]:
    """Check the three consumers on one feed; return how many trips had their days compared by
    all three, and how many their first departures too (a GTFS-Flex feed has none)."""
    index = StaticTripIndex.from_gtfs(feed_id, tables, timezone=registry_zone)
    zone = str(index.timezone)
    catalogue, issues = build_catalogue({feed_id: tables}, timezones={feed_id: registry_zone} if registry_zone else None)
    assert not [i for i in issues if i.code == "no_timezone"], issues
    assert [rule_set.timezone for rule_set in catalogue.rule_sets] == [zone], "ticketing reads another zone"
    planner_zone, planner_dropped, axis, planner = _planner_trips(tables, feed_id, registry_zone)
    assert planner_zone == zone, "the planner reads another zone"

    ticketing_dates = _service_dates(tables, set(index.trip_service_ids))
    around = range(axis.start - 1, axis.stop + 1)  # one day more on each side
    realtime_days = {
        service_id: [o for o in around if index.is_service_active(service_id, dt.date.fromordinal(o).strftime(_DATE_FORMAT))]
        for service_id in set(index.trip_service_ids)
    }
    day_starts: dict[int, int] = {}
    compared = 0
    unplanned = []  # trips that run and have times, absent from the planner
    for trip, trip_id in enumerate(index.trip_ids):
        service_id = index.trip_service_ids[trip]
        rt_days = realtime_days[service_id]
        ticketing_days = sorted(d.toordinal() for d in ticketing_dates[service_id])
        assert rt_days == ticketing_days, f"{feed_id}:{trip_id}: realtime and ticketing disagree on days"
        planned = planner.get(index.ns(trip_id))
        first = index.find_first_departure_s(trip)
        if planned is None:
            if rt_days and first is not None:
                unplanned.append(trip_id)
            continue
        planner_days, planner_instants = planned
        assert planner_days.tolist() == rt_days, f"{feed_id}:{trip_id}: planner and realtime disagree on days"
        if trip in index.frequencies or first is None:
            continue
        compared += 1
        for ordinal in rt_days:
            if ordinal not in day_starts:
                day_starts[ordinal] = index.get_service_day_start(dt.date.fromordinal(ordinal).strftime(_DATE_FORMAT))
        realtime_instants = [day_starts[ordinal] + first for ordinal in rt_days]
        assert planner_instants.tolist() == realtime_instants, (
            f"{feed_id}:{trip_id}: planner and realtime disagree on the first departure instant")
    # the planner drops trips without usable times (GTFS-Flex) or with unknown references, and says so
    assert len(unplanned) <= planner_dropped, f"{feed_id}: the planner lacks {unplanned[:5]}"
    return len(index.trip_ids), compared


@pytest.mark.parametrize("name", sorted(REAL_FEEDS))
def test_planner_realtime_and_ticketing_agree_on_a_real_feed(name: str) -> None:
    tables = read_gtfs(real_feed_path(name))
    trips, _ = _assert_agreement(name, tables, None)
    assert trips > 0


def test_planner_realtime_and_ticketing_agree_on_the_demo_region(tmp_path: Path) -> None:
    summary = generate_region(tmp_path / "region", seed=3, scale=0.02, start_date=dt.date(2026, 3, 23),
                              fmt="dir", days=14, realtime_base_url=None)  # spans the spring DST change
    registry = load_registry(summary.registry)
    compared = 0
    for network in registry.list_networks():
        tables = read_network_feed(Path(network.static), network.adapter)
        compared += _assert_agreement(network.id, tables, network.timezone)[1]
    assert compared > 0
