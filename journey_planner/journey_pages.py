"""Paging of journeys answers: the page a query names, its ``next`` and ``previous`` pages, cursors.

A page is a search: depart at / arrive by a time, with or without a window. A cursor is the
page, opaque to clients: base64url (no padding) of a small versioned JSON object, bound to the
``from``/``to`` it was issued for. The same cursor on the same snapshot gives the same answer
(it holds an absolute time, never "now").

Neighbours of a page, from the journeys the core found that ride something (a walk-only journey
never moves a page: walking can start at any time):

- a window page ``[t, t + w]`` (depart at) or ``[t - w, t]`` (arrive by): the next window and
  the previous one, same direction and width (they tile the time line, never overlap);
- a page without a window: ``next`` departs 1 s after its latest departure, ``previous``
  arrives by 1 s before its earliest arrival (an arrive-by search), so neighbours never repeat
  a journey of the page;
- an empty page without a window: ``next`` departs `EMPTY_STEP_S` later (1 s after an arrive-by
  time), ``previous`` arrives 1 s before a depart-at time (`EMPTY_STEP_S` before an arrive-by time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from .core import Journey
from .errors import InvalidCursor

__all__ = ["CURSOR_VERSION", "EMPTY_STEP_S", "MAX_CURSOR_CHARS", "Page", "decode_cursor", "encode_cursor",
           "neighbours"]

CURSOR_VERSION = 1
EMPTY_STEP_S = 3600
MAX_CURSOR_CHARS = 200
_TIME_RANGE_S = (0, 1 << 40)


@dataclass(frozen=True)
class Page:
    time_s: int  # POSIX seconds: earliest departure, or latest arrival when arrive_by
    arrive_by: bool
    window_s: int  # 0: the Pareto set from time_s; > 0: every good journey within the window


def _fingerprint(origin: str, destination: str) -> str:
    return hashlib.sha256(f"{origin.strip()}\n{destination.strip()}".encode()).hexdigest()[:12]


def encode_cursor(page: Page, origin: str, destination: str) -> str:
    body = {"v": CURSOR_VERSION, "t": page.time_s, "a": int(page.arrive_by), "w": page.window_s,
            "p": _fingerprint(origin, destination)}
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str, origin: str, destination: str) -> Page:
    """The page a cursor names; `InvalidCursor` when it is not one `encode_cursor` wrote for these places."""
    if not text or len(text) > MAX_CURSOR_CHARS:
        raise InvalidCursor("not a cursor of this planner")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("not a cursor of this planner") from None
    if not isinstance(body, dict) or body.get("v") != CURSOR_VERSION:
        raise InvalidCursor("not a cursor of this planner (or of an older version)")
    t, a, w = body.get("t"), body.get("a"), body.get("w")
    if not all(type(x) is int for x in (t, a, w)) or a not in (0, 1) or w < 0 \
            or not _TIME_RANGE_S[0] <= t < _TIME_RANGE_S[1]:
        raise InvalidCursor("not a cursor of this planner")
    if body.get("p") != _fingerprint(origin, destination):
        raise InvalidCursor("this cursor pages another search: send it with the same 'from' and 'to'")
    return Page(t, bool(a), w)


def neighbours(page: Page, journeys: Sequence[Journey]) -> tuple[Page, Page]:
    """(next, previous) of ``page`` whose transit journeys are ``journeys``."""
    t, w = page.time_s, page.window_s
    if w > 0:
        return Page(t + w + 1, page.arrive_by, w), Page(max(0, t - w - 1), page.arrive_by, w)
    if journeys:
        latest_departure = max(j.departure_s for j in journeys)
        earliest_arrival = min(j.arrival_s for j in journeys)
        return Page(latest_departure + 1, False, 0), Page(max(0, earliest_arrival - 1), True, 0)
    next_t = t + 1 if page.arrive_by else t + EMPTY_STEP_S
    previous_t = t - EMPTY_STEP_S if page.arrive_by else t - 1
    return Page(next_t, False, 0), Page(max(0, previous_t), True, 0)
