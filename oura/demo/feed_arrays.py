"""A static demo feed read once into flat arrays (`load_network_timetable`): what the live
realtime simulator (`oura.demo.live`) and the simulated usage (`oura.demo.usage`) run on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from feeds.gtfs.model import parse_gtfs_times, read_gtfs
from feeds.gtfs.service_days import read_service_days

__all__ = ["NetworkTimetable", "load_network_timetable"]


@dataclass(frozen=True)
class NetworkTimetable:
    """One static feed as arrays. Trip index -> row range [st_start, st_end) of the stop_times arrays."""

    network_id: str
    timezone: str
    trip_ids: np.ndarray = field(repr=False)  # trip -> trip_id (str)
    route_ids: np.ndarray = field(repr=False)  # trip -> route_id
    direction_ids: np.ndarray = field(repr=False)  # trip -> 0/1
    service_ids: np.ndarray = field(repr=False)  # trip -> service_id
    shape_ids: np.ndarray = field(repr=False)  # trip -> shape_id ("" if none)
    vehicle_ids: np.ndarray = field(repr=False)  # trip -> block_id, or trip_id without block
    st_start: np.ndarray = field(repr=False)  # trip -> first stop_times row
    st_end: np.ndarray = field(repr=False)  # trip -> one past its last row
    st_stop: np.ndarray = field(repr=False)  # row -> stop index (into stop_ids)
    st_sequence: np.ndarray = field(repr=False)  # row -> stop_sequence
    st_arrival_s: np.ndarray = field(repr=False)  # row -> arrival, seconds from service-day noon-12h
    st_departure_s: np.ndarray = field(repr=False)
    st_dist_km: np.ndarray = field(repr=False)  # row -> shape_dist_traveled (NaN when absent)
    stop_ids: np.ndarray = field(repr=False)  # stop index -> stop_id
    stop_names: np.ndarray = field(repr=False)
    stop_lat: np.ndarray = field(repr=False)
    stop_lon: np.ndarray = field(repr=False)
    served_stops: np.ndarray = field(repr=False)  # sorted stop indexes that appear in stop_times
    route_names: dict[str, str] = field(repr=False)
    services_by_date: dict[date, frozenset[str]] = field(repr=False)
    shapes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(repr=False)  # lat, lon, dist

    @property
    def first_departure_s(self) -> np.ndarray:
        return self.st_departure_s[self.st_start]

    @property
    def last_arrival_s(self) -> np.ndarray:
        return self.st_arrival_s[self.st_end - 1]


def load_network_timetable(network_id: str, static_path: str, timezone: str) -> NetworkTimetable:
    """Read the static feed at ``static_path`` (zip or folder). Sync and CPU-bound."""
    tables = read_gtfs(static_path, only=["trips", "stop_times", "stops", "routes", "calendar",
                                          "calendar_dates", "shapes"])
    trips = tables.get("trips")
    stop_times = tables.get("stop_times")
    stops = tables.get("stops")
    trip_index = pd.Series(np.arange(len(trips)), index=trips["trip_id"].to_numpy())
    st_trip = trip_index.reindex(stop_times["trip_id"].to_numpy()).to_numpy()
    valid = ~np.isnan(st_trip)
    st = stop_times[valid]
    st_trip = st_trip[valid].astype(np.int64)
    sequence = np.nan_to_num(_numbers(st["stop_sequence"])).astype(np.int64)
    order = np.lexsort((sequence, st_trip))
    st_trip, sequence = st_trip[order], sequence[order]
    st = st.iloc[order]
    stop_index = pd.Series(np.arange(len(stops)), index=stops["stop_id"].to_numpy())
    st_stop = stop_index.reindex(st["stop_id"].to_numpy()).fillna(-1).to_numpy(np.int64)
    arrival = parse_gtfs_times(st["arrival_time"]).astype(np.int64)
    departure = parse_gtfs_times(st["departure_time"]).astype(np.int64)
    arrival = np.where(arrival < 0, departure, arrival)
    departure = np.where(departure < 0, arrival, departure)
    dist = (_numbers(st["shape_dist_traveled"])
            if "shape_dist_traveled" in st.columns else np.full(len(st), np.nan))
    starts = np.searchsorted(st_trip, np.arange(len(trips)), side="left")
    ends = np.searchsorted(st_trip, np.arange(len(trips)), side="right")
    has_times = ends > starts
    keep = np.flatnonzero(has_times)
    column = lambda name, default="": (trips[name].to_numpy(dtype=object) if name in trips.columns  # noqa: E731
                                       else np.full(len(trips), default, dtype=object))
    blocks = column("block_id")
    vehicle_ids = np.where(blocks != "", blocks, trips["trip_id"].to_numpy(dtype=object))
    direction = pd.to_numeric(pd.Series(column("direction_id", "0")), errors="coerce").fillna(0).to_numpy(np.int64)
    shapes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    shape_table = tables.find("shapes")
    if shape_table is not None and len(shape_table):
        frame = pd.DataFrame({
            "id": shape_table["shape_id"],
            "seq": pd.to_numeric(shape_table["shape_pt_sequence"], errors="coerce"),
            "lat": pd.to_numeric(shape_table["shape_pt_lat"], errors="coerce"),
            "lon": pd.to_numeric(shape_table["shape_pt_lon"], errors="coerce"),
            "dist": pd.to_numeric(shape_table.get("shape_dist_traveled", pd.Series(dtype=str)), errors="coerce"),
        }).sort_values(["id", "seq"], kind="stable")
        for shape_id, group in frame.groupby("id", sort=False):
            shapes[str(shape_id)] = (group["lat"].to_numpy(), group["lon"].to_numpy(), group["dist"].to_numpy())
    routes = tables.find("routes")
    route_names = {}
    if routes is not None:
        for rid, short, long_ in zip(routes["route_id"], routes.get("route_short_name", routes["route_id"]),
                                     routes.get("route_long_name", routes["route_id"])):
            route_names[rid] = short or long_ or rid
    return NetworkTimetable(
        network_id=network_id,
        timezone=timezone,
        trip_ids=trips["trip_id"].to_numpy(dtype=object)[keep],
        route_ids=trips["route_id"].to_numpy(dtype=object)[keep],
        direction_ids=direction[keep],
        service_ids=trips["service_id"].to_numpy(dtype=object)[keep],
        shape_ids=column("shape_id")[keep],
        vehicle_ids=vehicle_ids[keep],
        st_start=starts[keep],
        st_end=ends[keep],
        st_stop=st_stop,
        st_sequence=sequence,
        st_arrival_s=arrival,
        st_departure_s=departure,
        st_dist_km=dist,
        stop_ids=stops["stop_id"].to_numpy(dtype=object),
        stop_names=stops["stop_name"].to_numpy(dtype=object) if "stop_name" in stops.columns
        else stops["stop_id"].to_numpy(dtype=object),
        stop_lat=pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(np.float64),
        stop_lon=pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(np.float64),
        served_stops=np.unique(st_stop[st_stop >= 0]),
        route_names=route_names,
        services_by_date=_services_by_date(tables),
        shapes=shapes,
    )


def _numbers(series: pd.Series) -> np.ndarray:
    """Numeric column -> float64 (NaN where empty or malformed); the fast path skips pandas' parser."""
    values = series.to_numpy(dtype=object)
    try:
        return values.astype(np.float64)
    except ValueError:
        return pd.to_numeric(series, errors="coerce").to_numpy(np.float64)


def _services_by_date(tables) -> dict[date, frozenset[str]]:
    """date -> the services running that day (`feeds.gtfs.service_days`, as every consumer reads them)."""
    service_days = read_service_days(tables)
    active: dict[date, set[str]] = {}
    for service, service_id in enumerate(service_days.service_ids):
        for offset in np.flatnonzero(service_days.days[service]):
            active.setdefault(date.fromordinal(service_days.first_ordinal + int(offset)), set()).add(service_id)
    return {d: frozenset(s) for d, s in active.items()}


# -- deterministic randomness ----------------------------------------------------------------------
