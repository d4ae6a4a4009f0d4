"""The generated region: sizes, GTFS invariants, validation, gtfs-kit, registry, determinism."""

from __future__ import annotations

import datetime as dt
import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feeds.gtfs.reader import parse_gtfs_times, read_gtfs
from oura.demo.generate import RegionSummary, generate_region, write_feed
from oura.demo.geometry import haversine_km
from oura.demo.region import AUTHORITIES, URBAN_AREAS
from tests.oura.demo.conftest import SEED, TODAY


def _feeds(summary: RegionSummary):
    for feed in summary.feeds:
        yield feed, Path(summary.out_dir) / feed.path


def test_region_has_one_feed_per_network_of_26_authorities(small_region):
    assert len(AUTHORITIES) == 26
    kinds = [a.kind for a in AUTHORITIES]
    assert kinds.count("region") == 1 and kinds.count("departement") == 8 and kinds.count("urban") == 17
    network_ids = {n for a in AUTHORITIES for n in a.network_ids}
    assert {f.network_id for f in small_region.feeds} == network_ids
    assert len(network_ids) == 27


def test_summary_counts_match_the_files(small_region):
    for feed, path in _feeds(small_region):
        tables = read_gtfs(path, only=["stops", "trips", "stop_times", "routes"])
        assert len(tables.get("stops")) == feed.stops, feed.network_id
        assert len(tables.get("trips")) == feed.trips, feed.network_id
        assert len(tables.get("stop_times")) == feed.stop_times, feed.network_id
        assert len(tables.get("routes")) == feed.routes, feed.network_id
        assert 0 < feed.stop_times_weekday < feed.stop_times


def test_times_increase_within_every_trip(small_region):
    for feed, path in _feeds(small_region):
        st = read_gtfs(path, only=["stop_times"]).get("stop_times")
        arrival = parse_gtfs_times(st["arrival_time"]).astype(np.int64)
        departure = parse_gtfs_times(st["departure_time"]).astype(np.int64)
        sequence = st["stop_sequence"].astype(int).to_numpy()
        trip = pd.factorize(st["trip_id"])[0]
        assert (arrival >= 0).all() and (departure >= arrival).all(), feed.network_id
        same_trip = trip[1:] == trip[:-1]
        assert (sequence[1:][same_trip] > sequence[:-1][same_trip]).all(), feed.network_id
        assert (arrival[1:][same_trip] > departure[:-1][same_trip]).all(), feed.network_id
        distance = st["shape_dist_traveled"].astype(float).to_numpy()
        assert (distance[1:][same_trip] >= distance[:-1][same_trip]).all(), feed.network_id


def test_late_urban_services_run_past_midnight(small_region):
    tables = read_gtfs(Path(small_region.out_dir) / small_region.get_feed("tcl").path, only=["stop_times"])
    assert parse_gtfs_times(tables.get("stop_times")["arrival_time"]).max() > 24 * 3600


def test_every_stop_is_served_and_parent_stations_are_consistent(small_region):
    for feed, path in _feeds(small_region):
        tables = read_gtfs(path, only=["stops", "stop_times"])
        stops = tables.get("stops").set_index("stop_id")
        served = set(tables.get("stop_times")["stop_id"])
        boarding = stops[stops["location_type"] == "0"]
        stations = stops[stops["location_type"] == "1"]
        assert set(boarding.index) == served, feed.network_id
        assert not served & set(stations.index), feed.network_id
        assert (stations["parent_station"] == "").all()
        children = boarding[boarding["parent_station"] != ""]
        assert children["parent_station"].isin(stations.index).all(), feed.network_id
        parent = stations.loc[children["parent_station"]]
        gap_km = haversine_km(children["stop_lat"].astype(float), children["stop_lon"].astype(float),
                              parent["stop_lat"].astype(float), parent["stop_lon"].astype(float))
        assert (gap_km < 0.15).all(), feed.network_id
        assert set(stops["wheelchair_boarding"]) <= {"0", "1", "2"}
        if feed.network_id == "ter":
            assert len(stations) > 40 and children.shape[0] == boarding.shape[0]


def test_transfers_reference_real_stops(small_region):
    with_transfers = set()
    for feed, path in _feeds(small_region):
        tables = read_gtfs(path, only=["stops", "transfers"])
        if not tables.has("transfers"):
            continue
        with_transfers.add(feed.network_id)
        stop_ids = set(tables.get("stops")["stop_id"])
        transfers = tables.get("transfers")
        assert transfers["from_stop_id"].isin(stop_ids).all() and transfers["to_stop_id"].isin(stop_ids).all()
        assert (transfers["from_stop_id"] != transfers["to_stop_id"]).all()
    # rail platforms, and the quays of urban poles served by several lines
    assert {"ter", "tcl", "m-reso", "stas"} <= with_transfers


def test_route_types_cover_tram_metro_bus_rail_and_coach(small_region):
    types = set()
    for _, path in _feeds(small_region):
        types |= set(read_gtfs(path, only=["routes"]).get("routes")["route_type"])
    assert {"0", "1", "2", "3", "200"} <= types


