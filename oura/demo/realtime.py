"""The demo's live server: static feeds and GTFS-realtime over HTTP, like a real publisher.

Routes (``<network>`` is a registry network id):
- ``GET /static/<network>.zip``: the static feed (a folder feed is zipped once, in memory);
- ``GET /rt/<network>/trip-updates.pb``, ``/alerts.pb``, ``/vehicle-positions.pb``: protobuf
  ``FeedMessage``s (``application/x-protobuf``), with ``ETag`` and ``Last-Modified``;
  ``If-None-Match`` and ``If-Modified-Since`` give 304;
- ``GET /``: the list of networks and their URLs (JSON);
- ``POST /control/events`` ``{"network", "kind": "cancel"|"delay"|"close_stop", "trip_id",
  "service_date" (YYYYMMDD, optional), "delay_s", "stop_id", "until" (ISO 8601, optional)}``
  -> 201 the event with its ``id``; ``GET /control/events``; ``DELETE /control/events/{id}``:
  injected events (`oura.demo.live_events`) that the next payloads of that network carry.

Content is a pure function of (seed, time): the clock's time is rounded down to ``step_s``
(30 s by default, like a real publisher's refresh) and `oura.demo.live` builds the message for
that instant, so every client polling within one step gets identical bytes and ETag. Injected
events are the other input: the ETag and the cache key include the active ones, so a client
polling with ``If-None-Match`` gets the changed payload at once after an injection or deletion. Static
feeds are read lazily, per network, in a worker thread, and kept for the server's lifetime.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import logging
import zipfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from aiohttp import web

from oura.concurrency import cancel_and_wait, run_blocking
from oura.demo.live import build_feed
from oura.demo.feed_arrays import NetworkTimetable, load_network_timetable
from oura.demo.live_events import EventError, InjectedEvent, events_fingerprint, parse_event
from oura.demo.registry import RegistryNetwork, read_demo_registry

__all__ = ["create_realtime_app", "serve_realtime", "RT_KINDS"]

log = logging.getLogger(__name__)

RT_KINDS = ("trip-updates", "alerts", "vehicle-positions")
PROTOBUF = "application/x-protobuf"
_CACHE_SIZE = 128


class _LiveState:
    """Per-app state: the registry, loaded timetables and a small cache of built messages."""

    def __init__(self, networks: list[RegistryNetwork], seed: int, clock: Callable[[], datetime], step_s: int) -> None:
        self.networks = {n.network_id: n for n in networks}
        self.seed = seed
        self.clock = clock
        self.step_s = step_s
        self.timetables: dict[str, NetworkTimetable] = {}
        self.loading: dict[str, asyncio.Lock] = {}
        self.static_zips: dict[str, bytes] = {}
        self.messages: OrderedDict[tuple[str, str, int, str], bytes] = OrderedDict()
        self.events: dict[str, InjectedEvent] = {}
        self.event_ids = itertools.count(1)
        self.changed_at: dict[str, datetime] = {}  # network -> when its last injection or deletion was published

    def published_at(self, network_id: str, instant: datetime) -> datetime:
        """The header timestamp of the network's payloads: the step's instant, or the last change
        of its injected events when that is later."""
        changed = self.changed_at.get(network_id)
        return instant if changed is None or changed < instant else changed

    def mark_changed(self, network_id: str) -> None:
        """An event of this network was injected or deleted: its next payloads get a header
        timestamp later than the current one (at least a second, even within the same second),
        so a consumer never mistakes them for the payload it already has."""
        current = int(self.published_at(network_id, self.instant()).timestamp())
        self.changed_at[network_id] = datetime.fromtimestamp(max(int(self.clock().timestamp()), current + 1), UTC)

    def active_events(self, network_id: str, instant: datetime) -> tuple[InjectedEvent, ...]:
        return tuple(e for e in self.events.values() if e.network_id == network_id and e.is_active(instant))

    def instant(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the realtime clock must return timezone-aware datetimes")
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.step_s, UTC)

    async def get_timetable(self, network: RegistryNetwork) -> NetworkTimetable:
        if network.network_id in self.timetables:
            return self.timetables[network.network_id]
        lock = self.loading.setdefault(network.network_id, asyncio.Lock())
        async with lock:
            if network.network_id not in self.timetables:
                log.info("loading static feed %s from %s", network.network_id, network.static)
                self.timetables[network.network_id] = await run_blocking(
                    load_network_timetable, network.network_id, network.static, network.timezone)
        return self.timetables[network.network_id]


LIVE_STATE = web.AppKey("demo.live_state", _LiveState)


def _etag(*parts: object) -> str:
    return '"' + hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=12).hexdigest() + '"'


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            return modified <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False


def _get_network(state: _LiveState, request: web.Request) -> RegistryNetwork:
    network = state.networks.get(request.match_info["network"])
    if network is None:
        raise web.HTTPNotFound(text=f"unknown network {request.match_info['network']!r}")
    return network


async def _realtime(request: web.Request) -> web.StreamResponse:
    state = request.app[LIVE_STATE]
    network = _get_network(state, request)
    kind = request.match_info["kind"]
    if kind not in RT_KINDS:
        raise web.HTTPNotFound(text=f"unknown realtime feed {kind!r}")
    instant = state.instant()
    epoch = int(instant.timestamp())
    events = state.active_events(network.network_id, instant)
    published = state.published_at(network.network_id, instant)
    fingerprint = f"{events_fingerprint(events)}@{int(published.timestamp())}"
    etag = _etag(network.network_id, kind, state.seed, epoch, fingerprint)
    headers = {"ETag": etag, "Last-Modified": format_datetime(published, usegmt=True),
               "Cache-Control": f"max-age={state.step_s}"}
    if _not_modified(request, etag, published):
        return web.Response(status=304, headers=headers)
    key = (network.network_id, kind, epoch, fingerprint)
    body = state.messages.get(key)
    if body is None:
        timetable = await state.get_timetable(network)
        body = await run_blocking(build_feed, timetable, kind, seed=state.seed, now=instant, events=events,
                                  published_at=published)
        state.messages[key] = body
        while len(state.messages) > _CACHE_SIZE:
            state.messages.popitem(last=False)
    return web.Response(body=body, content_type=PROTOBUF, headers=headers)


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
        for member in sorted(folder.iterdir()):
            if member.is_file():
                archive.write(member, member.name)
    return buffer.getvalue()


def _problem(status: int, detail: str) -> web.Response:
    """An RFC 9457 problem (the demo server is not the OùRA app, but speaks like it)."""
    title = "Bad control request" if status == 400 else "Not found"
    return web.json_response({"type": "about:blank", "status": status, "title": title, "detail": detail},
                             status=status, content_type="application/problem+json")


def _unprefixed(event: InjectedEvent, timetable: NetworkTimetable) -> InjectedEvent:
    """The event with ids the feed knows: an id copied from the OùRA API carries the feed's
    namespace (``tcl:T1-0815``); the publisher speaks its feed's original ids."""
    prefix = f"{event.network_id}:"
    changes = {}
    for name, known in (("trip_id", timetable.trip_ids), ("stop_id", timetable.stop_ids)):
        value = getattr(event, name)
        if value and value.startswith(prefix) and not (known == value).any() and (known == value[len(prefix):]).any():
            changes[name] = value[len(prefix):]
    return replace(event, **changes) if changes else event


