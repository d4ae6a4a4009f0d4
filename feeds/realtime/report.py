"""The realtime part of `oura feeds report`: one block per source, every error type counted.

Pure formatting over `FeedStatus` values (from the running poller or from ``rt_feed_status``);
the static-feeds report appends `format_realtime_report(...)` to its own output.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from feeds.realtime.status import FeedStatus

__all__ = ["REPORTED_REJECTIONS", "format_realtime_report"]

REPORTED_REJECTIONS = 5  # most recent rejected entities listed per source


def _age(now: dt.datetime, posix_s: int | None) -> str:
    if posix_s is None:
        return "never"
    seconds = int(now.timestamp()) - posix_s
    return f"{seconds}s ago" if abs(seconds) < 3600 else f"{seconds // 3600}h{(seconds % 3600) // 60:02d} ago"


def format_realtime_report(statuses: Sequence[FeedStatus], now: dt.datetime) -> str:
    """A plain-text table of realtime sources, then the non-zero error counts of each."""
    if not statuses:
        return "realtime: no source polled yet"
    lines = ["realtime sources", f"{'feed':<16} {'kind':<18} {'state':<6} {'entities':>8} {'matched':>8} {'header':>14} {'errors':>7}"]
    for s in statuses:
        state = "STALE" if s.stale else ("ok" if s.last_success_at else "-")
        lines.append(
            f"{s.feed_id:<16} {s.kind.value:<18} {state:<6} {s.entity_count:>8} {s.applied_count:>8} "
            f"{_age(now, s.header_timestamp):>14} {s.error_total:>7}"
        )
    for s in statuses:
        counted = {t.value: n for t, n in s.error_counts.items() if n}
        if counted:
            detail = ", ".join(f"{name}={count}" for name, count in sorted(counted.items()))
            lines.append(f"  {s.feed_id} {s.kind.value}: {detail}")
            if s.last_error:
                lines.append(f"    last: {s.last_error}")
        for rejected in s.recent_rejected[:REPORTED_REJECTIONS]:
            e = rejected.error
            lines.append(f"    rejected: entity={e.entity_id or '-'} trip={e.trip_id or '-'} "
                         f"type={e.type.value} detail={e.detail or '-'}")
    return "\n".join(lines)
