"""HTTP routes of the planner: journeys, stop search, departures (thin handlers over the service).

The service they call is ``app[PLANNER]``, put on the app by the package's start-up,
`journey_planner.startup`.
"""

from __future__ import annotations

from aiohttp import web

from oura.keys import CONFIG
from oura.http import RouteTable, header, json_response, path_param, query, reply, schema_ref
from oura.http.schemas import LATLON_PATTERN
from oura.http.params import query_bool, query_datetime, query_int, query_latlon, query_str

from .alert_index import parse_accept_language
from .carpool_legs import MODES_PATTERN, parse_modes
from .errors import InvalidModes, TimetableNotReady
from .schemas import COMPONENTS
from .journey_pages import MAX_CURSOR_CHARS
from .journeys import JourneyQuery
from .places import WalkingRules
from .service import PlannerService
from .startup import PLANNER

__all__ = ["routes"]


routes = RouteTable(tag="journeys", components=COMPONENTS)


_LANG = query("lang", maxLength=35, description="BCP 47 language of alert texts (fr, en-GB...); default: the Accept-Language header. "
                           "Fallback: the tag, its primary subtag, the untagged text, then any")


def _langs(request: web.Request) -> tuple[str, ...]:
    """The traveller's languages, preferred first: ``lang``, else the Accept-Language header."""
    lang = query_str(request.query, "lang", max_length=35)
    if lang:
        return (lang,)
    return parse_accept_language(request.headers.get("Accept-Language"))


def _service(request: web.Request) -> PlannerService:
    service = request.app.get(PLANNER)
    if service is None or service.holder is None:
        raise TimetableNotReady()
    return service


@routes.get(
    "/v1/journeys",
    requires="timetable",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Plan journeys between two stops, stations or coordinates",
    params=[
        query("from", required=True, maxLength=500, description="stop id, station id (all its platforms) or 'lat,lon'"),
        query("to", required=True, maxLength=500, description="stop id, station id or 'lat,lon'"),
        query("datetime", format="date-time",
              description="ISO 8601 departure (or arrival with arrive_by); default now; without an offset: the region's time"),
        query("arrive_by", "boolean", description="datetime is the latest arrival"),
        query("max_transfers", "integer", minimum=0, maximum=10, description="0-10, default 6"),
        query("wheelchair", "boolean", description="accessible stops and trips only"),
        query("window", "integer", minimum=0, description="seconds: every good departure within the window "
              "(0 to the planner's max_window_s, 21600 by default)"),
        query("num", "integer", minimum=1, maximum=50, description="at most this many itineraries (1-50, default 5)"),
        query("realtime", "boolean", description="apply realtime (default true); false: planned timetable"),
        query("rider_category", maxLength=64, description="Fares v2 rider_category_id the prices are for (adult, youth, "
              "senior, reduced; default: the default category)"),
        query("cursor", maxLength=MAX_CURSOR_CHARS, description="the 'next' or 'previous' of an earlier answer (same "
              "from and to): the page it names replaces datetime, arrive_by and window"),
        _LANG,
        query("modes", pattern=MODES_PATTERN, maxLength=100,
              description="comma-separated modes to use: transit, walk (walk-only journeys), carpool (car legs "
              "from the operators: to or from a railway station, or door to door; never for wheelchair queries). "
              "Default transit,walk"),
    ],
    responses={200: reply("Itineraries (the response says whether realtime was applied)", schema_ref("Journeys")),
               400: "Bad parameters, an unknown place, a coordinate with no stop within walking reach "
                    "(no_stop_nearby: nearest_stop and nearest_stop_m say which and how far), the same place twice, "
                    "a time outside the timetable, or an invalid cursor",
               503: "Timetable still loading"},
)
async def get_journeys(request: web.Request) -> web.Response:
    """Pareto-optimal itineraries over arrival time and number of transfers."""
    service = _service(request)
    params = request.query
    q = JourneyQuery(
        origin=query_str(params, "from", required=True),
        destination=query_str(params, "to", required=True),
        at=query_datetime(params, "datetime"),
        arrive_by=query_bool(params, "arrive_by"),
        max_transfers=query_int(params, "max_transfers", default=6, minimum=0, maximum=10),
        wheelchair=query_bool(params, "wheelchair"),
        window_s=query_int(params, "window", default=0, minimum=0),
        num=query_int(params, "num", default=5, minimum=1, maximum=50),
        realtime=query_bool(params, "realtime", default=True),
        rider_category=query_str(params, "rider_category", max_length=64),
        cursor=query_str(params, "cursor", max_length=MAX_CURSOR_CHARS),
        walking=_walking_rules(request.app),
        langs=_langs(request),
        modes=_modes(params),
    )
    return json_response(await service.plan_journeys(q))


