"""HTTP routes of watched journeys: create a watch, read or delete it, follow its events
(Server-Sent Events). The service is ``app[WATCHES]`` (`journey_planner.watch_startup`).

Travellers are anonymous: the watch id (unguessable) is the capability, no key is needed.
"""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from oura.errors import InvalidParameter
from oura.http import RouteTable, header, json_response, path_param, read_json, reply, schema_ref

from .errors import InvalidWebhookUrl, TimetableNotReady
from .watch_schemas import WATCH_REQUEST
from .watch_service import WatchService
from .watch_startup import WATCHES

__all__ = ["routes"]

routes = RouteTable(tag="watches")

KEEP_ALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream
_WATCH_ID = path_param("watch_id", description="the id POST /v1/watches answered", maxLength=64)


def _service(request: web.Request) -> WatchService:
    service = request.app.get(WATCHES)
    if service is None:
        raise TimetableNotReady()
    return service


def _text(body: dict, name: str, max_length: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidParameter(name, "is required")
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidParameter(name, f"must be a non-empty string of at most {max_length} characters")
    return value


def check_webhook_url(url: str) -> str:
    """https to anywhere, or http to the loopback only (tests, a local relay)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and (host == "localhost" or _is_loopback(host)):
        return url
    raise InvalidWebhookUrl("must be https (http only to 127.0.0.1 or localhost)")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@routes.post(
    "/v1/watches",
    requires="timetable",
    summary="Watch a planned itinerary: events when it breaks (with alternatives) or is restored",
    body=WATCH_REQUEST,
    responses={201: reply("The watch, with the itinerary's current check", schema_ref("Watch")),
               400: "Not an itinerary id of this planner, an itinerary already over, a bad webhook URL",
               503: "Timetable still loading"},
)
async def create_watch(request: web.Request) -> web.Response:
    """The watch lives until the journey's planned arrival plus a margin; its id is its only key."""
    service = _service(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidParameter("body", "must be a JSON object")
    unknown = set(body) - {"itinerary_id", "medium_serial", "webhook_url"}
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], "is not a field of a watch")
    itinerary_id = _text(body, "itinerary_id", 4000, required=True)
    serial = _text(body, "medium_serial", 64)
    webhook = _text(body, "webhook_url", 2000)
    if webhook is not None:
        check_webhook_url(webhook)
    watch = await service.create(itinerary_id, serial, webhook)
    return json_response(watch, status=201, headers={"Location": watch["events_url"].removesuffix("/events")})


@routes.get(
    "/v1/watches/{watch_id}",
    requires="timetable",
    summary="A watch and its itinerary's current check",
    params=[_WATCH_ID],
    responses={200: reply("The watch", schema_ref("Watch")), 404: "No such watch", 503: "Timetable still loading"},
)
async def get_watch(request: web.Request) -> web.Response:
    return json_response(await _service(request).describe(request.match_info["watch_id"]))


@routes.delete(
    "/v1/watches/{watch_id}",
    summary="Stop watching (the events stream ends)",
    params=[_WATCH_ID],
    responses={204: {"description": "Deleted", "content": {}}, 404: "No such watch"},
)
async def delete_watch(request: web.Request) -> web.Response:
    await _service(request).delete(request.match_info["watch_id"])
    return web.Response(status=204)


@routes.get(
    "/v1/watches/{watch_id}/events",
    summary="The watch's events as Server-Sent Events (event: broken / restored / expired)",
    params=[_WATCH_ID,
            header("Last-Event-ID", pattern="^[0-9]{1,9}$", description="replay the stored events after this id")],
    responses={200: reply("text/event-stream: 'id:' (increasing per watch), 'event:' and 'data:' (a WatchEventData "
                          "JSON object); a ': keep-alive' comment every 15 s; ends after 'expired'",
                          {"type": "string"}, content_type="text/event-stream"),
               404: "No such watch"},
    content_type="text/event-stream",
)
async def get_watch_events(request: web.Request) -> web.StreamResponse:
    """Stored events after Last-Event-ID first, then each new one as it happens."""
    service = _service(request)
    watch_id = request.match_info["watch_id"]
    last = request.headers.get("Last-Event-ID", "0").strip() or "0"
    if not (last.isascii() and last.isdigit() and len(last) <= 9):
        raise InvalidParameter("Last-Event-ID", "must be an event id")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    replay, queue, over = await service.subscribe(watch_id, int(last))
    try:
        await response.prepare(request)
        sent = int(last)
        for event in replay:
            await response.write(event.to_sse())
            sent = event.event_id
        while not over:
            try:  # asyncio.timeout, not wait_for (on 3.11 wait_for can swallow a cancellation)
                async with asyncio.timeout(KEEP_ALIVE_S):
                    event = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event is None:
                break  # deleted or expired
            if event.event_id > sent:
                await response.write(event.to_sse())
                sent = event.event_id
            over = event.kind == "expired"
        await response.write_eof()
        return response
    except ConnectionResetError:  # the client went away (noticed at the next write): nothing to answer
        return response
    finally:
        service.unsubscribe(watch_id, queue)