async def _post_event(request: web.Request) -> web.Response:
    """Inject an event; its trip or stop must exist in the network's static feed."""
    state = request.app[LIVE_STATE]
    try:
        body = await request.json()
    except ValueError:
        return _problem(400, "the body must be JSON")
    now = state.clock()
    try:
        event = parse_event(body, event_id=str(next(state.event_ids)), networks=state.networks, now=now)
    except EventError as error:
        return _problem(400, str(error))
    timetable = await state.get_timetable(state.networks[event.network_id])
    event = _unprefixed(event, timetable)
    if event.trip_id is not None and not (timetable.trip_ids == event.trip_id).any():
        return _problem(400, f"no trip {event.trip_id!r} in {event.network_id}")
    if event.stop_id is not None and not (timetable.stop_ids == event.stop_id).any():
        return _problem(400, f"no stop {event.stop_id!r} in {event.network_id}")
    state.events[event.id] = event
    state.mark_changed(event.network_id)
    log.info("injected %s event %s on %s", event.kind, event.id, event.network_id)
    return web.json_response(event.to_json(now), status=201)


async def _list_events(request: web.Request) -> web.Response:
    state = request.app[LIVE_STATE]
    now = state.clock()
    return web.json_response({"events": [e.to_json(now) for e in state.events.values()]})


