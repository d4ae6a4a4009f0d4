"""API keys and principals.

A key looks like ``oura_<key_id>_<secret>``. Only a SHA-256 hash of the secret is stored (secrets
are 256 random bits, so a plain hash is enough; no need for a slow KDF). Every key is bound to a
principal: a role and, for every role but ``admin``, the authority it acts for. Routes declare
the roles they accept (`oura.http.routing`); handlers scope data with `require_authority`.

A key acts for an authority of the registry or for none: `create_key` is given the registry's
authority ids (the assembly knows them, this module does not) and refuses any other, because a
key for a made-up authority could sell tickets and book them in the clearing under a name no
authority answers for.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

import asyncpg

from .errors import OtherAuthority

__all__ = [
    "Role",
    "UNSCOPED_ROLES",
    "UnknownAuthority",
    "Principal",
    "PrincipalCache",
    "create_key",
    "revoke_key",
    "authenticate",
    "require_authority",
    "list_keys",
]

_TOKEN = re.compile(r"^oura_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


class Role(enum.StrEnum):
    DEVICE = "device"  # validator, vending machine, phone app
    SALES_POINT = "sales_point"
    AUTHORITY = "authority"
    ADMIN = "admin"
    METRICS = "metrics"  # the metrics scraper: reads /metrics, nothing else


# Roles whose keys act for no authority (every other key is bound to one).
UNSCOPED_ROLES = frozenset({Role.ADMIN, Role.METRICS})


class UnknownAuthority(ValueError):
    """A key was asked for an authority that is not in the registry."""


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
    authorities: Collection[str] | None = None,
) -> tuple[Principal, str]:
    """Create a key; return its principal and the token (shown once, never stored).

    ``authorities``: the ids of the registry's authorities; a key bound to another one raises
    `UnknownAuthority` and nothing is written. None skips the check (tests, and callers that
    checked already)."""
    role = Role(role)
    if role not in UNSCOPED_ROLES and not authority_id:
        raise ValueError(f"a {role} key must be bound to an authority")
    if role in UNSCOPED_ROLES:
        authority_id = None
    if authority_id is not None and authorities is not None and authority_id not in authorities:
        raise UnknownAuthority(f"no authority '{authority_id}' in the registry")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, authority_id, label) VALUES ($1, $2, $3, $4, $5)",
        key_id,
        _hash(secret),
        role.value,
        authority_id,
        label,
    )
    return Principal(key_id, role, authority_id, label), (
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


class PrincipalCache:
    """A short-lived, bounded, in-process memory of keys that authenticated recently.

    Why: every protected request looked its key up in PostgreSQL, two round trips with the pool's
    reset on release, for an answer that almost never changes; under load that was a large share
    of a sale's round trips. The decision taken: a key that authenticated is trusted again for at
    most ``ttl_s`` seconds without asking the database, so a revocation takes effect within
    ``ttl_s`` (5 s by default) on every process. Failures are never remembered: a new key works at
    once, and a wrong token always costs a lookup. Entries are keyed by the SHA-256 of the whole
    token (the secret is never kept in memory), the oldest is dropped beyond ``max_entries``.
    ``clock`` is a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s < 0 or max_entries < 1:
            raise ValueError("ttl_s must be >= 0 and max_entries >= 1")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    async def authenticate(self, conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
        """Like `authenticate`, answered from memory when the same token succeeded < ttl_s ago."""
        digest = hashlib.sha256(token.strip().encode()).digest()
        now_s = self.clock()
        entry = self._entries.get(digest)
        if entry is not None:
            if now_s < entry[0]:
                return entry[1]
            del self._entries[digest]
        principal = await authenticate(conn, token)
        if principal is not None and self.ttl_s > 0:
            self._entries[digest] = (now_s + self.ttl_s, principal)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return principal


def require_authority(principal: Principal, authority_id: str) -> None:
    """Raise OtherAuthority (403) unless the principal may act for ``authority_id`` (admins may)."""
    if principal.role is Role.ADMIN:
        return
    if principal.authority_id != authority_id:
        raise OtherAuthority(f"this key acts for authority '{principal.authority_id}', not '{authority_id}'")
