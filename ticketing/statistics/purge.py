"""The short life of identifying data: serials and contract links of validations older than the
retention are removed (and what else links a medium to a person past its use).

A validation row keeps ``medium_serial`` (and ``contract_id`` and ``remaining_trips``, which lead
back to the medium) while fraud detection and trip chaining need them: ``retention_s`` after the
event (48 h by default, CNIL AU-015). Then all three are set to NULL and ``purged_at`` is stamped.
What stays is the (device, event id) key with the decision (accepted, reason), so a retried upload
of a purged event still replays its first decision and is applied once, and what the released
statistics were computed from (stop, route, network, time).

A watched journey (issue 13) holds a medium's serial for its coverage checks: once the watch has
expired (status 'expired', or past ``expires_at``) the serial is removed too.

Events uploaded after their retention are stored without the serial at once
(`ticketing.validation.validate_batch`, ``retention_s``), so the purge never has to find them.

The purge runs in batches of ``batch_rows`` rows per statement (each its own transaction): ten
million rows do not hold one long transaction or its locks. ``since`` bounds the scan from below
(the job passes the previous round's cutoff, less a margin): rows older than that were purged
already, and the occurred_at index then reads only the new ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from ticketing.repository import Q

__all__ = ["PurgeResult", "purge_identifiers", "DEFAULT_BATCH_ROWS"]

log = logging.getLogger(__name__)
DEFAULT_BATCH_ROWS = 50_000

_BEGINNING = datetime(1, 1, 2, tzinfo=UTC)  # before any event (refused ones included)


@dataclass(frozen=True)
class PurgeResult:
    validations: int  # rows whose serial and contract link were removed
    watches: int = 0  # expired watches whose serial was removed
    cutoff: datetime | None = None  # validations that occurred before this instant hold no serial


def _count(status: str) -> int:
    """Rows touched, from asyncpg's command tag ("UPDATE 123")."""
    return int(status.rsplit(" ", 1)[-1])


async def purge_identifiers(pool: asyncpg.Pool, *, now: datetime, retention_s: float,
                            since: datetime | None = None, batch_rows: int = DEFAULT_BATCH_ROWS) -> PurgeResult:
    """Remove the serials and contract links of validations that occurred more than
    ``retention_s`` before ``now`` (the injected clock's), and the serials of expired watches.

    ``since``: validations that occurred before it are known to be purged (None: look at all).
    Idempotent: a second run with the same ``now`` purges nothing."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    cutoff = now - timedelta(seconds=retention_s)
    lower = since if since is not None else _BEGINNING
    validations = 0
    async with pool.acquire() as conn:
        while True:
            done = _count(await conn.execute(Q.purge_validations, now, cutoff, lower, batch_rows))
            validations += done
            if done < batch_rows:
                break
        watches = _count(await conn.execute(Q.purge_expired_watches, now))
    if validations or watches:
        log.info("purged identifying data", extra={"validations": validations, "watches": watches,
                                                   "cutoff": cutoff.isoformat()})
    return PurgeResult(validations, watches, cutoff)