def _modes(params) -> frozenset[str]:  # noqa: ANN001  (a MultiDictProxy)
    text = query_str(params, "modes", max_length=100)
    modes = parse_modes(text)
    if modes is None:
        raise InvalidModes(text or "")
    return modes


def _walking_rules(app: web.Application) -> WalkingRules:
    config = app.get(CONFIG)
    return WalkingRules.of_settings(config.planner if config is not None else None)


@routes.get(
    "/v1/stops",
    requires="timetable",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Search stops by name (accent- and case-insensitive) or near a point",
    params=[query("q", maxLength=200, description="words of the name: 'part dieu' finds 'Lyon Part-Dieu' (q or near "
                  "is required)"),
            query("near", pattern=LATLON_PATTERN, description="'lat,lon': nearest stops first"),
            query("limit", "integer", minimum=1, maximum=100, description="1-100, default 20")],
    responses={200: reply("Stops", {"type": "object", "required": ["stops"], "additionalProperties": False,
                                    "properties": {"stops": {"type": "array", "items": schema_ref("StopMatch")}}}),
               400: "Bad parameters", 503: "Timetable still loading"},
)
async def get_stops(request: web.Request) -> web.Response:
    service = _service(request)
    params = request.query
    q = query_str(params, "q", max_length=200)
    near = query_latlon(params, "near")
    if not q and near is None:
        from oura.errors import MissingParameter

        raise MissingParameter("q", "give q (a name) or near (lat,lon)")
    limit = query_int(params, "limit", default=20, minimum=1, maximum=100)
    return json_response({"stops": await service.search_stops(q, near, limit)})


@routes.get(
    "/v1/stops/{stop_id}/departures",
    requires="timetable",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Next departures from a stop or station, with realtime status",
    params=[path_param("stop_id", description="namespaced stop or station id"),
            query("datetime", format="date-time", description="ISO 8601; default now"),
            query("limit", "integer", minimum=1, maximum=100, description="1-100, default 10"),
            query("realtime", "boolean", description="default true"),
            _LANG],
    responses={200: reply("Departures", schema_ref("Departures")), 404: "Unknown stop", 503: "Timetable still loading"},
)
async def get_departures(request: web.Request) -> web.Response:
    service = _service(request)
    params = request.query
    result = await service.list_departures(
        request.match_info["stop_id"], query_datetime(params, "datetime"),
        query_int(params, "limit", default=10, minimum=1, maximum=100),
        query_bool(params, "realtime", default=True),
        _langs(request),
    )
    return json_response(result)


@routes.get(
    "/v1/basemap",
    requires="timetable",  # 503 + Retry-After until it is published (oura.http.health)
    summary="An offline basemap drawn from the timetable: the served area, railways, main lines, towns (GeoJSON)",
    params=[header("If-None-Match", description="the ETag of an earlier answer: 304 when unchanged")],
    responses={200: reply("A GeoJSON FeatureCollection; each feature's properties.layer is outline, rail, line or town",
                          schema_ref("Basemap")),
               304: {"description": "Unchanged since the ETag given", "content": {},
                     "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}},
               503: "Timetable still loading"},
    content_type="application/geo+json",
)
async def get_basemap(request: web.Request) -> web.StreamResponse:
    """For maps with no tile server (the traveller site's default): built once per timetable version."""
    tag, body = await _service(request).basemap()
    headers = {"ETag": tag, "Cache-Control": "public, max-age=3600"}
    if request.headers.get("If-None-Match") == tag:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, content_type="application/geo+json", headers=headers)
    response.enable_compression()
    return response
