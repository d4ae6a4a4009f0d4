"""A PostgreSQL outage: requests answer 503 with Retry-After (never a bare 500), the app reconnects
on its own, and the embedded server it started is brought back when it dies. `oura db stop`
reports only a stop that happened."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from oura.config import Config, DatabaseConfig, FeedsConfig, PlannerConfig

pytestmark = [pytest.mark.slow, pytest.mark.db]  # each test runs its own embedded PostgreSQL

WAIT_S = 60  # an upper bound for the watchdog to bring the server back: a hang fails, never blocks CI


def _postmaster(pgdata: Path) -> int | None:
    """The pid of the live (not zombie) postmaster of ``pgdata``, read here, not by the code
    under test."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        alive = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if alive else None


def _kill_server(pid: int) -> None:
    """SIGKILL the postmaster and its backends at once (a backend can outlive its postmaster for
    a moment and answer one more query: that would not be an outage)."""
    postmaster = psutil.Process(pid)
    for process in [*postmaster.children(recursive=True), postmaster]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@pytest.fixture
def home() -> Iterator[Path]:
    """A data folder outside pytest's temporary root: as root, postgres runs as pgserver's user,
    which must reach the folder, and a pytest run started meanwhile (another checkout's, say)
    closes that root to other users again."""
    folder = Path(tempfile.mkdtemp(prefix="oura-outage-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _config(tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path,
        database=DatabaseConfig(url=None, embedded_pgdata=tmp_path / "pgdata", pool_min_size=1, pool_max_size=4),
        feeds=FeedsConfig(registry=None, store_dir=tmp_path / "feeds", ingest_on_start=False, realtime=False),
        planner=PlannerConfig(cache_dir=tmp_path / "cache"),
    )


async def test_a_killed_embedded_server_answers_503_then_the_app_serves_again(home, make_client):
    from oura.app import create_app
    from oura.auth import create_key
    from oura.keys import POOL

    app = create_app(_config(home))
    client = await make_client(app)
    _, token = await create_key(app[POOL], "admin", None, label="outage")
    admin = {"Authorization": f"Bearer {token}"}
    before = await client.get("/v1/orders/1", headers=admin)
    assert before.status == 404  # the database answers: no such order

    pgdata = (home / "pgdata").resolve()
    pid = _postmaster(pgdata)
    assert pid is not None
    _kill_server(pid)

    during = await client.get("/v1/orders/1", headers=admin)
    assert during.status == 503, await during.text()
    assert during.content_type == "application/problem+json"
    assert (await during.json())["code"] == "database_unavailable"
    assert int(during.headers["Retry-After"]) > 0
    down = await client.get("/readyz")
    assert down.status == 503 and (await down.json())["checks"]["database"]["ready"] is False

    answers = []
    for _ in range(WAIT_S * 5):  # bounded: the watchdog restarts the server, the pool reconnects
        response = await client.get("/v1/orders/1", headers=admin)
        answers.append(response.status)
        if response.status == 404:
            break
        await asyncio.sleep(0.2)
    assert answers[-1] == 404, f"the app never served again: {answers}"
    assert set(answers) <= {503, 404}, answers  # never a 500 while it was down
    assert _postmaster(pgdata) not in (None, pid)
    ready = await client.get("/readyz")
    assert (await ready.json())["checks"]["database"]["ready"] is True


def _oura(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oura", *args], env=env, capture_output=True, text=True, timeout=120)


def test_db_stop_reports_not_running_after_a_kill_and_stops_a_live_server(home):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OURA_CONFIG"}}
    env.update(OURA_DATA_DIR=str(home / "var"))
    pgdata = (home / "var" / "pgdata").resolve()

    started = _oura(env, "db", "dsn")  # starts the server and leaves it running
    assert started.returncode == 0, started.stderr
    pid = _postmaster(pgdata)
    assert pid is not None
    _kill_server(pid)  # its postmaster.pid stays behind, naming a dead (or zombie) process
    assert (pgdata / "postmaster.pid").exists()

    stale = _oura(env, "db", "stop")
    assert stale.returncode == 0, stale.stderr
    assert "not running" in stale.stdout and "stopped" not in stale.stdout

    again = _oura(env, "db", "dsn")  # a server starts over the stale pid file
    assert again.returncode == 0, again.stderr
    assert _postmaster(pgdata) not in (None, pid)
    stopped = _oura(env, "db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
    assert _postmaster(pgdata) is None
    assert "not running" in _oura(env, "db", "stop").stdout


def test_releasing_a_server_that_was_killed_neither_fails_nor_waits(home):
    from oura.db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(home / "pgdata")
    embedded.start()
    pgdata = embedded.pgdata
    _kill_server(_postmaster(pgdata))
    for _ in range(WAIT_S * 10):  # bounded: until the kill has landed
        if _postmaster(pgdata) is None:
            break
        time.sleep(0.1)
    embedded.stop()  # was: pgserver waited for the dead postmaster to stop, then raised NoSuchProcess
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
    dsn = embedded.start()  # and it starts again over what the killed server left
    assert dsn and _postmaster(pgdata) is not None
    embedded.stop()
    assert _postmaster(pgdata) is None
