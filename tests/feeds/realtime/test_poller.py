"""Polling real GTFS-realtime payloads over real HTTP from a local aiohttp server (127.0.0.1).

The server serves what each test puts in `FakePublisher.responses`, honours If-None-Match, and
can be switched to truncated protobuf, HTML error pages or HTTP errors mid-test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pandas as pd
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, generate_latest

from feeds.gtfs.reader import GtfsTables, read_gtfs
from feeds.realtime.match import StaticTripIndex
from feeds.realtime.model import FeedKind, RtErrorType
from feeds.realtime.poller import RealtimePoller, RealtimeSource, list_realtime_sources
from feeds.realtime.status import PrometheusCollector, RealtimeStatus
from oura.clock import FixedClock
from tests.conftest import require_shared_data
from tests.feeds.realtime.conftest import FakePublisher
from tests.registry_toml import TestNetwork, registry_text

pytestmark = pytest.mark.realdata

CALTRAIN_HEADER = 1699405534


@dataclass
class RecordingSink:
    trip_updates: list[tuple[str, list]] = field(default_factory=list)
    alerts: list[tuple[str, list]] = field(default_factory=list)
    vehicles: list[tuple[str, list]] = field(default_factory=list)

    async def on_trip_updates(self, feed_id, resolved, received_at) -> None:
        assert received_at.tzinfo is not None
        self.trip_updates.append((feed_id, list(resolved)))

    async def on_alerts(self, feed_id, alerts, received_at) -> None:
        self.alerts.append((feed_id, list(alerts)))

    async def on_vehicle_positions(self, feed_id, vehicles, received_at) -> None:
        self.vehicles.append((feed_id, list(vehicles)))


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture(scope="module")
def indexes() -> dict[str, StaticTripIndex]:
    return {
        "ct": StaticTripIndex.from_gtfs("ct", read_gtfs(require_shared_data("caltrain-2023-rt", "ct.zip"))),
        "bullrunner": StaticTripIndex.from_gtfs(
            "bullrunner", read_gtfs(require_shared_data("bullrunner-usf", "bullrunner-gtfs.zip"))
        ),
    }


def at(posix_s: int) -> FixedClock:
    return FixedClock(dt.datetime.fromtimestamp(posix_s, dt.UTC))


async def test_caltrain_survives_truncated_html_and_http_errors_then_expires(publisher, session, indexes) -> None:
    fake, base = publisher
    good = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    fake.responses["/ct/tu.pb"] = (200, good, '"v1"')
    clock, sink, status = at(CALTRAIN_HEADER + 20), RecordingSink(), RealtimeStatus()
    source = RealtimeSource("ct", FeedKind.TRIP_UPDATES, f"{base}/ct/tu.pb", poll_s=30)
    poller = RealtimePoller(session, [source], sink=sink, find_index=indexes.get, clock=clock, status=status)

    outcome = await poller.poll_once(source)
    assert outcome.result == "applied" and outcome.errors == ()
    ((feed_id, resolved),) = sink.trip_updates
    assert feed_id == "ct" and len(resolved) == 19
    assert all(u.trip_id.startswith("ct:") for u in resolved)
    assert sum(len(u.stop_time_updates) for u in resolved) >= 220

    # Conditional GET: the publisher answers 304, nothing is re-applied.
    clock.advance(30)
    assert (await poller.poll_once(source)).result == "not_modified"
    assert fake.requests[-1] == ("/ct/tu.pb", '"v1"')

    # Broken payloads are rejected, counted, and the previous good state keeps serving.
    clock.advance(30)
    fake.responses["/ct/tu.pb"] = (200, good[: len(good) // 2], '"v2"')
    truncated = await poller.poll_once(source)
    clock.advance(5)
    fake.responses["/ct/tu.pb"] = (200, b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", '"v3"')
    html = await poller.poll_once(source)
    clock.advance(5)
    fake.responses["/ct/tu.pb"] = (503, b"Service Unavailable", "")
    http_error = await poller.poll_once(source)
    assert (truncated.result, html.result, http_error.result) == ("rejected", "rejected", "failed")
    assert "truncated or corrupt" in truncated.detail and "HTML" in html.detail
    assert status.get_error_count("ct", RtErrorType.MALFORMED_PAYLOAD) == 2
    assert status.get_error_count("ct", RtErrorType.FETCH_FAILED) == 1
    assert len(sink.trip_updates) == 1
    assert len(poller.find_served("ct", FeedKind.TRIP_UPDATES)) == 19
    (feed_status,) = status.list_feed_statuses()
    assert not feed_status.stale and feed_status.applied_count == 19 and feed_status.fetch_count == 5

    # No fresh header for 3 intervals: flagged stale, updates expired (the sink gets an empty set).
    clock.set(dt.datetime.fromtimestamp(CALTRAIN_HEADER + 3 * 30 + 1, dt.UTC))
    expired = await poller.poll_once(source)
    assert expired.expired
    assert sink.trip_updates[-1] == ("ct", [])
    assert poller.find_served("ct", FeedKind.TRIP_UPDATES) is None
    assert status.list_feed_statuses()[0].stale

    # The same old payload coming back is refused as a stale header, not re-applied.
    fake.responses["/ct/tu.pb"] = (200, good, '"v1"')
    again = await poller.poll_once(source)
    assert again.result == "rejected" and again.errors[0].type == RtErrorType.STALE_HEADER
    assert len(sink.trip_updates) == 2

    registry = CollectorRegistry()
    registry.register(PrometheusCollector(status))
    text = generate_latest(registry).decode()
    assert 'oura_realtime_errors_total{feed_id="ct",kind="trip_updates",type="malformed_payload"} 2.0' in text
    assert 'oura_realtime_errors_total{feed_id="ct",kind="trip_updates",type="unknown_trip"} 0.0' in text
    assert 'oura_realtime_stale{feed_id="ct",kind="trip_updates"} 1.0' in text


async def test_hart_header_only_payloads_are_valid_and_empty(publisher, session) -> None:
    fake, base = publisher
    fake.responses["/hart/tu.pb"] = (200, require_shared_data("hart-tampa-2021", "hart-trip-updates.pb").read_bytes(), "")
    sink, status = RecordingSink(), RealtimeStatus()
    index = StaticTripIndex.from_gtfs("hart", _agency_only(require_shared_data("hart-tampa-2021", "hart.zip")))
    source = RealtimeSource("hart", FeedKind.TRIP_UPDATES, f"{base}/hart/tu.pb", poll_s=30)
    poller = RealtimePoller(session, [source], sink=sink, find_index=lambda _: index, clock=at(1615106995 + 10), status=status)
    outcome = await poller.poll_once(source)
    assert outcome.result == "applied" and outcome.errors == ()
    assert sink.trip_updates == [("hart", [])]
    (feed_status,) = status.list_feed_statuses()
    assert feed_status.header_timestamp == 1615106995 and feed_status.error_total == 0


async def test_bullrunner_vehicles_over_http_match_by_route(publisher, session, indexes) -> None:
    fake, base = publisher
    payload = require_shared_data("bullrunner-usf", "bullrunner-vehicle-positions.pb").read_bytes()
    fake.responses["/br/vp.pb"] = (200, payload, "")
    sink = RecordingSink()
    source = RealtimeSource("bullrunner", FeedKind.VEHICLE_POSITIONS, f"{base}/br/vp.pb", poll_s=15)
    poller = RealtimePoller(session, [source], sink=sink, find_index=indexes.get, clock=at(1505314375 + 5))
    assert (await poller.poll_once(source)).result == "applied"
    ((feed_id, vehicles),) = sink.vehicles
    assert feed_id == "bullrunner" and len(vehicles) == 10
    assert {v.matched_by for v in vehicles} == {"route"}
    assert all(v.route_id.startswith("bullrunner:") for v in vehicles)


async def test_unreachable_publisher_is_a_counted_fetch_failure(session, indexes) -> None:
    status = RealtimeStatus()
    source = RealtimeSource("ct", FeedKind.TRIP_UPDATES, "http://127.0.0.1:9/nothing.pb", poll_s=30)
    poller = RealtimePoller(session, [source], sink=RecordingSink(), find_index=indexes.get, clock=at(CALTRAIN_HEADER), status=status)
    outcome = await poller.poll_once(source)
    assert outcome.result == "failed"
    assert status.get_error_count("ct", RtErrorType.FETCH_FAILED) == 1


def test_sources_come_from_registry_networks() -> None:
    from feeds.authorities import parse_registry

    realtime = {"trip_updates": "http://127.0.0.1:8090/rt/tcl/trip-updates.pb",
                "alerts": "http://127.0.0.1:8090/rt/tcl/alerts.pb", "poll_s": 20}
    registry = parse_registry(
        registry_text(TestNetwork("sytral", "tcl", "gtfs/tcl.zip", realtime=realtime), region="demo",
                      timezone="Europe/Paris"),
        base_dir=Path("/tmp"),
    )
    sources = list_realtime_sources(registry.list_networks())
    assert [(s.feed_id, s.kind, s.poll_s) for s in sources] == [
        ("tcl", FeedKind.TRIP_UPDATES, 20),
        ("tcl", FeedKind.ALERTS, 20),
    ]


def _agency_only(path) -> GtfsTables:
    """HART's real agency.txt with no trips: all a header-only payload needs (and cheap to load)."""
    tables = read_gtfs(path, only=["agency"])
    empty = pd.DataFrame(
        {c: [] for c in ("trip_id", "route_id", "service_id", "stop_id", "stop_sequence", "arrival_time", "departure_time")},
        dtype=str,
    )
    return GtfsTables(source=tables.source, tables={**tables.tables, "trips": empty, "stop_times": empty})


async def test_a_payload_streamed_slowly_in_chunks_is_read_whole(session, indexes) -> None:
    """Regression: reading stopped at the first chunk, so a large feed sent in pieces was 'corrupt'."""
    import asyncio

    good = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-protobuf"})
        await response.prepare(request)
        for start in range(0, len(good), 1000):
            await response.write(good[start:start + 1000])
            await asyncio.sleep(0.005)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/ct/tu.pb", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        source = RealtimeSource("ct", FeedKind.TRIP_UPDATES, str(server.make_url("/ct/tu.pb")), poll_s=30)
        sink = RecordingSink()
        poller = RealtimePoller(session, [source], sink=sink, find_index=indexes.get, clock=at(CALTRAIN_HEADER + 20))
        outcome = await poller.poll_once(source)
        assert outcome.result == "applied", outcome.detail
        ((_, resolved),) = sink.trip_updates
        assert len(resolved) == 19
    finally:
        await server.close()
