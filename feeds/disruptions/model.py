"""Operator disruptions as values: what an authority declared, and the parsing of its requests.

A disruption is about one network: every id it names is namespaced ``<network>:<original id>``
with the same network, whose authority owns it (`feeds.disruptions.service` checks the caller may
act for it). Parsing here is syntax only (types, required fields, periods, times); whether the ids
exist in the served static feed is `feeds.disruptions.convert`'s job, because it needs the feed.

Kinds and their fields (``spec``):

- ``close_stop``: ``stop_id``;
- ``cut_route``: ``route_id``, ``from_stop_id``, ``to_stop_id`` (nobody rides across the section);
- ``cancel_trips``: ``trip_ids``, optional ``service_dates`` (YYYYMMDD; default: every run whose
  first departure falls in the period);
- ``replacement_bus``: ``route_id`` (the route it stands in for), ``stop_times`` (``stop_id``,
  ``arrival``, ``departure``: ISO 8601 with an offset, or HH:MM:SS with ``service_dates``).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feeds.errors import InvalidDisruption

__all__ = ["Kind", "Period", "Disruption", "DisruptionDraft", "DisruptionPatch", "parse_draft", "parse_patch",
           "network_of", "spec_ids", "parse_period", "CAUSES", "EFFECTS", "MAX_TEXT_LENGTH"]

CAUSES = frozenset({"UNKNOWN_CAUSE", "OTHER_CAUSE", "TECHNICAL_PROBLEM", "STRIKE", "DEMONSTRATION", "ACCIDENT",
                    "HOLIDAY", "WEATHER", "MAINTENANCE", "CONSTRUCTION", "POLICE_ACTIVITY", "MEDICAL_EMERGENCY"})
EFFECTS = frozenset({"NO_SERVICE", "REDUCED_SERVICE", "SIGNIFICANT_DELAYS", "DETOUR", "ADDITIONAL_SERVICE",
                     "MODIFIED_SERVICE", "OTHER_EFFECT", "UNKNOWN_EFFECT", "STOP_MOVED", "NO_EFFECT",
                     "ACCESSIBILITY_ISSUE"})
MAX_TEXT_LENGTH = 4000
MAX_TRIPS = 1000
MIN_YEAR, MAX_YEAR = 1971, 2199  # beyond, POSIX times and service days are no use (and overflow)
MAX_STOP_TIMES = 300
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}:[^\x00-\x1f]{1,200}$")
_DATE = re.compile(r"^\d{8}$")
_HMS = re.compile(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$")
_LANGUAGE = re.compile(r"^[A-Za-z]{0,8}(-[A-Za-z0-9]{1,8})*$")


class Kind(enum.StrEnum):
    CLOSE_STOP = "close_stop"
    CUT_ROUTE = "cut_route"
    CANCEL_TRIPS = "cancel_trips"
    REPLACEMENT_BUS = "replacement_bus"


# The kinds that forbid riding must say so (the planner closes on NO_SERVICE only); a replacement
# bus adds service and must not close the route it stands in for.
DEFAULT_EFFECT = {Kind.CLOSE_STOP: "NO_SERVICE", Kind.CUT_ROUTE: "NO_SERVICE", Kind.CANCEL_TRIPS: "NO_SERVICE",
                  Kind.REPLACEMENT_BUS: "ADDITIONAL_SERVICE"}


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.datetime  # aware
    end: dt.datetime | None  # None: until further notice

    def contains(self, at: dt.datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat() if self.end else None}


@dataclass(frozen=True, slots=True)
class DisruptionDraft:
    """A valid request to create a disruption (ids not yet checked against the feed)."""

    kind: Kind
    network_id: str
    spec: Mapping[str, Any]
    period: Period
    cause: str
    effect: str
    header_text: Mapping[str, str]
    description_text: Mapping[str, str]
    url: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DisruptionPatch:
    """The fields a PATCH may change (None: unchanged)."""

    period: Period | None = None
    cause: str | None = None
    header_text: Mapping[str, str] | None = None
    description_text: Mapping[str, str] | None = None
    url: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Disruption:
    """A stored disruption."""

    id: int
    authority_id: str
    network_id: str
    kind: Kind
    spec: Mapping[str, Any]
    period: Period
    cause: str
    effect: str
    header_text: Mapping[str, str]
    description_text: Mapping[str, str]
    url: Mapping[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None = None

    @property
    def alert_id(self) -> str:
        """The id of its alert, namespaced like every alert id (``<network>:<id>``)."""
        return f"{self.network_id}:oura-disruption-{self.id}"

    def is_current(self, now: dt.datetime) -> bool:
        """Not ended, and active now or upcoming."""
        return self.ended_at is None and (self.period.end is None or self.period.end > now)

    def status(self, now: dt.datetime) -> str:
        if self.ended_at is not None:
            return "ended"
        if self.period.end is not None and self.period.end <= now:
            return "expired"
        return "active" if self.period.contains(now) else "upcoming"

    def with_patch(self, patch: DisruptionPatch, now: dt.datetime) -> Disruption:
        return Disruption(
            id=self.id, authority_id=self.authority_id, network_id=self.network_id, kind=self.kind, spec=self.spec,
            period=patch.period or self.period, cause=patch.cause or self.cause, effect=self.effect,
            header_text=self.header_text if patch.header_text is None else patch.header_text,
            description_text=self.description_text if patch.description_text is None else patch.description_text,
            url=self.url if patch.url is None else patch.url,
            created_at=self.created_at, updated_at=now, ended_at=self.ended_at,
        )

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "id": self.id, "alert_id": self.alert_id, "authority_id": self.authority_id,
            "network_id": self.network_id, "kind": self.kind.value, **dict(self.spec),
            "period": self.period.to_json(), "cause": self.cause, "effect": self.effect,
            "header": dict(self.header_text), "description": dict(self.description_text), "url": dict(self.url),
            "status": self.status(now), "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


# --- parsing ------------------------------------------------------------------------------------


def network_of(namespaced_id: str) -> str:
    return namespaced_id.split(":", 1)[0]


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidDisruption("body", "a JSON object is required")
    return body


def _id(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidDisruption(name, "a namespaced id '<network>:<id>' is required")
    return value


def _datetime(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise InvalidDisruption(name, "an ISO 8601 date-time with an offset is required")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidDisruption(name, f"not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise InvalidDisruption(name, "the date-time needs an offset (e.g. +01:00 or Z)")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidDisruption(name, f"a year from {MIN_YEAR} to {MAX_YEAR}")
    return parsed


def parse_period(value: Any, name: str = "period") -> Period:
    if not isinstance(value, Mapping) or "start" not in value:
        raise InvalidDisruption(name, "an object {start, end} is required")
    start = _datetime(value["start"], f"{name}.start")
    end = None if value.get("end") is None else _datetime(value["end"], f"{name}.end")
    if end is not None and end <= start:
        raise InvalidDisruption(f"{name}.end", "the end must be after the start")
    return Period(start, end)


def _texts(body: Mapping[str, Any], name: str, *, required: bool) -> dict[str, str] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidDisruption(name, "texts by language are required, e.g. {\"fr\": \"...\"}")
        return None
    if isinstance(value, str):
        value = {"": value}
    if not isinstance(value, Mapping) or (required and not value):
        raise InvalidDisruption(name, "an object language -> text is required")
    for language, text in value.items():
        if (not _LANGUAGE.match(language) or not isinstance(text, str) or len(text) > MAX_TEXT_LENGTH
                or "\x00" in text):
            raise InvalidDisruption(name, f"language {language[:20]!r}: a text of at most {MAX_TEXT_LENGTH} characters")
    return dict(value)


def _cause(body: Mapping[str, Any], default: str | None) -> str | None:
    cause = body.get("cause", default)
    if cause is not None and (not isinstance(cause, str) or cause not in CAUSES):
        raise InvalidDisruption("cause", f"one of {', '.join(sorted(CAUSES))}")
    return cause


def _dates(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or len(value) > 400:
        raise InvalidDisruption(name, "a list of 1 to 400 dates YYYYMMDD is required")
    for date in value:
        if not isinstance(date, str) or not _DATE.match(date):
            raise InvalidDisruption(name, f"not a date YYYYMMDD: {str(date)[:20]!r}")
        try:
            if not MIN_YEAR <= dt.date(int(date[:4]), int(date[4:6]), int(date[6:])).year <= MAX_YEAR:
                raise ValueError(date)
        except ValueError:
            raise InvalidDisruption(name, f"not a date: {date!r}") from None
    return tuple(sorted(set(value)))


def _stop_times(body: Mapping[str, Any], has_dates: bool) -> list[dict[str, Any]]:
    value = body.get("stop_times")
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_STOP_TIMES:
        raise InvalidDisruption("stop_times", f"a list of 2 to {MAX_STOP_TIMES} stop times is required")
    rows = []
    for i, row in enumerate(value):
        where = f"stop_times[{i}]"
        if not isinstance(row, Mapping):
            raise InvalidDisruption(where, "an object {stop_id, arrival, departure} is required")
        stop_id = row.get("stop_id")
        if not isinstance(stop_id, str) or not _ID.match(stop_id):
            raise InvalidDisruption(f"{where}.stop_id", "a namespaced id '<network>:<id>' is required")
        times = {}
        for name in ("arrival", "departure"):
            text = row.get(name, row.get("departure" if name == "arrival" else "arrival"))
            if isinstance(text, str) and _HMS.match(text):
                if not has_dates:
                    raise InvalidDisruption(f"{where}.{name}", "HH:MM:SS times need service_dates")
            else:
                _datetime(text, f"{where}.{name}")
                if has_dates:
                    raise InvalidDisruption(f"{where}.{name}", "with service_dates, times are HH:MM:SS")
            times[name] = text
        rows.append({"stop_id": stop_id, **times})
    return rows


def _spec(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    if kind is Kind.CLOSE_STOP:
        return {"stop_id": _id(body, "stop_id")}
    if kind is Kind.CUT_ROUTE:
        spec = {name: _id(body, name) for name in ("route_id", "from_stop_id", "to_stop_id")}
        if spec["from_stop_id"] == spec["to_stop_id"]:
            raise InvalidDisruption("to_stop_id", "a section has two different ends (close_stop closes one stop)")
        return spec
    if kind is Kind.CANCEL_TRIPS:
        trips = body.get("trip_ids")
        if not isinstance(trips, list) or not 1 <= len(trips) <= MAX_TRIPS:
            raise InvalidDisruption("trip_ids", f"a list of 1 to {MAX_TRIPS} trip ids is required")
        ids = [_id({"trip_ids": t}, "trip_ids") for t in trips]
        spec: dict[str, Any] = {"trip_ids": sorted(set(ids))}
        if body.get("service_dates") is not None:
            spec["service_dates"] = list(_dates(body["service_dates"], "service_dates"))
        return spec
    dates = None if body.get("service_dates") is None else list(_dates(body["service_dates"], "service_dates"))
    spec = {"route_id": _id(body, "route_id"), "stop_times": _stop_times(body, dates is not None)}
    if dates is not None:
        spec["service_dates"] = dates
    return spec


def _spec_ids(kind: Kind, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, id) of every id the spec names."""
    if kind is Kind.CANCEL_TRIPS:
        return [("trip_ids", t) for t in spec["trip_ids"]]
    if kind is Kind.REPLACEMENT_BUS:
        return [("route_id", spec["route_id"])] + [
            (f"stop_times[{i}].stop_id", row["stop_id"]) for i, row in enumerate(spec["stop_times"])]
    return [(name, value) for name, value in spec.items()]


