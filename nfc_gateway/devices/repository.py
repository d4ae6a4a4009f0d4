"""The device tables, through the named queries of ``queries.sql``. Private to nfc_gateway.devices.

Functions take the connection of the caller's transaction and return frozen dataclasses: asyncpg
records never leave this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from oura.db.queries import QueryFile

__all__ = ["Q", "DeviceRow", "lock_device"]

Q = QueryFile(Path(__file__).with_name("queries.sql"))


@dataclass(frozen=True)
class DeviceRow:
    device_id: int
    authority_id: str
    kind: str
    label: str
    key_id: str
    offline_credit_limit_minor: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_contact_at: datetime | None
    last_heartbeat_at: datetime | None
    reported_last_sequence: int | None
    denylist_version: int
    denylist_acked_at: datetime | None


def device_from_record(record: Mapping[str, Any]) -> DeviceRow:
    data = dict(record)
    return DeviceRow(**{f.name: data[f.name] for f in fields(DeviceRow)})


async def lock_device(conn: asyncpg.Connection, device_id: int) -> DeviceRow | None:
    record = await conn.fetchrow(Q.lock_device, device_id)
    return None if record is None else device_from_record(record)
