"""Hostile clients against the real server (`OuraAppRunner` on a loopback port, as `oura serve` runs
it): over-long request lines and headers get problem+json and leave no credential in the logs;
idle and trickling connections are closed; bodies nested too deep are refused."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
import pytest_asyncio
from aiohttp import web

from oura.app import create_app
from oura.config import ConfigError, load_config
from oura.http import RouteTable, json_response, read_json
from oura.http.responses import MAX_JSON_DEPTH, parse_json
from oura.http.server import OuraAppRunner
from oura.errors import BadRequest
from oura.logs import JsonFormatter, TextFormatter, redact

SECRET = "Zq8sV3cret0fTheKeyZq8sV3cret0fTheKey"
TOKEN = f"oura_0123456789abcdef_{SECRET}"


Address = tuple[str, int]


@pytest_asyncio.fixture
async def serve(app_config) -> AsyncIterator[Callable[..., Awaitable[Address]]]:
    """Start the app with these HttpConfig changes on a loopback port; returns (host, port)."""
    runners: list[web.AppRunner] = []

    async def start(**http) -> Address:
        echo = RouteTable(tag="probe")

        @echo.post("/probe/echo", summary="echo JSON")
        async def probe_echo(request: web.Request) -> web.Response:
            return json_response({"echo": await read_json(request)})

        config = replace(app_config, http=replace(app_config.http, **http))
        runner = OuraAppRunner(create_app(config, extra_routes=[echo]), access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner.addresses[0][:2]

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


async def _exchange(address: Address, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=30)  # read() returns at EOF: the server closed
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def _logged(caplog) -> str:
    """Everything the records say, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_an_over_long_authorization_header_is_a_431_problem_and_no_log_holds_the_key(serve, caplog):
    address = await serve(max_field_size=1024)
    caplog.set_level(logging.DEBUG)
    request = (f"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}{'A' * 2000}\r\n\r\n").encode()
    status, headers, body = await _exchange(address, request)
    assert status == 431
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["code"] == "headers_too_large" and problem["status"] == 431
    assert SECRET not in body.decode()
    assert any("could not parse" in record.getMessage() for record in caplog.records)  # it was logged...
    assert SECRET not in _logged(caplog)  # ...without the credential


