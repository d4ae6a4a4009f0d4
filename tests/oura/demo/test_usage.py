"""The simulated usage generator (oura.demo.usage) on the session's small generated region."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.gtfs.service_days import service_day_origin_s
from oura.demo.feed_arrays import load_network_timetable
from oura.demo.registry import read_demo_registry
from oura.demo.usage import get_timetable_day, simulate_usage

DAYS = [date(2025, 3, 3) + timedelta(days=k) for k in range(7)]  # Monday to Sunday, inside the window


@pytest.fixture(scope="module")
def region(small_region):
    networks = read_demo_registry(Path(small_region.registry))
    timetables = {n.network_id: load_network_timetable(n.network_id, n.static, n.timezone) for n in networks
                  if n.network_id in ("tcl", "m-reso", "cars-isere", "citea")}
    return timetables, {n.network_id: n.authority_id for n in networks}


def test_the_same_seed_gives_the_same_usage_and_another_seed_another(region):
    timetables, owners = region
    a = simulate_usage(timetables, owners, DAYS, riders=150, seed=3)
    b = simulate_usage(timetables, owners, DAYS, riders=150, seed=3)
    c = simulate_usage(timetables, owners, DAYS, riders=150, seed=4)
    assert a.boardings == b.boardings and a.purchases == b.purchases
    assert a.boardings != c.boardings


def test_boardings_are_departures_of_trips_running_that_day(region):
    timetables, owners = region
    usage = simulate_usage(timetables, owners, DAYS, riders=150, seed=3)
    zone = ZoneInfo("Europe/Paris")
    assert len(usage.boardings) > 100
    for b in usage.boardings[:300]:
        tt = timetables[b.network_id]
        local_id = b.trip_id.split(":", 1)[1]
        trip = list(tt.trip_ids).index(local_id)
        day = (b.at.astimezone(zone) - timedelta(hours=4)).date()
        assert tt.service_ids[trip] in tt.services_by_date[get_timetable_day(day, tt.services_by_date)]
        rows = range(tt.st_start[trip], tt.st_end[trip])
        times = {(tt.stop_ids[tt.st_stop[r]], service_day_origin_s(zone, day) + int(tt.st_departure_s[r])) for r in rows}
        stop = b.stop_id.split(":", 1)[1]
        assert (stop, int(b.at.timestamp())) in times or b.expected == "double_tap"


def test_commuters_ride_on_weekdays_purchases_precede_use_refusals_are_few(region):
    timetables, owners = region
    usage = simulate_usage(timetables, owners, DAYS, riders=300, seed=3)
    commuters = {r for r, kind in usage.kinds.items() if kind == "commuter"}
    days = Counter(b.at.weekday() for b in usage.boardings if b.rider in commuters)
    assert sum(days[d] for d in range(5)) > 10 * (days[5] + days[6])
    bought = {}
    for p in usage.purchases:
        bought.setdefault(p.medium_ref, p.at)
    for b in usage.boardings:
        if b.expected == "valid":
            assert bought[b.medium_ref] < b.at
    refused = sum(b.expected != "valid" for b in usage.boardings)
    assert 0 < refused < 0.06 * len(usage.boardings)


def test_a_day_outside_the_window_rides_the_same_weekday_inside_it():
    services = {date(2025, 3, 3) + timedelta(days=k): frozenset({"WK"}) for k in range(90)}
    assert get_timetable_day(date(2025, 2, 27), services) == date(2025, 3, 6)  # a Thursday
    assert get_timetable_day(date(2025, 3, 10), services) == date(2025, 3, 10)
