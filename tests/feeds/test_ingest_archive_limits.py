"""Zip bombs through the whole pipeline: over HTTP into PostgreSQL, through `oura feeds ingest`
and through the server's scheduler. A bomb is a rejected version with one fatal issue naming the
member and its sizes, the last good version keeps serving, and the limits are the configured ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from feeds import repository
from feeds.authorities import load_registry
from feeds.fetch import FetchLimits
from feeds.http import routes
from feeds.startup import SCHEDULER, feeds_context
from feeds.ingest import Outcome, ingest_network
from feeds.store import FeedStore
from oura.app import create_app
from oura.clock import FixedClock
from oura.keys import POOL
from tests.feeds.conftest import FeedServer, bullrunner_registry, real_feed_path, rewrite_feed, run_feeds_cli

pytestmark = pytest.mark.realdata

FAST = FetchLimits(retries=1, backoff_s=0.01, total_timeout_s=20)
SHAPES_BYTES = 73_286  # shapes.txt of the Bull Runner feed, its largest file


def _bomb(tmp_path: Path) -> tuple[Path, int]:
    """The Bull Runner feed with its stop_times.txt inflated to 8 MiB of one repeated row
    (a few kB zipped: the 3.2 MB -> 1 GiB feed of the issue, scaled down)."""
    row = "1,07:00:00,07:00:00,1,1,,,,\n"
    header = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,stop_headsign,pickup_type,drop_off_type," \
             "shape_dist_traveled\n"
    stop_times = header + row * ((8 << 20) // len(row))
    return rewrite_feed(real_feed_path("bullrunner"), tmp_path / "bomb.zip", {"stop_times.txt": stop_times}), \
        len(stop_times)


def _registry(tmp_path: Path, static: str) -> Path:
    return bullrunner_registry(tmp_path / "registry.toml", static)


async def test_a_zip_bomb_is_rejected_and_the_last_good_version_keeps_serving(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.serve("usf.zip", body=real_feed_path("bullrunner").read_bytes())
    network = load_registry(_registry(tmp_path, url)).find_network("bullrunner")
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    bomb, inflated_bytes = _bomb(tmp_path)
    async with aiohttp.ClientSession() as session:
        good = await ingest_network(db_pool, network, session=session, **kwargs)
        assert good.outcome is Outcome.ACCEPTED
        feed_server.serve("usf.zip", body=bomb.read_bytes())
        clock.advance(3600)
        rejected = await ingest_network(db_pool, network, session=session, **kwargs)

    assert rejected.outcome is Outcome.REJECTED
    assert "stop_times.txt" in rejected.message and "zip bomb" in rejected.message
    assert [(c.feed_id, c.version_id) for c in await repository.list_current_feeds(db_pool)] == [
        ("bullrunner", good.version_id)]
    version = await repository.find_version(db_pool, rejected.version_id)
    assert version.status == "rejected" and version.content_path is None
    assert "REJECTED" in version.summary and "compression_ratio_exceeded" in version.summary
    [issue] = await repository.list_issues(db_pool, rejected.version_id)
    assert (issue.code, issue.severity, issue.file) == ("compression_ratio_exceeded", "fatal", "stop_times.txt")
    assert issue.value.startswith(f"declared {inflated_bytes}, compressed ")
    state = await repository.find_fetch_state(db_pool, "bullrunner")
    assert state.last_outcome == "rejected"


_run = run_feeds_cli


def test_the_cli_rejects_a_bomb_and_applies_the_configured_limits(app_config, tmp_path: Path, capsys) -> None:
    bomb, _ = _bomb(tmp_path)
    config = replace(app_config, feeds=replace(app_config.feeds, registry=_registry(tmp_path, str(bomb))))

    assert _run(["feeds", "ingest"], config) == 1
    assert "rejected" in capsys.readouterr().out
    assert _run(["feeds", "report", "usf"], config) == 0
    out = capsys.readouterr().out
    assert "REJECTED" in out and "compression_ratio_exceeded" in out and "stop_times.txt" in out

    # the real feed, under a per-file limit below its shapes.txt: the configured value applies
    real = _registry(tmp_path, str(real_feed_path("bullrunner")))
    config = replace(config, feeds=replace(config.feeds, registry=real, max_member_uncompressed_bytes=SHAPES_BYTES - 1))
    assert _run(["feeds", "ingest"], config) == 1
    out = capsys.readouterr().out
    assert "rejected" in out and "shapes.txt" in out and f"{SHAPES_BYTES - 1:,} bytes per file" in out

    # the same bytes are not validated again unless forced, whatever the limits now say
    config = replace(config, feeds=replace(config.feeds, max_member_uncompressed_bytes=SHAPES_BYTES))
    assert _run(["feeds", "ingest", "--force"], config) == 0
    assert "accepted" in capsys.readouterr().out


async def test_the_server_ingests_with_the_configured_limits(app_config, make_client, tmp_path: Path) -> None:
    registry = _registry(tmp_path, str(real_feed_path("bullrunner")))
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, ingest_on_start=True,
                                               max_member_uncompressed_bytes=SHAPES_BYTES - 1))
    app = create_app(config, extra_routes=[routes], extra_contexts=[feeds_context])
    client = await make_client(app)
    await asyncio.wait_for(app[SCHEDULER].first_round.wait(), timeout=60)

    [version] = await repository.list_versions(app[POOL])
    assert version.status == "rejected"
    [issue] = await repository.list_issues(app[POOL], version.version_id)
    assert (issue.code, issue.file) == ("member_too_large", "shapes.txt")
    body = await (await client.get("/v1/feeds")).json()
    assert {feed["network_id"]: feed["health"] for feed in body["feeds"]} == {"bullrunner": "missing"}



async def test_the_download_limit_is_the_configured_one(
    db_pool, app_config, feed_server: FeedServer, tmp_path: Path
) -> None:
    from feeds.ingest import fetch_limits

    body = real_feed_path("bullrunner").read_bytes()
    network = load_registry(_registry(tmp_path, feed_server.serve("usf.zip", body=body))).find_network("bullrunner")
    feeds_config = replace(app_config.feeds, max_download_bytes=len(body) - 1)
    limits = replace(fetch_limits(feeds_config), retries=0)
    async with aiohttp.ClientSession() as session:
        outcome = await ingest_network(db_pool, network, session=session, store=FeedStore(tmp_path / "store"),
                                       clock=FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC)),
                                       work_dir=tmp_path / "work", limits=limits)
    assert outcome.outcome is not Outcome.ACCEPTED
    assert f"over the {len(body) - 1} bytes limit" in outcome.message or f"exceeds the {len(body) - 1}" in outcome.message
    assert fetch_limits(replace(feeds_config, max_download_bytes=len(body))).max_bytes == len(body)