async def test_an_over_long_request_line_is_a_414_problem(serve, caplog):
    address = await serve(max_line_size=1024)
    caplog.set_level(logging.DEBUG)
    status, headers, body = await _exchange(address, f"GET /v1/stops?q={'x' * 3000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 414
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "uri_too_long"
    assert "x" * 100 not in _logged(caplog)


async def test_too_many_headers_is_a_431_problem(serve):
    address = await serve(max_headers=10)
    fields = "".join(f"X-Field-{i}: {i}\r\n" for i in range(20))
    status, _, body = await _exchange(address, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())
    assert status == 431 and json.loads(body)["code"] == "headers_too_large"


async def test_bytes_that_are_not_http_get_a_400_problem(serve):
    address = await serve()
    status, headers, body = await _exchange(address, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
    assert status == 400 and headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "malformed_request"


async def test_an_idle_connection_is_closed(serve):
    address = await serve(keepalive_timeout_s=0.5)
    reader, writer = await asyncio.open_connection(*address)
    try:
        # nothing sent: the server must close (EOF); without a timeout this read never returns
        assert await asyncio.wait_for(reader.read(), timeout=30) == b""
    finally:
        writer.close()


async def test_a_connection_kept_alive_after_a_request_is_closed_when_idle(serve):
    address = await serve(keepalive_timeout_s=0.5)
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await asyncio.wait_for(reader.readline(), timeout=30)).startswith(b"HTTP/1.1 200")
        rest = await asyncio.wait_for(reader.read(), timeout=30)  # the answer, then EOF when idle
        assert b'"status"' in rest
    finally:
        writer.close()


async def _read_until_closed(reader) -> bytes:
    """Everything the server sent until it closed. A byte the client trickles after the server's
    close makes the server's kernel answer with a reset: what arrived before it is kept (a plain
    ``reader.read()`` drops the blocks it had read when the reset comes)."""
    blocks = []
    try:
        while block := await reader.read(65536):
            blocks.append(block)
    except ConnectionResetError:
        pass
    return b"".join(blocks)


async def _trickle(writer, reader, data: bytes, every_s: float) -> bytes:
    """Send ``data`` a byte at a time; return what the server answered once it closed (b"" when
    it closed without answering). Fails if the server took all of it without closing."""
    answer = asyncio.create_task(_read_until_closed(reader))
    for byte in data:
        if answer.done():
            break
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(every_s)
    else:
        answer.cancel()
        pytest.fail("the server read the whole trickle without closing the connection")
    return await answer


async def test_a_slowloris_request_head_is_closed(serve):
    address = await serve(keepalive_timeout_s=0.5)
    reader, writer = await asyncio.open_connection(*address)
    try:
        await _trickle(writer, reader, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200, every_s=0.05)
    finally:
        writer.close()


async def test_a_body_trickled_too_slowly_is_a_408_and_closed(serve):
    address = await serve(body_timeout_s=0.5)
    reader, writer = await asyncio.open_connection(*address)
    try:
        body = b'{"a": "' + b"x" * 200 + b'"}'
        writer.write(b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        answer = await _trickle(writer, reader, body, every_s=0.05)
    finally:
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(payload)["code"] == "request_timeout"


async def test_a_body_nested_a_thousand_deep_is_a_400_and_no_traceback(serve, caplog):
    address = await serve()
    caplog.set_level(logging.DEBUG)
    body = b"[" * 1000 + b"]" * 1000
    status, headers, payload = await _exchange(address, b"POST /probe/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert status == 400 and headers["content-type"].startswith("application/problem+json")
    assert json.loads(payload)["code"] == "json_too_deep"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_parse_json_takes_the_depth_limit_and_refuses_deeper():
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    assert parse_json('{"a": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH) is not None
    for deep in ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
                 '{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1),
                 "[" * 100_000 + "]" * 100_000):
        with pytest.raises(BadRequest) as refused:
            parse_json(deep)
        assert refused.value.code == "json_too_deep"


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "1" * 5000, "{", b"\xff\xfe"])
def test_parse_json_refuses_what_is_not_plain_json(text):
    with pytest.raises(BadRequest) as refused:
        parse_json(text)
    assert refused.value.code == "invalid_json"


def test_log_formatters_mask_credentials():
    record = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1,
                               "Error handling request: %s", (f"b'Authorization: Bearer {TOKEN}...'",), None)
    for formatter in (JsonFormatter(), TextFormatter("%(message)s")):
        line = formatter.format(record)
        assert SECRET not in line and "oura_0123456789abcdef_[redacted]" in line
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]"


@pytest.mark.parametrize("name", ["keepalive_timeout_s", "body_timeout_s", "lingering_s", "max_line_size", "max_field_size", "max_headers"])
def test_server_limits_must_be_positive(tmp_path, name):
    file = tmp_path / "oura.toml"
    file.write_text(f"[http]\n{name} = 0\n")
    with pytest.raises(ConfigError, match=name):
        load_config({"OURA_CONFIG": str(file)})


@pytest.mark.slow
@pytest.mark.db  # oura serve, with its own embedded PostgreSQL
@pytest.mark.http
def test_oura_serve_answers_an_over_long_header_with_a_problem_and_logs_no_key(tmp_path):
    """The command itself, as a user runs it: its runner and its log formatting."""
    import os
    import signal
    import socket

    from tests.oura.test_serve_process import _free_port, _start

    config = tmp_path / "oura.toml"
    config.write_text("[http]\nmax_field_size = 1024\n")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(OURA_DATA_DIR=str(tmp_path / "var"), OURA_CONFIG=str(config), OURA_LOG_LEVEL="DEBUG")
    port = _free_port()
    proc = _start(env, port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}{'A' * 2000}\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split()[1] == b"431" and b"application/problem+json" in head
    assert json.loads(body)["code"] == "headers_too_large"
    logs = proc.stderr.read().decode()
    assert "could not parse" in logs
    assert SECRET not in logs