def test_calendar_has_school_holidays_and_a_bank_holiday(small_region):
    path = Path(small_region.out_dir) / small_region.get_feed("stas").path
    dates = read_gtfs(path, only=["calendar_dates"]).get("calendar_dates")
    easter_monday = dates[dates["date"] == "20250421"]
    assert set(zip(easter_monday["service_id"], easter_monday["exception_type"])) >= {("WK", "2"), ("SU", "1")}
    assert ((dates["service_id"] == "SCO") & (dates["exception_type"] == "2")).sum() >= 10


def test_trips_have_blocks_and_accessibility(small_region):
    trips = read_gtfs(Path(small_region.out_dir) / small_region.get_feed("m-reso").path, only=["trips"]).get("trips")
    assert (trips["block_id"] != "").all()
    assert trips.groupby("block_id").size().max() > 1  # vehicles chain several trips
    assert set(trips["wheelchair_accessible"]) <= {"1", "2"}


@pytest.mark.slow  # validates 27 feeds (about a second)
def test_every_feed_passes_the_project_validator(small_region):
    from feeds.validate import validate_path

    for feed, path in _feeds(small_region):
        _, report = validate_path(path, feed_id=feed.network_id, today=TODAY)
        counts = report.issue_counts()
        assert report.status == "accepted", (feed.network_id, report.summary())
        assert not counts.get("fatal") and not counts.get("warning"), (feed.network_id, counts)


@pytest.mark.slow  # gtfs_kit reads 27 feeds (one to two seconds)
def test_every_feed_loads_in_gtfs_kit(small_region):
    gk = pytest.importorskip("gtfs_kit")
    for feed, path in _feeds(small_region):
        loaded = gk.read_feed(path, dist_units="km")
        description = loaded.describe()
        assert int(description.set_index("indicator").loc["num_trips", "value"]) == feed.trips
        quality = loaded.assess_quality().set_index("indicator")["value"]
        assert quality["num_trips_missing_shapes"] == 0 and quality["num_stop_time_dists_missing"] == 0


def test_registry_lists_every_feed_with_realtime_urls(small_region):
    from feeds.authorities import load_registry

    registry = load_registry(small_region.registry)
    assert len(registry.authorities) == 26
    networks = {n.id: n for a in registry.authorities for n in a.networks}
    assert set(networks) == {f.network_id for f in small_region.feeds}
    text = Path(small_region.registry).read_text(encoding="utf-8")
    assert 'trip_updates = "http://127.0.0.1:8090/rt/tcl/trip-updates.pb"' in text
    assert 'static = "gtfs/tcl"' in text and 'regional_fares = "fares/regional"' in text


def test_rail_stations_have_an_urban_stop_nearby_with_other_ids(small_region):
    base = Path(small_region.out_dir)
    ter = read_gtfs(base / small_region.get_feed("ter").path, only=["stops"]).get("stops").set_index("stop_id")
    for area in URBAN_AREAS:
        if area.station is None:
            continue
        urban = read_gtfs(base / small_region.get_feed(area.network_id).path, only=["stops"]).get("stops")
        urban = urban[urban["location_type"] == "0"]
        station = ter.loc[area.station]
        gap_km = haversine_km(float(station["stop_lat"]), float(station["stop_lon"]),
                              urban["stop_lat"].astype(float), urban["stop_lon"].astype(float))
        assert 0.02 < gap_km.min() < 0.1, area.network_id
        assert not set(urban["stop_id"]) & set(ter.index)


def _departures_near(path: Path, lat: float, lon: float, route_types: set[str], services: set[str]) -> pd.DataFrame:
    """stop_times rows of the given route types within 150 m of (lat, lon), with times in seconds."""
    tables = read_gtfs(path, only=["stops", "stop_times", "trips", "routes"])
    stops = tables.get("stops")
    near = stops[haversine_km(lat, lon, stops["stop_lat"].astype(float), stops["stop_lon"].astype(float)) < 0.15]
    routes = tables.get("routes")
    trips = tables.get("trips").merge(routes[["route_id", "route_type"]], on="route_id")
    trips = trips[trips["route_type"].isin(route_types) & trips["service_id"].isin(services)]
    st = tables.get("stop_times")
    st = st[st["stop_id"].isin(near["stop_id"]) & st["trip_id"].isin(trips["trip_id"])].copy()
    st["arrival_s"] = parse_gtfs_times(st["arrival_time"])
    st["departure_s"] = parse_gtfs_times(st["departure_time"])
    return st


