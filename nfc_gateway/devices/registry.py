"""The device registry: registration, revocation, contacts (heartbeats, deny-list acknowledgements)
and the status the back office lists.

A device is a row of ``nfc_devices`` bound to one API key of role ``device``, created with it at
registration (the token is shown once). Validators post validations with it (``/v1/validations``);
vending machines also upload the sales they made (`nfc_gateway.devices.offline_sales`), which are
recorded with the machine's key as the sales point, so an order, the statistics and the clearing
name the machine by its key and label and its authority as the seller. Revoking a device revokes
its key (refused by every route within the key cache's few seconds) and the device routes refuse
the device at once.

Contacts. Every heartbeat, deny-list acknowledgement and upload of a device is an *online contact*
(``last_contact_at``). When a contact comes after a silence longer than ``contact_gap_s``, the
silence is recorded as an *offline window* (from the last contact before it, or the registration,
to this contact). The offline credit of a vending machine is counted per window
(`offline_sales`). ``silent`` flags a device not heard from for ``silent_after_s``; a deny list is
``stale`` when the version the device acknowledged is below the current one.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from nfc_gateway.devices.repository import Q, DeviceRow, lock_device
from nfc_gateway.errors import (
    DenylistVersionAhead,
    DeviceRevoked,
    OtherDevice,
    UnknownDevice,
    UnknownDeviceAuthority,
)
from oura.auth import Principal, Role, UnknownAuthority, create_key, revoke_key

__all__ = [
    "DEFAULT_OFFLINE_CREDIT_LIMIT_MINOR",
    "DeviceKind",
    "DeviceSettings",
    "DeviceStatus",
    "Registration",
    "register_device",
    "revoke_device",
    "list_device_status",
    "get_device_status",
    "record_heartbeat",
    "acknowledge_denylist",
    "lock_own_device",
    "record_contact",
]

DEFAULT_OFFLINE_CREDIT_LIMIT_MINOR = 50_000  # 500.00 EUR of sales between two online contacts
MAX_GAPS_SHOWN = 20  # the status lists the first gaps in a machine's sequences, and counts them all


class DeviceKind(enum.StrEnum):
    VENDING_MACHINE = "vending_machine"
    VALIDATOR = "validator"


@dataclass(frozen=True)
class DeviceSettings:
    """The rules of the device routes (the app may put its own on ``DEVICE_SETTINGS``)."""

    default_offline_credit_limit_minor: int = DEFAULT_OFFLINE_CREDIT_LIMIT_MINOR
    contact_gap_s: float = 300.0  # a silence longer than this between two contacts is an offline window
    silent_after_s: float = 900.0  # a device not heard from for this long is flagged silent
    max_sale_age_s: float = 14 * 86400.0  # an offline sale sold longer ago than this is refused (too old)
    max_clock_ahead_s: float = 300.0  # a sale dated further ahead of the server's clock is refused


@dataclass(frozen=True)
class DeviceStatus:
    """A device as the back office sees it (`status_json` is its API shape)."""

    device: DeviceRow
    current_denylist_version: int
    silent: bool
    sold: int
    refused: int
    in_progress: int
    highest_sequence: int
    missing: int
    gaps: tuple[tuple[int, int], ...]

    @property
    def stale_denylist(self) -> bool:
        return self.device.denylist_version < self.current_denylist_version

    def to_json(self) -> dict[str, Any]:
        d = self.device
        reported = d.reported_last_sequence
        return {
            "device_id": d.device_id,
            "authority_id": d.authority_id,
            "kind": d.kind,
            "label": d.label,
            "key_id": d.key_id,
            "offline_credit_limit_minor": d.offline_credit_limit_minor,
            "created_at": d.created_at,
            "revoked_at": d.revoked_at,
            "last_contact_at": d.last_contact_at,
            "last_heartbeat_at": d.last_heartbeat_at,
            "silent": self.silent,
            "stale_denylist": self.stale_denylist,
            "denylist": {
                "acknowledged_version": d.denylist_version,
                "acknowledged_at": d.denylist_acked_at,
                "current_version": self.current_denylist_version,
                "versions_behind": max(0, self.current_denylist_version - d.denylist_version),
            },
            "offline_sales": {
                "sold": self.sold,
                "refused": self.refused,
                "in_progress": self.in_progress,
                "highest_sequence": self.highest_sequence,
                "reported_last_sequence": reported,
                "awaiting_upload": max(0, (reported or 0) - self.highest_sequence),
                "missing": self.missing,
                "gaps": [{"from": start, "to": end} for start, end in self.gaps],
            },
        }


@dataclass(frozen=True)
class Registration:
    device_id: int
    token: str  # the device's API key, shown once


def _audit_args(action: str, actor_key_id: str | None, authority_id: str, device_id: int, data: dict[str, Any],
                now: datetime) -> list[Any]:
    return [action, actor_key_id, authority_id, f"device:{device_id}", data, now]


async def register_device(
    pool: asyncpg.Pool,
    *,
    authority_id: str,
    kind: DeviceKind,
    label: str,
    offline_credit_limit_minor: int | None,
    authorities: Collection[str],
    actor_key_id: str,
    now: datetime,
    settings: DeviceSettings = DeviceSettings(),
) -> Registration:
    """Register a device of ``authority_id`` (one of ``authorities``, else 404): its key (role
    device, labelled with the device's label) and its row in one transaction, with an audit row.
    A vending machine gets the default credit limit unless one is given; a validator has none."""
    if kind is DeviceKind.VENDING_MACHINE:
        limit = settings.default_offline_credit_limit_minor if offline_credit_limit_minor is None else offline_credit_limit_minor
    else:
        limit = None
    async with pool.acquire() as conn, conn.transaction():
        try:
            principal, token = await create_key(conn, Role.DEVICE, authority_id, label=label, authorities=authorities)
        except UnknownAuthority as error:
            raise UnknownDeviceAuthority(str(error)) from None
        device_id = await conn.fetchval(Q.insert_device, authority_id, kind.value, label, principal.key_id, limit, now)
        await conn.execute(Q.insert_audit, *_audit_args(
            "nfc_gateway.device.registered", actor_key_id, authority_id, device_id,
            {"kind": kind.value, "label": label, "key_id": principal.key_id, "offline_credit_limit_minor": limit}, now))
    return Registration(device_id, token)


async def revoke_device(pool: asyncpg.Pool, device_id: int, *, actor_key_id: str, now: datetime) -> None:
    """Revoke a device and its key (a second revocation changes nothing)."""
    async with pool.acquire() as conn, conn.transaction():
        device = await lock_device(conn, device_id)
        if device is None:
            raise UnknownDevice()
        if device.revoked_at is not None:
            return
        await conn.execute(Q.revoke_device, device_id, now)
        await revoke_key(conn, device.key_id)
        await conn.execute(Q.insert_audit, *_audit_args(
            "nfc_gateway.device.revoked", actor_key_id, device.authority_id, device_id, {"key_id": device.key_id}, now))


async def lock_own_device(conn: asyncpg.Connection, device_id: int, principal: Principal) -> DeviceRow:
    """The caller's own device, locked for the transaction: 404 for no such device, 403 for
    another device's id (or a key that is no device's), 403 for a revoked device."""
    device = await lock_device(conn, device_id)
    if device is None:
        raise UnknownDevice()
    if device.key_id != principal.key_id:
        raise OtherDevice(f"this key is not the key of device {device_id}")
    if device.revoked_at is not None:
        raise DeviceRevoked()
    return device


async def record_contact(
    conn: asyncpg.Connection,
    device: DeviceRow,
    now: datetime,
    settings: DeviceSettings,
    *,
    heartbeat: bool = False,
    last_sequence: int | None = None,
    denylist_version: int | None = None,
) -> None:
    """An online contact of ``device`` (locked by the caller): the silence before it becomes an
    offline window when longer than ``contact_gap_s``; then the contact is recorded."""
    since = device.last_contact_at or device.created_at
    if now - since > timedelta(seconds=settings.contact_gap_s):
        await conn.execute(Q.insert_offline_window, device.device_id, since, now)
    await conn.execute(Q.record_contact, device.device_id, now, heartbeat, last_sequence, denylist_version)


async def record_heartbeat(
    pool: asyncpg.Pool, principal: Principal, device_id: int, *, last_sequence: int | None, now: datetime,
    settings: DeviceSettings,
) -> None:
    """A heartbeat of the device itself; ``last_sequence`` is the highest sale sequence it made
    (the status shows the sales it has not uploaded yet)."""
    async with pool.acquire() as conn, conn.transaction():
        device = await lock_own_device(conn, device_id, principal)
        await record_contact(conn, device, now, settings, heartbeat=True, last_sequence=last_sequence)


async def acknowledge_denylist(
    pool: asyncpg.Pool, principal: Principal, device_id: int, *, version: int, current_version: int, now: datetime,
    settings: DeviceSettings,
) -> None:
    """The device holds the deny list up to ``version``. A version above the current one was
    never issued (409 ``denylist_version_ahead``); a lower one than acknowledged before is
    ignored (the highest is kept: a device that restarted from an old copy catches up through
    ``GET /v1/denylist`` and acknowledges again)."""
    if version > current_version:
        raise DenylistVersionAhead(f"version {version} is above the current deny-list version {current_version}",
                                   extra={"current_version": current_version})
    async with pool.acquire() as conn, conn.transaction():
        device = await lock_own_device(conn, device_id, principal)
        await record_contact(conn, device, now, settings, denylist_version=version)


async def list_device_status(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    authority_id: str | None,
    kind: str | None,
    device_id: int | None = None,
    current_denylist_version: int,
    now: datetime,
    settings: DeviceSettings,
) -> list[DeviceStatus]:
    """The status of the devices (of one authority, one kind, one id; None: any), in one query."""
    rows = await conn.fetch(Q.list_device_status, authority_id, kind, device_id)
    silent_after = timedelta(seconds=settings.silent_after_s)
    statuses = []
    for row in rows:
        device = DeviceRow(**{name: row[name] for name in DeviceRow.__dataclass_fields__})
        heard = device.last_contact_at or device.created_at
        statuses.append(DeviceStatus(
            device=device,
            current_denylist_version=current_denylist_version,
            silent=device.revoked_at is None and now - heard > silent_after,
            sold=row["sold"],
            refused=row["refused"],
            in_progress=row["in_progress"],
            highest_sequence=row["highest_sequence"],
            missing=row["missing"],
            gaps=tuple(zip(row["gap_starts"], row["gap_ends"], strict=True))[:MAX_GAPS_SHOWN],
        ))
    return statuses


async def get_device_status(
    conn: asyncpg.Connection | asyncpg.Pool, device_id: int, *, current_denylist_version: int, now: datetime,
    settings: DeviceSettings,
) -> DeviceStatus:
    found = await list_device_status(conn, authority_id=None, kind=None, device_id=device_id,
                                     current_denylist_version=current_denylist_version, now=now, settings=settings)
    if not found:
        raise UnknownDevice()
    return found[0]
