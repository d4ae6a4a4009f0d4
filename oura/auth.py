"""API keys and principals.

A key looks like ``oura_<key_id>_<secret>``. Only a SHA-256 hash of the secret is stored (secrets
are 256 random bits, so a plain hash is enough; no need for a slow KDF). Every key is bound to a
principal: a role and, for every role but ``admin``, the authority it acts for. Routes declare
the roles they accept (`oura.http.routing`); handlers scope data with `require_authority`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import asyncpg

from .errors import Forbidden

__all__ = ["Role", "Principal", "create_key", "revoke_key", "authenticate", "require_authority", "list_keys"]

_TOKEN = re.compile(r"^oura_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


class Role(enum.StrEnum):
    DEVICE = "device"  # validator, vending machine, phone app
    SALES_POINT = "sales_point"
    AUTHORITY = "authority"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: Role
    authority_id: str | None
    label: str = ""


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def create_key(
    conn: asyncpg.Connection | asyncpg.Pool,
    role: Role | str,
    authority_id: str | None = None,
    *,
    label: str = "",
) -> tuple[Principal, str]:
    """Create a key; return its principal and the token (shown once, never stored)."""
    role = Role(role)
    if role is not Role.ADMIN and not authority_id:
        raise ValueError(f"a {role} key must be bound to an authority")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, authority_id, label) VALUES ($1, $2, $3, $4, $5)",
        key_id,
        _hash(secret),
        role.value,
        authority_id if role is not Role.ADMIN else None,
        label,
    )
    return Principal(key_id, role, authority_id if role is not Role.ADMIN else None, label), (
        f"oura_{key_id}_{secret}"
    )


async def revoke_key(conn: asyncpg.Connection | asyncpg.Pool, key_id: str) -> bool:
    """Revoke a key; False when no such active key exists."""
    status = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith(" 1")


async def list_keys(conn: asyncpg.Connection | asyncpg.Pool) -> list[dict]:
    rows = await conn.fetch(
        "SELECT key_id, role, authority_id, label, created_at, revoked_at FROM api_keys ORDER BY created_at"
    )
    return [dict(row) for row in rows]


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None otherwise."""
    match = _TOKEN.match(token.strip())
    if not match:
        return None
    key_id, secret = match.groups()
    row = await conn.fetchrow(
        "SELECT secret_hash, role, authority_id, label FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
        key_id,
    )
    if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):
        return None
    return Principal(key_id, Role(row["role"]), row["authority_id"], row["label"])


def require_authority(principal: Principal, authority_id: str) -> None:
    """Raise Forbidden unless the principal may act for ``authority_id`` (admins may)."""
    if principal.role is Role.ADMIN:
        return
    if principal.authority_id != authority_id:
        raise Forbidden(
            f"this key acts for authority '{principal.authority_id}', not '{authority_id}'",
            code="other_authority",
        )