async def _delete_event(request: web.Request) -> web.Response:
    state = request.app[LIVE_STATE]
    event = state.events.pop(request.match_info["event_id"], None)
    if event is None:
        return _problem(404, f"no event {request.match_info['event_id']!r}")
    state.mark_changed(event.network_id)
    return web.Response(status=204)


async def _static(request: web.Request) -> web.StreamResponse:
    state = request.app[LIVE_STATE]
    network = _get_network(state, request)
    if "://" in network.static:
        raise web.HTTPFound(network.static)
    path = Path(network.static)
    if path.is_file():
        return web.FileResponse(path, headers={"Content-Type": "application/zip"})
    if not path.is_dir():
        raise web.HTTPNotFound(text=f"static feed of {network.network_id} is missing at {path}")
    body = state.static_zips.get(network.network_id)
    if body is None:
        body = await run_blocking(_zip_folder, path)
        state.static_zips[network.network_id] = body
    modified = datetime.fromtimestamp(int(max(p.stat().st_mtime for p in path.iterdir())), UTC)
    etag = _etag(network.network_id, len(body), hashlib.blake2b(body, digest_size=8).hexdigest())
    headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
    if _not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/zip", headers=headers)


async def _index(request: web.Request) -> web.Response:
    state = request.app[LIVE_STATE]
    base = f"{request.scheme}://{request.host}"
    networks = [
        {
            "network_id": n.network_id,
            "name": n.name,
            "authority_id": n.authority_id,
            "static": f"{base}/static/{n.network_id}.zip",
            **{kind.replace("-", "_"): f"{base}/rt/{n.network_id}/{kind}.pb" for kind in RT_KINDS},
        }
        for n in state.networks.values()
    ]
    return web.json_response({"seed": state.seed, "step_s": state.step_s, "networks": networks,
                              "control": f"{base}/control/events"})


async def _preload(app: web.Application) -> AsyncIterator[None]:
    """Load every static feed in the background at startup, so first requests are quick."""
    state = app[LIVE_STATE]

    async def load_all() -> None:
        for network in state.networks.values():
            try:
                await state.get_timetable(network)
            except Exception:  # a broken feed must not stop the others; requests will report it
                log.exception("could not load static feed %s", network.network_id)

    task = asyncio.create_task(load_all())
    yield
    await cancel_and_wait(task)


def create_realtime_app(
    registry_path: str | Path,
    *,
    seed: int = 1,
    clock: Callable[[], datetime],
    step_s: int = 30,
    preload: bool = False,
) -> web.Application:
    """The demo publisher for every network of the registry at ``registry_path``.

    ``clock`` returns the current aware datetime (tests pass a fixed one); ``step_s`` is how often
    the realtime content changes; ``preload`` loads every static feed in the background at startup
    instead of on first request.
    """
    if step_s < 1:
        raise ValueError("step_s must be at least 1")
    app = web.Application()
    app[LIVE_STATE] = _LiveState(read_demo_registry(Path(registry_path)), seed, clock, step_s)
    if preload:
        app.cleanup_ctx.append(_preload)
    app.router.add_get("/", _index)
    app.router.add_get("/static/{network}.zip", _static)
    app.router.add_get("/rt/{network}/{kind}.pb", _realtime)
    app.router.add_post("/control/events", _post_event)
    app.router.add_get("/control/events", _list_events)
    app.router.add_delete("/control/events/{event_id}", _delete_event)
    return app


async def serve_realtime(
    registry_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8090,
    seed: int = 1,
    clock: Callable[[], datetime],
    step_s: int = 30,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve until cancelled. ``ready`` is set once the port is listening."""
    app = create_realtime_app(registry_path, seed=seed, clock=clock, step_s=step_s, preload=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("demo realtime server on http://%s:%d (seed %d)", host, port, seed)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
