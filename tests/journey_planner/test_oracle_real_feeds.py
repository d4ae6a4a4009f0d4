"""The planner against an independent exact Connection Scan on every real feed of ../shared/data.

For random stop pairs and departure times, on a weekday of each feed:
- every returned transit leg exists in the raw GTFS (the trip runs that day per calendar and
  calendar_dates read here, its stop_times at the board/alight positions have those stops and
  times, frequency instances included, and boarding/alighting is allowed there);
- every walk leg is one of the network's footpaths;
- the earliest arrival equals that of a plain-Python Connection Scan over connections built
  here from the raw tables, with the same transfer rules (the compiled footpaths and change
  times, the same minimum change time);
- no journey could leave later for its arrival with no more rides: the same Connection Scan,
  bounded in rides, leaving one second after the journey, arrives later than it does.

OURA_ORACLE_QUERIES sets the number of queries per feed (default 40; the report used 200).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from feeds.gtfs.reader import read_gtfs
from journey_planner.compile import FeedSource, Network, load_network
from journey_planner.core import Place, PlanRequest, TransitLeg, WalkLeg, plan
from tests.conftest import require_shared_data

pytestmark = pytest.mark.realdata

SLACK_S = 120
QUERIES = int(os.environ.get("OURA_ORACLE_QUERIES", "40"))
HORIZON_NEXT_DAY_S = 10 * 3600  # connections of the next service day are built up to 10:00

# The large feeds take one to five seconds each: slow, so `make test-fast` keeps the small ones.
SLOW_FEED = pytest.mark.slow
FEEDS = [
    pytest.param("kaunas", ("kaunas-2018", "kaunas.zip"), date(2018, 6, 7), marks=SLOW_FEED, id="kaunas"),
    pytest.param("hart", ("hart-tampa-2021", "hart.zip"), date(2021, 3, 3), marks=SLOW_FEED, id="hart"),
    pytest.param("wmata", ("wmata-rail-2026", "wmata.zip"), date(2026, 5, 6), marks=SLOW_FEED, id="wmata"),
    pytest.param("peri", ("perigueux-perimouv-2025",), date(2025, 11, 4), marks=SLOW_FEED, id="peri"),
    pytest.param("cdmx", ("cdmx-2018", "cdmx.zip"), date(2018, 6, 6), marks=SLOW_FEED, id="cdmx"),
    pytest.param("ct", ("caltrain-2023-rt", "ct.zip"), date(2023, 11, 8), id="ct"),
    pytest.param("bull", ("bullrunner-usf", "bullrunner-gtfs.zip"), date(2017, 9, 13), id="bull"),
    pytest.param("tc", ("transcollines-faresv2",), date(2026, 1, 7), id="tc"),
]


def _hms(text: str) -> int:
    text = text.strip()
    if not text:
        return -1
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


@dataclass
class RawFeed:
    """The feed as this test reads it, independently of journey_planner.compile."""

    tz: ZoneInfo
    trips: dict[str, list[tuple[str, int, int, bool, bool]]]  # trip -> (stop, arr, dep, pickup ok, drop ok)
    trip_service: dict[str, str]
    frequencies: dict[str, list[tuple[int, int, int]]]
    tables: object
    _runs: dict = field(default_factory=dict)

    def runs_on(self, trip_id: str, day: date) -> bool:
        key = (self.trip_service[trip_id], day)
        if key not in self._runs:
            self._runs[key] = self._service_runs_on(*key)
        return self._runs[key]

    def _service_runs_on(self, service: str, day: date) -> bool:
        ymd = day.strftime("%Y%m%d")
        dates = self.tables.find("calendar_dates")
        if dates is not None and len(dates):
            hit = dates[(dates["service_id"] == service) & (dates["date"].str.strip() == ymd)]
            if len(hit):
                return hit["exception_type"].str.strip().iloc[-1] == "1"
        cal = self.tables.find("calendar")
        if cal is None or not len(cal):
            return False
        row = cal[cal["service_id"] == service]
        if not len(row):
            return False
        row = row.iloc[0]
        day_name = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][day.weekday()]
        return row["start_date"].strip() <= ymd <= row["end_date"].strip() and row[day_name].strip() == "1"

    def base(self, day: date) -> int:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=self.tz)
        return int(noon.timestamp()) - 43200

    def instances(self, trip_id: str) -> list[int]:
        """Time shifts of the trip's runs (0 for a plain trip)."""
        if trip_id not in self.frequencies:
            return [0]
        first = self.trips[trip_id][0][2]
        out = []
        for start, end, headway in self.frequencies[trip_id]:
            out += [t - first for t in range(start, end, headway)]
        return out


