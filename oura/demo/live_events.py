"""Events injected into the demo's realtime simulator: a cancellation, a delay, a stop closure.

The simulator (`oura.demo.live`) is a pure function of (seed, time); the control endpoint of the
live server (`POST /control/events`, `oura.demo.realtime`) adds a third input, the list of
injected events, so `make run` can show what a disruption does to journeys, watches and
alternatives without waiting for the seeded randomness to produce one. An event is a value:

- ``cancel``: the run of ``trip_id`` (on ``service_date``, else on the service days around now)
  is published CANCELED in the trip updates, even beyond the simulator's look-ahead window;
- ``delay``: that run's stop times from the event's creation on are ``delay_s`` later;
- ``close_stop``: a NO_SERVICE alert on ``stop_id`` and a SKIPPED stop time on the trips passing
  there from the event's creation until ``until``.

Each holds until ``until`` (open-ended without one) or until it is deleted. Ids are given by the
server; `parse_event` checks a request body and `InjectedEvent.to_json` answers it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from google.transit import gtfs_realtime_pb2 as rt

__all__ = ["EVENT_KINDS", "EventError", "InjectedEvent", "add_event_alerts", "events_fingerprint", "parse_event"]

EVENT_KINDS = ("cancel", "delay", "close_stop")
MAX_DELAY_S = 6 * 3600


class EventError(ValueError):
    """A control request the simulator cannot apply (the message says why)."""


@dataclass(frozen=True)
class InjectedEvent:
    id: str
    network_id: str
    kind: str  # one of EVENT_KINDS
    created_at: datetime  # aware, UTC
    trip_id: str | None = None  # original (feed) id: cancel, delay
    service_date: date | None = None  # None: the runs around now
    delay_s: int = 0  # delay only
    stop_id: str | None = None  # original (feed) id: close_stop
    until: datetime | None = None  # aware; None: until deleted

    def is_active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def names_run(self, trip_id: str, day: date) -> bool:
        """Whether this cancel or delay event is about that run (trip on that service day)."""
        return self.trip_id == trip_id and (self.service_date is None or self.service_date == day)

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "network": self.network_id, "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "trip_id": self.trip_id,
            "service_date": None if self.service_date is None else f"{self.service_date:%Y%m%d}",
            "delay_s": self.delay_s if self.kind == "delay" else None,
            "stop_id": self.stop_id,
            "until": None if self.until is None else self.until.isoformat(),
        }
        if now is not None:
            body["active"] = self.is_active(now)
        return body


def _text_field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise EventError(f"'{name}' must be a non-empty string")
    return value


def _parse_service_date(value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        raise EventError("'service_date' must be YYYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise EventError("'service_date' is not a date") from None


def _parse_until(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise EventError("'until' must be an ISO 8601 date-time with a UTC offset")
    if moment <= now:
        raise EventError("'until' is in the past")
    return moment.astimezone(UTC)


def parse_event(body: Any, *, event_id: str, networks: Collection[str], now: datetime) -> InjectedEvent:
    """A ``POST /control/events`` body -> an event created at ``now``; EventError if malformed.
    Whether its trip or stop exists in the network's feed is checked by the caller."""
    if not isinstance(body, dict):
        raise EventError("the body must be a JSON object")
    network = _text_field(body, "network")
    if network not in networks:
        raise EventError(f"unknown network {network!r}")
    kind = body.get("kind")
    if kind not in EVENT_KINDS:
        raise EventError(f"'kind' must be one of {', '.join(EVENT_KINDS)}")
    trip_id = stop_id = None
    delay_s = 0
    if kind in ("cancel", "delay"):
        trip_id = _text_field(body, "trip_id")
    if kind == "delay":
        delay_s = body.get("delay_s")
        if isinstance(delay_s, bool) or not isinstance(delay_s, int) or not 0 < delay_s <= MAX_DELAY_S:
            raise EventError(f"'delay_s' must be an integer from 1 to {MAX_DELAY_S}")
    if kind == "close_stop":
        stop_id = _text_field(body, "stop_id")
    return InjectedEvent(
        id=event_id, network_id=network, kind=kind, created_at=now.astimezone(UTC), trip_id=trip_id,
        service_date=_parse_service_date(body.get("service_date")), delay_s=delay_s, stop_id=stop_id,
        until=_parse_until(body.get("until"), now),
    )


def events_fingerprint(events: Iterable[InjectedEvent]) -> str:
    """A short digest of a set of events: part of the payloads' ETag and cache key."""
    ids = sorted(e.id for e in events)
    return hashlib.blake2b(",".join(ids).encode(), digest_size=6).hexdigest() if ids else ""


def _text(translated: rt.TranslatedString, fr: str, en: str) -> None:
    for language, value in (("fr", fr), ("en", en)):
        item = translated.translation.add()
        item.text = value
        item.language = language


def add_event_alerts(message: rt.FeedMessage, events: Iterable[InjectedEvent], stop_names: Mapping[str, str],
                     now: datetime) -> None:
    """A NO_SERVICE alert per active ``close_stop`` event, from its creation to its ``until``."""
    for event in events:
        if event.kind != "close_stop" or not event.is_active(now):
            continue
        name = stop_names.get(event.stop_id or "", event.stop_id or "")
        entity = message.entity.add()
        entity.id = f"injected-{event.id}"
        alert = entity.alert
        period = alert.active_period.add()
        period.start = int(event.created_at.timestamp())
        if event.until is not None:
            period.end = int(event.until.timestamp())
        alert.informed_entity.add().stop_id = event.stop_id
        alert.cause = rt.Alert.OTHER_CAUSE
        alert.effect = rt.Alert.NO_SERVICE
        _text(alert.header_text, f"Arrêt {name} fermé", f"Stop {name} closed")
        if event.until is None:
            _text(alert.description_text, f"L'arrêt {name} n'est pas desservi jusqu'à nouvel ordre.",
                  f"Stop {name} is not served until further notice.")
        else:
            _text(alert.description_text, f"L'arrêt {name} n'est pas desservi pour le moment (voir la période).",
                  f"Stop {name} is not served for the time being (see the active period).")
