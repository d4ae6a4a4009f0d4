"""Watched journeys, the pure part: which watches a new snapshot concerns, what changed for them,
where the traveller is now, and the alternatives from there (no I/O; `watch_service` does that).

- `WatchIndex` keeps the live watches by run (trip id and service date) and by stop (boarding and
  alighting stops), so a new snapshot re-checks only the watches whose runs or stops changed: the
  cost follows what changed, not the number of watches.
- `diff_snapshots` reads what changed between two snapshots from their overlays: the runs
  canceled, replaced or touched by alerts in either, and replaced runs whose realtime stop-time
  rows differ; a new static network changes everything.
- `recheck` re-reads the concerned watches' itineraries (`journey_planner.refresh.check_itinerary`)
  and says which broke (not ok, and ok before or for another reason) or were restored.
- `locate` says where the traveller is at ``now_s`` (waiting at a boarding stop, on board with the
  next stops ahead, or arrived) and `plan_alternatives` plans up to 3 journeys from there to the
  itinerary's destination, on the realtime network.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from oura.errors import OuraError

from .compile import Network
from .core import NO_DROP_OFF, NO_PICKUP, Journey, Place, PlanRequest, plan
from .itineraries import ItineraryRef
from .places import resolve_place
from .refresh import ItineraryCheck, LegCheck, check_itinerary
from .snapshot import Snapshot

__all__ = [
    "ALTERNATIVES", "BROKEN", "RESTORED", "EXPIRED", "Position", "SnapshotChanges", "Transition", "Watch",
    "WatchIndex", "destination_text", "diff_snapshots", "locate", "plan_alternatives", "reason_of", "recheck",
    "run_check",
]

BROKEN, RESTORED, EXPIRED = "broken", "restored", "expired"  # event kinds (SSE ``event:``)
ALTERNATIVES = 3  # at most this many alternatives per broken watch
NEXT_STOPS = 5  # on board: plan from at most this many of the next stops
ALTERNATIVE_HORIZON_S = 4 * 3600  # an alternative leaves within this long of now

Run = tuple[str, str]  # (namespaced trip id, service date YYYYMMDD)


@dataclass
class Watch:
    """One watched itinerary. ``status`` is ok / broken / expired, ``reason`` the problem codes
    of the last broken event (what makes a second breakage a new event), ``last_event_id`` the
    id of its last event (SSE ids increase per watch)."""

    id: str
    itinerary_id: str
    ref: ItineraryRef
    expires_at: datetime
    created_at: datetime
    medium_serial: str | None = None
    webhook_url: str | None = None
    status: str = "ok"
    reason: tuple[str, ...] = ()
    last_event_id: int = 0

    def runs(self) -> set[Run]:
        return {(leg.trip_id, leg.service_date) for leg in self.ref.legs}

    def stops(self) -> set[str]:
        return {s for leg in self.ref.legs for s in (leg.board_stop_id, leg.alight_stop_id)}


@dataclass
class WatchIndex:
    """The live watches, by id, by run and by stop, with their expiries in a heap."""

    watches: dict[str, Watch] = field(default_factory=dict)
    by_run: dict[Run, set[str]] = field(default_factory=dict)
    by_stop: dict[str, set[str]] = field(default_factory=dict)
    _expiries: list[tuple[float, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.watches)

    def add(self, watch: Watch) -> None:
        self.remove(watch.id)
        self.watches[watch.id] = watch
        for run in watch.runs():
            self.by_run.setdefault(run, set()).add(watch.id)
        for stop in watch.stops():
            self.by_stop.setdefault(stop, set()).add(watch.id)
        heapq.heappush(self._expiries, (watch.expires_at.timestamp(), watch.id))

    def find(self, watch_id: str) -> Watch | None:
        return self.watches.get(watch_id)

    def remove(self, watch_id: str) -> Watch | None:
        watch = self.watches.pop(watch_id, None)
        if watch is None:
            return None
        for key, table in [(r, self.by_run) for r in watch.runs()] + [(s, self.by_stop) for s in watch.stops()]:
            ids = table.get(key)
            if ids is not None:
                ids.discard(watch_id)
                if not ids:
                    del table[key]
        return watch

    def list_affected(self, changes: SnapshotChanges) -> list[Watch]:
        """The watches a change concerns: all when the static network changed, else those riding a
        changed run or using a changed stop."""
        if changes.static_changed:
            return list(self.watches.values())
        ids: set[str] = set()
        for run in changes.runs:
            ids |= self.by_run.get(run, set())
        for stop in changes.stop_ids:
            ids |= self.by_stop.get(stop, set())
        return [self.watches[i] for i in ids]

    def pop_expired(self, now: datetime) -> list[Watch]:
        """Remove and return the watches whose expiry is at or before ``now``."""
        limit, expired = now.timestamp(), []
        while self._expiries and self._expiries[0][0] <= limit:
            at, watch_id = heapq.heappop(self._expiries)
            watch = self.watches.get(watch_id)
            if watch is not None and watch.expires_at.timestamp() == at:
                expired.append(self.remove(watch_id))
        return expired


# --- what changed between two snapshots --------------------------------------------------------


@dataclass(frozen=True)
class SnapshotChanges:
    """What a publication changed: the static network (everything), or these runs and stops."""

    static_changed: bool
    runs: frozenset[Run] = frozenset()
    stop_ids: frozenset[str] = frozenset()


def diff_snapshots(previous: Snapshot | None, published: Snapshot) -> SnapshotChanges:
    """The runs and stops whose realtime state differs between two snapshots of one static network
    (canceled, replaced, touched by an alert, or replaced with other times or stop flags)."""
    if previous is None or previous.static is not published.static:
        return SnapshotChanges(True)
    static = published.static
    a, b = previous.overlay, published.overlay
    keys: set[tuple[int, int]] = set(a.canceled ^ b.canceled)
    alerts_a, alerts_b = getattr(a, "alert_ids", {}) or {}, getattr(b, "alert_ids", {}) or {}
    keys |= {k for k in alerts_a.keys() | alerts_b.keys() if alerts_a.get(k) != alerts_b.get(k)}
    stops: set[int] = set()
    for key in a.replaced.keys() | b.replaced.keys():
        rows_a = _run_rows(previous.realtime, a, key)
        rows_b = _run_rows(published.realtime, b, key)
        if len(rows_a) != len(rows_b) or not all(
                np.array_equal(x, y) for ra, rb in zip(rows_a, rows_b) for x, y in zip(ra, rb)):
            keys.add(key)
            stops |= _closed_stops(static, key[0], rows_a) ^ _closed_stops(static, key[0], rows_b)
    runs = frozenset((str(static.trip_ids[t]), static.date_of_day(day).strftime("%Y%m%d")) for t, day in keys)
    return SnapshotChanges(False, runs, frozenset(str(static.stop_ids[s]) for s in stops))


def _rows(network: Network | None, trip: int | None) -> tuple[np.ndarray, ...] | None:
    """(stops, arrivals, departures, flags) of ``trip`` in ``network`` (None: no such copy)."""
    if network is None or trip is None:
        return None
    tt = network.timetable
    p = int(tt.trip_pattern[trip])
    first, end = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    n = end - first
    row = tt.trip_rows(trip)[0]
    return (tt.pattern_stops[first:end], tt.stop_time_arrival[row:row + n], tt.stop_time_departure[row:row + n],
            tt.stop_time_flags[row:row + n])


def _run_rows(network: Network | None, overlay, key: tuple[int, int]) -> list[tuple[np.ndarray, ...]]:
    """The rows of every realtime copy running a static run (two or more when an alert cut it)."""
    parts = (getattr(overlay, "parts", {}) or {}).get(key)
    if parts is None:
        parts = (overlay.replaced[key],) if key in overlay.replaced else ()
    return [rows for rows in (_rows(network, t) for t in parts) if rows is not None]


def _closed_stops(static: Network, trip: int, copies: list[tuple[np.ndarray, ...]]) -> set[int]:
    """The stops of the static trip where no realtime copy lets one board or alight (skipped,
    closed or cut): a change of this set is a change of those stops."""
    if not copies:
        return set()
    stops, _, _, flags = _rows(static, trip)
    both = NO_PICKUP | NO_DROP_OFF
    served = {int(s) for rows in copies for s, f in zip(rows[0], rows[3]) if (f & both) != both}
    return {int(s) for s, f in zip(stops, flags) if (f & both) != both and int(s) not in served}


# --- re-checking -------------------------------------------------------------------------------


CheckFn = Callable[[Snapshot, ItineraryRef], ItineraryCheck]


def run_check(snapshot: Snapshot, ref: ItineraryRef) -> ItineraryCheck:
    """The watch's check: `refresh.check_itinerary` on the realtime view."""
    return check_itinerary(snapshot, ref, realtime=True)


