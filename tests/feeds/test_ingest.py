"""The ingestion pipeline end to end, over real HTTP from a local server, into PostgreSQL.

Real feeds are served from 127.0.0.1 and ingested through a registry; counts recorded in the
database must be those of each SOURCE.md. Then the broken corpus is served in place of a good
feed: every broken version is rejected with a clear reason, nothing raises, and the previously
accepted version keeps serving.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
import pytest

from feeds import repository
from feeds.authorities import load_registry
from feeds.fetch import FetchLimits
from feeds.gtfs.reader import read_gtfs
from feeds.ingest import Outcome, ingest_network, ingest_networks
from feeds.namespace import namespace_tables
from feeds.store import FeedStore
from oura.clock import FixedClock
from tests.feeds.conftest import FeedServer, edit_cell, real_feed_path, rewrite_feed, source_counts

pytestmark = pytest.mark.realdata

FAST = FetchLimits(retries=1, backoff_s=0.01, total_timeout_s=20)
HTTP_FEEDS = ("bullrunner", "caltrain", "ctran")
LOCAL_FEEDS = ("transcollines",)  # a folder feed, by path


def _registry_text(urls: dict[str, str], local: dict[str, str]) -> str:
    parts = ['[region]\nname = "Test region"\ntimezone = "Europe/Paris"\n']
    for network_id, static in {**urls, **local}.items():
        parts.append(f'[[authorities]]\nid = "auth-{network_id}"\nname = "Authority {network_id}"\nkind = "urban"\n'
                     f'timezone = "America/New_York"\n  [[authorities.networks]]\n  id = "{network_id}"\n'
                     f'  name = "{network_id}"\n  static = "{static}"\n')
    return "\n".join(parts)


async def test_real_feeds_over_http_are_recorded_with_their_counts(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = {name: feed_server.serve(f"{name}.zip", body=real_feed_path(name).read_bytes(), etag=f'"{name}-1"')
            for name in HTTP_FEEDS}
    local = {name: str(real_feed_path(name)) for name in LOCAL_FEEDS}
    registry_file = tmp_path / "registry.toml"
    registry_file.write_text(_registry_text(urls, local), encoding="utf-8")
    registry = load_registry(registry_file)
    store = FeedStore(tmp_path / "data" / "feeds")
    clock = FixedClock(dt.datetime(2024, 1, 10, 12, tzinfo=dt.UTC))
    async with aiohttp.ClientSession() as session:
        outcomes = await ingest_networks(db_pool, registry.list_networks(), store=store, session=session,
                                         clock=clock, work_dir=tmp_path / "work", limits=FAST)
        assert {o.network_id: o.outcome for o in outcomes} == {n: Outcome.ACCEPTED for n in [*urls, *local]}

        current = {feed.feed_id: feed for feed in await repository.list_current_feeds(db_pool)}
        assert set(current) == {*urls, *local}
        versions = {v.network_id: v for v in await repository.list_versions(db_pool)}
        for name in [*HTTP_FEEDS, *LOCAL_FEEDS]:
            expected = source_counts(name)
            assert {k: versions[name].counts[k] for k in ("routes", "stops", "trips", "stop_times")} == {
                k: expected[k] for k in ("routes", "stops", "trips", "stop_times")}
            assert versions[name].is_current and versions[name].status == "accepted"
            assert current[name].content_path.is_file()
            assert current[name].content_path.name == f"{current[name].sha256}.zip"
        # the stored version reloads, and ids namespace by feed id
        stops = namespace_tables(read_gtfs(current["caltrain"].content_path, only=["stops"]), "caltrain").get("stops")
        assert len(stops) == source_counts("caltrain")["stops"]
        assert stops["stop_id"].str.startswith("caltrain:").all()

        # second round: 304 for the HTTP feeds (conditional GET), unchanged hash for the folder
        again = await ingest_networks(db_pool, registry.list_networks(), store=store, session=session,
                                      clock=clock, work_dir=tmp_path / "work", limits=FAST)
    assert {o.network_id: o.outcome for o in again} == {
        **{n: Outcome.NOT_MODIFIED for n in urls}, **{n: Outcome.UNCHANGED for n in local}}
    assert feed_server.routes["/caltrain.zip"].requests[-1]["If-None-Match"] == '"caltrain-1"'
    assert len(await repository.list_versions(db_pool)) == len(urls) + len(local)


def _corpus(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Broken versions of the Bull Runner feed: name -> (body, content type)."""
    good = real_feed_path("bullrunner")
    whole = good.read_bytes()

    def broken(name: str, changes) -> bytes:
        return rewrite_feed(good, tmp_path / f"{name}.zip", changes).read_bytes()

    return {
        "missing_file": (broken("missing_file", {"trips.txt": None}), "application/zip"),
        "dangling_stop_id": (broken("dangling", {"stop_times.txt": lambda t: edit_cell(
            t, row=0, column="stop_id", value="ghost-stop")}), "application/zip"),
        "non_monotonic_times": (broken("monotonic", {"stop_times.txt": lambda t: edit_cell(edit_cell(
            t, row=2, column="arrival_time", value="00:00:30"), row=2, column="departure_time", value="00:00:30")}),
            "application/zip"),
        "garbage_zip": (bytes(range(256)) * 64, "application/zip"),
        "truncated_zip": (whole[: len(whole) // 3], "application/zip"),
        "html_error_page": (b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                            b"<body>Service unavailable</body></html>", "text/html"),
    }


EXPECTED_REASON = {
    "missing_file": "trips.txt",
    "dangling_stop_id": "ghost-stop",
    "non_monotonic_times": "before it left the previous stop",
    "garbage_zip": "cannot be read",
    "truncated_zip": "cannot be read",
    "html_error_page": "HTML page",
}


async def test_broken_feeds_are_rejected_and_the_last_good_version_keeps_serving(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    registry_file = tmp_path / "registry.toml"
    url = feed_server.serve("usf.zip", body=real_feed_path("bullrunner").read_bytes())
    registry_file.write_text(_registry_text({"usf": url}, {}), encoding="utf-8")
    network = load_registry(registry_file).get_authority("auth-usf").networks[0]
    store = FeedStore(tmp_path / "data" / "feeds")
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=store, clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with aiohttp.ClientSession() as session:
        good = await ingest_network(db_pool, network, session=session, **kwargs)
        assert good.outcome is Outcome.ACCEPTED
        for name, (body, content_type) in _corpus(tmp_path / "corpus").items():
            feed_server.serve("usf.zip", body=body, content_type=content_type)
            clock.advance(3600)
            outcome = await ingest_network(db_pool, network, session=session, **kwargs)
            assert outcome.outcome is Outcome.REJECTED, name
            assert EXPECTED_REASON[name] in outcome.message, (name, outcome.message)
            current = await repository.list_current_feeds(db_pool)
            assert [(c.feed_id, c.version_id) for c in current] == [("usf", good.version_id)], name
            version = await repository.find_version(db_pool, outcome.version_id)
            assert version.status == "rejected" and version.content_path is None
            assert "REJECTED" in version.summary and EXPECTED_REASON[name] in version.summary
            issues = await repository.list_issues(db_pool, outcome.version_id)
            assert issues[0].severity == "fatal"
        # the server is down: the fetch fails, the last good version still serves
        feed_server.serve("usf.zip", fail_first=10)
        down = await ingest_network(db_pool, network, session=session, **kwargs)
        assert down.outcome is Outcome.FAILED and "503" in down.message
        state = await repository.find_fetch_state(db_pool, "usf")
        assert state.last_outcome == "failed" and state.consecutive_failures == len(EXPECTED_REASON) + 1
        # the good feed comes back: recognised by its hash, nothing re-validated
        feed_server.serve("usf.zip", body=real_feed_path("bullrunner").read_bytes())
        back = await ingest_network(db_pool, network, session=session, **kwargs)
    assert back.outcome is Outcome.UNCHANGED  # same content as the version still serving
    assert [c.version_id for c in await repository.list_current_feeds(db_pool)] == [good.version_id]
