"""Alerts stored in PostgreSQL and served by GET /v1/alerts; vehicles; realtime metrics.

Alerts arrive the production way: a GTFS-realtime payload served over HTTP on 127.0.0.1, polled,
decoded, handed to the alert store sink, replaced per feed, then read back through the API.
"""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest_asyncio

from feeds.realtime.http import routes
from feeds.realtime.model import FeedKind, RtErrorType
from feeds.realtime.poller import RealtimePoller, RealtimeSource
from feeds.realtime.startup import ALERT_REPOSITORY, REALTIME_STATUS, VEHICLES, AlertStoreSink, realtime_context
from oura.app import create_app
from oura.auth import create_key
from oura.clock import FixedClock
from oura.keys import POOL
from tests.feeds.realtime.conftest import rt_payload
from tests.registry_toml import TestNetwork, write_registry

NOW = 1711962000  # 2024-04-01 09:00 UTC


def alert(entity_id: str, *, periods: list[tuple[int | None, int | None]], entities: list[dict], effect: str = "DETOUR") -> dict:
    return {
        "id": entity_id,
        "alert": {
            "activePeriod": [
                {k: str(v) for k, v in (("start", start), ("end", end)) if v is not None} for start, end in periods
            ],
            "informedEntity": entities,
            "effect": effect,
            "headerText": {"translation": [{"text": f"Alerte {entity_id}", "language": "fr"}]},
        },
    }


@pytest_asyncio.fixture
async def realtime_client(app_config, make_client):
    clock = FixedClock(dt.datetime.fromtimestamp(NOW, dt.UTC))
    app = create_app(app_config, clock=clock, extra_routes=[routes], extra_contexts=[realtime_context])
    client = await make_client(app)
    return client, clock


async def test_alerts_polled_stored_replaced_and_filtered(realtime_client, publisher) -> None:
    client, clock = realtime_client
    fake, base = publisher
    fake.responses["/demo/alerts.pb"] = (
        200,
        rt_payload(
            [
                alert("works", periods=[(NOW - 3600, NOW + 3600)], entities=[{"stopId": "B"}, {"routeId": "R1"}]),
                alert("later", periods=[(NOW + 86400, None)], entities=[{"stopId": "B"}]),
                alert("always", periods=[], entities=[{"routeId": "R2"}], effect="REDUCED_SERVICE"),
            ],
            timestamp=NOW - 10,
        ),
        '"a1"',
    )
    app = client.app
    source = RealtimeSource("demo", FeedKind.ALERTS, f"{base}/demo/alerts.pb", poll_s=60)
    async with aiohttp.ClientSession() as session:
        poller = RealtimePoller(
            session, [source], sink=AlertStoreSink(app[ALERT_REPOSITORY]), find_index=lambda _: None,
            clock=clock, status=app[REALTIME_STATUS],
        )
        assert (await poller.poll_once(source)).result == "applied"

        response = await client.get("/v1/alerts")
        assert response.status == 200
        body = await response.json()
        assert [a["id"] for a in body["alerts"]] == ["demo:always", "demo:works"]
        works = body["alerts"][1]
        assert works["header_text"] == {"fr": "Alerte works"} and works["effect"] == "DETOUR"
        assert works["informed_entities"] == [{"stop_id": "demo:B"}, {"route_id": "demo:R1"}]
        assert works["active_periods"] == [
            {"start": dt.datetime.fromtimestamp(NOW - 3600, dt.UTC).isoformat(),
             "end": dt.datetime.fromtimestamp(NOW + 3600, dt.UTC).isoformat()}
        ]

        by_stop = await (await client.get("/v1/alerts", params={"stop": "demo:B"})).json()
        assert [a["id"] for a in by_stop["alerts"]] == ["demo:works"]
        tomorrow = dt.datetime.fromtimestamp(NOW + 86400 + 60, dt.UTC).isoformat()
        later = await (await client.get("/v1/alerts", params={"stop": "demo:B", "active_at": tomorrow})).json()
        assert [a["id"] for a in later["alerts"]] == ["demo:later"]
        by_route = await (await client.get("/v1/alerts", params={"route": "demo:R2"})).json()
        assert [a["id"] for a in by_route["alerts"]] == ["demo:always"]

        # The next fetch replaces the feed's whole set.
        clock.advance(60)
        fake.responses["/demo/alerts.pb"] = (
            200, rt_payload([alert("new", periods=[], entities=[{"stopId": "C"}])], timestamp=NOW + 50), '"a2"'
        )
        assert (await poller.poll_once(source)).result == "applied"
        replaced = await (await client.get("/v1/alerts")).json()
        assert [a["id"] for a in replaced["alerts"]] == ["demo:new"]

        # A broken payload keeps the stored set and shows in /metrics.
        clock.advance(60)
        fake.responses["/demo/alerts.pb"] = (200, b"<html>oops</html>", '"a3"')
        assert (await poller.poll_once(source)).result == "rejected"
        kept = await (await client.get("/v1/alerts")).json()
        assert [a["id"] for a in kept["alerts"]] == ["demo:new"]
        assert app[REALTIME_STATUS].get_error_count("demo", RtErrorType.MALFORMED_PAYLOAD) == 1
        _, token = await create_key(app[POOL], "metrics")
        metrics = await (await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})).text()
        assert 'oura_realtime_errors_total{feed_id="demo",kind="alerts",type="malformed_payload"} 1.0' in metrics