@dataclass(frozen=True)
class Transition:
    """A watch whose state changed: ``kind`` broken or restored, with the check that says why."""

    watch: Watch
    kind: str
    check: ItineraryCheck


def recheck(snapshot: Snapshot, watches: Iterable[Watch], check: CheckFn = run_check) -> tuple[list[Transition], int]:
    """Re-check ``watches``; returns the transitions (the watches are not changed here: the
    service records them) and how many watches were checked."""
    transitions, checked = [], 0
    for watch in watches:
        result = check(snapshot, watch.ref)
        checked += 1
        codes = reason_of(result)
        if not result.ok and (watch.status != BROKEN or codes != watch.reason):
            transitions.append(Transition(watch, BROKEN, result))
        elif result.ok and watch.status == BROKEN:
            transitions.append(Transition(watch, RESTORED, result))
    return transitions, checked


def reason_of(check: ItineraryCheck) -> tuple[str, ...]:
    """The signature of a check's problems (code@leg, sorted): a new one is a new breakage."""
    return tuple(f"{code}@{leg}" for code, leg in sorted({(p.code, p.leg_index) for p in check.problems}))


# --- where the traveller is, and the alternatives from there -----------------------------------


@dataclass(frozen=True)
class Position:
    """``kind``: waiting (at ``stops[0]`` from now), on_board (reaches ``stops`` in ``offsets_s``
    by staying on board of leg ``leg_index``), or arrived (nothing to plan)."""

    kind: str
    leg_index: int
    stops: tuple[int, ...] = ()
    offsets_s: tuple[int, ...] = ()

    def to_json(self, network: Network) -> dict:
        return {"kind": self.kind, "leg_index": self.leg_index,
                "stop_ids": [str(network.stop_ids[s]) for s in self.stops]}


