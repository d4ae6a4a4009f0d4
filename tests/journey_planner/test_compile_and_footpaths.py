"""Compile-level rules: find_stop_links across feeds, station links, transfers.txt, and the cache."""

from __future__ import annotations

import numpy as np

from feeds.stop_links import find_stop_links
from journey_planner.compile import FeedSource, load_network
from tests.journey_planner._data import write_feed


def brute_force_pairs(lats, lons, max_m):
    out = set()
    for i in range(len(lats)):
        for j in range(len(lats)):
            if i != j:
                p1, p2 = np.radians(lats[i]), np.radians(lats[j])
                a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons[j] - lons[i]) / 2) ** 2
                if 2 * 6_371_008.8 * np.arcsin(np.sqrt(a)) <= max_m:
                    out.add((i, j))
    return out


def test_find_stop_links_matches_brute_force():
    rng = np.random.default_rng(3)
    lats = 45.75 + rng.random(300) * 0.05
    lons = 4.80 + rng.random(300) * 0.07
    links = find_stop_links([str(i) for i in range(300)], lats, lons, max_distance_m=400)
    assert set(zip(links.from_idx.tolist(), links.to_idx.tolist())) == brute_force_pairs(lats, lons, 400)
    assert np.all(links.duration_s == np.ceil(links.distance_m / 1.2))


def test_links_across_feeds_and_far_platforms_of_one_station():
    # a rail platform (feed "ter") and an urban stop (feed "tcl") 50 m apart; two platforms of one
    # station 900 m apart
    ids = ["ter:gare-p1", "tcl:gare", "ter:gare-p2", "tcl:far"]
    lats = [45.7600, 45.76045, 45.7681, 45.90]
    lons = [4.8600, 4.8600, 4.8600, 4.90]
    links = find_stop_links(ids, lats, lons, max_distance_m=100, parent_station=["ter:gare", "", "ter:gare", ""])
    pairs = set(zip(links.from_idx.tolist(), links.to_idx.tolist()))
    assert {(0, 1), (1, 0), (0, 2), (2, 0)} <= pairs
    assert not any(3 in p for p in pairs)


FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
ST,Station,45.7600,4.8600,1,
P1,Platform 1,45.7600,4.8600,0,ST
P2,Platform 2,45.7681,4.8600,0,ST
BUS,Bus stop,45.7681,4.8610,0,
X,Elsewhere,45.9000,4.9000,0,
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,P1,1
T1,08:30:00,08:30:00,X,2
T2,08:00:00,08:00:00,BUS,1
T2,08:30:00,08:30:00,X,2
transfers.txt
from_stop_id,to_stop_id,transfer_type,min_transfer_time
P1,P2,2,300
BUS,X,3,
"""


def test_station_chain_transfers_txt_and_cache(tmp_path):
    folder = write_feed(tmp_path / "feed", FEED)
    net = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    tt = net.timetable
    idx = {str(s).split(":")[1]: i for i, s in enumerate(net.stop_ids)}

    def footpath(a, b):
        lo, hi = tt.footpath_offsets[idx[a]], tt.footpath_offsets[idx[a] + 1]
        hits = np.flatnonzero(tt.footpath_to[lo:hi] == idx[b])
        return int(tt.footpath_duration_s[lo + hits[0]]) if hits.size else None

    assert footpath("P1", "P2") == 300  # transfers.txt type 2 wins over the 900 m walk
    assert footpath("P2", "P1") == 751  # the station link, by distance
    assert footpath("P1", "BUS") is not None  # chained through the station's far platform
    assert footpath("BUS", "X") is None  # type 3 (and far anyway)
    assert footpath("X", "P1") is None
    again = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    assert again.report.from_cache and not net.report.from_cache
    for name, array in tt.arrays().items():
        assert np.array_equal(array, again.timetable.arrays()[name]), name
    assert list(again.stop_names) == list(net.stop_names)


def test_a_feed_adapter_rewrites_the_tables_before_compiling_and_keys_the_cache(tmp_path):
    from dataclasses import replace as dc_replace

    folder = write_feed(tmp_path / "feed", FEED)

    def rename_stops(tables):
        stops = tables.get("stops").copy()
        stops["stop_name"] = stops["stop_name"].str.upper()
        return dc_replace(tables, tables={**tables.tables, "stops": stops})

    plain = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    adapted = load_network([FeedSource("t", folder, adapt=rename_stops, adapter_name="upper")],
                           cache_dir=tmp_path / "cache")
    assert not adapted.report.from_cache, "another adapter is another timetable"
    assert [str(n).upper() for n in plain.stop_names] == [str(n) for n in adapted.stop_names]
    assert any(str(n) != str(n).upper() for n in plain.stop_names)


def _cluster_feed() -> str:
    """A station with two platforms 900 m apart, and 12 bus stops within 100 m of platform 2."""
    rows = ["ST,Station,45.7600,4.8600,1,", "P1,Platform 1,45.7600,4.8600,0,ST", "P2,Platform 2,45.7681,4.8600,0,ST"]
    for i in range(12):
        rows.append(f"B{i},Bus {i},{45.7681 + 0.0002 * (i % 4 + 1):.4f},{4.8600 + 0.0003 * (i // 4 + 1):.4f},0,")
    stop_times = ["T1,08:00:00,08:00:00,P1,1", "T1,08:30:00,08:30:00,P2,2"]
    stop_times += [f"T2,08:{i:02d}:00,08:{i:02d}:00,B{i},{i + 1}" for i in range(12)]
    return "\n".join([
        "stops.txt", "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station", *rows,
        "trips.txt", "route_id,service_id,trip_id", "R1,S,T1", "R2,S,T2",
        "stop_times.txt", "trip_id,arrival_time,departure_time,stop_id,stop_sequence", *stop_times,
    ])


def test_footpaths_keep_each_stops_nearest_its_station_and_the_walks_through_far_platforms(tmp_path):
    from journey_planner.compile import CompileOptions

    folder = write_feed(tmp_path / "feed", _cluster_feed())
    nearest = load_network([FeedSource("t", folder)], options=CompileOptions(footpath_nearest=3))
    every = load_network([FeedSource("t", folder)], options=CompileOptions(footpath_nearest=0))

    def walks(net):
        tt = net.timetable
        names = [str(s).split(":")[1] for s in net.stop_ids]
        out = {}
        for s, name in enumerate(names):
            for f in range(tt.footpath_offsets[s], tt.footpath_offsets[s + 1]):
                out[(name, names[tt.footpath_to[f]])] = int(tt.footpath_duration_s[f])
        return out, net.timetable

    kept, tt = walks(nearest)
    everything, _ = walks(every)
    buses = [f"B{i}" for i in range(12)]
    assert all((a, b) in everything for a in buses for b in buses if a != b), "all within 504 m"
    assert set(kept) < set(everything)
    lat, lon = tt.stop_lat, tt.stop_lon
    idx = {str(s).split(":")[1]: i for i, s in enumerate(nearest.stop_ids)}
    line = {**{b: "T2" for b in buses}, "P1": "T1", "P2": "T1"}

    def dist(a, b):
        return float(haversine(lat[idx[a]], lon[idx[a]], lat[idx[b]], lon[idx[b]]))

    def chosen(a):
        """a's 3 nearest within 504 m, and the nearest stop of each line within 504 m."""
        near = sorted((dist(a, b), idx[b], b) for b in line if b != a and dist(a, b) <= 504)
        firsts = {}
        for _, _, b in near:
            firsts.setdefault(line[b], b)
        return {b for _, _, b in near[:3]} | set(firsts.values())

    walked = {(a, b) for (a, b) in kept if dist(a, b) <= 504}
    assert walked == {(a, b) for a in line for b in line if a != b and (b in chosen(a) or a in chosen(b))}
    assert ("B0", "P2") in kept and ("B11", "P2") in kept, "the other line's stop, beyond the 3 nearest"
    assert kept[("P1", "P2")] == everything[("P1", "P2")] == 751  # one station, 900 m
    # through the far platform: P1 -> P2 -> a bus stop P2 walks to (one footpath), nothing else
    for bus in buses:
        if ("P2", bus) in kept:
            assert kept[("P1", bus)] == 751 + kept[("P2", bus)]
            assert kept[(bus, "P1")] == kept[(bus, "P2")] + 751
        else:
            assert ("P1", bus) not in kept


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))