async def test_alerts_bad_parameter_is_a_problem(realtime_client) -> None:
    client, _ = realtime_client
    response = await client.get("/v1/alerts", params={"active_at": "tomorrow-ish"})
    assert response.status == 400
    assert response.content_type == "application/problem+json"


async def test_vehicles_endpoint_filters_by_route(realtime_client) -> None:
    from feeds.realtime.model import ResolvedVehiclePosition

    client, clock = realtime_client
    store = client.app[VEHICLES]
    await store.on_vehicle_positions(
        "bullrunner",
        [
            ResolvedVehiclePosition("bullrunner", "1", "1536", 28.06, -82.41, "route", route_id="bullrunner:F"),
            ResolvedVehiclePosition("bullrunner", "2", "1540", 28.05, -82.42, "route", route_id="bullrunner:A"),
        ],
        clock.now(),
    )
    body = await (await client.get("/v1/vehicles", params={"route": "bullrunner:F"})).json()
    assert [(v["vehicle_id"], v["matched_by"]) for v in body["vehicles"]] == [("1536", "route")]


async def test_feed_statuses_round_trip_for_the_report(db_pool) -> None:
    from feeds.realtime.model import RtError
    from feeds.realtime.report import format_realtime_report
    from feeds.realtime.repository import AlertRepository
    from feeds.realtime.status import RealtimeStatus

    now = dt.datetime.fromtimestamp(NOW, dt.UTC)
    status = RealtimeStatus()
    status.declare("ct", FeedKind.TRIP_UPDATES, "http://127.0.0.1/ct.pb", 30)
    status.mark_fetched("ct", FeedKind.TRIP_UPDATES, now)
    status.mark_applied("ct", FeedKind.TRIP_UPDATES, now, header_timestamp=NOW - 20, entity_count=19, applied_count=18)
    status.count_errors("ct", FeedKind.TRIP_UPDATES, [RtError(RtErrorType.UNKNOWN_TRIP, detail="unknown trip_id 'x'")] * 2)
    repository = AlertRepository(db_pool)
    await repository.save_feed_statuses(status.list_feed_statuses(), now)
    await repository.save_feed_statuses(status.list_feed_statuses(), now)  # upsert, not duplicate
    (stored,) = await repository.list_feed_statuses()
    assert stored.error_counts[RtErrorType.UNKNOWN_TRIP] == 2
    assert (stored.entity_count, stored.applied_count, stored.header_timestamp) == (19, 18, NOW - 20)
    text = format_realtime_report([stored], now)
    assert "unknown_trip=2" in text and "20s ago" in text


async def test_realtime_context_polls_registry_sources_into_the_sink(app_config, make_client, publisher, tmp_path) -> None:
    import asyncio
    from dataclasses import replace

    from feeds.realtime.startup import REALTIME_SINK
    from tests.conftest import require_shared_data
    from tests.feeds.realtime.test_poller import CALTRAIN_HEADER, RecordingSink

    fake, base = publisher
    fake.responses["/ct/tu.pb"] = (200, require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes(), '"x"')
    registry = write_registry(
        tmp_path / "registry.toml",
        TestNetwork("caltrain", "ct", require_shared_data("caltrain-2023-rt", "ct.zip"), authority_name="Caltrain",
                    network_name="Caltrain", kind="region", realtime={"trip_updates": f"{base}/ct/tu.pb", "poll_s": 1}),
        region="test", timezone="America/Los_Angeles",
    )
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, realtime=True))
    clock = FixedClock(dt.datetime.fromtimestamp(CALTRAIN_HEADER + 5, dt.UTC))
    app = create_app(config, clock=clock, extra_routes=[routes], extra_contexts=[realtime_context])
    sink = RecordingSink()
    app[REALTIME_SINK] = sink
    client = await make_client(app)
    for _ in range(100):  # bounded wait for the background index build and the next poll
        if sink.trip_updates:
            break
        await asyncio.sleep(0.1)
    ((feed_id, resolved),) = sink.trip_updates[:1]
    assert feed_id == "ct" and len(resolved) == 19
    (status,) = client.app[REALTIME_STATUS].list_feed_statuses()
    assert status.applied_count == 19 and status.error_total == 0
