"""Regressions found in the bug hunt of static ingestion.

FEATURE UNDER TEST: what an operator of 26 authorities sees in the first week.
- A rejected version keeps the network "failing" for as long as the publisher serves it: the next
  polls (304, or the same bytes again) must not turn the health back to "ok".
- Two ingestions of one network at the same time (the scheduler and `oura feeds ingest`) record
  one version, not two accepted copies of the same content.
- Two ingestions that fetch different contents at the same moment: the content whose download
  started later serves, whichever commits last; the other is recorded as superseded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feeds import repository
from feeds.authorities import load_registry
from feeds.fetch import FetchLimits
from feeds.ingest import Outcome, ingest_network
from feeds.status import list_network_statuses
from feeds.store import FeedStore
from oura.clock import FixedClock
from tests.feeds.conftest import FeedServer, real_feed_path, rewrite_feed

pytestmark = pytest.mark.realdata

FAST = FetchLimits(retries=0, backoff_s=0.01, total_timeout_s=20)


def _registry(tmp_path: Path, url: str):
    text = ('[region]\nname = "Test"\ntimezone = "America/New_York"\n'
            '[[authorities]]\nid = "auth-usf"\nname = "USF"\nkind = "urban"\n'
            f'  [[authorities.networks]]\n  id = "usf"\n  name = "usf"\n  static = "{url}"\n')
    file = tmp_path / "registry.toml"
    file.write_text(text, encoding="utf-8")
    return load_registry(file)


@pytest.mark.parametrize("etag", ['"broken-1"', None], ids=["304", "same-bytes"])
async def test_a_rejected_version_keeps_the_network_failing_while_it_is_served(
    db_pool, feed_server: FeedServer, tmp_path: Path, etag: str | None
) -> None:
    good = real_feed_path("bullrunner").read_bytes()
    url = feed_server.serve("usf.zip", body=good, etag='"good-1"')
    registry = _registry(tmp_path, url)
    network = registry.list_networks()[0]
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    broken = rewrite_feed(real_feed_path("bullrunner"), tmp_path / "broken.zip", {"trips.txt": None}).read_bytes()

    async def health() -> tuple[str, str]:
        (status,) = await list_network_statuses(db_pool, registry, clock.now())
        return status.health, status.reason

    async with aiohttp.ClientSession() as session:
        assert (await ingest_network(db_pool, network, session=session, **kwargs)).outcome is Outcome.ACCEPTED
        assert (await health())[0] == "ok"
        feed_server.serve("usf.zip", body=broken, etag=etag)
        clock.advance(3600)
        assert (await ingest_network(db_pool, network, session=session, **kwargs)).outcome is Outcome.REJECTED
        assert (await health())[0] == "failing"
        clock.advance(3600)
        again = await ingest_network(db_pool, network, session=session, **kwargs)
        assert again.outcome in (Outcome.NOT_MODIFIED, Outcome.UNCHANGED)
        state, reason = await health()
        assert state == "failing", reason
        assert "trips.txt" in reason  # still says why
        # the publisher fixes its feed (back to the serving content): healthy again
        feed_server.serve("usf.zip", body=good, etag='"good-1"')
        clock.advance(3600)
        assert (await ingest_network(db_pool, network, session=session, **kwargs)).outcome is Outcome.UNCHANGED
        assert (await health())[0] == "ok"


async def test_two_simultaneous_ingestions_of_one_network_record_one_version(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.serve("usf.zip", body=real_feed_path("bullrunner").read_bytes())
    network = _registry(tmp_path, url).list_networks()[0]
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with aiohttp.ClientSession() as session:
        outcomes = await asyncio.gather(*(ingest_network(db_pool, network, session=session, **kwargs)
                                          for _ in range(2)))
    assert sorted(o.outcome.value for o in outcomes) == ["accepted", "unchanged"]
    versions = await repository.list_versions(db_pool, ["usf"])
    assert len(versions) == 1 and versions[0].is_current
    assert not list((tmp_path / "work").glob("*"))  # no download left behind


async def test_a_version_served_without_etag_does_not_inherit_the_previous_etag(
    db_pool, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A 200 without ETag replaced the content: a later 304 to the old ETag must not vouch for it."""
    first = real_feed_path("bullrunner").read_bytes()
    url = feed_server.serve("usf.zip", body=first, etag='"a"')
    network = _registry(tmp_path, url).list_networks()[0]
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    second = rewrite_feed(real_feed_path("bullrunner"), tmp_path / "b.zip", {
        "agency.txt": lambda text: text.replace("Bull Runner", "Bull Runner (B)")}).read_bytes()
    assert second != first
    async with aiohttp.ClientSession() as session:
        a = await ingest_network(db_pool, network, session=session, **kwargs)
        feed_server.serve("usf.zip", body=second)  # a CDN that drops the ETag
        clock.advance(3600)
        b = await ingest_network(db_pool, network, session=session, **kwargs)
        assert (a.outcome, b.outcome) == (Outcome.ACCEPTED, Outcome.ACCEPTED)
        feed_server.serve("usf.zip", body=first, etag='"a"')  # the publisher reverts to A
        clock.advance(3600)
        back = await ingest_network(db_pool, network, session=session, **kwargs)
    assert feed_server.routes["/usf.zip"].requests[-1].get("If-None-Match") is None
    assert back.outcome is Outcome.ACCEPTED
    (current,) = await repository.list_current_feeds(db_pool)
    assert current.sha256 == a.sha256  # the publisher's content serves again, not B


