"""Validated carpool trips exported to the proof register, each once (``GET /v1/carpool/proofs``).

What is exported: the bookings of journeys drivers published through OùRA (OùRA is their
operator; the other operators send their own trips) that reached VALIDATED, the end of the
standard's flow (a COMPLETED_PENDING_VALIDATION trip may still be cancelled), as `proof`'s v3.3
journeys.

Once: a trip belongs to the window of its validation time (the VALIDATED event's ``at``), so
consecutive windows ``[a, b)``, ``[b, c)`` never hold a trip twice. The first export of a trip
marks it (``carpool_bookings.proof_exported_at``); exporting the same window again answers the
same journeys, each with the time of its first export and ``first_export`` false, so a sender
that lost an answer asks again and knows what it may have sent already (the register refuses an
``operator_journey_id`` it holds). The window's bookings are locked while it is read and marked:
two exports of one window at once mark each trip once.

A trip without both identities (a phone and a last name given) cannot be sent: it is skipped with
the reason, and stays unexported (a later export of its window lists it again).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from oura.clock import Clock
from oura.db.pool import transaction
from oura.db.queries import QueryFile

from .proof import export_journeys

__all__ = ["ExportedJourney", "ProofWindow", "export_validated"]


@dataclass(frozen=True, slots=True)
class ExportedJourney:
    booking_id: str
    validated_at: dt.datetime
    exported_at: dt.datetime  # its first export
    first_export: bool  # this export was its first
    journey: dict[str, Any]  # the register's v3.3 journey (POST /journeys)


@dataclass(frozen=True, slots=True)
class ProofWindow:
    since: dt.datetime
    until: dt.datetime
    journeys: tuple[ExportedJourney, ...]
    skipped: tuple[tuple[str, str], ...]  # (booking id, why)


_q = QueryFile(Path(__file__).with_name("queries.sql"))


async def export_validated(pool: asyncpg.Pool, clock: Clock, since: dt.datetime, until: dt.datetime, *,
                           travel_pass_name: str | None = None, operator_class: str = "A") -> ProofWindow:
    """The hosted trips validated in ``[since, until)``, as register journeys, marked exported.

    ``travel_pass_name``: give the passenger's OùRA card as their travel pass under this name (the
    stored v3.3 document lists ``navigo`` only, so a journey with it is refused there on that
    member); None leaves the card out."""
    now = clock.now()
    async with transaction(pool) as conn:
        rows = await conn.fetch(_q("list_validated_hosted"), since, until)
        export = export_journeys(rows, operator_class=operator_class, travel_pass_name=travel_pass_name)
        by_id = {str(row["booking_id"]): row for row in rows}
        fresh = [uuid.UUID(booking_id) for booking_id in export.booking_ids
                 if by_id[booking_id]["proof_exported_at"] is None]
        if fresh:
            await conn.execute(_q("mark_proofs_exported"), fresh, now)
    journeys = []
    for booking_id, journey in zip(export.booking_ids, export.journeys, strict=True):
        row = by_id[booking_id]
        first = row["proof_exported_at"] is None
        journeys.append(ExportedJourney(booking_id, row["validated_at"], now if first else row["proof_exported_at"],
                                        first, journey))
    return ProofWindow(since, until, tuple(journeys), export.skipped)