def locate(network: Network, ref: ItineraryRef, check: ItineraryCheck, now_s: int) -> Position:
    """Where the traveller of ``ref`` is at ``now_s``, reading each leg's realtime times (the
    scheduled ones for a canceled or unknown run)."""
    for i, leg in enumerate(check.legs):
        dep = leg.departure_s if leg.departure_s is not None else leg.scheduled_departure_s
        arr = leg.arrival_s if leg.arrival_s is not None else leg.scheduled_arrival_s
        if dep is None or now_s < dep or (now_s < (arr or dep) and not leg.stops_after):
            where = ref.legs[i - 1].alight_stop_id if i > 0 else ref.legs[0].board_stop_id
            stop = network.find_stop(where)
            return Position("waiting", i, () if stop is None else (stop,), () if stop is None else (0,))
        if arr is not None and now_s < arr:
            ahead = [(s, a - now_s) for s, a in zip(leg.stops_after, leg.stops_after_arrival_s) if a >= now_s]
            ahead = ahead[:NEXT_STOPS]
            if ahead:
                return Position("on_board", i, tuple(s for s, _ in ahead), tuple(o for _, o in ahead))
            stop = network.find_stop(ref.legs[i].alight_stop_id)
            return Position("waiting", i + 1, () if stop is None else (stop,), () if stop is None else (0,))
    return Position("arrived", len(check.legs))


def destination_text(ref: ItineraryRef) -> str | None:
    """The itinerary's destination: the place asked for, else the last leg's alighting stop."""
    if ref.destination:
        return ref.destination
    return ref.legs[-1].alight_stop_id if ref.legs else None


def plan_alternatives(snapshot: Snapshot, ref: ItineraryRef, position: Position, now_s: int,
                      resolve: Callable[[str], Place] | None = None, limit: int = ALTERNATIVES
                      ) -> tuple[Network, list[Journey]]:
    """Up to ``limit`` journeys on the realtime network from ``position`` (at now, plus the time to
    reach each next stop on board) to the itinerary's destination, read by ``resolve`` (the
    service passes /v1/journeys' reading: hubs, coordinates; default: a stop or station id); none
    when arrived or when the place no longer resolves."""
    network = snapshot.network(True)
    target = destination_text(ref)
    if position.kind == "arrived" or not position.stops or target is None:
        return network, []
    try:
        destination = resolve(target) if resolve is not None else resolve_place(network, target)
    except (ValueError, OuraError):
        return network, []
    origin = Place.of_stops(list(position.stops), list(position.offsets_s))
    if set(origin.stops.tolist()) & set(destination.stops.tolist()):
        return network, []
    request = PlanRequest(origin, destination, now_s, max_journeys=limit, search_horizon_s=ALTERNATIVE_HORIZON_S)
    result = plan(network.timetable, request, snapshot.reversed_timetable(True))
    return network, list(result.journeys[:limit])


def first_leg_times(checks: Sequence[LegCheck]) -> tuple[int | None, int | None]:
    """(first departure, last arrival) of the checked legs, realtime else scheduled."""
    if not checks:
        return None, None
    first, last = checks[0], checks[-1]
    dep = first.departure_s if first.departure_s is not None else first.scheduled_departure_s
    arr = last.arrival_s if last.arrival_s is not None else last.scheduled_arrival_s
    return dep, arr
