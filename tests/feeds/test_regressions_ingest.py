"""Regressions found in the bug hunt of static ingestion.

FEATURE UNDER TEST: what an operator of 26 authorities sees in the first week.
- A rejected version keeps the network "failing" for as long as the publisher serves it: the next
  polls (304, or the same bytes again) must not turn the health back to "ok".
- Two ingestions of one network at the same time (the scheduler and `oura feeds ingest`) record
  one version, not two accepted copies of the same content.
- Two ingestions that fetch different contents at the same moment: the content whose download
  started later serves, whichever commits last; the other is recorded as superseded.
- An older attempt ending last (HTTP 500, or a 304) leaves the fetch state, hence health and
  validators, to the newer attempt; `oura feeds report` shows the serving version first, then the
  versions recorded after it and why they do not serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feeds import repository
from feeds.authorities import load_registry
from feeds.fetch import FetchLimits
from feeds.ingest import IngestOutcome, Outcome, ingest_network
from feeds.status import list_network_statuses
from feeds.store import FeedStore
from oura.clock import FixedClock
from tests.feeds.conftest import FeedServer, real_feed_path, rewrite_feed
from tests.feeds.test_cli import _run

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


@dataclass
class _Answer:
    """One answer of the gated feed, sent once the test releases it."""

    body: bytes = b""
    status: int = 200
    etag: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def _gated_feed(answers: list[_Answer]) -> AsyncIterator[str]:
    """The URL of a feed answering its requests with ``answers`` in turn, each once the test releases it."""
    pending = list(answers)

    async def handle(request: web.Request) -> web.Response:
        answer = pending.pop(0)
        answer.arrived.set()
        await answer.release.wait()
        return web.Response(status=answer.status, body=answer.body, content_type="application/zip",
                            headers={"ETag": answer.etag} if answer.etag else {})

    app = web.Application()
    app.router.add_get("/usf.zip", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/usf.zip"))
    finally:
        for answer in answers:
            answer.release.set()
        await server.close()


async def _ingest_both(ingest: Callable[[], Awaitable[IngestOutcome]], clock: FixedClock, older: _Answer,
                       newer: _Answer, *, last_to_commit: str) -> tuple[IngestOutcome, IngestOutcome]:
    """Two ingestions of one network: the ``older`` download starts 60 s before the ``newer`` one, and
    ``last_to_commit`` ("older" or "newer") finishes its download 60 s after the other commits.
    Returns the (older, newer) outcomes."""
    first = asyncio.create_task(ingest())
    await older.arrived.wait()
    clock.advance(60)
    second = asyncio.create_task(ingest())
    await newer.arrived.wait()
    (early, early_task), (late, late_task) = ((newer, second), (older, first)) if last_to_commit == "older" else (
        (older, first), (newer, second))
    early.release.set()
    await early_task
    clock.advance(60)
    late.release.set()
    await late_task
    return first.result(), second.result()


def _newer_feed(tmp_path: Path) -> bytes:
    return rewrite_feed(real_feed_path("bullrunner"), tmp_path / "newer.zip", {
        "agency.txt": lambda text: text.replace("Bull Runner", "Bull Runner (new)")}).read_bytes()


@pytest.mark.parametrize("last_to_commit", ["older", "newer"])
async def test_the_newer_download_serves_whichever_ingestion_commits_last(
    db_pool, tmp_path: Path, last_to_commit: str
) -> None:
    older, newer = _Answer(body=real_feed_path("bullrunner").read_bytes()), _Answer(body=_newer_feed(tmp_path))
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with _gated_feed([older, newer]) as url, aiohttp.ClientSession() as session:
        registry = _registry(tmp_path, url)
        network = registry.list_networks()[0]
        older_outcome, newer_outcome = await _ingest_both(
            lambda: ingest_network(db_pool, network, session=session, **kwargs), clock, older, newer,
            last_to_commit=last_to_commit)

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


@pytest.mark.parametrize("older_status", [500, 304])
async def test_an_older_attempt_failing_or_not_modified_last_leaves_the_newer_fetch_state(
    db_pool, tmp_path: Path, older_status: int
) -> None:
    """The older download ends after the newer one was accepted: health and validators stay the newer one's."""
    good = real_feed_path("bullrunner").read_bytes()
    initial = _Answer(body=good, etag='"old"')  # served before, so that the older attempt gets a 304
    initial.release.set()
    older = _Answer(status=older_status, etag='"old"' if older_status == 304 else None)
    newer = _Answer(body=_newer_feed(tmp_path), etag='"new"')
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with _gated_feed([initial, older, newer]) as url, aiohttp.ClientSession() as session:
        registry = _registry(tmp_path, url)
        network = registry.list_networks()[0]

        def ingest() -> Awaitable[IngestOutcome]:
            return ingest_network(db_pool, network, session=session, **kwargs)

        assert (await ingest()).outcome is Outcome.ACCEPTED
        clock.advance(3600)
        older_outcome, newer_outcome = await _ingest_both(ingest, clock, older, newer, last_to_commit="older")

    expected = Outcome.FAILED if older_status == 500 else Outcome.NOT_MODIFIED
    assert (older_outcome.outcome, newer_outcome.outcome) == (expected, Outcome.ACCEPTED), older_outcome.message
    (status,) = await list_network_statuses(db_pool, registry, clock.now())
    assert status.health == "ok", status.reason
    state = await repository.find_fetch_state(db_pool, "usf")
    assert state is not None
    assert (state.last_outcome, state.etag, state.last_sha256) == ("accepted", '"new"', newer_outcome.sha256)


