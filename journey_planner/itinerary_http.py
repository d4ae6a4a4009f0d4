"""HTTP routes of itineraries: re-evaluate a planned itinerary by its id (thin handler over
`journey_planner.refresh`, run in the executor on the current snapshot)."""

from __future__ import annotations

from aiohttp import web

from oura.concurrency import run_blocking
from oura.http import RouteTable, json_response, path_param, query, reply, schema_ref
from oura.http.params import query_bool, query_int, query_str

from .alert_index import parse_accept_language
from .errors import TimetableNotReady
from .itineraries import MAX_ITINERARY_ID_CHARS, decode_itinerary_id
from .refresh import check_itinerary, itinerary_check_json
from .snapshot import Snapshot
from .startup import PLANNER

__all__ = ["routes"]

routes = RouteTable(tag="journeys")

DEFAULT_MIN_TRANSFER_S = 120  # the change time of /v1/journeys (JourneyQuery.transfer_slack_s)
MAX_MIN_TRANSFER_S = 3600


@routes.get(
    "/v1/itineraries/{id}",
    requires="timetable",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Re-evaluate a planned itinerary against the current realtime timetable",
    params=[
        path_param("id", maxLength=MAX_ITINERARY_ID_CHARS, pattern=r"^i1\.[A-Za-z0-9_-]+$", description="the 'id' of an itinerary of /v1/journeys"),
        query("realtime", "boolean", description="apply realtime (default true); false: the planned timetable"),
        query("min_transfer_s", "integer", minimum=0, maximum=MAX_MIN_TRANSFER_S,
              description="change time at a stop that sets none (default 120 s, as /v1/journeys plans)"),
        query("lang", maxLength=35, description="BCP 47 language of the legs' alert texts; default: the "
              "Accept-Language header, then the feed's untagged text"),
    ],
    responses={200: reply("Each leg's scheduled and expected times and status, whether every change still holds, "
                          "and why not (a trip no longer in the timetable is a trip_not_found problem, not a 404)",
                          schema_ref("ItineraryCheck")),
               400: "Not an itinerary id of this planner (invalid_itinerary_id), or bad parameters",
               503: "Timetable still loading"},
)
async def get_itinerary(request: web.Request) -> web.Response:
    """The itinerary its id names, re-read against the current snapshot."""
    ref = decode_itinerary_id(request.match_info["id"])
    realtime = query_bool(request.query, "realtime", default=True)
    min_transfer_s = query_int(request.query, "min_transfer_s", default=DEFAULT_MIN_TRANSFER_S, minimum=0,
                               maximum=MAX_MIN_TRANSFER_S)
    service = request.app.get(PLANNER)
    if service is None or service.holder is None:
        raise TimetableNotReady()
    snapshot: Snapshot = service.get_snapshot()
    lang = query_str(request.query, "lang", max_length=35)
    langs = (lang,) if lang else parse_accept_language(request.headers.get("Accept-Language"))

    def answer() -> dict:
        check = check_itinerary(snapshot, ref, min_transfer_s=min_transfer_s, realtime=realtime)
        return itinerary_check_json(snapshot, ref, check, langs)

    return json_response(await run_blocking(answer))