def read_raw(path) -> RawFeed:
    tables = read_gtfs(path, only=["agency", "stop_times", "trips", "calendar", "calendar_dates", "frequencies"])
    tz = ZoneInfo(tables.get("agency")["agency_timezone"].iloc[0].strip())
    st = tables.get("stop_times")
    st = st.assign(_seq=st["stop_sequence"].astype(int)).sort_values(["trip_id", "_seq"])
    trips: dict[str, list] = {}
    for trip_id, stop, a, d, pu, do in zip(
        st["trip_id"], st["stop_id"], st["arrival_time"], st["departure_time"],
        st["pickup_type"] if "pickup_type" in st else [""] * len(st),
        st["drop_off_type"] if "drop_off_type" in st else [""] * len(st),
    ):
        arr, dep = _hms(a), _hms(d)
        trips.setdefault(trip_id, []).append(
            (stop, arr if arr >= 0 else dep, dep if dep >= 0 else arr, pu.strip() != "1", do.strip() != "1")
        )
    frequencies: dict[str, list] = {}
    freq = tables.find("frequencies")
    if freq is not None:
        for t, s, e, h in zip(freq["trip_id"], freq["start_time"], freq["end_time"], freq["headway_secs"]):
            frequencies.setdefault(t, []).append((_hms(s), _hms(e), int(h)))
    trip_service = dict(zip(tables.get("trips")["trip_id"], tables.get("trips")["service_id"]))
    return RawFeed(tz, trips, trip_service, frequencies, tables)


def connections(raw: RawFeed, day: date) -> list[tuple[int, int, str, str, tuple, bool, bool]]:
    """(departure, arrival, from, to, run key, pickup ok at from, drop-off ok at to), by departure."""
    out = []
    for d, lo, hi in ((day - timedelta(days=1), 86400 + 6 * 3600, 10**9), (day, 0, 10**9),
                      (day + timedelta(days=1), 0, HORIZON_NEXT_DAY_S)):
        base = raw.base(d)
        for trip_id, rows in raw.trips.items():
            if any(r[1] < 0 for r in rows) or not raw.runs_on(trip_id, d):
                continue
            for shift in raw.instances(trip_id):
                if rows[-1][1] + shift < lo or rows[0][2] + shift > hi:
                    continue
                key = (trip_id, d, shift)
                for a, b in zip(rows, rows[1:]):
                    out.append((base + a[2] + shift, base + b[1] + shift, a[0], b[0], key, a[3], b[4]))
    out.sort(key=lambda c: c[0])
    return out


@dataclass
class TransferRules:
    """The network's footpaths and change times as plain Python lists, by stop id."""

    walks: dict[str, list[tuple[str, int]]]
    slack: dict[str, int]

    @staticmethod
    def of(net: Network) -> "TransferRules":
        tt = net.timetable
        names = [str(x).split(":", 1)[1] for x in net.stop_ids]
        walks: dict[str, list[tuple[str, int]]] = {}
        offsets, to, dur = tt.footpath_offsets.tolist(), tt.footpath_to.tolist(), tt.footpath_duration_s.tolist()
        for s, name in enumerate(names):
            walks[name] = [(names[to[f]], dur[f]) for f in range(offsets[s], offsets[s + 1])]
        slack = {}
        for name, value in zip(names, tt.stop_transfer_slack_s.tolist()):
            slack[name] = SLACK_S if value == -1 else value
        return TransferRules(walks, slack)


def csa_earliest(rules: TransferRules, conns, deps: np.ndarray, origin: str, dest: str, t0: int) -> int:
    """Earliest arrival at ``dest`` from ``origin`` leaving at t0 (plain Connection Scan)."""
    INF = 2**62
    ready: dict[str, int] = {origin: t0}
    arrival: dict[str, int] = {origin: t0}
    on_trip: set[tuple] = set()
    for v, d in rules.walks[origin]:
        ready[v] = min(ready.get(v, INF), t0 + d)
        arrival[v] = min(arrival.get(v, INF), t0 + d)
    best = arrival.get(dest, INF)
    for i in range(int(np.searchsorted(deps, t0)), len(conns)):
        dep, arr, a, b, key, pickup_ok, drop_ok = conns[i]
        if dep >= best:
            break
        if key not in on_trip:
            if not (pickup_ok and ready.get(a, INF) <= dep):
                continue
            on_trip.add(key)
        if not drop_ok or arr >= best:
            continue
        if arr < arrival.get(b, INF):
            arrival[b] = arr
        slack = rules.slack[b]
        if slack >= 0 and arr + slack < ready.get(b, INF):
            ready[b] = arr + slack
        for v, d in rules.walks[b]:
            if arr + d < ready.get(v, INF):
                ready[v] = arr + d
            if arr + d < arrival.get(v, INF):
                arrival[v] = arr + d
        best = arrival.get(dest, INF)
    return best


