"""Assembly: write the demo region's simulated usage (`oura.demo.usage`) through ticketing's real
services, so that sales and validations (and so statistics) are what the product would record.

- API keys: one sales-point key per simulated sales point (its label is what the sales statistics
  show) and one device key per validator group, created when missing (found again by label);
- media issued (`ticketing.media.issue_medium`), entitlements recorded for reduced categories,
  purchases sold (`ticketing.selling.sell`, test payment provider) at their simulated times;
- boardings posted as one validation batch per device and service day
  (`ticketing.validation.validate_batch`) with ``now`` at the end of that day, so every decision
  (accepted, refused with its reason) is the real one; cards declared lost after that day's batches;
- then one statistics round (`ticketing.statistics.jobs.run_once`) releases the closed days.

`oura demo simulate-usage --days N` runs it against the configured database; `usage_context` runs
it once in the background of `oura serve` for the demo region when no validation exists yet.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from oura.auth import create_key
from oura.concurrency import run_blocking
from oura.demo.feed_arrays import load_network_timetable
from oura.demo.registry import read_demo_registry
from oura.demo.usage import Usage, simulate_usage
from oura.wiring import statistics_settings
from ticketing import media as ticketing_media
from ticketing import selling, validation
from ticketing.catalogue import load_catalogue
from ticketing.payments import TestPaymentProvider
from ticketing.products import Catalogue
from ticketing.requests import OrderLine, SaleRequest, request_hash
from ticketing.statistics import jobs

__all__ = ["UsageSummary", "load_usage_inputs", "write_usage", "simulate_usage_into", "usage_context", "register"]

log = logging.getLogger(__name__)
SALE_CONCURRENCY = 4


@dataclass(frozen=True)
class UsageSummary:
    riders: int
    media: int
    orders: int
    orders_failed: int
    validations: int
    accepted: int
    refused: dict[str, int]
    days_released: int
    elapsed_s: float

    def lines(self) -> list[str]:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.refused.items())) or "none"
        return [f"{self.riders} riders, {self.media} cards and wallets, {self.orders} orders "
                f"({self.orders_failed} not sold)",
                f"{self.validations} validations: {self.accepted} accepted, refused: {refused}",
                f"statistics: {self.days_released} releases stored; {self.elapsed_s:.1f} s"]


def load_usage_inputs(registry_path: Path) -> tuple[dict, dict[str, str], str]:
    """The timetables of the demo networks, network -> authority, and the region's zone (sync)."""
    networks = read_demo_registry(registry_path)
    timetables = {n.network_id: load_network_timetable(n.network_id, n.static, n.timezone) for n in networks
                  if "://" not in n.static and n.network_id != "ter"}
    zone = networks[0].timezone if networks else "Europe/Paris"
    return timetables, {n.network_id: n.authority_id for n in networks}, zone


async def _keys(pool: asyncpg.Pool, role: str, wanted: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """id -> key id of a key with that (authority, label), created when missing."""
    rows = await pool.fetch("SELECT key_id, authority_id, label FROM api_keys WHERE role = $1 AND revoked_at IS NULL",
                            role)
    found = {(r["authority_id"], r["label"]): r["key_id"] for r in rows}
    out = {}
    for ident, (authority, label) in wanted.items():
        if (authority, label) not in found:
            principal, _ = await create_key(pool, role, authority, label=label)
            found[(authority, label)] = principal.key_id
        out[ident] = found[(authority, label)]
    return out


def _service_day_end(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), zone) + timedelta(hours=4)


