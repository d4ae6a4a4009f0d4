"""Fixtures for the feeds tests: real feeds and their SOURCE.md counts, feed rewriting (the broken
corpus is made at test time from real feeds, never committed), and a local HTTP feed server.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import require_shared_data
from tests.registry_toml import TestNetwork, write_registry

# name -> (folder under ../shared/data, feed file or None for a folder feed)
REAL_FEEDS: dict[str, tuple[str, str | None]] = {
    "bullrunner": ("bullrunner-usf", "bullrunner-gtfs.zip"),
    "caltrain": ("caltrain-2023-rt", "ct.zip"),
    "cdmx": ("cdmx-2018", "cdmx.zip"),
    "ctran": ("ctran-flex-faresv2", "ctran-flex.zip"),
    "hart": ("hart-tampa-2021", "hart.zip"),
    "kaunas": ("kaunas-2018", "kaunas.zip"),
    "perigueux": ("perigueux-perimouv-2025", None),
    "transcollines": ("transcollines-faresv2", None),
    "wmata": ("wmata-rail-2026", "wmata.zip"),
}

_COLUMNS = {"agencies": "agency", "routes": "routes", "stops": "stops", "trips": "trips",
            "stop_times rows": "stop_times", "rows past 24:00": "past_24h"}


def bullrunner_registry(path: Path, static: str, *, extra: str = "") -> Path:
    """A registry of one authority (usf) with one network (bullrunner) fetched from ``static``;
    ``extra`` is appended as it is (more network keys, more authorities)."""
    return write_registry(path, TestNetwork("usf", "bullrunner", static, network_name="Bull Runner", extra=extra))


def run_feeds_cli(argv: list[str], config) -> int:  # noqa: ANN001 - an oura Config
    """`oura feeds ...` in this process, as the CLI runs it."""
    import argparse

    from feeds.cli import register

    parser = argparse.ArgumentParser(prog="oura")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args, config)


def real_feed_path(name: str) -> Path:
    folder, file = REAL_FEEDS[name]
    return require_shared_data(folder, file) if file else require_shared_data(folder)


def source_counts(name: str) -> dict[str, int]:
    """The counts table of the feed's SOURCE.md: {"agency", "routes", "stops", "trips", "stop_times", ...}."""
    text = require_shared_data(REAL_FEEDS[name][0], "SOURCE.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    for index, line in enumerate(lines):
        header = [cell.strip() for cell in line.strip("|").split("|")]
        if "stop_times rows" in header and index + 2 < len(lines):
            values = [cell.strip() for cell in lines[index + 2].strip("|").split("|")]
            counts = {}
            for column, value in zip(header, values, strict=False):
                if column in _COLUMNS and re.fullmatch(r"[\d,]+", value):
                    counts[_COLUMNS[column]] = int(value.replace(",", ""))
            return counts
    raise AssertionError(f"no counts table in SOURCE.md of {name}")


def feed_members(source: Path) -> dict[str, bytes]:
    if source.is_dir():
        return {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file() and p.suffix == ".txt"}
    with zipfile.ZipFile(source) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


Change = bytes | str | None | Callable[[str], str]


def rewrite_feed(source: Path, destination: Path, changes: dict[str, Change]) -> Path:
    """Copy the feed at ``source`` into the zip ``destination`` with members changed.

    A change is None (delete the file), text/bytes (replace it) or a function of the text.
    """
    members = feed_members(source)
    for name, change in changes.items():
        if change is None:
            members.pop(name, None)
        elif callable(change):
            members[name] = change(members[name].decode("utf-8-sig")).encode("utf-8")
        else:
            members[name] = change.encode("utf-8") if isinstance(change, str) else change
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(buffer.getvalue())
    return destination


def edit_cell(text: str, *, row: int, column: str, value: str) -> str:
    """Set one cell of a CSV text (data row ``row``, 0-based) without reformatting the others."""
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    cells = lines[row + 1].split(",")
    cells[header.index(column)] = value
    lines[row + 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


@dataclass
class Served:
    """What the local feed server answers for one path."""

    body: bytes = b""
    content_type: str = "application/zip"
    etag: str | None = None
    status: int = 200
    fail_first: int = 0  # answer 503 to this many requests before the real answer
    requests: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FeedServer:
    base_url: str
    routes: dict[str, Served]

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def serve(self, path: str, **kwargs) -> str:
        self.routes["/" + path.lstrip("/")] = Served(**kwargs)
        return self.url(path)


@pytest_asyncio.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A real HTTP server on 127.0.0.1 serving whatever the test puts in ``routes``."""
    routes: dict[str, Served] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        served = routes.get(request.path)
        if served is None:
            return web.Response(status=404, text="not found")
        served.requests.append(dict(request.headers))
        if served.fail_first > 0:
            served.fail_first -= 1
            return web.Response(status=503, text="try later")
        if served.etag and request.headers.get("If-None-Match") == served.etag:
            return web.Response(status=304, headers={"ETag": served.etag})
        headers = {"ETag": served.etag} if served.etag else {}
        return web.Response(status=served.status, body=served.body, content_type=served.content_type,
                            headers=headers)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield FeedServer(base_url=str(server.make_url("")).rstrip("/"), routes=routes)
    finally:
        await server.close()
