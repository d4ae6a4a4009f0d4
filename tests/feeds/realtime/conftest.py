"""Fixtures for realtime tests: a tiny inline static feed and GTFS-RT messages written as JSON.

The inline feed ``demo-2024-03-31`` is written by the test itself (STYLE rule 24): a few trips in
Europe/Paris, whose service days include the spring DST change of 2024-03-31, a trip past
midnight and a frequency-based trip. GTFS-RT messages are written as the JSON form of the
protobuf (json_format), encoded to real protobuf bytes, and go through `decode_feed_message`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb

from feeds.gtfs.reader import read_gtfs
from feeds.realtime.decode import decode_feed_message
from feeds.realtime.match import StaticTripIndex
from feeds.realtime.model import FeedMessage

DEMO_FEED = {
    "agency.txt": """agency_id,agency_name,agency_url,agency_timezone
demo,Demo,https://example.org,Europe/Paris
""",
    "stops.txt": """stop_id,stop_name,stop_lat,stop_lon
A,Alpha,45.0,4.0
B,Bravo,45.01,4.01
C,Charlie,45.02,4.02
D,Delta,45.03,4.03
""",
    "routes.txt": """route_id,agency_id,route_short_name,route_type
R1,demo,1,3
R2,demo,2,3
""",
    "calendar.txt": """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
ALL,1,1,1,1,1,1,1,20240101,20241231
""",
    "calendar_dates.txt": """service_id,date,exception_type
ALL,20240501,2
""",
    "trips.txt": """route_id,service_id,trip_id,direction_id
R1,ALL,T1,0
R1,ALL,T2,1
R2,ALL,F1,0
""",
    "stop_times.txt": """trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:12:00,B,2
T1,08:20:00,08:20:00,C,3
T1,08:30:00,08:30:00,D,4
T2,23:50:00,23:50:00,D,10
T2,24:10:00,24:10:00,C,20
T2,24:30:00,24:30:00,A,30
F1,06:00:00,06:00:00,A,1
F1,06:05:00,06:05:00,B,2
F1,06:10:00,06:10:00,C,3
""",
    "frequencies.txt": """trip_id,start_time,end_time,headway_secs,exact_times
F1,06:00:00,22:00:00,900,1
""",
}


@pytest.fixture(scope="session")
def demo_feed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-2024-03-31")
    for name, text in DEMO_FEED.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def demo_index(demo_feed_dir: Path) -> StaticTripIndex:
    return StaticTripIndex.from_gtfs("demo", read_gtfs(demo_feed_dir))


def rt_payload(entities: list[dict[str, Any]], *, timestamp: int | None = None) -> bytes:
    """Protobuf bytes of a FULL_DATASET FeedMessage written as its JSON form."""
    header: dict[str, Any] = {"gtfsRealtimeVersion": "2.0", "incrementality": "FULL_DATASET"}
    if timestamp is not None:
        header["timestamp"] = str(timestamp)
    message = json_format.Parse(
        json.dumps({"header": header, "entity": entities}), pb.FeedMessage()
    )
    return message.SerializeToString()


def rt_message(entities: list[dict[str, Any]], *, timestamp: int | None = None) -> FeedMessage:
    return decode_feed_message(rt_payload(entities, timestamp=timestamp), feed_id="demo")


@dataclass
class FakePublisher:
    responses: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)  # path -> status, body, etag
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, If-None-Match)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.headers.get("If-None-Match")))
        status, body, etag = self.responses[request.path]
        if status == 200 and etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        content_type = "text/html" if body.lstrip().startswith(b"<") else "application/x-protobuf"
        headers = {"ETag": etag} if etag else {}
        return web.Response(status=status, body=body, content_type=content_type, headers=headers)


@pytest_asyncio.fixture
async def publisher() -> AsyncIterator[tuple[FakePublisher, str]]:
    fake = FakePublisher()
    app = web.Application()
    app.router.add_get("/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield fake, f"http://127.0.0.1:{server.port}"
    await server.close()