async def write_usage(pool: asyncpg.Pool, usage: Usage, catalogue: Catalogue, network_authority: Mapping[str, str],
                      *, run_id: str, timezone: str) -> tuple[int, int, int, dict[str, int], int]:
    """Sell, validate and declare ``usage`` through ticketing; returns (media, orders, failed
    orders, decisions by reason, accepted)."""
    zone = ZoneInfo(timezone)
    provider = TestPaymentProvider()
    sp_keys = await _keys(pool, "sales_point", {s.sales_point_id: (s.authority_id, s.label) for s in usage.sales_points})
    desk_keys = await _keys(pool, "sales_point", {a: (a, f"{a} guichet") for a in set(network_authority.values())})
    device_keys = await _keys(pool, "device", {d.device_id: (d.authority_id, d.label) for d in usage.devices})
    serials: dict[str, str] = {}
    for m in usage.media:
        holder = ticketing_media.Holder("Voyageur simulé") if m.registered else None
        view = await ticketing_media.issue_medium(
            pool, request=ticketing_media.MediumRequest(m.kind, holder), authority_id=m.issuing_authority_id,
            actor_key_id=desk_keys[m.issuing_authority_id], now=m.issued_at)
        serials[m.ref] = view.medium.serial
        if m.rider_category_id != "adult":
            await ticketing_media.record_entitlement(
                pool, serial=view.medium.serial,
                request=ticketing_media.EntitlementRequest(m.rider_category_id, m.issued_at + timedelta(days=365)),
                authority_id=m.issuing_authority_id, actor_key_id=desk_keys[m.issuing_authority_id],
                now=m.issued_at + timedelta(seconds=30))
    sp_authority = {s.sales_point_id: s.authority_id for s in usage.sales_points}
    orders = failed = 0
    by_day_purchases: dict[date, list] = defaultdict(list)
    by_day_boardings: dict[date, list] = defaultdict(list)
    by_day_declarations: dict[date, list] = defaultdict(list)

    def service_day(at: datetime) -> date:
        local = at.astimezone(zone)
        return (local - timedelta(hours=4)).date()

    for p in usage.purchases:
        by_day_purchases[service_day(p.at)].append(p)
    for b in usage.boardings:
        by_day_boardings[service_day(b.at)].append(b)
    for d in usage.declarations:
        by_day_declarations[service_day(d.at)].append(d)

    async def sell(n: int, p) -> bool:
        offer = catalogue.find_offer(p.fare_product_id, p.rider_category_id,
                                     ticketing_media.MEDIA_KINDS[p.medium_kind][0])
        if offer is None:
            return False
        medium = serials.get(p.medium_ref) if p.medium_kind != "paper" else None
        line = OrderLine(1, p.fare_product_id, 1, p.rider_category_id, offer.fare_media_id, medium, offer.price_minor)
        body = {"run": run_id, "n": n, "product": p.fare_product_id, "medium": medium}
        request = SaleRequest(f"sim-{run_id}-{n}", p.channel, "tok_ok", (line,), offer.price_minor, request_hash(body))
        try:
            view, _ = await selling.sell(pool, catalogue, network_authority, provider,
                                      sales_point_key_id=sp_keys[p.sales_point_id],
                                      selling_authority_id=sp_authority[p.sales_point_id], request=request, now=p.at)
        except Exception as error:  # a refused sale (an OuraError): counted, the simulation goes on
            log.debug("simulated sale refused: %s", error)
            return False
        if p.medium_kind == "paper" and view.lines and view.lines[0].get("media"):
            serials[p.medium_ref] = view.lines[0]["media"][0]
        return view.status == "paid"

    reasons: dict[str, int] = defaultdict(int)
    accepted = 0
    counter = 0
    event_no = 0
    for day in sorted(set(by_day_purchases) | set(by_day_boardings) | set(by_day_declarations)):
        batch = by_day_purchases.get(day, [])
        for start in range(0, len(batch), SALE_CONCURRENCY):
            chunk = batch[start:start + SALE_CONCURRENCY]
            results = await asyncio.gather(*(sell(counter + i, p) for i, p in enumerate(chunk)))
            counter += len(chunk)
            orders += sum(results)
            failed += len(results) - sum(results)
        per_device: dict[str, list] = defaultdict(list)
        for b in by_day_boardings.get(day, []):
            serial = serials.get(b.medium_ref)
            if serial is None:
                continue
            event_no += 1
            per_device[b.device_id].append(validation.ValidationEvent(
                f"sim-{run_id}-{event_no}", serial, b.at, b.stop_id, b.route_id, b.direction_id, b.network_id))
        now = _service_day_end(day, zone)
        for device_id, events in sorted(per_device.items()):
            authority = next(d.authority_id for d in usage.devices if d.device_id == device_id)
            for start in range(0, len(events), 2000):
                result = await validation.validate_batch(
                    pool, catalogue, network_authority, device_key_id=device_keys[device_id],
                    device_authority_id=authority, events=events[start:start + 2000], now=now)
                for decision in result.decisions:
                    reasons[decision.reason.value] += 1
                    accepted += decision.accepted
        for d in by_day_declarations.get(day, []):
            if d.medium_ref in serials:
                await ticketing_media.declare_medium(pool, serial=serials[d.medium_ref], reason=d.reason,
                                                     actor_key_id=desk_keys[d.authority_id],
                                                     authority_id=d.authority_id, now=d.at)
    return len(usage.media), orders, failed, dict(reasons), accepted


