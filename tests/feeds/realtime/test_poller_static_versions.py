"""A realtime payload follows the static version it is matched against.

FEATURE UNDER TEST: a publisher keeps serving the same TripUpdates bytes (or answers 304) while a
new static version of its network is published. The payload was matched against the old
version's trips; it must be matched again against the new one on the next poll, not only when
the realtime bytes change. Everything is real: the inline ``demo-2024-03-31`` feed is ingested
into PostgreSQL, indexed by `feeds.realtime.indexes.TripIndexes` (the assembly's builder), and polled over HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from feeds import repository
from feeds.authorities import parse_registry
from feeds.ingest import Outcome, ingest_network
from feeds.realtime.indexes import TripIndexes, current_feed_sources
from feeds.realtime.model import FeedKind, RtErrorType
from feeds.realtime.poller import RealtimePoller, RealtimeSource
from feeds.store import FeedStore
from oura.clock import FixedClock
from tests.feeds.realtime.conftest import DEMO_FEED, rt_payload

HEADER = int(dt.datetime(2024, 4, 2, 8, 5, tzinfo=ZoneInfo("Europe/Paris")).timestamp())
PAYLOAD = rt_payload(
    [
        {"id": f"e-{trip}", "tripUpdate": {"trip": {"tripId": trip, "startDate": "20240402"},
                                           "stopTimeUpdate": [{"stopSequence": sequence, "arrival": {"delay": 120}}]}}
        for trip, sequence in (("T1", 2), ("T2", 20))
    ],
    timestamp=HEADER,
)


class Publisher:
    """Serves PAYLOAD, always the same bytes; with an ETag it answers 304 to a conditional GET."""

    def __init__(self, etag: str) -> None:
        self.etag = etag
        self.if_none_match: list[str | None] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.if_none_match.append(request.headers.get("If-None-Match"))
        if self.etag and request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        headers = {"ETag": self.etag} if self.etag else {}
        return web.Response(body=PAYLOAD, content_type="application/x-protobuf", headers=headers)


@pytest_asyncio.fixture(params=['"tu-1"', ""], ids=["etag", "no-etag"])
async def publisher(request) -> AsyncIterator[tuple[Publisher, str]]:
    fake = Publisher(request.param)
    app = web.Application()
    app.router.add_get("/demo/tu.pb", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("/demo/tu.pb"))
    finally:
        await server.close()


class LastTripUpdates:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def on_trip_updates(self, feed_id, resolved, received_at) -> None:
        self.calls.append(sorted(update.trip_id for update in resolved))

    async def on_alerts(self, feed_id, alerts, received_at) -> None: ...

    async def on_vehicle_positions(self, feed_id, vehicles, received_at) -> None: ...


def _write_feed(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _without_t2(files: dict[str, str]) -> dict[str, str]:
    def drop(text: str) -> str:
        return "".join(line for line in text.splitlines(keepends=True) if "T2" not in line)

    return {**files, "trips.txt": drop(files["trips.txt"]), "stop_times.txt": drop(files["stop_times.txt"])}


async def test_an_unchanged_payload_is_matched_again_after_a_new_static_version(
    db_pool, publisher: tuple[Publisher, str], tmp_path: Path
) -> None:
    fake, url = publisher
    static = tmp_path / "demo-2024-03-31"
    _write_feed(static, DEMO_FEED)
    registry = parse_registry(
        '[region]\nname = "Demo"\ntimezone = "Europe/Paris"\n'
        '[[authorities]]\nid = "demo"\nname = "Demo"\nkind = "urban"\n'
        f'  [[authorities.networks]]\n  id = "demo"\n  name = "Demo"\n  static = "{static}"\n',
        base_dir=tmp_path,
    )
    network = registry.list_networks()[0]
    clock = FixedClock(dt.datetime.fromtimestamp(HEADER, dt.UTC))
    indexes = TripIndexes()

    async def publish_static() -> None:
        outcome = await ingest_network(db_pool, network, store=FeedStore(tmp_path / "store"), session=None,
                                       clock=clock, work_dir=tmp_path / "work")
        assert outcome.outcome is Outcome.ACCEPTED, outcome.message
        current = await repository.list_current_feeds(db_pool, timezones={"demo": "Europe/Paris"})
        assert indexes.refresh(current_feed_sources(current, {})) == 1

    sink = LastTripUpdates()
    source = RealtimeSource("demo", FeedKind.TRIP_UPDATES, url, poll_s=30)
    async with aiohttp.ClientSession() as session:
        poller = RealtimePoller(session, [source], sink=sink, find_index=indexes.find, clock=clock)
        await publish_static()
        first = await poller.poll_once(source)
        assert first.result == "applied", first.detail
        assert sink.calls == [["demo:T1", "demo:T2"]]

        _write_feed(static, _without_t2(DEMO_FEED))  # the new version no longer runs T2
        clock.advance(10)
        await publish_static()
        clock.advance(10)
        again = await poller.poll_once(source)
        assert again.result == "applied", again.detail
        assert sink.calls[-1] == ["demo:T1"]
        assert [e.type for e in again.errors] == [RtErrorType.UNKNOWN_TRIP]
        assert fake.if_none_match[-1] is None  # fetched in full: a 304 must not hide the payload

        clock.advance(10)
        idle = await poller.poll_once(source)  # same bytes, same static version: nothing to redo
    assert idle.result == ("not_modified" if fake.etag else "unchanged")
    assert len(sink.calls) == 2
