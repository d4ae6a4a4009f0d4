"""Itinerary ids: what a journey rides, as a stable opaque id that any snapshot can read again.

An id names the journey's transit legs: for each, the trip, its service date and the stops where
the traveller boards and alights (namespaced ids, as the API shows them), plus the journey's
origin and destination places when they are coordinates or stops the legs do not start or end
at (walking ends). It holds no times: times are what a refresh re-reads from the current
snapshot. The same journey always gets the same id, on any server of the same region.

Format: ``i1.`` + base64url (no padding) of zlib-compressed compact JSON
``{"l": [[trip_id, "YYYYMMDD", board_stop_id, alight_stop_id, board_time_s], ...], "o": place, "d": place}``;
``board_time_s`` (the scheduled departure from the boarding stop, seconds since the service
day's noon minus 12 h) tells the runs of a frequency trip apart; ids without it (four items per
leg, the first ids issued) still decode.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass

import numpy as np

from .compile import Network
from .core import Journey, TransitLeg
from .errors import InvalidItineraryId

__all__ = ["ItineraryRef", "LegRef", "MAX_ITINERARY_ID_CHARS", "decode_itinerary_id", "encode_itinerary_id",
           "itinerary_ref"]

ID_PREFIX = "i1."
MAX_ITINERARY_ID_CHARS = 4000
MAX_LEGS = 16


@dataclass(frozen=True)
class LegRef:
    """One transit leg: ``trip_id`` on ``service_date`` (YYYYMMDD), boarding at ``board_stop_id``
    and alighting at ``alight_stop_id`` (namespaced ids); ``board_time_s``: the scheduled
    departure from the boarding stop in seconds since the service day's noon minus 12 h (picks
    the run of a frequency trip; None: the first run of that id calling there)."""

    trip_id: str
    service_date: str
    board_stop_id: str
    alight_stop_id: str
    board_time_s: int | None = None


@dataclass(frozen=True)
class ItineraryRef:
    """What an itinerary id names: its transit legs in order, and its two ends (a stop id or
    'lat,lon', as given to /v1/journeys; None when the journey starts or ends at its legs' stops)."""

    legs: tuple[LegRef, ...]
    origin: str | None = None
    destination: str | None = None


def itinerary_ref(network: Network, journey: Journey, origin: str | None = None,
                  destination: str | None = None) -> ItineraryRef:
    """The reference of a planned journey of ``network`` (realtime copies keep their trip id)."""
    legs = tuple(
        LegRef(str(network.trip_ids[leg.trip]), network.date_of_day(leg.day).strftime("%Y%m%d"),
               str(network.stop_ids[leg.from_stop]), str(network.stop_ids[leg.to_stop]), _board_time_s(network, leg))
        for leg in journey.legs if isinstance(leg, TransitLeg)
    )
    return ItineraryRef(legs, origin, destination)


def _board_time_s(network: Network, leg: TransitLeg) -> int | None:
    """The scheduled departure of the leg's static run from its boarding stop (service-day
    seconds); None for an added trip (no static run)."""
    tt = network.timetable
    trip = leg.trip if tt.trip_source is None else int(tt.trip_source[leg.trip])
    if trip < 0:
        return None
    p = int(tt.trip_pattern[trip])
    pos = leg.board_pos
    if trip != leg.trip:  # a realtime copy (a cut part, a replacement): its positions may differ
        stops = tt.pattern_stops[int(tt.pattern_stop_offsets[p]):int(tt.pattern_stop_offsets[p + 1])]
        found = np.flatnonzero(stops == leg.from_stop)
        if found.size == 0:
            return None
        pos = int(found[0])
    row = tt.trip_rows(trip)[0] + pos
    return int(tt.stop_time_departure[row])


def encode_itinerary_id(ref: ItineraryRef) -> str:
    body: dict = {"l": [[leg.trip_id, leg.service_date, leg.board_stop_id, leg.alight_stop_id]
                        + ([] if leg.board_time_s is None else [leg.board_time_s]) for leg in ref.legs]}
    if ref.origin is not None:
        body["o"] = ref.origin
    if ref.destination is not None:
        body["d"] = ref.destination
    raw = zlib.compress(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), 9)
    return ID_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_itinerary_id(text: str) -> ItineraryRef:
    """The reference an id names; `InvalidItineraryId` when it is not
    one `encode_itinerary_id` wrote."""
    if not isinstance(text, str) or not text.startswith(ID_PREFIX) or len(text) > MAX_ITINERARY_ID_CHARS:
        raise InvalidItineraryId("not an itinerary id of this planner")
    payload = text[len(ID_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        body = json.loads(zlib.decompressobj().decompress(raw, 64 * 1024).decode())
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError):
        raise InvalidItineraryId("the id is damaged") from None
    if not isinstance(body, dict) or not isinstance(body.get("l"), list) or len(body["l"]) > MAX_LEGS:
        raise InvalidItineraryId("the id is damaged")
    legs = []
    for item in body["l"]:
        if not (isinstance(item, list) and len(item) in (4, 5) and all(isinstance(x, str) and x for x in item[:4])):
            raise InvalidItineraryId("the id is damaged")
        time_s = item[4] if len(item) == 5 else None
        if time_s is not None and (type(time_s) is not int or not -2 * 86400 < time_s < 10 * 86400):
            raise InvalidItineraryId("the id is damaged")
        legs.append(LegRef(*item[:4], time_s))
    ends = [body.get(k) for k in ("o", "d")]
    if any(end is not None and not isinstance(end, str) for end in ends):
        raise InvalidItineraryId("the id is damaged")
    return ItineraryRef(tuple(legs), ends[0], ends[1])

