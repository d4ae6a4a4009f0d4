"""REST routes of the feeds package: authorities, feed versions and health, validation reports,
interchange hubs.

All are public: the registry and the quality of open data are open data. The state they read
(the registry, the feed store, the hubs) is put on the app by the package's start-up,
`feeds.startup`.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from feeds import repository
from feeds.authorities import Registry
from feeds.errors import HubsNotReady, UnknownFeedVersion, UnknownNetwork
from feeds.hubs import Hub, HubMember, select_hubs
from feeds.schemas import COMPONENTS
from feeds.startup import HUBS, REGISTRY
from feeds.status import NetworkStatus, list_network_statuses
from oura.errors import InvalidParameter
from oura.http import (RouteTable, json_response, path_param, query, query_bool, query_float, query_int,
                       query_latlon, query_str, reply, schema_ref)
from oura.http.schemas import ID_MAXIMUM, LATLON_PATTERN
from oura.keys import CLOCK, POOL

__all__ = ["routes"]

routes = RouteTable(tag="feeds", components=COMPONENTS)
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
            responses={200: reply("Authorities of the region with their networks", schema_ref("Authorities"))})
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
            params=[query("authority", maxLength=500, description="authority or network id to restrict to"),
                    query("versions", "integer", description="recent versions listed per network (default 5)",
                          minimum=0, maximum=100)],
            responses={200: reply("One entry per network", {
                "type": "object", "required": ["feeds"], "additionalProperties": False,
                "properties": {"feeds": {"type": "array", "items": schema_ref("NetworkFeeds")}}}),
                404: "Unknown authority or network"})
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
            params=[path_param("version_id", "integer", minimum=1, maximum=ID_MAXIMUM),
                    query("limit", "integer", description="issues listed (default 200)", minimum=1, maximum=5000)],
            responses={200: reply("Verdict in plain words and the stored issues", schema_ref("VersionReport")),
                       404: "Unknown version"})
async def get_version_report(request: web.Request) -> web.Response:
    """Why a version was accepted or rejected: the plain-words summary and its issues, fatal first."""
    try:
        version_id = int(request.match_info["version_id"])
    except ValueError as error:
        raise UnknownFeedVersion() from error
    if not 1 <= version_id < 2**63:  # ids are bigint: anything else names no version
        raise UnknownFeedVersion()
    version = await repository.find_version(request.app[POOL], version_id)
    if version is None:
        raise UnknownFeedVersion()
    limit = query_int(request.query, "limit", minimum=1, maximum=5000) if "limit" in request.query else 200
    issues = await repository.list_issues(request.app[POOL], version_id, limit=limit)
    return json_response({"version": {**_version_json(version), "network_id": version.network_id,
                                      "authority_id": version.authority_id, "source": version.source},
                          "summary": version.summary, "issues": issues})


def _point(lat: float, lon: float) -> dict[str, Any] | None:
    """A GeoJSON Point (lon, lat order), or None for a place without coordinates."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def _member_json(member: HubMember) -> dict[str, Any]:
    distance = round(member.distance_m, 1) if math.isfinite(member.distance_m) else None
    return {"stop_id": member.stop_id, "network_id": member.feed_id, "name": member.name, "distance_m": distance}


def _hub_json(hub: Hub, distance_m: float | None) -> dict[str, Any]:
    entry = {"hub_id": hub.hub_id, "name": hub.name, "geometry": _point(hub.lat, hub.lon),
             "networks": list(hub.feed_ids), "interchange": hub.interchange,
             "stops": [_member_json(member) for member in hub.members]}
    if distance_m is not None:
        entry["distance_m"] = round(distance_m, 1)
    return entry


@routes.get("/v1/hubs", summary="Interchange hubs: stations of different networks that are the same place",
            params=[query("interchanges_only", "boolean",
                          description="only hubs joining two or more networks (default true)"),
                    query("network", maxLength=500, description="only hubs with a stop of this network"),
                    query("near", pattern=LATLON_PATTERN,
                          description="'lat,lon': only hubs within radius_m of this point, nearest first"),
                    query("radius_m", "number", description="with near, in metres (default 1000)",
                          minimum=1, maximum=50_000),
                    query("limit", "integer", description="hubs listed (default 50)", minimum=1, maximum=500)],
            responses={200: reply("Hubs of the served feed versions, and how many matched", schema_ref("Hubs")),
                       400: "Bad parameters",
                       404: "Unknown network", 503: "Hubs not computed yet (first ingestion running)"})
async def list_interchange_hubs(request: web.Request) -> web.Response:
    """Hubs computed once per set of served versions, filtered here; order: most networks first
    (then most stations, hub id), or nearest first around `near`."""
    params = request.query
    interchanges_only = query_bool(params, "interchanges_only", default=True)
    network = query_str(params, "network")
    if network is not None and network not in {n.id for n in _registry(request).list_networks()}:
        raise UnknownNetwork(f"no network {network!r} in the registry")
    near = query_latlon(params, "near")
    radius_m = query_float(params, "radius_m", default=1000.0, minimum=1, maximum=50_000)
    if near is None and params.get("radius_m"):
        raise InvalidParameter("radius_m", "needs near=lat,lon")
    limit = query_int(params, "limit", default=50, minimum=1, maximum=500)
    holder = request.app.get(HUBS)
    if holder is None or holder.current is None:
        raise HubsNotReady()
    selected = select_hubs(holder.current.hubs, interchanges_only=interchanges_only, feed_id=network, near=near,
                           radius_m=radius_m)
    return json_response({"total": len(selected), "hubs": [_hub_json(hub, d) for hub, d in selected[:limit]]})
