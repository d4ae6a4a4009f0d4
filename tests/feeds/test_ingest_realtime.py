"""Static ingestion feeding realtime matching, everything over real HTTP from 127.0.0.1.

Caltrain's static feed is ingested through the pipeline; its TripUpdates sample is fetched from
the same local server and matched against the *stored* current version, as the planner will.
SOURCE.md: 19 TripUpdates with 220 stop_time_updates, all of whose trip_ids and stop_ids match.
HART's realtime files are valid but empty; a truncated payload is refused with a clear error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
import pytest

from feeds import repository
from feeds.authorities import parse_registry
from feeds.fetch import FetchLimits, FetchStatus, fetch_feed
from feeds.gtfs.reader import read_gtfs
from feeds.ingest import Outcome, ingest_networks
from feeds.realtime.decode import RtDecodeError, decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates
from feeds.store import FeedStore
from oura.clock import FixedClock
from tests.conftest import require_shared_data
from tests.feeds.conftest import FeedServer, real_feed_path
from tests.registry_toml import TestNetwork, registry_text

pytestmark = pytest.mark.realdata

FAST = FetchLimits(retries=1, backoff_s=0.01)


async def _payload(session: aiohttp.ClientSession, url: str, tmp_path: Path) -> bytes:
    fetched = await fetch_feed(url, session=session, dest_dir=tmp_path, limits=FAST)
    assert fetched.status is FetchStatus.FETCHED
    try:
        return fetched.path.read_bytes()
    finally:
        fetched.discard()


async def test_caltrain_trip_updates_match_the_ingested_static_version(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    static_url = feed_server.serve("ct.zip", body=real_feed_path("caltrain").read_bytes())
    tu_url = feed_server.serve("ct/trip-updates.pb",
                               body=require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes(),
                               content_type="application/x-protobuf")
    registry = parse_registry(registry_text(
        TestNetwork("caltrain", "ct", static_url, authority_name="Caltrain", network_name="Caltrain", kind="region",
                    realtime={"trip_updates": tu_url}),
        region="Peninsula", timezone="America/Los_Angeles",
    ), base_dir=tmp_path)
    network = registry.list_networks()[0]
    store = FeedStore(tmp_path / "feeds")
    clock = FixedClock(dt.datetime(2023, 11, 8, 1, 6, tzinfo=dt.UTC))
    async with aiohttp.ClientSession() as session:
        [outcome] = await ingest_networks(db_pool, [network], store=store, session=session, clock=clock,
                                          work_dir=tmp_path / "work", limits=FAST)
        assert outcome.outcome is Outcome.ACCEPTED
        payload = await _payload(session, network.realtime.trip_updates, tmp_path)

    [current] = await repository.list_current_feeds(db_pool, timezones={"ct": network.timezone})
    index = StaticTripIndex.from_gtfs(current.feed_id, read_gtfs(current.content_path), timezone=current.timezone)
    message = decode_feed_message(payload, feed_id="ct")
    resolved, errors = resolve_trip_updates(message, index)
    assert errors == []
    assert len(resolved) == 19
    assert sum(len(update.stop_time_updates) for update in message.trip_updates) == 220
    # every published stop_time_update resolves (the resolver may add propagated ones downstream)
    assert sum(len(update.stop_time_updates) for update in resolved) >= 220
    assert all(update.trip_id.startswith("ct:") for update in resolved)


async def test_empty_and_truncated_realtime_payloads(feed_server: FeedServer, tmp_path: Path) -> None:
    empty_url = feed_server.serve("hart/trip-updates.pb",
                                  body=require_shared_data("hart-tampa-2021", "hart-trip-updates.pb").read_bytes())
    full = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    truncated_url = feed_server.serve("ct/truncated.pb", body=full[: len(full) // 2])
    async with aiohttp.ClientSession() as session:
        empty = decode_feed_message(await _payload(session, empty_url, tmp_path), feed_id="hart")
        assert empty.trip_updates == () and empty.header_timestamp is not None
        with pytest.raises(RtDecodeError):
            decode_feed_message(await _payload(session, truncated_url, tmp_path), feed_id="ct")
