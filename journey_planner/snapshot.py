"""Immutable planner snapshots and the holder that swaps them atomically.

A query takes `SnapshotHolder.get()` once at its start and uses only that snapshot, so it never
sees half an update. The realtime writer builds a complete new `Snapshot` off to the side and
publishes it by replacing one reference (OTP's updater model; nigiri's separate rt timetable).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

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
    _reversed: dict[bool, Timetable] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def network(self, realtime: bool = True) -> Network:
        return self.realtime if realtime and self.realtime is not None else self.static

    def has_realtime(self) -> bool:
        return self.realtime is not None

    def reversed_timetable(self, realtime: bool = True) -> Timetable:
        """The arrive-by view of the chosen timetable, built once per snapshot on first use."""
        key = bool(realtime and self.realtime is not None)
        with self._lock:
            found = self._reversed.get(key)
            if found is None:
                found = reverse_timetable(self.network(key).timetable)
                self._reversed[key] = found
            return found


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
                snapshot = Snapshot(
                    static=snapshot.static, realtime=snapshot.realtime, overlay=snapshot.overlay,
                    version=self._snapshot.version + 1, realtime_at=snapshot.realtime_at,
                )
            self._snapshot = snapshot
