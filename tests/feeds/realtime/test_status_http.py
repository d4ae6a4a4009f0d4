"""GET /v1/realtime/status and the poller's rejections (issue 13 diagnostics).

A trip-updates payload served over HTTP on 127.0.0.1 is polled the production way (conditional
GET, decode, match against the inline ``demo`` feed): its rejected entities (trip_id conflict,
duplicate entity, unknown trip) are counted and listed with their reasons; a truncated payload
next is one counted ``malformed_payload`` with a one-line warning, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging

import aiohttp
import pytest_asyncio

from feeds.realtime.http import routes
from feeds.realtime.model import FeedKind
from feeds.realtime.poller import RealtimePoller, RealtimeSource
from feeds.realtime.startup import REALTIME_STATUS, realtime_context
from feeds.realtime.status import RECENT_REJECTED_LIMIT
from oura.app import create_app
from oura.clock import FixedClock
from tests.feeds.realtime.conftest import rt_payload

NOW = 1711962000  # 2024-04-01 09:00 UTC


class RecordingSink:
    def __init__(self) -> None:
        self.trip_updates: list = []

    async def on_trip_updates(self, feed_id, resolved, received_at) -> None:  # type: ignore[no-untyped-def]
        self.trip_updates.append((feed_id, list(resolved)))

    async def on_alerts(self, feed_id, alerts, received_at) -> None:  # type: ignore[no-untyped-def]
        pass

    async def on_vehicle_positions(self, feed_id, vehicles, received_at) -> None:  # type: ignore[no-untyped-def]
        pass


def entity(entity_id: str, trip: dict, updates: list[dict]) -> dict:
    return {"id": entity_id, "tripUpdate": {"trip": trip, "stopTimeUpdate": updates}}


PAYLOAD_ENTITIES = [
    entity("genuine", {"tripId": "T1", "startDate": "20240401"}, [{"stopSequence": 2, "arrival": {"delay": 120}}]),
    entity("impostor", {"tripId": "T1", "routeId": "R1", "scheduleRelationship": "NEW"},
           [{"stopId": "A", "arrival": {"time": str(NOW + 600)}}, {"stopId": "D", "arrival": {"time": str(NOW + 1800)}}]),
    entity("again", {"tripId": "T1", "startDate": "20240401", "scheduleRelationship": "CANCELED"}, []),
    entity("ghost", {"tripId": "NOPE", "startDate": "20240401"}, [{"stopSequence": 1, "arrival": {"delay": 60}}]),
]


@pytest_asyncio.fixture
async def status_client(app_config, make_client):
    clock = FixedClock(dt.datetime.fromtimestamp(NOW, dt.UTC))
    app = create_app(app_config, clock=clock, extra_routes=[routes], extra_contexts=[realtime_context])
    return await make_client(app), clock


async def test_status_lists_rejected_entities_and_malformed_payloads(status_client, publisher, demo_index, caplog):
    client, clock = status_client
    fake, base = publisher
    fake.responses["/demo/tu.pb"] = (200, rt_payload(PAYLOAD_ENTITIES, timestamp=NOW - 10), '"v1"')
    source = RealtimeSource("demo", FeedKind.TRIP_UPDATES, f"{base}/demo/tu.pb", poll_s=30)
    sink = RecordingSink()
    async with aiohttp.ClientSession() as session:
        poller = RealtimePoller(session, [source], sink=sink, find_index=lambda _: demo_index,
                                clock=clock, status=client.app[REALTIME_STATUS])
        assert (await poller.poll_once(source)).result == "applied"
        [(feed_id, resolved)] = sink.trip_updates
        assert [(u.entity_id, u.canceled) for u in resolved] == [("genuine", False)]

        response = await client.get("/v1/realtime/status")
        assert response.status == 200
        [status] = (await response.json())["sources"]
        assert (status["feed_id"], status["kind"], status["url"], status["stale"]) == (
            "demo", "trip_updates", source.url, False)
        assert status["entities"] == {"total": 4, "applied": 1, "rejected": 3}
        assert status["header_timestamp"] == dt.datetime.fromtimestamp(NOW - 10, dt.UTC).isoformat()
        assert status["last_applied_at"] is not None and status["last_fetch_at"] is not None
        counts = {k: v for k, v in status["error_counts"].items() if v}
        assert counts == {"trip_id_conflict": 1, "duplicate_entity": 1, "unknown_trip": 1}
        assert [(r["type"], r["entity_id"], r["trip_id"]) for r in status["recent_rejected"]] == [
            ("unknown_trip", "ghost", "NOPE"),
            ("duplicate_entity", "again", "T1"),
            ("trip_id_conflict", "impostor", "T1"),
        ]

        fake.responses["/demo/tu.pb"] = (200, rt_payload(PAYLOAD_ENTITIES, timestamp=NOW)[:-9], '"v2"')
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="feeds.realtime.poller"):
            assert (await poller.poll_once(source)).result == "rejected"
        [record] = caplog.records
        assert record.exc_info is None and "\n" not in record.getMessage()
        assert "malformed_payload" in record.getMessage() and "truncated or corrupt" in record.getMessage()
        assert len(sink.trip_updates) == 1  # the previous good state keeps serving

        response = await client.get("/v1/realtime/status", params={"feed": "demo"})
        [status] = (await response.json())["sources"]
        assert status["error_counts"]["malformed_payload"] == 1
        assert status["recent_rejected"][0]["type"] == "malformed_payload"
        assert status["entities"]["applied"] == 1
        assert (await (await client.get("/v1/realtime/status", params={"feed": "other"})).json())["sources"] == []


async def test_recent_rejections_are_bounded(status_client, publisher, demo_index):
    client, clock = status_client
    fake, base = publisher
    ghosts = [entity(f"g{i}", {"tripId": f"NOPE{i}", "startDate": "20240401"}, []) for i in range(30)]
    fake.responses["/demo/tu.pb"] = (200, rt_payload(ghosts, timestamp=NOW - 10), '"g"')
    source = RealtimeSource("demo", FeedKind.TRIP_UPDATES, f"{base}/demo/tu.pb", poll_s=30)
    async with aiohttp.ClientSession() as session:
        poller = RealtimePoller(session, [source], sink=RecordingSink(), find_index=lambda _: demo_index,
                                clock=clock, status=client.app[REALTIME_STATUS])
        await poller.poll_once(source)
    [status] = (await (await client.get("/v1/realtime/status")).json())["sources"]
    assert status["error_counts"]["unknown_trip"] == 30
    assert [r["entity_id"] for r in status["recent_rejected"]] == [f"g{i}" for i in range(29, 29 - RECENT_REJECTED_LIMIT, -1)]


async def test_feeds_report_lists_the_most_recent_rejections(status_client, publisher, demo_index):
    from feeds.realtime.report import REPORTED_REJECTIONS, format_realtime_report

    client, clock = status_client
    fake, base = publisher
    fake.responses["/demo/tu.pb"] = (200, rt_payload(PAYLOAD_ENTITIES, timestamp=NOW - 10), '"v1"')
    source = RealtimeSource("demo", FeedKind.TRIP_UPDATES, f"{base}/demo/tu.pb", poll_s=30)
    async with aiohttp.ClientSession() as session:
        poller = RealtimePoller(session, [source], sink=RecordingSink(), find_index=lambda _: demo_index,
                                clock=clock, status=client.app[REALTIME_STATUS])
        await poller.poll_once(source)
    text = format_realtime_report(client.app[REALTIME_STATUS].list_feed_statuses(), clock.now())
    rejected = [line.strip() for line in text.splitlines() if line.strip().startswith("rejected:")]
    assert len(rejected) == min(3, REPORTED_REJECTIONS)
    assert rejected[0].startswith("rejected: entity=ghost trip=NOPE type=unknown_trip detail=")