async def _statistics_round(pool: asyncpg.Pool, config, network_authority: Mapping[str, str], timezone: str) -> int:
    """One statistics round (release closed days, then purge); the number of releases stored."""
    from oura.clock import SystemClock

    await jobs.run_once(pool, SystemClock().now(), statistics_settings(config), network_authority, timezone)
    return int(await pool.fetchval("SELECT count(*) FROM stat_releases"))


async def simulate_usage_into(pool: asyncpg.Pool, config, registry_path: Path, *, days: int, riders: int, seed: int,
                              end_date: date | None = None, catalogue: Catalogue | None = None) -> UsageSummary:
    """Simulate ``days`` service days ending with ``end_date`` (default: yesterday) and write them."""
    started = time.perf_counter()
    timetables, network_authority, timezone = await run_blocking(load_usage_inputs, registry_path)
    if catalogue is None:
        from feeds.authorities import load_registry

        catalogue, _ = await run_blocking(lambda: load_catalogue(load_registry(registry_path)))
    from oura.clock import SystemClock

    now = SystemClock().now()
    last = end_date or (now.astimezone(ZoneInfo(timezone)) - timedelta(hours=4)).date() - timedelta(days=1)
    day_list = [last - timedelta(days=k) for k in range(days - 1, -1, -1)]
    usage = await run_blocking(lambda: simulate_usage(timetables, network_authority, day_list, riders=riders,
                                                      seed=seed, timezone=timezone))
    run_id = f"{seed}-{int(now.timestamp())}"
    n_media, orders, failed, reasons, accepted = await write_usage(pool, usage, catalogue, network_authority,
                                                                    run_id=run_id, timezone=timezone)
    released = await _statistics_round(pool, config, network_authority, timezone)
    refused = {k: v for k, v in reasons.items() if k not in ("valid", "transfer_within_window")}
    return UsageSummary(riders, n_media, orders, failed, sum(reasons.values()), accepted, refused, released,
                        time.perf_counter() - started)


def usage_context(registry_path: Path, *, days: int = 7, riders: int = 2500, seed: int = 1,
                  end_date: date | None = None):
    """A cleanup context for `oura serve` on the demo region: once the catalogue is loaded, when the
    database holds no validation yet, simulate the ``days`` service days ending with ``end_date``
    (default: yesterday) in the background and run a statistics round (a restart finds validations
    and does nothing)."""
    from oura.keys import CONFIG, POOL
    from ticketing.startup import TICKETING

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            pool = app[POOL]
            if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM ticketing_validations)"):
                log.info("simulated usage: validations already recorded, nothing simulated")
                return
            for _ in range(600):  # the catalogue is published after the first ingestion round
                if app[TICKETING].catalogue.products:
                    break
                await asyncio.sleep(1.0)
            summary = await simulate_usage_into(pool, app[CONFIG], registry_path, days=days, riders=riders, seed=seed,
                                                end_date=end_date, catalogue=app[TICKETING].catalogue)
            for line in summary.lines():
                log.info("simulated usage: %s", line)

        async def guarded() -> None:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("simulated usage failed")

        task = asyncio.create_task(guarded())
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    return context


def _cmd_simulate(args: argparse.Namespace, config) -> int:
    from oura.cli import database_dsn
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool

    registry = config.feeds.registry
    if registry is None:
        from oura.demo.wiring import ensure_demo_region

        registry = ensure_demo_region(config.data_dir / "demo")

    async def run() -> UsageSummary:
        async with database_dsn(config) as dsn:
            conn = await asyncpg.connect(dsn)
            try:
                await apply_migrations(conn)
            finally:
                await conn.close()
            pool = await create_pool(dsn, min_size=1, max_size=SALE_CONCURRENCY + 2)
            try:
                return await simulate_usage_into(pool, config, Path(registry), days=args.days, riders=args.riders,
                                                 seed=args.seed, end_date=args.end_date)
            finally:
                await pool.close()

    summary = asyncio.run(run())
    print("\n".join(summary.lines()))
    return 0


def register(demo_actions: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add ``simulate-usage`` under ``oura demo``."""
    from oura.commands import add_command

    command = add_command(demo_actions, "simulate-usage",
                          "Simulate riders buying tickets and boarding the demo region's trips (sales, validations)",
                          "oura demo simulate-usage --days 7 --riders 2000")
    command.add_argument("--days", type=int, required=True, help="service days to simulate")
    command.add_argument("--riders", type=int, default=2000, help="riders (default 2000)")
    command.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    command.add_argument("--end-date", type=date.fromisoformat, default=None,
                         help="last service day simulated, YYYY-MM-DD (default: yesterday)")
    command.set_defaults(func=_cmd_simulate)
