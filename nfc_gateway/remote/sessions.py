"""Remote session state in PostgreSQL: a sessionId is used once, a message is accepted once.

The table ``nfc_remote_sessions`` (migration 0014) holds one row per sessionId. Every message is
*claimed* before the server acts on it, by one conditional UPDATE: the session must be
``awaiting`` a RESP to the service the message answers, and the message's digest must not be among
those already received. So, across processes and restarts:

- an EXECUTE_REMOTE_SERVICE whose sessionId exists is refused (`RemoteSessionReused`, 409);
- a message received before (same digest) is refused (`RemoteMessageReplayed`, 409), whatever
  the session's state: a terminal that lost an answer starts a new session, and the load jobs
  (`nfc_gateway.remote.loads`) make that safe;
- a message arriving while another is processed, or answering another service, is refused
  (`RemoteMessageOutOfOrder`, 409); one for an ended session `RemoteSessionEnded` (409);
- only the device key (and clientNodeId) that opened a session may continue it (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..errors import (
    RemoteMessageOutOfOrder,
    RemoteMessageReplayed,
    RemoteSessionEnded,
    RemoteSessionOfOtherDevice,
    RemoteSessionReused,
    UnknownRemoteSession,
)
from .messages import Message

__all__ = ["SessionRow", "open_session", "claim_message", "await_response", "end_session", "get_session"]


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    key_id: str
    client_node_id: str
    service_id: str
    step: str
    expected_service: str | None
    messages: int
    medium_serial: str | None
    outcome: str | None


_COLUMNS = "session_id, key_id, client_node_id, service_id, step, expected_service, messages, medium_serial, outcome"


def _row(record: asyncpg.Record) -> SessionRow:
    return SessionRow(**dict(record))


async def open_session(pool: asyncpg.Pool, message: Message, service_id: str, key_id: str, now: datetime) -> SessionRow:
    """Record a new session (step ``processing``: its first answer is being built)."""
    record = await pool.fetchrow(
        f"""INSERT INTO nfc_remote_sessions (session_id, key_id, client_node_id, local_reader_name, api_level,
                service_id, step, last_digest, digests, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'processing', $7, ARRAY[$7::bytea], $8, $8)
            ON CONFLICT (session_id) DO NOTHING
            RETURNING {_COLUMNS}""",
        message.session_id, key_id, message.client_node_id, message.local_reader_name, message.api_level,
        service_id, message.digest, now,
    )
    if record is None:
        raise RemoteSessionReused(f"sessionId '{message.session_id}' was already used")
    return _row(record)


async def get_session(pool: asyncpg.Pool, session_id: str) -> SessionRow | None:
    record = await pool.fetchrow(f"SELECT {_COLUMNS} FROM nfc_remote_sessions WHERE session_id = $1", session_id)
    return None if record is None else _row(record)


async def claim_message(pool: asyncpg.Pool, message: Message, service: str, key_id: str, now: datetime) -> SessionRow:
    """Claim a RESP answering ``service`` for processing, or raise why it cannot be taken."""
    record = await pool.fetchrow(
        f"""UPDATE nfc_remote_sessions
               SET step = 'processing', messages = messages + 1, last_digest = $3,
                   digests = digests || $3::bytea, updated_at = $6
             WHERE session_id = $1 AND key_id = $2 AND client_node_id = $5 AND step = 'awaiting'
               AND expected_service = $4 AND NOT ($3::bytea = ANY (digests))
            RETURNING {_COLUMNS}""",
        message.session_id, key_id, message.digest, service, message.client_node_id, now,
    )
    if record is not None:
        return _row(record)
    current = await pool.fetchrow(
        "SELECT key_id, client_node_id, step, expected_service, $2::bytea = ANY (digests) AS seen "
        "FROM nfc_remote_sessions WHERE session_id = $1", message.session_id, message.digest)
    if current is None:
        raise UnknownRemoteSession(f"no session '{message.session_id}'")
    if current["key_id"] != key_id or current["client_node_id"] != message.client_node_id:
        raise RemoteSessionOfOtherDevice(f"session '{message.session_id}' belongs to another device")
    if current["seen"]:
        raise RemoteMessageReplayed(f"this message was already received in session '{message.session_id}'")
    if current["step"] == "ended":
        raise RemoteSessionEnded(f"session '{message.session_id}' has ended")
    if current["step"] == "processing":
        raise RemoteMessageOutOfOrder(f"session '{message.session_id}' is processing another message")
    raise RemoteMessageOutOfOrder(f"session '{message.session_id}' expects a RESP to {current['expected_service']}, not {service}")


async def await_response(pool: asyncpg.Pool, session_id: str, service: str, now: datetime, *,
                         medium_serial: str | None = None) -> None:
    """The server sent a CMD for ``service``: the session now waits for its RESP."""
    await pool.execute(
        """UPDATE nfc_remote_sessions SET step = 'awaiting', expected_service = $2, updated_at = $3,
                  medium_serial = coalesce($4, medium_serial)
            WHERE session_id = $1 AND step = 'processing'""",
        session_id, service, now, medium_serial)


async def end_session(pool: asyncpg.Pool, session_id: str, outcome: str, now: datetime, *,
                      medium_serial: str | None = None) -> None:
    await pool.execute(
        """UPDATE nfc_remote_sessions SET step = 'ended', expected_service = NULL, outcome = $2, updated_at = $3,
                  ended_at = $3, medium_serial = coalesce($4, medium_serial)
            WHERE session_id = $1 AND step <> 'ended'""",
        session_id, outcome, now, medium_serial)
