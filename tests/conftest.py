"""Fixtures shared by every test package.

Real feeds are read from ../shared/data (next to the repository). Where that folder is absent (a
user's fresh clone) the tests that need it skip and say why; under CI (``CI=true``) they fail
instead, because CI must exercise the real data.

Tests are split by cost into tiers, assigned here at collection (see `pytest_collection_modifyitems`)
so a new test gets its tier without anyone remembering: ``db`` (its fixtures reach PostgreSQL),
``http`` (its fixtures serve or call an HTTP server on loopback), ``unit`` (neither); ``slow``
is set by hand and combines with any tier. ``make test-fast`` runs ``-m "unit and not slow"``.
A unit test that opens a database connection or starts a server fails (`unit_tier_guard`):
request the fixture, or mark the test ``db``/``http`` by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("OURA_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def require_shared_data(*parts: str) -> Path:
    """The path under ../shared/data, or skip (fail under CI) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real data {path} is absent (set OURA_SHARED_DATA or place ../shared/data)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require_shared_data()


# --- databases and apps -------------------------------------------------------------------------

from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from dataclasses import replace  # noqa: E402

import pytest_asyncio  # noqa: E402
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from oura.config import Config, DatabaseConfig, FeedsConfig, PlannerConfig  # noqa: E402


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (embedded unless TEST_DATABASE_URL is set)."""
    from tests.db import TestServer as PgTestServer

    server = PgTestServer()
    yield server
    server.close()


@pytest_asyncio.fixture(scope="session")
async def pg_template(pg_server) -> AsyncIterator[str]:
    """A database with every migration applied, cloned for each test."""
    await pg_server.create_template()
    yield pg_server.template
    await pg_server.drop_database(pg_server.template)


@pytest_asyncio.fixture
async def db_dsn(pg_server, pg_template) -> AsyncIterator[str]:
    """The DSN of a fresh, migrated database of this test's own."""
    from tests.db import with_database

    name = await pg_server.create_database()
    yield with_database(pg_server.dsn, name)
    await pg_server.drop_database(name)


@pytest_asyncio.fixture
async def db_pool(db_dsn):
    from oura.db.pool import create_pool

    pool = await create_pool(db_dsn, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def app_config(db_dsn, tmp_path) -> Config:
    """A config for an app on this test's database, with no feed registry (nothing ingested)."""
    return Config(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_dsn, pool_min_size=1, pool_max_size=10),
        feeds=FeedsConfig(registry=None, store_dir=tmp_path / "feeds", ingest_on_start=False, realtime=False),
        planner=PlannerConfig(cache_dir=tmp_path / "cache"),
    )


class OuraTestServer(TestServer):
    """aiohttp's test server run by `OuraAppRunner`, as `oura serve` runs: a request aiohttp cannot
    parse (an over-long request line, say) gets the API's problem+json, not aiohttp's plain text."""

    async def _make_runner(self, **kwargs) -> web.BaseRunner:  # noqa: ANN003 - aiohttp's runner options
        from oura.http.server import OuraAppRunner

        return OuraAppRunner(self.app, **kwargs)


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[Callable[[web.Application], Awaitable[TestClient]]]:
    """Start an app on a real loopback port (served as `oura serve` serves it) and return a
    client for it; closed after the test."""
    clients: list[TestClient] = []

    async def make(app: web.Application) -> TestClient:
        client = TestClient(OuraTestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        await client.close()


@pytest_asyncio.fixture
async def client(app_config, make_client) -> TestClient:
    """A client of the full OùRA app built by `create_app`, on this test's database."""
    from oura.app import create_app

    return await make_client(create_app(app_config))


@pytest_asyncio.fixture
async def api_key(client) -> Callable[..., Awaitable[str]]:
    """Create an API key on the test app's database: ``await api_key("authority", "sytral")``."""
    from oura.auth import create_key
    from oura.keys import POOL

    async def make(role: str, authority_id: str | None = None, label: str = "test") -> str:
        _, token = await create_key(client.app[POOL], role, authority_id, label=label)
        return token

    return make


def config_with(config: Config, **changes) -> Config:
    return replace(config, **changes)


# --- every response checked against the OpenAPI document (tests/openapi_check.py) --------------


@pytest.fixture(autouse=True)
def openapi_checked_responses(request, monkeypatch):
    """Check every response a `TestClient` receives in this test against its app's OpenAPI
    document; the test fails at teardown on any mismatch. Opt out only with
    ``@pytest.mark.openapi_unchecked(reason="why")``."""
    marker = request.node.get_closest_marker("openapi_unchecked")
    if marker is not None:
        if not (marker.kwargs.get("reason") or marker.args):
            pytest.fail("@pytest.mark.openapi_unchecked needs a reason")
        yield
        return
    from oura.http.system import OPENAPI
    from tests.openapi_check import checker_for

    failures: list[str] = []
    original = TestClient._request

    async def checked_request(self, method, path, **kwargs):  # noqa: ANN001, ANN202
        response = await original(self, method, path, **kwargs)
        document = self.app.get(OPENAPI) if self.app is not None else None
        if document is not None:
            body = await response.read()
            failures.extend(checker_for(document).check(method, response.url.raw_path, response.status,
                                                        response.headers, body))
        return response

    monkeypatch.setattr(TestClient, "_request", checked_request)
    yield
    if failures:
        shown = "\n".join(failures[:20])
        pytest.fail(f"{len(failures)} response(s) do not match the OpenAPI document:\n{shown}", pytrace=False)


# --- tiers by cost: unit, db, http (slow is set by hand) ----------------------------------------

# A test whose fixture closure holds one of these reaches PostgreSQL (app_config, client, api_key
# and every package fixture built on them follow through the closure).
DB_FIXTURES = frozenset({"pg_server", "pg_template", "db_dsn", "db_pool"})
# ... or serves or calls HTTP on loopback (aiohttp test clients, the feeds' test servers).
HTTP_FIXTURES = frozenset({"make_client", "client", "aiohttp_client", "feed_server", "gated_server",
                           "publisher", "session", "serve"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        marked = {mark.name for mark in item.iter_markers()}
        tiers = set()
        if "db" in marked or fixtures & DB_FIXTURES:
            tiers.add("db")
        if "http" in marked or fixtures & HTTP_FIXTURES:
            tiers.add("http")
        if not tiers:
            tiers.add("unit")
        for tier in sorted(tiers - marked):
            item.add_marker(tier)


class TierViolation(AssertionError):
    """A unit-tier test reached a database or started a server."""


@pytest.fixture(autouse=True)
def unit_tier_guard(request, monkeypatch):
    """In the unit tier, connecting to PostgreSQL, starting the embedded server or starting an HTTP
    server fails the test loudly instead of quietly making it a db or http test."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    import asyncpg
    from aiohttp import web_runner

    from oura.db.embedded import EmbeddedPostgres

    def refuse(what: str):
        def refused(*args, **kwargs):
            raise TierViolation(f"{request.node.nodeid} is in the unit tier but {what}: request the "
                                "fixture that provides it, or mark the test db/http")
        return refused

    monkeypatch.setattr(asyncpg, "connect", refuse("connects to PostgreSQL"))
    monkeypatch.setattr(asyncpg, "create_pool", refuse("opens a PostgreSQL pool"))
    monkeypatch.setattr(EmbeddedPostgres, "start", refuse("starts the embedded PostgreSQL"))
    monkeypatch.setattr(web_runner.BaseSite, "start", refuse("starts an HTTP server"))
    yield
