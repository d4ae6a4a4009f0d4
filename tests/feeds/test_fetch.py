"""Fetching over real HTTP from a local aiohttp server: conditional GET, retries with backoff,
definitive errors, size limit; and local zips and folders."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from feeds.fetch import FetchLimits, FetchStatus, fetch_feed
from feeds.store import sha256_file
from tests.feeds.conftest import FeedServer, real_feed_path

FAST = FetchLimits(retries=2, backoff_s=0.01, total_timeout_s=10)


async def test_conditional_get_and_hash(feed_server: FeedServer, tmp_path: Path) -> None:
    body = real_feed_path("bullrunner").read_bytes()
    url = feed_server.serve("usf.zip", body=body, etag='"v1"')
    seen: list[tuple[int, int | None]] = []
    async with aiohttp.ClientSession() as session:
        first = await fetch_feed(url, session=session, dest_dir=tmp_path, limits=FAST,
                                 progress=lambda done, total: seen.append((done, total)))
        assert first.status is FetchStatus.FETCHED
        assert first.sha256 == sha256_file(real_feed_path("bullrunner")) == sha256_file(first.path)
        assert first.size_bytes == len(body) and first.etag == '"v1"'
        assert seen[-1] == (len(body), len(body))
        again = await fetch_feed(url, session=session, dest_dir=tmp_path, etag=first.etag, limits=FAST)
    assert again.status is FetchStatus.NOT_MODIFIED and again.path is None
    assert feed_server.routes["/usf.zip"].requests[-1]["If-None-Match"] == '"v1"'
    first.discard()
    assert not first.path.exists()


async def test_transient_errors_are_retried_with_backoff(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.serve("flaky.zip", body=b"PK-ish", fail_first=2)
    async with aiohttp.ClientSession() as session:
        result = await fetch_feed(url, session=session, dest_dir=tmp_path, limits=FAST)
    assert result.status is FetchStatus.FETCHED and result.attempts == 3


async def test_persistent_server_errors_give_up(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.serve("down.zip", fail_first=100)
    async with aiohttp.ClientSession() as session:
        result = await fetch_feed(url, session=session, dest_dir=tmp_path, limits=FAST)
    assert result.status is FetchStatus.FAILED and result.attempts == 3
    assert "503" in result.error and "gave up after 3 attempts" in result.error


async def test_client_errors_are_not_retried(feed_server: FeedServer, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        result = await fetch_feed(feed_server.url("missing.zip"), session=session, dest_dir=tmp_path, limits=FAST)
    assert result.status is FetchStatus.FAILED and result.attempts == 1 and result.http_status == 404


async def test_size_limit(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.serve("big.zip", body=b"x" * 5000)
    async with aiohttp.ClientSession() as session:
        result = await fetch_feed(url, session=session, dest_dir=tmp_path,
                                  limits=FetchLimits(max_bytes=1000, retries=0))
    assert result.status is FetchStatus.FAILED and "limit" in result.error
    assert list(tmp_path.iterdir()) == []  # nothing left behind


async def test_unreachable_server(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        result = await fetch_feed("http://127.0.0.1:9/feed.zip", session=session, dest_dir=tmp_path,
                                  limits=FetchLimits(retries=1, backoff_s=0.01, connect_timeout_s=2))
    assert result.status is FetchStatus.FAILED and "connection failed" in result.error


async def test_local_zip_and_folder(tmp_path: Path) -> None:
    zipped = await fetch_feed(str(real_feed_path("bullrunner")), session=None, dest_dir=tmp_path)
    assert zipped.status is FetchStatus.FETCHED and zipped.owned is False
    folder = real_feed_path("transcollines")
    first = await fetch_feed(str(folder), session=None, dest_dir=tmp_path / "a")
    second = await fetch_feed(str(folder), session=None, dest_dir=tmp_path / "b")
    assert first.sha256 == second.sha256  # folders are zipped deterministically
    missing = await fetch_feed(str(tmp_path / "nope.zip"), session=None, dest_dir=tmp_path)
    assert missing.status is FetchStatus.FAILED


def test_http_fetch_needs_a_session(tmp_path: Path) -> None:
    import asyncio

    with pytest.raises(ValueError):
        asyncio.run(fetch_feed("http://127.0.0.1/x.zip", session=None, dest_dir=tmp_path))
