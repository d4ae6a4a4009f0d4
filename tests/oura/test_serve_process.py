"""`oura serve` as a user runs it: embedded database, SIGTERM, restart on the same data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_on(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(cmdline):
            found.append(proc)
    return found


def _start(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "oura", "serve", "--no-demo", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"oura serve exited early: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("oura serve did not answer /healthz within 60 s")


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "oura", *args], env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.db  # oura serve, with its own embedded PostgreSQL
@pytest.mark.http
def test_sigterm_stops_the_embedded_database_and_restart_reuses_its_data(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OURA_CONFIG"}}
    env.update(OURA_DATA_DIR=str(tmp_path / "var"), OURA_LOG_FORMAT="text")
    pgdata = (tmp_path / "var" / "pgdata").resolve()
    port = _free_port()

    proc = _start(env, port)
    try:
        assert _postgres_on(pgdata), "the embedded server should be running"
        token = _cli(env, "keys", "create", "--role", "admin").strip()
        assert token.startswith("oura_")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while _postgres_on(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_on(pgdata), "SIGTERM left a postgres process behind"

    proc = _start(env, port)
    try:
        key_id = token.split("_")[1]
        assert key_id in _cli(env, "keys", "list"), "the restarted server lost the data"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_every_command_has_help_with_an_example():
    from oura.cli import build_parser

    parser = build_parser()
    assert "example" in parser.format_help()
    stack = [parser]
    seen = 0
    while stack:
        current = stack.pop()
        for action in current._actions:  # noqa: SLF001 - argparse has no public walk
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                for name, sub in action.choices.items():
                    text = sub.format_help()
                    assert sub.description, f"'{name}' has no description"
                    assert "example" in text, f"'{name}' --help shows no example"
                    seen += 1
                    stack.append(sub)
    assert seen >= 7