def test_a_lyon_tram_to_train_to_grenoble_bus_journey_exists(small_region):
    """Three networks on a school weekday: tram to Part-Dieu, train to Grenoble, bus from the station."""
    base = Path(small_region.out_dir)
    ter_path = base / small_region.get_feed("ter").path
    ter_stops = read_gtfs(ter_path, only=["stops"]).get("stops").set_index("stop_id")
    lyon, grenoble = ter_stops.loc["lyon-part-dieu"], ter_stops.loc["grenoble"]
    weekday = {"WK", "SCO"}
    tram_in = _departures_near(base / small_region.get_feed("tcl").path, float(lyon["stop_lat"]),
                               float(lyon["stop_lon"]), {"0"}, weekday)
    ter_out = _departures_near(ter_path, float(lyon["stop_lat"]), float(lyon["stop_lon"]), {"2"}, weekday)
    ter_in = _departures_near(ter_path, float(grenoble["stop_lat"]), float(grenoble["stop_lon"]), {"2"}, weekday)
    bus_out = _departures_near(base / small_region.get_feed("m-reso").path, float(grenoble["stop_lat"]),
                               float(grenoble["stop_lon"]), {"3"}, weekday)
    rail = ter_out.merge(ter_in, on="trip_id", suffixes=("_lyon", "_grenoble"))
    rail = rail[rail["stop_sequence_lyon"].astype(int) < rail["stop_sequence_grenoble"].astype(int)]
    assert len(tram_in) and len(rail) and len(bus_out)
    found = []
    for _, train in rail.iterrows():
        tram_ok = (tram_in["arrival_s"] <= train["departure_s_lyon"] - 300).any()
        bus_ok = (bus_out["departure_s"] >= train["arrival_s_grenoble"] + 300).any()
        if tram_ok and bus_ok:
            found.append(train["trip_id"])
    assert found


def test_fares_v2_files_are_consistent(small_region):
    base = Path(small_region.out_dir)
    media, categories = {"paper", "oura-card", "oura-wallet"}, {"adult", "youth", "senior", "reduced"}
    for feed, path in _feeds(small_region):
        tables = read_gtfs(path, only=["networks", "route_networks", "routes", "fare_products", "fare_leg_rules",
                                       "fare_media", "rider_categories", "areas", "stop_areas", "stops"])
        assert list(tables.get("networks")["network_id"]) == [feed.network_id]
        assert set(tables.get("route_networks")["route_id"]) == set(tables.get("routes")["route_id"])
        products = tables.get("fare_products")
        assert set(products["fare_media_id"]) <= media and set(products["rider_category_id"]) == categories
        assert (products["amount"].astype(float) > 0).all()
        assert not products.duplicated(["fare_product_id", "rider_category_id", "fare_media_id"]).any()
        rules = tables.get("fare_leg_rules")
        assert rules["fare_product_id"].isin(products["fare_product_id"]).all()
        assert (rules["network_id"] == feed.network_id).all()
        kinds = {p.split("-b")[0] for p in products["fare_product_id"]}
        assert {"single", "10-trips", "day-pass", "monthly-pass"} <= kinds
        if feed.network_id == "ter":
            stop_ids = set(tables.get("stops")["stop_id"])
            assert tables.get("stop_areas")["stop_id"].isin(stop_ids).all()
            areas = set(tables.get("areas")["area_id"])
            assert set(rules["from_area_id"]) - {""} <= areas
    regional = read_gtfs(base / "fares" / "regional")
    shares = regional.get("fare_product_networks")
    assert (shares.assign(s=shares["share_permille"].astype(int)).groupby("fare_product_id")["s"].sum() == 1000).all()
    assert "rail-tcl-monthly" in set(regional.get("fare_products")["fare_product_id"])
    legs = regional.get("fare_leg_rules")
    assert set(legs[legs["fare_product_id"] == "rail-tcl-monthly"]["network_id"]) == {"ter", "tcl"}
    assert set(legs["network_id"]) <= {f.network_id for f in small_region.feeds}


def test_generation_is_deterministic(tmp_path):
    start = dt.date(2025, 3, 3)
    for folder in ("a", "b"):
        write_feed(2, tmp_path / folder, seed=SEED, scale=0.1, service_start=start, days=30, fmt="dir")
    first, second = tmp_path / "a" / "gtfs" / "cars-ain", tmp_path / "b" / "gtfs" / "cars-ain"
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert not mismatch and not errors
    write_feed(2, tmp_path / "c", seed=SEED + 1, scale=0.1, service_start=start, days=30, fmt="dir")
    assert (tmp_path / "c" / "gtfs" / "cars-ain" / "stops.txt").read_bytes() != (first / "stops.txt").read_bytes()


@pytest.mark.slow  # generates a second region (about a second)
def test_zip_format_writes_one_archive_per_network(tmp_path):
    summary = generate_region(tmp_path, seed=SEED, scale=0.05, start_date=TODAY, fmt="zip", days=14)
    assert sorted(p.name for p in (tmp_path / "gtfs").iterdir()) == sorted(f"{f.network_id}.zip" for f in summary.feeds)
    assert (tmp_path / "summary.json").exists()


@pytest.mark.slow
def test_default_region_meets_the_size_targets(tmp_path):
    summary = generate_region(tmp_path, seed=1, scale=1.0, start_date=TODAY, fmt="zip")
    assert summary.stops >= 25_000
    assert summary.stop_times_weekday >= 1_000_000
    assert summary.get_feed("tcl").stops > summary.get_feed("m-reso").stops > summary.get_feed("babus").stops
