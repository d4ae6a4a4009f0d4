"""REST: /v1/authorities, /v1/feeds and version reports, on a real app and database, after an
ingestion of a real feed and a rejected broken one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.authorities import load_registry
from feeds.http import routes
from feeds.startup import feeds_context
from feeds.ingest import Outcome, ingest_network
from feeds.store import FeedStore
from oura.app import create_app
from oura.clock import FixedClock
from oura.keys import POOL
from tests.feeds.conftest import real_feed_path, rewrite_feed
from tests.registry_toml import TestNetwork, write_registry

pytestmark = pytest.mark.realdata


async def test_authorities_and_feeds_endpoints(app_config, make_client, tmp_path: Path) -> None:
    good = real_feed_path("bullrunner")
    broken = rewrite_feed(good, tmp_path / "broken.zip", {"stops.txt": None})
    registry_file = write_registry(
        tmp_path / "registry.toml",
        TestNetwork("usf", "bullrunner", good, authority_name="University of South Florida", network_name="Bull Runner",
                    realtime={"vehicle_positions": "http://127.0.0.1:1/vp.pb"}),
        region="Test region",
    )
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry_file))
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    app = create_app(config, clock=clock, extra_routes=[routes], extra_contexts=[feeds_context])
    client = await make_client(app)
    pool = app[POOL]
    network = load_registry(registry_file).list_networks()[0]
    store = FeedStore(config.feeds.store_dir)
    accepted = await ingest_network(pool, network, store=store, session=None, clock=clock, work_dir=tmp_path / "w")
    assert accepted.outcome is Outcome.ACCEPTED
    clock.advance(60)
    rejected = await ingest_network(pool, replace(network, static=str(broken)), store=store, session=None,
                                    clock=clock, work_dir=tmp_path / "w")
    assert rejected.outcome is Outcome.REJECTED

    response = await client.get("/v1/authorities")
    assert response.status == 200
    body = await response.json()
    assert body["region"] == "Test region"
    [authority] = body["authorities"]
    assert authority["authority_id"] == "usf"
    [net] = authority["networks"]
    assert net["realtime"] == ["vehicle_positions"]
    assert net["current_version_id"] == accepted.version_id
    assert net["health"] == "failing"  # the latest attempt was rejected; the good version serves

    response = await client.get("/v1/feeds", params={"authority": "usf"})
    assert response.status == 200
    [feed] = (await response.json())["feeds"]
    assert feed["current"]["version_id"] == accepted.version_id
    assert feed["current"]["counts"]["stops"] == 125
    assert [v["status"] for v in feed["versions"]] == ["rejected", "accepted"]
    assert "stops.txt" in feed["reason"]

    response = await client.get(f"/v1/feeds/versions/{rejected.version_id}/report")
    assert response.status == 200
    report = await response.json()
    assert "REJECTED" in report["summary"]
    assert report["issues"][0]["code"] == "missing_file" and report["issues"][0]["file"] == "stops.txt"

    response = await client.get("/v1/feeds/versions/999999/report")
    assert response.status == 404 and (await response.json())["code"] == "unknown_feed_version"
    response = await client.get("/v1/feeds", params={"authority": "nobody"})
    assert response.status == 404 and (await response.json())["code"] == "unknown_network"