def parse_draft(body: Any) -> DisruptionDraft:
    """A creation request -> a draft, or InvalidDisruption naming the field."""
    body = _object(body)
    try:
        kind = Kind(body.get("kind"))
    except (ValueError, TypeError):
        raise InvalidDisruption("kind", f"one of {', '.join(k.value for k in Kind)}") from None
    spec = _spec(kind, body)
    networks = {network_of(value) for _, value in _spec_ids(kind, spec)}
    if len(networks) != 1:
        raise InvalidDisruption("body", f"every id must be of one network, not {', '.join(sorted(networks))}")
    effect = body.get("effect", DEFAULT_EFFECT[kind])
    if not isinstance(effect, str) or effect not in EFFECTS:
        raise InvalidDisruption("effect", f"one of {', '.join(sorted(EFFECTS))}")
    if kind is not Kind.REPLACEMENT_BUS and effect != "NO_SERVICE":
        raise InvalidDisruption("effect", f"a {kind.value} disruption stops service: NO_SERVICE")
    if kind is Kind.REPLACEMENT_BUS and effect == "NO_SERVICE":
        raise InvalidDisruption("effect", "a replacement bus adds service; NO_SERVICE would close its route")
    return DisruptionDraft(
        kind=kind, network_id=networks.pop(), spec=spec, period=parse_period(body.get("period")),
        cause=_cause(body, "UNKNOWN_CAUSE") or "UNKNOWN_CAUSE", effect=effect,
        header_text=_texts(body, "header", required=True) or {},
        description_text=_texts(body, "description", required=False) or {},
        url=_texts(body, "url", required=False) or {},
    )


PATCHABLE = frozenset({"period", "cause", "header", "description", "url"})


def parse_patch(body: Any) -> DisruptionPatch:
    """A PATCH body -> the changes; only the period and the texts may change."""
    body = _object(body)
    other = sorted(set(body) - PATCHABLE)
    if other:
        raise InvalidDisruption(other[0], f"cannot be changed (only {', '.join(sorted(PATCHABLE))}); end the "
                                          "disruption and declare a new one")
    if not body:
        raise InvalidDisruption("body", f"nothing to change: give one of {', '.join(sorted(PATCHABLE))}")
    return DisruptionPatch(
        period=None if "period" not in body else parse_period(body["period"]),
        cause=_cause(body, None),
        header_text=_texts(body, "header", required="header" in body),
        description_text=_texts(body, "description", required=False),
        url=_texts(body, "url", required=False),
    )


def spec_ids(kind: Kind, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, namespaced id) of every id a disruption names (for the feed check)."""
    return _spec_ids(kind, spec)
