"""Shared builders for planner tests: inline GTFS feeds and one canonical rendering of journeys.

A feed is written as text: a line naming a file (``stops.txt``) starts that file, the CSV lines
under it are its content. agency.txt (Europe/Paris) and a calendar running every day of 2024
(service ``S``) are added when the text has none.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.gtfs.reader import read_gtfs
from journey_planner.compile import CompileOptions, Network, compile_network
from journey_planner.core import Place, PlanRequest, PlanResult, TransitLeg, plan

DEFAULT_AGENCY = "agency_id,agency_name,agency_url,agency_timezone\na,Agency,http://a.example,Europe/Paris\n"
DEFAULT_CALENDAR = (
    "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
    "S,1,1,1,1,1,1,1,20240101,20241231\n"
)
DEFAULT_ROUTES = "route_id,route_short_name,route_type\nR1,R1,3\nR2,R2,3\nR3,R3,3\n"


def write_feed(folder: Path, text: str) -> Path:
    files: dict[str, list[str]] = {}
    current = None
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith(".txt") and "," not in line:
            current = line
            files[current] = []
        else:
            assert current is not None, f"content before a file name: {line}"
            files[current].append(line)
    files.setdefault("agency.txt", DEFAULT_AGENCY.strip().splitlines())
    if "calendar.txt" not in files and "calendar_dates.txt" not in files:
        files["calendar.txt"] = DEFAULT_CALENDAR.strip().splitlines()
    files.setdefault("routes.txt", DEFAULT_ROUTES.strip().splitlines())
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def build_network(tmp_path: Path, text: str, feed_id: str = "t", **options) -> Network:
    folder = write_feed(tmp_path / feed_id, text)
    return compile_network([(feed_id, read_gtfs(folder))], options=CompileOptions(**options))


def local_ts(text: str, tz: str = "Europe/Paris") -> int:
    """'2024-03-04 08:00' in the feed's zone -> POSIX seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp())


def place(net: Network, stop_id: str) -> Place:
    s = net.find_stop(f"t:{stop_id}")
    assert s is not None, stop_id
    return Place.of_stops(net.list_station_stops(s))


def run(net: Network, frm: str, to: str, at: str, **kw) -> PlanResult:
    tt = net.timetable
    request = PlanRequest(place(net, frm), place(net, to), local_ts(at), **kw)
    return plan(tt, request)


def render(net: Network, result: PlanResult, tz: str = "Europe/Paris") -> str:
    """One line per journey: ``R1 A 08:00 -> B 08:10 | walk B -> C 2m | ... (0:30, 1 transfer)``."""
    zone = ZoneInfo(tz)

    def hm(ts: int) -> str:
        return datetime.fromtimestamp(ts, zone).strftime("%H:%M")

    def name(s: int) -> str:
        return str(net.stop_ids[s]).split(":", 1)[1] if s >= 0 else "place"

    lines = []
    for j in result.journeys:
        parts = []
        for leg in j.legs:
            if isinstance(leg, TransitLeg):
                route = net.route_short_names[net.trip_routes[leg.trip]]
                parts.append(f"{route} {name(leg.from_stop)} {hm(leg.departure_s)} -> {name(leg.to_stop)} {hm(leg.arrival_s)}")
            else:
                path = " -> ".join(name(s) for s in (leg.from_stop, *leg.via_stops, leg.to_stop))
                parts.append(f"walk {path} {leg.duration_s // 60}m")
        d = j.duration_s // 60
        parts_s = " | ".join(parts)
        lines.append(f"{parts_s} ({d // 60}:{d % 60:02d}, {j.transfers} transfer{'s' if j.transfers != 1 else ''})")
    return "\n".join(lines)