def csa_earliest_rides(rules: TransferRules, conns, deps: np.ndarray, origin: str, dest: str, t0: int,
                       max_rides: int) -> int:
    """Earliest arrival at ``dest`` leaving ``origin`` at t0 or later with at most ``max_rides``
    rides (Connection Scan keeping, per stop, the earliest time ready to board after j rides)."""
    INF = 2**62
    width = max_rides + 1
    ready: dict[str, list[int]] = {origin: [t0] * width}
    best = INF
    for v, d in rules.walks[origin]:
        at_v = ready.setdefault(v, [INF] * width)
        at_v[0] = min(at_v[0], t0 + d)
        best = min(best, t0 + d) if v == dest else best
    rides_on: dict[tuple, int] = {}  # run key -> fewest rides with which one is on it
    for i in range(int(np.searchsorted(deps, t0)), len(conns)):
        dep, arr, a, b, key, pickup_ok, drop_ok = conns[i]
        if dep >= best:
            break
        r = rides_on.get(key, INF)
        at_a = ready.get(a)
        if pickup_ok and at_a is not None:
            for j in range(min(r - 1, max_rides)):
                if at_a[j] <= dep:
                    r = j + 1
                    break
        if r > max_rides:
            continue
        rides_on[key] = r
        if not drop_ok or arr >= best:
            continue
        if b == dest:
            best = arr
        targets = [(v, arr + d) for v, d in rules.walks[b]]
        best = min([best] + [t for v, t in targets if v == dest])
        if rules.slack[b] >= 0:
            targets.append((b, arr + rules.slack[b]))
        for v, t in targets:
            at_v = ready.setdefault(v, [INF] * width)
            for j in range(r, width):
                if t < at_v[j]:
                    at_v[j] = t
    return best


def check_legs(net: Network, raw: RawFeed, journey) -> None:
    tt = net.timetable
    for leg in journey.legs:
        if isinstance(leg, WalkLeg):
            lo, hi = tt.footpath_offsets[leg.from_stop], tt.footpath_offsets[leg.from_stop + 1]
            targets = tt.footpath_to[lo:hi].tolist()
            assert leg.to_stop in targets, "walk leg is not a footpath"
            assert leg.duration_s == int(tt.footpath_duration_s[lo + targets.index(leg.to_stop)])
            continue
        assert isinstance(leg, TransitLeg)
        trip_id = str(net.trip_ids[leg.trip]).split(":", 1)[1]
        day = net.date_of_day(leg.day)
        assert raw.runs_on(trip_id, day), f"{trip_id} does not run on {day}"
        rows = raw.trips[trip_id]
        board, alight = rows[leg.board_pos], rows[leg.alight_pos]
        assert f"{net.feed_ids[0]}:{board[0]}" == net.stop_ids[leg.from_stop]
        assert f"{net.feed_ids[0]}:{alight[0]}" == net.stop_ids[leg.to_stop]
        assert board[3] and alight[4], "boarding or alighting not allowed there"
        shift = leg.departure_s - raw.base(day) - board[2]
        assert shift in raw.instances(trip_id), f"{trip_id}: departure does not match stop_times"
        assert leg.arrival_s == raw.base(day) + alight[1] + shift, f"{trip_id}: arrival does not match"
        assert leg.board_pos < leg.alight_pos


@pytest.mark.parametrize("feed_id,parts,day", FEEDS)
def test_planner_matches_connection_scan(feed_id, parts, day, tmp_path_factory):
    path = require_shared_data(*parts)
    net = load_network([FeedSource(feed_id, path)], cache_dir=tmp_path_factory.mktemp("cache"))
    raw = read_raw(path)
    conns = connections(raw, day)
    deps = np.array([c[0] for c in conns], dtype=np.int64)
    tt = net.timetable
    rules = TransferRules.of(net)
    served = np.unique(tt.pattern_stops)
    rng = np.random.default_rng(20240607)
    noon = raw.base(day) + 43200
    compared = found = shifted = 0
    for _ in range(QUERIES):
        a, b = rng.choice(served, 2, replace=False)
        t0 = int(noon + rng.integers(-6 * 3600, 8 * 3600))
        result = plan(tt, PlanRequest(Place.of_stops([a]), Place.of_stops([b]), t0, max_transfers=15,
                                      transfer_slack_s=SLACK_S))
        for journey in result.journeys:
            assert journey.departure_s >= t0
            check_legs(net, raw, journey)
        origin = str(net.stop_ids[a]).split(":", 1)[1]
        dest = str(net.stop_ids[b]).split(":", 1)[1]
        expected = csa_earliest(rules, conns, deps, origin, dest, t0)
        got = min((j.arrival_s for j in result.journeys), default=2**62)
        if expected < raw.base(day + timedelta(days=1)) + HORIZON_NEXT_DAY_S - 4 * 3600:
            compared += 1
            assert got <= expected, f"{origin}->{dest} at {t0}: planner {got} later than CSA {expected}"
            assert got == expected, f"{origin}->{dest} at {t0}: planner {got} earlier than CSA {expected}"
        found += bool(result.journeys)
        horizon = raw.base(day + timedelta(days=1)) + HORIZON_NEXT_DAY_S - 4 * 3600
        for journey in result.journeys:
            rides = sum(isinstance(leg, TransitLeg) for leg in journey.legs)
            if rides and journey.arrival_s < horizon:
                later = csa_earliest_rides(rules, conns, deps, origin, dest, journey.departure_s + 1, rides)
                assert later > journey.arrival_s, (
                    f"{origin}->{dest} at {t0}: leaving after {journey.departure_s} with {rides} rides "
                    f"arrives by {later}, not later than {journey.arrival_s}")
                shifted += 1
    assert compared >= QUERIES // 4, f"only {compared} comparable queries"
    assert shifted >= QUERIES // 4, f"only {shifted} journeys checked for a later departure"
