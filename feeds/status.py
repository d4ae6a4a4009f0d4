"""Feed health per network: which version serves, how old it is, and whether anything is wrong.

Health is a judgement for operators, in one word with a reason:
- ``missing``: no accepted version yet, nothing is served for this network;
- ``failing``: the latest attempts failed or were rejected; an older version still serves;
- ``stale``: the served version ends before today, or nobody could check the source for more
  than three poll intervals;
- ``ok``: otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg

from feeds import repository
from feeds.authorities import Network, Registry
from feeds.repository import FeedVersion, FetchState

__all__ = ["NetworkStatus", "list_network_statuses", "judge_health"]

STALE_POLL_INTERVALS = 3


@dataclass(frozen=True)
class NetworkStatus:
    authority_id: str
    network_id: str
    network_name: str
    timezone: str
    current: FeedVersion | None
    latest: FeedVersion | None  # last recorded version, whatever its status
    # recorded after the serving version, hence superseded or rejected; newest first (empty when none serves)
    not_serving: tuple[FeedVersion, ...]
    fetch: FetchState | None
    age_s: float | None  # since the current version was fetched
    health: str  # ok | stale | failing | missing
    reason: str


def judge_health(network: Network, current: FeedVersion | None, fetch: FetchState | None,
                 now: dt.datetime) -> tuple[str, str]:
    if current is None:
        if fetch is not None and fetch.last_error:
            return "missing", f"no accepted version; last attempt {fetch.last_outcome}: {fetch.last_error}"
        return "missing", "no accepted version yet"
    if fetch is not None and fetch.consecutive_failures > 0:
        return "failing", (f"{fetch.consecutive_failures} failed or rejected attempt(s) in a row "
                           f"({fetch.last_outcome}: {fetch.last_error}); version {current.version_id} still serves")
    today = now.astimezone(ZoneInfo(network.timezone)).date() if network.timezone else now.date()
    if current.validity_end is not None and current.validity_end < today:
        return "stale", f"the served version ended on {current.validity_end.isoformat()}"
    if fetch is not None and (now - fetch.last_attempt_at).total_seconds() > STALE_POLL_INTERVALS * network.static_poll_s:
        return "stale", f"not checked since {fetch.last_attempt_at.isoformat(timespec='seconds')}"
    return "ok", f"version {current.version_id} serves"


async def list_network_statuses(pool: asyncpg.Pool, registry: Registry, now: dt.datetime,
                                only: str | None = None) -> list[NetworkStatus]:
    networks = registry.select_networks(only)
    ids = [n.id for n in networks]
    versions = await repository.list_versions(pool, ids, limit=100_000)
    fetches = {f.network_id: f for f in await repository.list_fetch_states(pool)}
    statuses = []
    for network in networks:
        own = [v for v in versions if v.network_id == network.id]
        current = next((v for v in own if v.is_current), None)
        latest = max(own, key=lambda v: v.version_id, default=None)
        # recording order, not download order: a superseded download may finish after the serving one
        not_serving = () if current is None else tuple(
            sorted((v for v in own if v.version_id > current.version_id), key=lambda v: v.version_id, reverse=True))
        health, reason = judge_health(network, current, fetches.get(network.id), now)
        age = (now - current.fetched_at).total_seconds() if current else None
        statuses.append(NetworkStatus(network.authority_id, network.id, network.name, network.timezone, current,
                                      latest, not_serving, fetches.get(network.id), age, health, reason))
    return statuses
