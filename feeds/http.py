"""REST routes of the feeds package: authorities, feed versions and health, validation reports.

All three are public: the registry and the quality of open data are open data. The package's
startup (`feeds_context`) loads the registry once and, when configured, starts the periodic
ingestion (`FeedScheduler`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from feeds import repository
from feeds.authorities import Registry, load_registry
from feeds.errors import UnknownFeedVersion, UnknownNetwork
from feeds.scheduler import FeedScheduler
from feeds.status import NetworkStatus, list_network_statuses
from feeds.store import FeedStore
from oura.http import RouteTable, json_response, path_param, query, query_int, query_str
from oura.keys import CLOCK, CONFIG, HTTP_CLIENT, POOL, READINESS

__all__ = ["routes", "feeds_context", "REGISTRY", "SCHEDULER", "STORE"]

log = logging.getLogger(__name__)

routes = RouteTable(tag="feeds")
REGISTRY = web.AppKey("feeds.registry", Registry)
STORE = web.AppKey("feeds.store", FeedStore)
SCHEDULER = web.AppKey("feeds.scheduler", FeedScheduler)

_EMPTY_REGISTRY = Registry(source="", region_name="", timezone="")


def _registry(request: web.Request) -> Registry:
    return request.app.get(REGISTRY) or _EMPTY_REGISTRY


def _version_json(version: repository.FeedVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "version_id": version.version_id, "sha256": version.sha256, "status": version.status,
        "fetched_at": version.fetched_at, "validity_start": version.validity_start,
        "validity_end": version.validity_end, "size_bytes": version.size_bytes, "counts": version.counts,
        "issue_counts": version.issue_counts, "is_current": version.is_current,
    }


def _status_json(status: NetworkStatus) -> dict[str, Any]:
    fetch = status.fetch
    return {
        "network_id": status.network_id, "authority_id": status.authority_id, "name": status.network_name,
        "timezone": status.timezone, "health": status.health, "reason": status.reason,
        "age_s": None if status.age_s is None else round(status.age_s),
        "current": _version_json(status.current),
        "last_attempt": None if fetch is None else {
            "at": fetch.last_attempt_at, "outcome": fetch.last_outcome, "error": fetch.last_error,
            "consecutive_failures": fetch.consecutive_failures},
    }


@routes.get("/v1/authorities", summary="List the transport authorities, their networks and feed health",
            responses={200: "Authorities of the region with their networks"})
async def list_authorities(request: web.Request) -> web.Response:
    """Every authority of the registry; each network with its current feed version and health."""
    registry = _registry(request)
    statuses = {s.network_id: s for s in await list_network_statuses(
        request.app[POOL], registry, request.app[CLOCK].now())}
    authorities = []
    for authority in registry.authorities:
        networks = []
        for network in authority.networks:
            status = statuses[network.id]
            realtime = network.realtime
            networks.append({
                "network_id": network.id, "name": network.name, "timezone": network.timezone,
                "static_poll_s": network.static_poll_s,
                "realtime": [] if realtime is None else [kind for kind in ("trip_updates", "alerts",
                                                                           "vehicle_positions")
                                                         if getattr(realtime, kind)],
                "health": status.health,
                "current_version_id": status.current.version_id if status.current else None,
            })
        authorities.append({"authority_id": authority.id, "name": authority.name, "kind": authority.kind,
                            "timezone": authority.timezone, "networks": networks})
    return json_response({"region": registry.region_name or None, "authorities": authorities})


@routes.get("/v1/feeds", summary="Feed versions and health per network",
            params=[query("authority", description="authority or network id to restrict to"),
                    query("versions", "integer", description="recent versions listed per network (default 5)",
                          minimum=0, maximum=100)],
            responses={200: "One entry per network", 404: "Unknown authority or network"})
async def list_feeds(request: web.Request) -> web.Response:
    """Per network: the serving version, health in one word with its reason, and recent versions."""
    registry = _registry(request)
    only = query_str(request.query, "authority")
    per_network = query_int(request.query, "versions", minimum=0, maximum=100) if "versions" in request.query else 5
    try:
        statuses = await list_network_statuses(request.app[POOL], registry, request.app[CLOCK].now(), only)
    except KeyError as error:
        raise UnknownNetwork(str(error).strip("'\"")) from error
    versions = await repository.list_versions(request.app[POOL], [s.network_id for s in statuses], limit=100_000)
    feeds = []
    for status in statuses:
        entry = _status_json(status)
        entry["versions"] = [_version_json(v) for v in versions if v.network_id == status.network_id][:per_network]
        feeds.append(entry)
    return json_response({"feeds": feeds})


@routes.get("/v1/feeds/versions/{version_id}/report", summary="Validation report of one feed version",
            params=[path_param("version_id", "integer"),
                    query("limit", "integer", description="issues listed (default 200)", minimum=1, maximum=5000)],
            responses={200: "Verdict in plain words and the stored issues", 404: "Unknown version"})
async def get_version_report(request: web.Request) -> web.Response:
    """Why a version was accepted or rejected: the plain-words summary and its issues, fatal first."""
    try:
        version_id = int(request.match_info["version_id"])
    except ValueError as error:
        raise UnknownFeedVersion() from error
    version = await repository.find_version(request.app[POOL], version_id)
    if version is None:
        raise UnknownFeedVersion()
    limit = query_int(request.query, "limit", minimum=1, maximum=5000) if "limit" in request.query else 200
    issues = await repository.list_issues(request.app[POOL], version_id, limit=limit)
    return json_response({"version": {**_version_json(version), "network_id": version.network_id,
                                      "authority_id": version.authority_id, "source": version.source},
                          "summary": version.summary, "issues": issues})


async def feeds_context(app: web.Application) -> AsyncIterator[None]:
    """Load the registry; start periodic ingestion when `FeedsConfig.ingest_on_start` is set."""
    config = app[CONFIG].feeds
    store = FeedStore(config.store_dir)
    removed = store.remove_leftovers()
    if removed:
        log.info("removed %d abandoned download(s) from the feed store", removed)
    app[STORE] = store
    if config.registry is None:
        yield
        return
    registry = load_registry(config.registry)
    app[REGISTRY] = registry
    scheduler = None
    if config.ingest_on_start:
        scheduler = FeedScheduler(app[POOL], registry, store=store, session=app[HTTP_CLIENT], clock=app[CLOCK])
        app[SCHEDULER] = scheduler
        app[READINESS].expect("feeds", "first ingestion round running")
        scheduler.start()

        async def mark_ready() -> None:
            await scheduler.first_round.wait()
            app[READINESS].set("feeds", True, f"{len(registry.list_networks())} networks checked")

        ready_task = asyncio.create_task(mark_ready())
    try:
        yield
    finally:
        if scheduler is not None:
            ready_task.cancel()
            await scheduler.stop()
