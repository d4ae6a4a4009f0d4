"""How the API meets the network: the server's limits, and problem+json for requests aiohttp refuses.

aiohttp parses the request line and the headers before any middleware runs. A request it cannot
parse (a request line over ``max_line_size``, a header over ``max_field_size``, too many headers,
bytes that are not HTTP) would get aiohttp's plain-text 400, and a log line with a traceback whose
message quotes the first 100 bytes of the offending line: for an over-long ``Authorization``
header, the API key itself. `ProblemRequestHandler` answers them as RFC 9457 problem+json
instead (414 ``uri_too_long``, 431 ``headers_too_large``, else 400 ``malformed_request``), closes
the connection, and logs one line naming the error's class and status, never its text.

The limits and timeouts are ours, from `oura.config.HttpConfig` (`handler_args`, given to the
application so that every runner, tests' included, applies them): ``keepalive_timeout_s`` closes
an idle connection, and also one still trickling its request line or headers (aiohttp's idle timer
runs until a whole request head has arrived); ``body_timeout_s`` bounds the body
(`oura.http.responses.read_json`: a 408), and ``lingering_s`` how long the rest of a body is
still read after an answer sent before it ended, before the connection is closed.

`serve` is what ``oura serve`` runs: `aiohttp.web.run_app`'s loop, with `OuraAppRunner` (run_app
takes no runner class). Tests start `OuraAppRunner` with a `aiohttp.web.TCPSite` the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong

from ..config import HttpConfig
from ..errors import HandlerTimeout, HeadersTooLarge, MalformedRequest, OuraError, UriTooLong
from .middleware import problem_response

__all__ = ["handler_args", "ProblemRequestHandler", "OuraAppRunner", "serve"]

log = logging.getLogger("oura.http")


def handler_args(config: HttpConfig) -> dict[str, Any]:
    """aiohttp `RequestHandler` settings from the config (`web.Application(handler_args=...)`)."""
    return {
        "keepalive_timeout": config.keepalive_timeout_s,
        "lingering_time": config.lingering_s,  # aiohttp's 10 s would let a trickled body hold on
        "max_line_size": config.max_line_size,
        "max_field_size": config.max_field_size,
        "max_headers": config.max_headers,
    }


def _is_request_target(fragment: bytes | str) -> bool:
    """Whether the start of an over-long line is a request target rather than a header.

    aiohttp's C parser quotes the path it was reading (origin form ``/...``, or ``*``); its pure
    Python parser quotes the whole request line (``GET /...``). Header names never start with
    ``/`` and header lines hold a ``:`` before any space, so only a header *value* starting with
    ``/`` is mistaken for a path: it then gets a 414 instead of a 431, still a refusal."""
    head = fragment.encode("latin-1", "replace") if isinstance(fragment, str) else bytes(fragment)
    if head.startswith((b"/", b"*")):
        return True
    method, space, rest = head.partition(b" ")
    return bool(space) and method.isalpha() and method.isupper() and rest.startswith((b"/", b"*", b"http"))


class ProblemRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, answering the requests it refuses itself as problem+json."""

    def _refusal(self, exc: BaseException) -> OuraError:
        if isinstance(exc, LineTooLong):
            fragment = exc.args[0] if exc.args else b""
            if _is_request_target(fragment):
                return UriTooLong(f"the request line is longer than {self.max_line_size} bytes")
            return HeadersTooLarge(f"a request header field is longer than {self.max_field_size} bytes")
        if isinstance(exc, BadHttpMessage) and exc.message == "Too many headers received":
            return HeadersTooLarge(f"more than {self.max_headers} request header fields")
        return MalformedRequest("the request is not valid HTTP/1.1")

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # an answer has started: nothing else can be sent
            return super().handle_error(request, status, exc, message)
        if isinstance(exc, HttpProcessingError):
            error = self._refusal(exc)
            problem = error.to_problem()
            # the class and status only: the exception's text quotes the client's bytes (a token)
            log.info("refused a request aiohttp could not parse from %s: %s -> %d",
                     request.remote, type(exc).__name__, error.status)
        else:  # a handler failed outside the error middleware, or timed out (504): aiohttp's log
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            error = HandlerTimeout("the request took too long") if status == 504 else OuraError()
            problem = {**error.to_problem(), "status": status}
        response = problem_response(problem, None, error.headers())
        response.force_close()
        return response


class _ProblemServer(web.Server):
    """`web.Server` whose connections get a `ProblemRequestHandler`."""

    def __call__(self) -> web.RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class OuraAppRunner(web.AppRunner):
    """`web.AppRunner` serving with `ProblemRequestHandler` connections.

    `_make_server` is `BaseRunner`'s hook for the server it runs; the app's own server (handler
    args, request factory) is kept and only its connection-handler class changes."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _ProblemServer  # same layout: only __call__ differs
        return server


def serve(app: web.Application, *, host: str, port: int, shutdown_timeout_s: float) -> None:
    """Serve ``app`` on ``host:port`` until SIGINT or SIGTERM, then shut it down cleanly."""

    async def run() -> None:
        runner = OuraAppRunner(app, handle_signals=True, access_log=None, shutdown_timeout=shutdown_timeout_s)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await asyncio.Event().wait()  # a signal raises GracefulExit out of the loop
        finally:
            await runner.cleanup()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(run())
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():  # the app's cleanup runs first, while its own tasks still run
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