@pytest.mark.parametrize("last_to_commit", ["older", "newer"])
async def test_the_newer_download_serves_whichever_ingestion_commits_last(
    db_pool, tmp_path: Path, last_to_commit: str
) -> None:
    older = real_feed_path("bullrunner").read_bytes()
    newer = rewrite_feed(real_feed_path("bullrunner"), tmp_path / "newer.zip", {
        "agency.txt": lambda text: text.replace("Bull Runner", "Bull Runner (new)")}).read_bytes()
    # each request answers the next body, once the test releases it
    answers = [(older, asyncio.Event(), asyncio.Event()), (newer, asyncio.Event(), asyncio.Event())]
    (_, older_arrived, older_release), (_, newer_arrived, newer_release) = answers
    pending = list(answers)

    async def handle(request: web.Request) -> web.Response:
        body, arrived, release = pending.pop(0)
        arrived.set()
        await release.wait()
        return web.Response(body=body, content_type="application/zip")

    app = web.Application()
    app.router.add_get("/usf.zip", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    registry = _registry(tmp_path, str(server.make_url("/usf.zip")))
    network = registry.list_networks()[0]
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    try:
        async with aiohttp.ClientSession() as session:
            first = asyncio.create_task(ingest_network(db_pool, network, session=session, **kwargs))
            await older_arrived.wait()  # the first download started (and gets the older content)
            clock.advance(60)
            second = asyncio.create_task(ingest_network(db_pool, network, session=session, **kwargs))
            await newer_arrived.wait()  # the second one started later (and gets the newer content)
            if last_to_commit == "older":
                newer_release.set()
                newer_outcome = await second
                older_release.set()
                older_outcome = await first
            else:
                older_release.set()
                older_outcome = await first
                newer_release.set()
                newer_outcome = await second
    finally:
        older_release.set()
        newer_release.set()
        await server.close()

    expected = Outcome.SUPERSEDED if last_to_commit == "older" else Outcome.ACCEPTED
    assert (older_outcome.outcome, newer_outcome.outcome) == (expected, Outcome.ACCEPTED), older_outcome.message
    (current,) = await repository.list_current_feeds(db_pool)
    assert current.sha256 == newer_outcome.sha256 != older_outcome.sha256
    versions = {v.version_id: v for v in await repository.list_versions(db_pool, ["usf"])}
    assert versions[older_outcome.version_id].status == expected.value
    # not an error: the newer content serves, and the next conditional GET is for it
    (status,) = await list_network_statuses(db_pool, registry, clock.now())
    assert status.health == "ok", status.reason
    state = await repository.find_fetch_state(db_pool, "usf")
    assert state is not None and state.last_sha256 == newer_outcome.sha256
