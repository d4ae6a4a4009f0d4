"""Immutable planner snapshots and the holder that swaps them atomically.

A query takes `SnapshotHolder.get()` once at its start and uses only that snapshot, so it never
sees half an update. The realtime writer builds a complete new `Snapshot` off to the side and
publishes it by replacing one reference (OTP's updater model; nigiri's separate rt timetable).

Nothing a query reads is built on first use: `Snapshot.prepared` reverses the timetables (the
arrive-by view) before the snapshot is published, reusing the static one of the previous snapshot
when the static network did not change (a realtime rebuild reverses only the realtime timetable).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime

from .alert_index import AlertIndex
from .compile import Network
from .core.timetable import Timetable, reverse_timetable
from .realtime import RealtimeOverlay

__all__ = ["Snapshot", "SnapshotHolder"]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One consistent view: the static network and (optionally) its realtime version."""

    static: Network
    realtime: Network | None = None  # None: no realtime applied
    overlay: RealtimeOverlay = field(default_factory=RealtimeOverlay)
    version: int = 0
    realtime_at: datetime | None = None  # when the realtime data was applied
    alerts: AlertIndex = field(default_factory=AlertIndex)  # the alerts active within the horizon, any effect
    _reversed: dict[bool, Timetable] = field(default_factory=dict, repr=False)  # realtime? -> reversed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def prepared(static: Network, realtime: Network | None = None, overlay: RealtimeOverlay | None = None, *,
                 version: int = 0, realtime_at: datetime | None = None,
                 previous: Snapshot | None = None, alerts: AlertIndex | None = None) -> Snapshot:
        """A snapshot with both arrive-by views already built (sync, seconds on a region: run it in
        the executor). ``previous``'s static view is reused when its static network is ``static``."""
        built: dict[bool, Timetable] = {}
        if previous is not None and previous.static is static and False in previous._reversed:
            built[False] = previous._reversed[False]
        else:
            built[False] = reverse_timetable(static.timetable)
        if realtime is not None:
            built[True] = _reverse_realtime(static.timetable, built[False], realtime.timetable)
        return Snapshot(static=static, realtime=realtime, overlay=overlay or RealtimeOverlay(), version=version,
                        realtime_at=realtime_at, alerts=alerts or AlertIndex(), _reversed=built)

    def network(self, realtime: bool = True) -> Network:
        return self.realtime if realtime and self.realtime is not None else self.static

    def has_realtime(self) -> bool:
        return self.realtime is not None

    def has_reversed_timetable(self, realtime: bool = True) -> bool:
        """Whether the arrive-by view of that timetable is built (always, for a `prepared` one)."""
        return bool(realtime and self.realtime is not None) in self._reversed

    def reversed_timetable(self, realtime: bool = True) -> Timetable:
        """The arrive-by view of the chosen timetable (built here only for a snapshot not `prepared`)."""
        key = bool(realtime and self.realtime is not None)
        found = self._reversed.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._reversed.get(key)
            if found is None:
                found = reverse_timetable(self.network(key).timetable)
                self._reversed[key] = found
            return found


def _reverse_realtime(static: Timetable, static_reversed: Timetable, realtime: Timetable) -> Timetable:
    """The arrive-by view of the realtime timetable. When realtime only moved trips off days
    (no trip update, or cancellations only: same patterns and stop times, other service rows),
    it is the static view with those service rows, not a second reversal."""
    if realtime is static:
        return static_reversed
    same_times = (realtime.stop_time_arrival is static.stop_time_arrival
                  and realtime.stop_time_flags is static.stop_time_flags  # stop closures edit the flags
                  and realtime.pattern_stops is static.pattern_stops and realtime.trip_count == static.trip_count)
    if not same_times:
        return reverse_timetable(realtime)
    return static_reversed.replace(trip_service=realtime.trip_service[static_reversed.trip_source],
                                   service_days=realtime.service_days)


class SnapshotHolder:
    """The one mutable reference to the current snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._write_lock = threading.Lock()

    def get(self) -> Snapshot:
        return self._snapshot

    def publish(self, snapshot: Snapshot) -> None:
        with self._write_lock:
            if snapshot.version <= self._snapshot.version:
                snapshot = replace(snapshot, version=self._snapshot.version + 1)  # keeps the built views
            self._snapshot = snapshot
