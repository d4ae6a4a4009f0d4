"""The one clock: every "now" in OùRA is read through a `Clock`.

Business rules ("is this contract valid now?", "is this realtime feed stale?") take the clock as
a dependency, so tests and replays can pin or move time (pretix's time machine, STYLE rule 9).
Inside the system times are timezone-aware UTC; service days are dates in the authority's zone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "SystemClock", "FixedClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards (for durations)."""
        ...


class SystemClock:
    """The real clock of the machine."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FixedClock:
    """A clock that stands still until moved: for tests and deterministic replays."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = self.current.astimezone(UTC)
        self._origin = self.current

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return (self.current - self._origin).total_seconds()

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("a clock does not go backwards")
        self.current += delta
        return self.current

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = moment.astimezone(UTC)