@pytest.mark.parametrize("later_s", [0, 3600], ids=["same-instant", "an-hour-later"])
async def test_a_later_attempt_failing_is_recorded(
    db_pool, feed_server: FeedServer, tmp_path: Path, later_s: int
) -> None:
    url = feed_server.serve("usf.zip", body=real_feed_path("bullrunner").read_bytes(), etag='"good-1"')
    registry = _registry(tmp_path, url)
    network = registry.list_networks()[0]
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with aiohttp.ClientSession() as session:
        assert (await ingest_network(db_pool, network, session=session, **kwargs)).outcome is Outcome.ACCEPTED
        feed_server.serve("usf.zip", status=500, body=b"internal error")
        clock.advance(later_s)
        assert (await ingest_network(db_pool, network, session=session, **kwargs)).outcome is Outcome.FAILED
    (status,) = await list_network_statuses(db_pool, registry, clock.now())
    assert status.health == "failing", status.reason
    state = await repository.find_fetch_state(db_pool, "usf")
    assert state is not None
    assert (state.last_outcome, state.consecutive_failures, state.etag) == ("failed", 1, '"good-1"')


async def test_report_shows_the_serving_version_first_then_why_later_ones_do_not_serve(
    db_pool, app_config, tmp_path: Path, capsys
) -> None:
    """A superseded download finishing after the serving one, then a rejected version: `oura feeds report`."""
    older, newer = _Answer(body=real_feed_path("bullrunner").read_bytes()), _Answer(body=_newer_feed(tmp_path))
    broken = _Answer(body=rewrite_feed(real_feed_path("bullrunner"), tmp_path / "broken.zip",
                                       {"trips.txt": None}).read_bytes())
    broken.release.set()
    clock = FixedClock(dt.datetime(2017, 9, 13, 12, tzinfo=dt.UTC))
    kwargs = dict(store=FeedStore(tmp_path / "store"), clock=clock, work_dir=tmp_path / "work", limits=FAST)
    async with _gated_feed([older, newer, broken]) as url, aiohttp.ClientSession() as session:
        network = _registry(tmp_path, url).list_networks()[0]

        def ingest() -> Awaitable[IngestOutcome]:
            return ingest_network(db_pool, network, session=session, **kwargs)

        superseded, serving = await _ingest_both(ingest, clock, older, newer, last_to_commit="older")
        clock.advance(3600)
        rejected = await ingest()
    assert [o.outcome for o in (superseded, serving, rejected)] == [
        Outcome.SUPERSEDED, Outcome.ACCEPTED, Outcome.REJECTED]

    config = replace(app_config, feeds=replace(app_config.feeds, registry=tmp_path / "registry.toml"))
    assert await asyncio.to_thread(_run, ["feeds", "report", "usf"], config) == 0  # the CLI runs its own loop
    out = capsys.readouterr().out
    versions = [line for line in out.splitlines() if line.startswith(("Serving version", "Version "))]
    assert versions[0].startswith(f"Serving version {serving.version_id}, "), out
    assert versions[1].startswith(f"Version {rejected.version_id}, recorded after it "), out
    assert f"was rejected; version {serving.version_id} still serves:" in versions[1]
    assert versions[2].startswith(f"Version {superseded.version_id}, recorded after it "), out
    assert f"was superseded; version {serving.version_id} still serves:" in versions[2]
    assert "the feed has no trips.txt" in out  # why the rejected one does not serve
