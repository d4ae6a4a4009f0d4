"""The active alerts of a snapshot, looked up by what a leg or a departure touches.

Every alert (any effect: NO_SERVICE ones also route, `alert_overlay`) is indexed by the ids its
informed entities name; `AlertIndex.for_leg` returns the alerts one of whose entities matches
the leg (all of that entity's fields: the trip, its route, its agency (by feed, see
`alert_overlay`), its route_type, the boarding or alighting stop or their station) and that are
active at some time of ``[t0, t1]``. Texts are chosen per language by `alert_json`: the exact
language, then its primary subtag, then the untagged ("") text, then any.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from feeds.realtime.model import Alert, EntitySelector

from .alert_overlay import feed_of
from .compile import Network

__all__ = ["AlertIndex", "alert_json", "pick_text", "parse_accept_language"]


@dataclass(frozen=True)
class AlertIndex:
    """Alerts by the keys their entities name: ("stop", id), ("route", id), ("trip", id),
    ("agency", feed), ("route_type", n)."""

    alerts: tuple[Alert, ...] = ()
    _by_key: dict[tuple[str, object], tuple[int, ...]] = field(default_factory=dict, repr=False)

    @staticmethod
    def of(alerts: Iterable[Alert], network: Network | None = None) -> AlertIndex:
        alerts = tuple(alerts)
        by_key: dict[tuple[str, object], list[int]] = {}
        for i, alert in enumerate(alerts):
            for sel in alert.informed_entities:
                key = _key(sel, network)
                if key is not None and i not in by_key.setdefault(key, []):
                    by_key[key].append(i)
        return AlertIndex(alerts, {k: tuple(v) for k, v in by_key.items()})

    def __len__(self) -> int:
        return len(self.alerts)

    def for_leg(self, network: Network, trip: int, from_stop: int, to_stop: int, t0: int, t1: int) -> list[Alert]:
        """The alerts touching a ride on ``trip`` from ``from_stop`` to ``to_stop`` during [t0, t1]."""
        if not self.alerts:
            return []
        route = int(network.trip_routes[trip])
        facts = _Facts(
            trip_id=str(network.trip_ids[trip]), route_id=str(network.route_ids[route]),
            route_type=int(network.route_types[route]), feed=feed_of(network, str(network.route_ids[route])),
            stops=_with_stations(network, (from_stop, to_stop)),
        )
        keys = [("trip", facts.trip_id), ("route", facts.route_id), ("route_type", facts.route_type),
                ("agency", facts.feed), *(("stop", s) for s in facts.stops)]
        candidates = sorted({i for key in keys for i in self._by_key.get(key, ())})
        found = []
        for i in candidates:
            alert = self.alerts[i]
            if _active(alert, t0, t1) and any(_matches(sel, facts, network) for sel in alert.informed_entities):
                found.append(alert)
        return found


@dataclass(frozen=True)
class _Facts:
    trip_id: str
    route_id: str
    route_type: int
    feed: str | None
    stops: frozenset[str]


def _with_stations(network: Network, stops: Sequence[int]) -> frozenset[str]:
    parents = network.timetable.stop_parent
    ids = set()
    for s in stops:
        if s < 0:
            continue
        ids.add(str(network.stop_ids[s]))
        if parents[s] >= 0:
            ids.add(str(network.stop_ids[parents[s]]))
    return frozenset(ids)


def _key(sel: EntitySelector, network: Network | None) -> tuple[str, object] | None:
    """The most specific id of an entity (the one it is indexed under)."""
    if sel.trip is not None and sel.trip.trip_id is not None:
        return ("trip", sel.trip.trip_id)
    if sel.stop_id is not None:
        return ("stop", sel.stop_id)
    if sel.route_id is not None:
        return ("route", sel.route_id)
    if sel.agency_id is not None:
        feed = feed_of(network, sel.agency_id) if network is not None else sel.agency_id.split(":", 1)[0]
        return ("agency", feed)
    if sel.route_type is not None:
        return ("route_type", sel.route_type)
    return None


def _matches(sel: EntitySelector, facts: _Facts, network: Network) -> bool:
    """All the entity's fields hold for the leg (GTFS-realtime: AND within an entity)."""
    if sel.trip is not None and sel.trip.trip_id is not None and sel.trip.trip_id != facts.trip_id:
        return False
    if sel.route_id is not None and sel.route_id != facts.route_id:
        return False
    if sel.route_type is not None and sel.route_type != facts.route_type:
        return False
    if sel.agency_id is not None and feed_of(network, sel.agency_id) != facts.feed:
        return False
    if sel.stop_id is not None and sel.stop_id not in facts.stops:
        return False
    return _key(sel, network) is not None


def _active(alert: Alert, t0: int, t1: int) -> bool:
    """Whether some active period (half-open, open ends unbounded) meets [t0, t1]."""
    if not alert.active_periods:
        return True
    return any((p.start is None or p.start <= t1) and (p.end is None or p.end > t0) for p in alert.active_periods)


def parse_accept_language(header: str | None) -> tuple[str, ...]:
    """An Accept-Language header -> its languages, preferred first (q=0 dropped, ``*`` ignored)."""
    if not header:
        return ()
    ranked = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, n, tag.strip()))
    return tuple(tag for _, _, tag in sorted(ranked))


def pick_text(texts: dict[str, str], langs: Sequence[str]) -> str | None:
    """The text in the first of ``langs`` available: exact tag, then its primary subtag, then the
    untagged text, then any (None when there is none)."""
    if not texts:
        return None
    lowered = {k.lower(): v for k, v in texts.items()}
    for lang in langs:
        lang = lang.lower()
        if lang in lowered:
            return lowered[lang]
        primary = lang.split("-")[0]
        if primary in lowered:
            return lowered[primary]
        for k, v in lowered.items():
            if k.split("-")[0] == primary:
                return v
    if "" in lowered:
        return lowered[""]
    return next(iter(texts.values()))


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def alert_json(alert: Alert, langs: Sequence[str]) -> dict:
    """The `LegAlert` object of an alert, its texts in the first available of ``langs``."""
    return {
        "id": alert.entity_id,
        "effect": alert.effect,
        "cause": alert.cause,
        "severity": alert.severity_level,
        "header": pick_text(alert.header_text, langs),
        "description": pick_text(alert.description_text, langs),
        "url": pick_text(alert.url, langs),
        "active_periods": [{"start": _iso(p.start), "end": _iso(p.end)} for p in alert.active_periods],
    }
