"""Fixtures for the disruptions tests: two tiny networks written inline (STYLE: fixtures are the
project's own), of two authorities, indexed as the app indexes the served versions.

``net`` (authority ``auth-a``, Europe/Paris): route R1 A-B-C-D-E on weekdays (T1 at 08:00, T2 the
other way at 09:00), route R2 A-C (U1, daily), the frequency trip F1 on R2 every 30 min 06:00-07:00.
``other`` (authority ``auth-b``): one route Q1 X-Y.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.authorities import Authority, Network, Registry
from feeds.gtfs.reader import read_gtfs
from feeds.realtime.match import StaticTripIndex
from oura.auth import Principal, Role

NET = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://example.org,Europe/Paris\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"{s},{s},45.0{i},4.0{i}\n" for i, s in enumerate("ABCDE")),
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,a,1,3\nR2,a,2,3\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                    "WK,1,1,1,1,1,0,0,20250101,20251231\nALL,1,1,1,1,1,1,1,20250101,20251231\n",
    "trips.txt": "route_id,service_id,trip_id,direction_id\nR1,WK,T1,0\nR1,WK,T2,1\nR2,ALL,U1,0\nR2,ALL,F1,0\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,B,2\nT1,08:20:00,08:20:00,C,3\n"
                      "T1,08:30:00,08:30:00,D,4\nT1,08:40:00,08:40:00,E,5\n"
                      "T2,09:00:00,09:00:00,E,1\nT2,09:10:00,09:10:00,D,2\nT2,09:20:00,09:20:00,C,3\n"
                      "T2,09:30:00,09:30:00,B,4\nT2,09:40:00,09:40:00,A,5\n"
                      "U1,10:00:00,10:00:00,A,1\nU1,10:15:00,10:15:00,C,2\n"
                      "F1,06:00:00,06:00:00,A,1\nF1,06:15:00,06:15:00,C,2\n",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\nF1,06:00:00,07:00:00,1800,1\n",
}
OTHER = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nb,B,https://example.org,Europe/Paris\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nX,X,46.0,5.0\nY,Y,46.1,5.1\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nQ1,b,Q,3\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                    "ALL,1,1,1,1,1,1,1,20250101,20251231\n",
    "trips.txt": "route_id,service_id,trip_id\nQ1,ALL,Q1a\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "Q1a,07:00:00,07:00:00,X,1\nQ1a,07:10:00,07:10:00,Y,2\n",
}
# Wednesday 5 March 2025, 06:00 in Paris (UTC+1)
NOW = dt.datetime(2025, 3, 5, 5, 0, tzinfo=dt.UTC)
PARIS = dt.timezone(dt.timedelta(hours=1))


def _index(folder: Path, feed_id: str, files: dict[str, str]) -> StaticTripIndex:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return StaticTripIndex.from_gtfs(feed_id, read_gtfs(folder), timezone="Europe/Paris", version="v1")


@pytest.fixture(scope="session")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StaticTripIndex]:
    root = tmp_path_factory.mktemp("disruption-feeds")
    return {"net": _index(root / "net", "net", NET), "other": _index(root / "other", "other", OTHER)}


@pytest.fixture(scope="session")
def registry() -> Registry:
    def network(network_id: str, authority_id: str) -> Network:
        return Network(network_id, network_id, authority_id, "Europe/Paris", f"/nowhere/{network_id}.zip")

    return Registry("<test>", "Test", "Europe/Paris", (
        Authority("auth-a", "A", "urban", "Europe/Paris", (network("net", "auth-a"),)),
        Authority("auth-b", "B", "urban", "Europe/Paris", (network("other", "auth-b"),)),
    ))


AUTH_A = Principal("key-a", Role.AUTHORITY, "auth-a", "a")
AUTH_B = Principal("key-b", Role.AUTHORITY, "auth-b", "b")
ADMIN = Principal("key-admin", Role.ADMIN, None, "admin")


def period(start_h: float = 0, end_h: float | None = 48) -> dict[str, str | None]:
    """A period in Paris time from NOW + start_h hours to NOW + end_h hours."""
    def at(hours: float) -> str:
        return (NOW + dt.timedelta(hours=hours)).astimezone(PARIS).isoformat()

    return {"start": at(start_h), "end": None if end_h is None else at(end_h)}
