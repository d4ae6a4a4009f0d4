"""The short life of identifying data: serials and contract links of validations older than the
retention are removed (and what else links a medium to a person past its use).

(to be written: see the issue 14 brief "retention")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["PurgeResult", "purge_identifiers"]


@dataclass(frozen=True)
class PurgeResult:
    validations: int  # rows whose serial and contract link were removed


async def purge_identifiers(pool: asyncpg.Pool, *, now: datetime, retention_s: float) -> PurgeResult:
    raise NotImplementedError
