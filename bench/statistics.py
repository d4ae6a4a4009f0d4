"""Benchmark: anonymised statistics (issue 14) over a month of the demo region's simulated usage:
10 M validations and 1 M sales bulk-loaded, validation ingestion over HTTP against the raw insert
rate of the same run, the release of service days and of the month, and the statistics routes.

    .venv/bin/python bench/statistics.py [--validations 10000000] [--sales 1000000] [--days 30]
                                         [--requests 40] [--concurrency 4]

Quick run while developing: ``--validations 200000 --sales 20000``.

What runs:

1. the demo region (`oura.demo.generate_region`, scale 1: the region `make run` serves) with a
   service window covering the simulated days (by default the whole previous month), an embedded
   PostgreSQL (pgserver) in a temporary folder, a fresh database, every migration;
2. the load (not an acceptance figure): riders drawn with numpy over the demo timetables, every
   boarding a real stop_time of a trip running that day (the first departure from the rider's
   stop after the time the rider comes), in the row shapes ticketing writes, by COPY:
   - commuters (a monthly pass on a card or a wallet: the pass bought last month, then its renewal
     bought in the window on its last day), home stop -> work stop and back on weekdays (and
     some Saturdays), 1 % double taps refused by anti-passback (``already_validated``);
   - carnet riders (a 10-trip carnet on a card, bought in the window, 5 return trips on later
     days), single-ticket riders (a paper ticket bought minutes before boarding at a vending
     machine; 20 % change vehicle within the transfer window), and cards with nothing on them
     (refused ``no_contract_for_network``);
   - sales (orders, lines, the test provider's charges, the revenue ledger rows; paper media and
     contracts) at their simulated times; the 1 M sales are those in the window, the passes bought
     last month come on top;
   - the serial of every validation is kept until the release of its day (below), then removed by
     `ticketing.statistics.purge.purge_identifiers`, as the statistics job does: only the last 2
     days keep their serials;
3. releases: every day but the last two released in order with suppression (as
   `release_due` would), timed one by one, then the purge; the second-last day again with
   suppression and the last with laplace (differential privacy), then `release_month`;
4. ingestion: the raw limit (single-row INSERTs, autocommit, 1 and 8 connections, into a table
   shaped like a validation row) and then the real upload path (``POST /v1/validations``: devices
   posting batches of events of cards with a 10-trip carnet, as bench/ticketing.py), on the same
   database holding the month, at the same moment; the ratio of the two;
5. queries: the full app factory (`oura.app.create_app`; the registry is not loaded, the
   ticketing context carries the demo catalogue, the statistics job is off: ``every_s = 0``) in a
   separate process on 127.0.0.1; an authority key (the biggest network's) and an admin key;
   ``--requests`` requests per route at ``--concurrency``; p50 / p95 / p99 per route.

The machine is shared: the load average is printed at each phase.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named like the standard library's statistics module: its folder must not come first
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import numpy as np  # noqa: E402

from bench.ticketing import make_keys, percentile, raw_insert_rate, with_database  # noqa: E402

_KEY = 1 << 18  # stop index * _KEY + departure seconds: one sortable key per boardable stop_time
_WITHIN_S = 5400  # a rider waits at most this long for a departure
DAY_S = 86400
REASONS = ("valid", "transfer_within_window", "already_validated", "no_contract_for_network")
VALID, TRANSFER, DOUBLE_TAP, NO_CONTRACT = range(4)
PASS_S = 2592000


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def phase(title: str) -> None:
    print(f"\n== {title} ({load_average()}, {datetime.now(UTC).strftime('%H:%M:%S')} UTC)", flush=True)


# ---------------------------------------------------------------- the server process


def serve(dsn: str, region: Path, port: int) -> None:
    """The service process: the full app factory, the ticketing context with the demo catalogue,
    the statistics job off (the bench releases itself), on loopback."""
    import logging

    from aiohttp import web

    from feeds.authorities import load_registry
    from oura.app import create_app
    from oura.config import Config, DatabaseConfig, FeedsConfig, HttpConfig, StatisticsConfig
    from ticketing.catalogue import load_catalogue
    from ticketing.service import network_authorities
    from ticketing.startup import make_ticketing_context

    logging.basicConfig(level=logging.WARNING)
    registry = load_registry(region / "registry.toml")
    catalogue, _ = load_catalogue(registry)
    config = Config(
        data_dir=region,
        database=DatabaseConfig(url=dsn, pool_min_size=4, pool_max_size=20),
        http=HttpConfig(host="127.0.0.1", port=port),
        feeds=FeedsConfig(registry=None, ingest_on_start=False, realtime=False),
        statistics=StatisticsConfig(every_s=0),
    )
    app = create_app(config, extra_contexts=[make_ticketing_context(catalogue, network_authorities(registry))])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# ---------------------------------------------------------------- the timetables


class Network:
    """One ridden network's stop_times as arrays, and per timetable day its boardable rows sorted
    by (stop, departure) for the "first departure from this stop after t" lookup."""

    def __init__(self, index: int, tt, authority: str) -> None:
        self.index = index
        self.id = tt.network_id
        self.tt = tt
        self.authority = authority
        counts = tt.st_end - tt.st_start
        self.row_trip = np.repeat(np.arange(len(tt.st_start)), counts)
        last = np.zeros(len(tt.st_stop), dtype=bool)
        last[tt.st_end[counts > 0] - 1] = True
        self.boardable = (~last) & (tt.st_stop >= 0)
        routes, self.trip_route = np.unique(tt.route_ids.astype(str), return_inverse=True)
        self.route_keys = np.array([f"{self.id}:{r}" for r in routes], dtype=object)  # route index -> namespaced id
        self.stop_keys = np.array([f"{self.id}:{s}" for s in tt.stop_ids.astype(str)], dtype=object)  # stop index -> namespaced id
        self.directions = tt.direction_ids.astype(np.int16)
        served = np.bincount(tt.st_stop[tt.st_stop >= 0], minlength=len(tt.stop_ids))
        self.machines = np.argsort(-served, kind="stable")[:3]  # vending machines at the busiest stops
        self._days: dict[frozenset, tuple[np.ndarray, np.ndarray]] = {}

    def day(self, d: date) -> tuple[np.ndarray, np.ndarray] | None:
        """(sorted keys, rows) of the boardable stop_times of trips running on ``d``."""
        from oura.demo.usage import get_timetable_day

        tday = get_timetable_day(d, self.tt.services_by_date)
        if tday is None:
            return None
        services = self.tt.services_by_date[tday]
        if services not in self._days:
            active = np.isin(self.tt.service_ids.astype(str), list(services))
            rows = np.flatnonzero(self.boardable & active[self.row_trip])
            keys = self.tt.st_stop[rows].astype(np.int64) * _KEY + self.tt.st_departure_s[rows]
            order = np.argsort(keys, kind="stable")
            self._days[services] = (keys[order], rows[order])
        return self._days[services]

    def board(self, d: date, stops: np.ndarray, after_s: np.ndarray) -> np.ndarray:
        """The first boardable row at each stop departing in [after_s, after_s + _WITHIN_S] on
        ``d`` (-1: none)."""
        found = self.day(d)
        if found is None or not len(found[0]) or not len(stops):
            return np.full(len(stops), -1, dtype=np.int64)
        keys, rows = found
        after_s = np.clip(after_s, 0, _KEY - 1).astype(np.int64)
        at = np.minimum(np.searchsorted(keys, stops.astype(np.int64) * _KEY + after_s), len(keys) - 1)
        k = keys[at]
        ok = (k // _KEY == stops) & (k % _KEY - after_s <= _WITHIN_S) & (k % _KEY >= after_s)
        return np.where(ok, rows[at], -1)

    def plans(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(home stop, work stop) of ``n`` riders: two stops of one trip, in its order."""
        rows = np.flatnonzero(self.boardable)
        home_row = rows[rng.integers(len(rows), size=n)]
        end = self.tt.st_end[self.row_trip[home_row]]
        work_row = home_row + 1 + (rng.random(n) * (end - home_row - 1)).astype(np.int64)
        return self.tt.st_stop[home_row].astype(np.int64), self.tt.st_stop[work_row].astype(np.int64)


def network_weights(networks: list[Network]) -> np.ndarray:
    from oura.demo.region import COACH_NETWORKS, URBAN_AREAS

    population = {a.network_id: a.population for a in URBAN_AREAS}
    coach = {c.network_id for c in COACH_NETWORKS}
    w = np.array([population.get(n.id, 40_000 if n.id in coach else 0) for n in networks], dtype=float)
    return w / w.sum()


# ---------------------------------------------------------------- the simulated month


@dataclass
class Media:
    """Every card, wallet and paper ticket: index -> serial, kind, issuer, issued at (epoch s)."""

    kind: list[str] = field(default_factory=list)
    authority: list[str] = field(default_factory=list)
    at: list[np.ndarray] = field(default_factory=list)
    count: int = 0

    def add(self, kind: str, authorities: np.ndarray, at: np.ndarray) -> np.ndarray:
        first = self.count
        self.kind.extend([kind] * len(at) if isinstance(kind, str) else kind)
        self.authority.extend(authorities.tolist())
        self.at.append(np.asarray(at, dtype=np.int64))
        self.count += len(at)
        return np.arange(first, self.count)


@dataclass
class Sales:
    """Orders (one line, one contract each): arrays per order, appended by kind of product."""

    parts: list[dict] = field(default_factory=list)
    count: int = 0

    def add(self, **columns) -> np.ndarray:
        n = len(columns["at"])
        first = self.count
        self.parts.append({**columns, "n": n})
        self.count += n
        return np.arange(first, self.count)  # order index == contract index


@dataclass
class DayEvents:
    net: list = field(default_factory=list)
    row: list = field(default_factory=list)
    t: list = field(default_factory=list)
    medium: list = field(default_factory=list)
    contract: list = field(default_factory=list)
    reason: list = field(default_factory=list)

    def add(self, net, row, t, medium, contract, reason) -> None:
        self.net.append(np.asarray(net, dtype=np.int16))
        self.row.append(np.asarray(row, dtype=np.int64))
        self.t.append(np.asarray(t, dtype=np.int64))
        self.medium.append(np.asarray(medium, dtype=np.int64))
        self.contract.append(np.asarray(contract, dtype=np.int64))
        self.reason.append(np.asarray(reason, dtype=np.int8))

    def arrays(self) -> dict[str, np.ndarray]:
        cols = {k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.zeros(0, dtype=np.int64)
                for k in ("net", "row", "t", "medium", "contract", "reason")}
        order = np.argsort(cols["t"], kind="stable")
        return {k: v[order] for k, v in cols.items()}


class Month:
    """The simulated usage of the days, drawn with numpy (seeded)."""

    def __init__(self, networks: list[Network], days: list[date], zone: ZoneInfo, seed: int) -> None:
        from feeds.gtfs.service_days import service_day_origin_s

        self.networks = networks
        self.days = days
        self.zone = zone
        self.rng = np.random.default_rng([seed, 14])
        self.weights = network_weights(networks)
        self.origin = {d: service_day_origin_s(zone, d) for d in
                       [days[0] - timedelta(days=k) for k in range(1, 32)] + days + [days[-1] + timedelta(days=1)]}
        self.media = Media()
        self.sales = Sales()
        self.events = [DayEvents() for _ in days]
        self.prewindow_orders = 0

    def _nets(self, n: int) -> np.ndarray:
        return self.rng.choice(len(self.networks), size=n, p=self.weights)

    def _authorities(self, nets: np.ndarray) -> np.ndarray:
        return np.array([self.networks[i].authority for i in range(len(self.networks))], dtype=object)[nets]

    def _evening(self, day_offsets: np.ndarray) -> np.ndarray:
        """An evening purchase time (17:00-21:00) of the day ``days[0] + offset``, epoch s."""
        base = np.array([self.origin[self.days[0] + timedelta(days=int(o))] for o in range(-31, len(self.days) + 1)])
        return base[day_offsets + 31] + (self.rng.uniform(17, 21, len(day_offsets)) * 3600).astype(np.int64)

    def commuters(self, n: int) -> None:
        rng, days = self.rng, self.days
        nets = self._nets(n)
        home, work = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        for i, net in enumerate(self.networks):
            mine = np.flatnonzero(nets == i)
            home[mine], work[mine] = net.plans(rng, len(mine))
        wallet = rng.random(n) < 0.25
        category = rng.choice(["adult", "youth", "senior", "reduced"], p=[0.78, 0.14, 0.04, 0.04], size=n)
        channel = rng.choice(["vending_machine", "web", "app", "desk"], p=[0.4, 0.3, 0.2, 0.1], size=n)
        channel = np.where(wallet & (channel == "vending_machine"), "app", channel)
        age = rng.integers(1, 31, size=n)  # the running pass was bought this many days before days[0]
        bought_a = self._evening(-age)
        renewal = 30 - age  # index of the day the running pass ends on: its renewal is bought that evening
        in_window = renewal < len(days)
        bought_b = self._evening(np.minimum(renewal, len(days)))
        medium = self.media.add(np.where(wallet, "wallet", "smartcard").tolist(), self._authorities(nets),
                                bought_a - 600)
        product = "monthly-pass"
        contract_a = self.sales.add(at=bought_a, net=nets, product=product, category=category, channel=channel,
                                    medium=medium, stop=home, wallet=wallet)
        self.prewindow_orders += n
        keep = np.flatnonzero(in_window)
        contract_b = np.full(n, -1, dtype=np.int64)
        contract_b[keep] = self.sales.add(at=bought_b[keep], net=nets[keep], product=product, category=category[keep],
                                          channel=channel[keep], medium=medium[keep], stop=home[keep],
                                          wallet=wallet[keep])
        morning = rng.normal(7.75 * 3600, 2400, n)
        evening = rng.normal(17.5 * 3600, 3000, n)
        for k, d in enumerate(days):
            p = 0.92 if d.weekday() < 5 else 0.1 if d.weekday() == 5 else 0.0
            riding = np.flatnonzero(rng.random(n) < p)
            if not len(riding):
                continue
            jitter = rng.normal(0, 600, len(riding))
            contract = np.where(k <= renewal[riding], contract_a[riding], contract_b[riding])
            for i, net in enumerate(self.networks):
                mine = riding[nets[riding] == i]
                if not len(mine):
                    continue
                c = contract[nets[riding] == i]
                j = jitter[nets[riding] == i]
                for stops, at in ((home[mine], morning[mine] + j), (work[mine], evening[mine] + j)):
                    rows = net.board(d, stops, at.astype(np.int64))
                    ok = rows >= 0
                    t = self.origin[d] + net.tt.st_departure_s[rows[ok]]
                    self.events[k].add(np.full(ok.sum(), i), rows[ok], t, medium[mine[ok]], c[ok], np.full(ok.sum(), VALID))
                    tap = rng.random(ok.sum()) < 0.01  # a double tap, refused by anti-passback
                    self.events[k].add(np.full(tap.sum(), i), rows[ok][tap], t[tap] + rng.integers(5, 40, tap.sum()),
                                       medium[mine[ok][tap]], c[ok][tap], np.full(tap.sum(), DOUBLE_TAP))

    def carnets(self, n: int) -> None:
        rng, days = self.rng, self.days
        nets = self._nets(n)
        home, work = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        for i, net in enumerate(self.networks):
            mine = np.flatnonzero(nets == i)
            home[mine], work[mine] = net.plans(rng, len(mine))
        first = rng.integers(0, len(days), size=n)
        out_s = rng.uniform(8.5 * 3600, 19 * 3600, size=(n, 5))
        back_s = out_s + rng.uniform(3600, 4 * 3600, size=(n, 5))
        gaps = np.concatenate([np.zeros((n, 1), dtype=np.int64), rng.geometric(0.5, size=(n, 4))], axis=1)
        ride_day = first[:, None] + np.cumsum(gaps, axis=1)
        buy = np.array([self.origin[days[f]] for f in first]) + out_s[:, 0].astype(np.int64) - rng.integers(60, 600, n)
        medium = self.media.add("smartcard", self._authorities(nets), buy - 60)
        contract = self.sales.add(at=buy, net=nets, product="10-trips", category=np.full(n, "adult"),
                                  channel=np.full(n, "vending_machine"), medium=medium, stop=home,
                                  wallet=np.zeros(n, dtype=bool))
        for k, d in enumerate(days):
            who, trip = np.nonzero(ride_day == k)
            for i, net in enumerate(self.networks):
                sel = nets[who] == i
                w, tr = who[sel], trip[sel]
                for stops, at in ((home[w], out_s[w, tr]), (work[w], back_s[w, tr])):
                    rows = net.board(d, stops, at.astype(np.int64))
                    ok = rows >= 0
                    t = self.origin[d] + net.tt.st_departure_s[rows[ok]]
                    self.events[k].add(np.full(ok.sum(), i), rows[ok], t, medium[w[ok]], contract[w[ok]],
                                       np.full(ok.sum(), VALID))

    def singles(self, n: int) -> None:
        rng, days = self.rng, self.days
        weight = np.array([1.0 if d.weekday() < 5 else 0.6 if d.weekday() == 5 else 0.35 for d in days])
        day = rng.choice(len(days), size=n, p=weight / weight.sum())
        nets = self._nets(n)
        for k, d in enumerate(days):
            for i, net in enumerate(self.networks):
                m = int(((day == k) & (nets == i)).sum())
                found = net.day(d)
                if not m or found is None or not len(found[1]):
                    continue
                rows = found[1][rng.integers(len(found[1]), size=m)]
                t = self.origin[d] + net.tt.st_departure_s[rows]
                buy = t - rng.integers(60, 600, m)
                auth = np.full(m, net.authority, dtype=object)
                medium = self.media.add("paper", auth, buy)
                contract = self.sales.add(at=buy, net=np.full(m, i), product="single", category=np.full(m, "adult"),
                                          channel=np.full(m, "vending_machine"), medium=medium,
                                          stop=net.tt.st_stop[rows].astype(np.int64), wallet=np.zeros(m, dtype=bool))
                self.events[k].add(np.full(m, i), rows, t, medium, contract, np.full(m, VALID))
                # 20 % change vehicle at a later stop of the trip, within the transfer window
                change = np.flatnonzero(rng.random(m) < 0.2)
                end = net.tt.st_end[net.row_trip[rows[change]]]
                alight = rows[change] + 1 + (rng.random(len(change)) * (end - rows[change] - 1)).astype(np.int64)
                arrive = net.tt.st_arrival_s[alight]
                second = net.board(d, net.tt.st_stop[alight].astype(np.int64), arrive + 60)
                ok = second >= 0
                t2 = self.origin[d] + net.tt.st_departure_s[second[ok]]
                within = t2 - t[change][ok] < 3600
                self.events[k].add(np.full(within.sum(), i), second[ok][within], t2[within],
                                   medium[change][ok][within], contract[change][ok][within],
                                   np.full(within.sum(), TRANSFER))

    def evaders(self, n: int) -> None:
        rng, days = self.rng, self.days
        nets = self._nets(n)
        medium = self.media.add("smartcard", self._authorities(nets), np.full(n, self.origin[days[0]] - 2 * DAY_S))
        for k, d in enumerate(days):
            who = np.flatnonzero(rng.random(n) < 0.3)
            for i, net in enumerate(self.networks):
                w = who[nets[who] == i]
                found = net.day(d)
                if not len(w) or found is None or not len(found[1]):
                    continue
                rows = found[1][rng.integers(len(found[1]), size=len(w))]
                t = self.origin[d] + net.tt.st_departure_s[rows]
                self.events[k].add(np.full(len(w), i), rows, t, medium[w], np.full(len(w), -1),
                                   np.full(len(w), NO_CONTRACT))


# ---------------------------------------------------------------- sizes


def plan_sizes(validations: int, sales: int, days: list[date]) -> tuple[int, int, int, int]:
    """(commuters, carnets, singles, evaders) so that the month holds about ``validations``
    validations and ``sales`` sales in the window: carnets 12 % of the validations, evaders 1 %,
    singles the rest of the sales (1.2 validations each with transfers), commuters the rest."""
    weekdays = sum(d.weekday() < 5 for d in days)
    saturdays = sum(d.weekday() == 5 for d in days)
    per_commuter = 2 * (0.92 * weekdays + 0.1 * saturdays) * 1.01 * 0.93  # found departures (measured ~93 %)
    carnets = int(0.12 * validations / 10 / 0.93)
    evaders = max(1, int(0.01 * validations / (0.3 * len(days))))
    commuters = int((validations - 10 * 0.93 * carnets - 1.2 * (sales - carnets) - 0.01 * validations)
                    / (per_commuter - 1.2))
    commuters = max(1, min(commuters, sales - carnets - 1))
    singles = max(0, sales - carnets - commuters)
    return commuters, carnets, singles, evaders


# ---------------------------------------------------------------- writing


def serials(kinds: list[str]) -> list[str]:
    """Distinct serials in ticketing's shape (kind prefix + 16 hex digits): a bijective mix of
    the index, so no two collide."""
    prefix = {"smartcard": "C", "wallet": "W", "paper": "P"}
    mix = (np.arange(len(kinds), dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(0x5DEECE66D)
    return [f"{prefix[k]}{int(x):016X}" for k, x in zip(kinds, mix)]


def ts(seconds: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(int(s), UTC) for s in seconds]


async def copy(conn: asyncpg.Connection, table: str, columns: list[str], records) -> None:
    await conn.copy_records_to_table(table, records=records, columns=columns)


class Writer:
    def __init__(self, conn: asyncpg.Connection, month: Month, catalogue, zone: ZoneInfo, timezone: str) -> None:
        self.conn = conn
        self.month = month
        self.catalogue = catalogue
        self.zone = zone
        self.timezone = timezone

    async def keys(self) -> None:
        """Device keys per (network, route) and sales-point keys per network, as oura.usage names them."""
        from oura.auth import create_key

        m = self.month
        self.device_key: dict[tuple[int, int], str] = {}
        for net in m.networks:
            for r, name in enumerate(net.route_keys):
                principal, _ = await create_key(self.conn, "device", net.authority, label=f"valideurs {name}")
                self.device_key[(net.index, r)] = principal.key_id
        self.device_keys = [np.array([self.device_key[(net.index, r)] for r in range(len(net.route_keys))], dtype=object)
                            for net in m.networks]  # network -> route index -> device key id
        self.sales_point: dict[tuple[int, str, int], str] = {}  # (network, channel, machine) -> key id
        for net in m.networks:
            labels = {("desk", 0): f"{net.id} agence commerciale", ("web", 0): f"{net.id} boutique en ligne",
                      ("app", 0): f"{net.id} appli OùRA"}
            for k, stop in enumerate(net.machines):
                labels[("vending_machine", k)] = f"{net.id} distributeur {net.tt.stop_names[stop]}"
            for (channel, k), label in labels.items():
                principal, _ = await create_key(self.conn, "sales_point", net.authority, label=label)
                self.sales_point[(net.index, channel, k)] = principal.key_id

    async def media(self) -> list[str]:
        m = self.month.media
        self.serial = serials(m.kind)
        fare_media = {"smartcard": "oura-card", "wallet": "oura-wallet", "paper": "paper"}
        at = np.concatenate(m.at)
        chunk = 200_000
        for s in range(0, m.count, chunk):
            e = min(m.count, s + chunk)
            times = ts(at[s:e])
            await copy(self.conn, "ticketing_media", ["medium_id", "serial", "kind", "fare_media_id",
                                                      "issuing_authority_id", "status", "created_at"],
                       [(i + 1, self.serial[i], m.kind[i], fare_media[m.kind[i]], m.authority[i], "active", times[i - s])
                        for i in range(s, e)])
        await self.conn.execute("SELECT setval(pg_get_serial_sequence('ticketing_media', 'medium_id'), $1)", m.count)
        return self.serial

    def offers(self) -> dict:
        out = {}
        for net in self.month.networks:
            for product in ("monthly-pass", "10-trips", "single"):
                for category in ("adult", "youth", "senior", "reduced"):
                    for media in ("oura-card", "oura-wallet", "paper"):
                        offer = self.catalogue.find_offer(f"{net.id}:{product}", category, media)
                        if offer is not None:
                            out[(net.index, product, category, media)] = offer
        return out

    async def sales(self, usage: dict[int, dict]) -> None:
        """Orders, lines, charges, revenue ledger rows and contracts (with their usage state)."""
        m = self.month
        offers = self.offers()
        order_cols = ["order_id", "sales_point_key_id", "idempotency_key", "request_hash", "selling_authority_id",
                      "channel", "status", "total_minor", "currency", "refunded_minor", "request", "created_at",
                      "updated_at"]
        line_cols = ["order_id", "line_no", "fare_product_id", "rider_category_id", "fare_media_id", "quantity",
                     "unit_price_minor", "amount_minor", "currency", "network_ids", "owning_authority_ids", "medium_id"]
        pay_cols = ["order_id", "kind", "provider", "provider_reference", "amount_minor", "currency", "created_at"]
        ledger_cols = ["order_id", "line_no", "kind", "collector_authority_id", "beneficiary_authority_id",
                       "network_id", "amount_minor", "currency", "booked_at"]
        contract_cols = ["contract_id", "medium_id", "order_id", "line_no", "fare_product_id", "rider_category_id",
                         "network_ids", "area_ids", "valid_from", "valid_until", "duration_s", "trips_total",
                         "remaining_trips", "transfer_window_s", "status", "first_used_at", "last_counted_at",
                         "last_route_id", "created_at"]
        templates: dict[tuple, tuple[str, str]] = {}
        order_id = 0
        for part in m.sales.parts:
            n = part["n"]
            times = ts(part["at"])
            orders, lines, pays, ledger, contracts = [], [], [], [], []
            for k in range(n):
                order_id += 1
                i = order_id - 1
                net = m.networks[int(part["net"][k])]
                product, category = part["product"], str(part["category"][k])
                media_id = "paper" if product == "single" else ("oura-wallet" if part["wallet"][k] else "oura-card")
                offer = offers.get((net.index, product, category, media_id)) or offers.get(
                    (net.index, product, "adult", media_id))
                if offer is None:
                    raise SystemExit(f"no offer {net.id}:{product} {category} {media_id} in the demo catalogue")
                channel = str(part["channel"][k])
                machine = int(part["stop"][k]) % 3 if channel == "vending_machine" else 0
                key_id = self.sales_point[(net.index, channel, machine)]
                medium = int(part["medium"][k])
                serial = None if product == "single" else self.serial[medium]
                v = offer.validity
                key = (offer.fare_product_id, offer.rider_category_id, offer.fare_media_id, net.id)
                if key not in templates:
                    line = {"trips": v.trips, "line_no": 1, "area_ids": [], "currency": offer.currency, "quantity": 1,
                            "duration_s": v.duration_s, "network_ids": [net.id], "amount_minor": offer.price_minor,
                            "fare_media_id": offer.fare_media_id, "medium_serial": "@@",
                            "fare_product_id": offer.fare_product_id, "shares_permille": [[net.id, 1000]],
                            "unit_price_minor": offer.price_minor, "rider_category_id": category,
                            "transfer_window_s": v.transfer_window_s, "owning_authority_ids": [net.authority]}
                    text = json.dumps({"lines": [line], "token": "tok_ok", "commission_permille": 50})
                    templates[key] = tuple(text.split('"@@"'))
                before, after = templates[key]
                request = before + (json.dumps(serial) if serial else "null") + after
                idem = f"bench-{order_id}"
                at = times[k]
                price = offer.price_minor
                orders.append((order_id, key_id, idem, hashlib.sha256(idem.encode()).hexdigest(), net.authority,
                               channel, "paid", price, offer.currency, 0, request, at, at))
                lines.append((order_id, 1, offer.fare_product_id, category, offer.fare_media_id, 1, price, price,
                              offer.currency, [net.id], [net.authority], None if product == "single" else medium + 1))
                pays.append((order_id, "charge", "test", f"ch_{order_id:024x}", price, offer.currency, at))
                ledger.append((order_id, 1, "revenue", net.authority, net.authority, net.id, price, offer.currency, at))
                u = usage.get(i)
                first_used = last_counted = valid_until = None
                remaining = v.trips
                last_route = None
                if u is not None:
                    first_used = datetime.fromtimestamp(u["first"], UTC)
                    last_counted = datetime.fromtimestamp(u["last"], UTC)
                    last_route = u["route"]
                    if v.trips is not None:
                        remaining = max(0, v.trips - u["counted"])
                if v.duration_s is not None and part["at"][k] < m.origin[m.days[0]]:
                    first_used = at + timedelta(hours=14)  # the pass bought last month: first used the next morning
                    last_counted = last_counted or first_used
                if v.duration_s is not None and first_used is not None:
                    valid_until = self.pass_end(first_used)
                contracts.append((i + 1, medium + 1, order_id, 1, offer.fare_product_id, category, [net.id], [],
                                  at, valid_until, v.duration_s, v.trips, remaining, v.transfer_window_s, "active",
                                  first_used, last_counted, last_route, at))
            await copy(self.conn, "ticketing_orders", order_cols, orders)
            await copy(self.conn, "ticketing_order_lines", line_cols, lines)
            await copy(self.conn, "ticketing_payments", pay_cols, pays)
            await copy(self.conn, "ticketing_ledger", ledger_cols, ledger)
            await copy(self.conn, "ticketing_contracts", contract_cols, contracts)
        for table, column, value in (("ticketing_orders", "order_id", order_id),
                                     ("ticketing_contracts", "contract_id", order_id)):
            await self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), $1)", value)

    def pass_end(self, first_used: datetime) -> datetime:
        """A 30-day pass first used on service day D is valid until 04:00 local on D + 30."""
        from ticketing.statistics.release import service_day_bounds, service_day_of

        day = service_day_of(first_used, self.timezone)
        return service_day_bounds(day + timedelta(days=30), self.timezone)[0]

    async def validations(self, k: int, ev: dict[str, np.ndarray], remaining: np.ndarray, first_id: int) -> int:
        m = self.month
        n = len(ev["t"])
        net_of = ev["net"]
        route = np.empty(n, dtype=object)
        stop = np.empty(n, dtype=object)
        direction = np.zeros(n, dtype=np.int64)
        device = np.empty(n, dtype=object)
        authority = np.empty(n, dtype=object)
        network = np.empty(n, dtype=object)
        for i, net in enumerate(m.networks):
            sel = np.flatnonzero(net_of == i)
            if not len(sel):
                continue
            rows = ev["row"][sel]
            trips = net.row_trip[rows]
            r = net.trip_route[trips]
            route[sel] = net.route_keys[r]
            stop[sel] = net.stop_keys[net.tt.st_stop[rows]]
            direction[sel] = net.directions[trips]
            device[sel] = self.device_keys[i][r]
            authority[sel] = net.authority
            network[sel] = net.id
        occurred = ts(ev["t"])
        received = ts(ev["t"] + 60 + (ev["t"] * 7919) % 840)  # validators upload within minutes
        records = []
        for j in range(n):
            reason = int(ev["reason"][j])
            c = int(ev["contract"][j])
            rem = int(remaining[j])
            records.append((device[j], f"e{first_id + j}", authority[j], self.serial[int(ev["medium"][j])],
                            occurred[j], stop[j], route[j], int(direction[j]), network[j], reason <= TRANSFER,
                            REASONS[reason], c + 1 if c >= 0 else None, rem if rem >= 0 else None, received[j]))
        await copy(self.conn, "ticketing_validations",
                   ["device_key_id", "event_id", "authority_id", "medium_serial", "occurred_at", "stop_id", "route_id",
                    "direction_id", "network_id", "accepted", "reason", "contract_id", "remaining_trips",
                    "received_at"], records)
        return n


def contract_usage(days: list[dict], trips: np.ndarray) -> tuple[dict, list[np.ndarray]]:
    """Per contract: first / last counted boarding, counted trips and where the last one is (day,
    position); per day the remaining trips each validation recorded (-1: NULL, unlimited).
    ``trips``: contract -> trips_total (0: unlimited)."""
    contract = np.concatenate([d["contract"] for d in days])
    t = np.concatenate([d["t"] for d in days])
    reason = np.concatenate([d["reason"] for d in days])
    day_of = np.concatenate([np.full(len(d["t"]), k) for k, d in enumerate(days)])
    position = np.concatenate([np.arange(len(d["t"])) for d in days])
    counted = (reason == VALID) & (contract >= 0)
    order = np.lexsort((t, contract))
    oc = order[counted[order]]  # counted boardings by (contract, time)
    cs = contract[oc]
    starts = np.r_[0, np.flatnonzero(np.diff(cs)) + 1] if len(oc) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(oc)]
    rank = np.arange(len(oc)) - np.repeat(starts, ends - starts)
    total = trips[cs]
    remaining = np.full(len(t), -1, dtype=np.int64)
    remaining[oc] = np.where(total > 0, total - rank - 1, -1)
    # a refused or transfer boarding records the remaining trips of its contract at that moment
    other = np.flatnonzero(~counted & (contract >= 0))
    if len(other):
        t0 = int(t.min())
        key = cs.astype(np.int64) * (1 << 32) + (t[oc] - t0)
        at = np.searchsorted(key, contract[other].astype(np.int64) * (1 << 32) + (t[other] - t0), side="right") - 1
        hit = (at >= 0) & (cs[np.maximum(at, 0)] == contract[other])
        before = np.where(hit, remaining[oc[np.maximum(at, 0)]], trips[contract[other]])
        remaining[other] = np.where(trips[contract[other]] > 0, before, -1)
    usage = {int(cs[a]): {"first": int(t[oc[a]]), "last": int(t[oc[b - 1]]), "counted": int(b - a),
                          "row": (int(day_of[oc[b - 1]]), int(position[oc[b - 1]]))} for a, b in zip(starts, ends)}
    split = np.cumsum([len(d["t"]) for d in days])[:-1]
    return usage, np.split(remaining, split)


# ---------------------------------------------------------------- HTTP


async def wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def seed_cards(dsn: str, cards: int, network: str, authority: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        serial_list = [f"CBENCH{i:010d}" for i in range(cards)]
        ids = await conn.fetch(
            "INSERT INTO ticketing_media (serial, kind, fare_media_id, issuing_authority_id, created_at) "
            "SELECT s, 'smartcard', 'oura-card', $2, $3 FROM unnest($1::text[]) AS s RETURNING medium_id",
            serial_list, authority, now)
        await conn.execute(
            "INSERT INTO ticketing_contracts (medium_id, fare_product_id, rider_category_id, network_ids, valid_from, "
            "trips_total, remaining_trips, transfer_window_s, created_at) "
            "SELECT m, $3 || ':10-trips', 'adult', ARRAY[$3], $2, 10, 10, 3600, $2 FROM unnest($1::bigint[]) AS m",
            [r["medium_id"] for r in ids], now - timedelta(days=1), network)
        return serial_list
    finally:
        await conn.close()


async def ingest(base: str, keys: list[dict[str, str]], serial_list: list[str], net: Network, batch: int,
                 batches: int) -> dict:
    """Devices post batches of events of today (real stops and routes of the network)."""
    rng = np.random.default_rng(3)
    t0 = datetime.now(UTC) - timedelta(hours=12)
    rows = np.flatnonzero(net.boardable)
    plans = []
    for b in range(batches):
        picked = rows[rng.integers(len(rows), size=batch)]
        cards = rng.integers(len(serial_list), size=batch)
        events = [{"event_id": f"http-{b}-{i}", "medium": serial_list[int(cards[i])],
                   "time": (t0 + timedelta(seconds=b * batch + i)).isoformat(),
                   "stop_id": net.stop_keys[net.tt.st_stop[r]], "route_id": net.route_keys[net.trip_route[net.row_trip[r]]],
                   "direction_id": int(net.directions[net.row_trip[r]])} for i, r in enumerate(picked)]
        plans.append((keys[b % len(keys)], {"events": events}))
    results: list[dict] = []
    async with aiohttp.ClientSession() as session:
        async def device(k: int) -> None:
            for headers, body in plans[k::len(keys)]:
                async with session.post(f"{base}/v1/validations", json=body, headers=headers) as response:
                    data = await response.json()
                    assert response.status == 200, data
                    results.append(data)

        started = time.perf_counter()
        await asyncio.gather(*(device(k) for k in range(len(keys))))
        elapsed = time.perf_counter() - started
    events = batch * batches
    return {"events": events, "seconds": round(elapsed, 2), "per_s": events / elapsed,
            "accepted": sum(d["accepted"] for r in results for d in r["decisions"])}


async def measure_routes(base: str, routes: list[tuple[str, str, dict[str, str]]], requests: int,
                         concurrency: int) -> list[tuple[str, dict]]:
    out = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for label, path, headers in routes:
            async with session.get(base + path, headers=headers) as response:  # warm-up, and the answer checked
                body = await response.read()
                if response.status != 200:
                    out.append((label, {"status": response.status, "body": body[:200].decode(errors="replace")}))
                    continue
            latencies: list[float] = []
            statuses: dict[int, int] = defaultdict(int)
            todo = iter(range(requests))

            async def client() -> None:
                for _ in todo:
                    started = time.perf_counter()
                    async with session.get(base + path, headers=headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                    latencies.append(1000 * (time.perf_counter() - started))

            await asyncio.gather(*(client() for _ in range(concurrency)))
            out.append((label, {"n": len(latencies), "bytes": len(body), "p50_ms": statistics.median(latencies),
                                "p95_ms": percentile(latencies, 0.95), "p99_ms": percentile(latencies, 0.99),
                                "statuses": dict(statuses)}))
            r = out[-1][1]
            print(f"  {label:<58} p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms"
                  f"  ({r['bytes']:,} bytes, {dict(statuses)})", flush=True)
    return out


# ---------------------------------------------------------------- main


def default_first_day() -> date:
    today = datetime.now(UTC).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


async def main_async(args: argparse.Namespace) -> None:
    from feeds.authorities import load_registry
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool
    from oura.demo.generate import generate_region
    from oura.usage import load_usage_inputs
    from ticketing.catalogue import load_catalogue
    from ticketing.statistics.model import StatisticsSettings
    from ticketing.statistics.purge import purge_identifiers
    from ticketing.statistics.release import release_day, release_month, service_day_bounds

    started_all = time.perf_counter()
    first_day = args.first_day or default_first_day()
    days = [first_day + timedelta(days=k) for k in range(args.days)]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="oura-bench-statistics-"))
    work.mkdir(parents=True, exist_ok=True)
    phase(f"setup: {args.days} service days {days[0]}..{days[-1]}, {args.validations:,} validations, "
          f"{args.sales:,} sales, {os.cpu_count()} cores")
    t = time.perf_counter()
    generate_region(work / "demo", seed=1, scale=args.scale, start_date=days[0] - timedelta(days=7), fmt="dir",
                    days=args.days + 21, workers=2)
    timetables, network_authority, timezone = load_usage_inputs(work / "demo" / "registry.toml")
    registry = load_registry(work / "demo" / "registry.toml")
    catalogue, _ = load_catalogue(registry)
    print(f"demo region (scale {args.scale}) generated and read in {time.perf_counter() - t:.1f} s: "
          f"{len(timetables)} networks, {sum(len(tt.st_stop) for tt in timetables.values()):,} stop_times", flush=True)
    zone = ZoneInfo(timezone)
    from oura.demo.region import COACH_NETWORKS, URBAN_AREAS

    ridden = sorted(n for n in timetables if n in network_authority and n in
                    {a.network_id for a in URBAN_AREAS} | {c.network_id for c in COACH_NETWORKS})
    networks = [Network(i, timetables[n], network_authority[n]) for i, n in enumerate(ridden)]

    pg = EmbeddedPostgres(work / "pgdata")
    server_dsn = pg.start()
    server = None
    try:
        admin_conn = await asyncpg.connect(server_dsn)
        await admin_conn.execute("CREATE DATABASE bench")
        await admin_conn.close()
        dsn = with_database(server_dsn, "bench")
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)

        # ------------------------------------------------ simulate and load
        phase("simulated month: drawing and loading (COPY)")
        t = time.perf_counter()
        commuters, carnets, singles, evaders = plan_sizes(args.validations, args.sales, days)
        month = Month(networks, days, zone, args.seed)
        month.commuters(commuters)
        month.carnets(carnets)
        month.singles(singles)
        month.evaders(evaders)
        day_events = [e.arrays() for e in month.events]
        trips = np.concatenate([np.full(part["n"], {"monthly-pass": 0, "10-trips": 10, "single": 1}[part["product"]])
                                for part in month.sales.parts])
        usage, remaining = contract_usage(day_events, trips)
        for c, u in usage.items():
            k, pos = u.pop("row")
            ev = day_events[k]
            net = networks[int(ev["net"][pos])]
            u["route"] = net.route_keys[net.trip_route[net.row_trip[int(ev["row"][pos])]]]
        drawn_s = time.perf_counter() - t
        total_v = sum(len(e["t"]) for e in day_events)
        in_window = month.sales.count - month.prewindow_orders
        print(f"drawn in {drawn_s:.1f} s: {commuters:,} commuters, {carnets:,} carnets, {singles:,} single tickets, "
              f"{evaders:,} cards without a ticket; {month.media.count:,} media; {total_v:,} validations; "
              f"{in_window:,} sales in the window (+ {month.prewindow_orders:,} passes bought the month before)",
              flush=True)
        writer = Writer(conn, month, catalogue, zone, timezone)
        t = time.perf_counter()
        await writer.keys()
        await writer.media()
        await writer.sales(usage)
        sales_s = time.perf_counter() - t
        print(f"keys, media and sales loaded in {sales_s:.1f} s", flush=True)
        t = time.perf_counter()
        next_id = 0
        per_day = []
        for k, ev in enumerate(day_events):
            next_id += await writer.validations(k, ev, remaining[k], next_id)
            per_day.append(len(ev["t"]))
        await conn.execute("ANALYZE")
        load_s = time.perf_counter() - t
        print(f"{total_v:,} validations loaded in {load_s:.1f} s ({total_v / load_s:,.0f} rows/s by COPY, indexes in place); "
              f"per day: min {min(per_day):,}, median {int(statistics.median(per_day)):,}, max {max(per_day):,}", flush=True)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"database size {size}", flush=True)
        del day_events, remaining
        if args.load_only:
            (work / "bench.json").write_text(json.dumps({
                "dsn": dsn, "timezone": timezone, "network_authority": network_authority,
                "days": [d.isoformat() for d in days], "per_day": per_day}))
            print(f"load only: the database stays in {work} (bench.json says how to reach it)", flush=True)
            return

        pool = await create_pool(dsn, min_size=2, max_size=6)
        settings = StatisticsSettings()
        suppression = settings
        from dataclasses import replace

        laplace = replace(settings, method="laplace")

        async def timed_release(d: date, s: StatisticsSettings) -> tuple[float, dict]:
            started = time.perf_counter()
            await release_day(pool, d, now=service_day_bounds(d, timezone)[1] + timedelta(hours=1), settings=s,
                              network_authority=network_authority, timezone=timezone)
            elapsed = time.perf_counter() - started
            rows = await conn.fetch("SELECT kind, parameters FROM stat_releases WHERE period_kind = 'day' "
                                    "AND period_start = $1", d)
            info = {r["kind"]: json.loads(r["parameters"]) for r in rows}
            return elapsed, info

        def describe(info: dict) -> str:
            return ", ".join(f"{k} {p.get('cells', 0):,} cells / {p.get('suppressed', 0):,} suppressed"
                             for k, p in sorted(info.items()))

        # ------------------------------------------------ releases of the history, then the purge
        phase("release of each day but the last two (suppression), in order, then the purge")
        history = []
        for k, d in enumerate(days[:-2]):
            elapsed, info = await timed_release(d, suppression)
            history.append((elapsed, d, per_day[k], info))
            print(f"  release_day {d} ({d.strftime('%a')}, {per_day[k]:,} validations): {elapsed:.1f} s; "
                  f"{describe(info)}", flush=True)
        if history:
            times = [h[0] for h in history]
            fullest = max(history, key=lambda h: h[2])
            print(f"release_day over {len(history)} days: median {statistics.median(times):.1f} s, "
                  f"max {max(times):.1f} s; the fullest day {fullest[1]} ({fullest[2]:,} validations): "
                  f"{fullest[0]:.1f} s (target <= 60 s)", flush=True)
        t = time.perf_counter()
        purge_now = service_day_bounds(days[-2], timezone)[0] + timedelta(seconds=settings.retention_s)
        purged = await purge_identifiers(pool, now=purge_now, retention_s=settings.retention_s)
        purge_s = time.perf_counter() - t
        kept = await conn.fetchval("SELECT count(*) FROM ticketing_validations WHERE medium_serial IS NOT NULL")
        print(f"purge (now = {purge_now.isoformat()}): {purged.validations:,} serials removed in {purge_s:.1f} s "
              f"({purged.validations / max(purge_s, 1e-9):,.0f} rows/s); {kept:,} validations keep their serial "
              f"(the last 2 days)", flush=True)

        # ------------------------------------------------ ingestion vs the raw limit
        phase("ingestion: raw single-row INSERT limit, then POST /v1/validations, same database")
        port = args.port
        server = subprocess.Popen([sys.executable, __file__, "--serve", dsn, str(work / "demo"), str(port)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        biggest = networks[int(np.argmax(month.weights))]
        raw_1 = await raw_insert_rate(dsn, args.raw_rows, 1)
        raw_8 = await raw_insert_rate(dsn, args.raw_rows, 8)
        print(f"raw single-row INSERT: {raw_1:,.0f} rows/s (1 connection), {raw_8:,.0f} rows/s (8 connections) "
              f"({load_average()})", flush=True)
        card_list = await seed_cards(dsn, args.cards, biggest.id, biggest.authority)
        device_keys = await make_keys(dsn, "device", biggest.authority, args.devices)
        result = await ingest(base, device_keys, card_list, biggest, args.batch, args.batches)
        raw_after = await raw_insert_rate(dsn, args.raw_rows, 8)
        best_raw = max(raw_1, raw_8)
        print(f"validations over HTTP ({args.devices} devices, batches of {args.batch}): {result}", flush=True)
        print(f"raw single-row INSERT again after: {raw_after:,.0f} rows/s (8 connections) ({load_average()})", flush=True)
        print(f"validation ingestion = {100 * result['per_s'] / best_raw:.0f}% of the best raw insert rate measured "
              f"before it (target >= 30%); {100 * result['per_s'] / max(best_raw, raw_after):.0f}% of the best of all "
              f"three", flush=True)

        # ------------------------------------------------ the last two days and the month
        phase("release of the last two days (serials present): suppression, laplace; then the month")
        last_two = []
        for d, s in ((days[-2], suppression), (days[-1], laplace)):
            elapsed, info = await timed_release(d, s)
            last_two.append(elapsed)
            print(f"  release_day {d} ({d.strftime('%a')}, {per_day[days.index(d)]:,} validations, {s.method}): "
                  f"{elapsed:.1f} s; {describe(info)}", flush=True)
        months = sorted({d.replace(day=1) for d in days})
        for m0 in months:
            t = time.perf_counter()
            await release_month(pool, m0, now=datetime.now(UTC), settings=settings, timezone=timezone)
            elapsed = time.perf_counter() - t
            rows = await conn.fetch("SELECT kind, parameters FROM stat_releases WHERE period_kind = 'month' "
                                    "AND period_start = $1", m0)
            info = {r["kind"]: json.loads(r["parameters"]) for r in rows}
            print(f"  release_month {m0:%Y-%m} ({sum(1 for d in days if d.replace(day=1) == m0)} days): "
                  f"{elapsed:.1f} s; {describe(info)}", flush=True)
        cells = await conn.fetchval("SELECT count(*) FROM stat_cells")
        print(f"stat_cells holds {cells:,} cells", flush=True)
        await pool.close()

        # ------------------------------------------------ queries
        phase(f"statistics routes over HTTP: {args.requests} requests each, concurrency {args.concurrency}")
        authority_key = (await make_keys(dsn, "authority", biggest.authority, 1))[0]
        admin_key = (await make_keys(dsn, "admin", None, 1))[0]
        day = fullest[1].isoformat() if history else days[-2].isoformat()
        mon = months[0].strftime("%Y-%m")
        net = biggest.id
        a, s_ = authority_key, admin_key
        routes = [
            (f"validations day route,hour ({biggest.authority})", f"/v1/statistics/validations?period={day}&group_by=route,hour", a),
            ("validations day route", f"/v1/statistics/validations?period={day}&group_by=route", a),
            ("validations day hour", f"/v1/statistics/validations?period={day}&group_by=hour", a),
            ("validations day stop", f"/v1/statistics/validations?period={day}&group_by=stop", a),
            ("validations day product_kind,rider_category", f"/v1/statistics/validations?period={day}&group_by=product_kind,rider_category", a),
            ("validations day reason", f"/v1/statistics/validations?period={day}&group_by=reason", a),
            ("validations day route,hour CSV", f"/v1/statistics/validations?period={day}&group_by=route,hour&format=csv", a),
            ("validations month route", f"/v1/statistics/validations?period={mon}&group_by=route", a),
            ("validations month stop", f"/v1/statistics/validations?period={mon}&group_by=stop", a),
            ("od day origin,destination", f"/v1/statistics/od?period={day}&group_by=origin,destination&network={net}", a),
            ("od day origin", f"/v1/statistics/od?period={day}&group_by=origin", a),
            ("od month origin,destination", f"/v1/statistics/od?period={mon}&group_by=origin,destination&network={net}", a),
            ("sales day product,channel", f"/v1/statistics/sales?period={day}&group_by=product,channel", a),
            ("sales day sales_point", f"/v1/statistics/sales?period={day}&group_by=sales_point", a),
            ("sales month day", f"/v1/statistics/sales?period={mon}&group_by=day", a),
            ("validations.png hourly (day)", f"/v1/statistics/validations.png?period={day}&chart=hourly", a),
            ("od.png heatmap (day)", f"/v1/statistics/od.png?period={day}&network={net}", a),
            ("sales.png channels (month)", f"/v1/statistics/sales.png?period={mon}", a),
            ("report (month)", f"/v1/statistics/report?period={mon}", a),
            ("releases", "/v1/statistics/releases", a),
            ("admin: validations day route,hour (region)", f"/v1/statistics/validations?period={day}&group_by=route,hour", s_),
            ("admin: validations month stop (region)", f"/v1/statistics/validations?period={mon}&group_by=stop", s_),
            ("admin: od day origin,destination (region)", f"/v1/statistics/od?period={day}&group_by=origin,destination", s_),
            ("admin: sales month product,channel (region)", f"/v1/statistics/sales?period={mon}&group_by=product,channel", s_),
            ("admin: report (month, region)", f"/v1/statistics/report?period={mon}", s_),
            ("admin: releases", "/v1/statistics/releases", s_),
        ]
        measured = await measure_routes(base, routes, args.requests, args.concurrency)
        ok = [(label, r) for label, r in measured if "p95_ms" in r]
        failed = [(label, r) for label, r in measured if "p95_ms" not in r]
        over = [(label, r["p95_ms"]) for label, r in ok if r["p95_ms"] > 100]
        print(f"routes: {len(ok)} measured, {len(failed)} not answering 200 {failed or ''}; p95 over 100 ms: "
              + (", ".join(f"{label} {p:.0f} ms" for label, p in over) or "none"), flush=True)

        phase("summary")
        if history:
            print(f"release_day of the fullest day {fullest[1]} ({fullest[2]:,} validations, suppression): "
                  f"{fullest[0]:.1f} s; max over {len(history)} days {max(times):.1f} s; laplace {last_two[1]:.1f} s "
                  f"(target <= 60 s)")
        print(f"validation ingestion {result['per_s']:,.0f}/s = {100 * result['per_s'] / best_raw:.0f}% of the raw "
              f"single-row INSERT rate {best_raw:,.0f}/s (target >= 30%)")
        print(f"statistics routes: worst p95 {max(r['p95_ms'] for _, r in ok):.1f} ms "
              f"({max(ok, key=lambda x: x[1]['p95_ms'])[0]}); {len(over)} of {len(ok)} over 100 ms (target p95 <= 100 ms)")
        print(f"whole run {time.perf_counter() - started_all:.0f} s")
        await conn.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        pg.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validations", type=int, default=10_000_000)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--first-day", type=date.fromisoformat, default=None,
                        help="first simulated service day (default: the first day of the previous month)")
    parser.add_argument("--scale", type=float, default=1.0, help="demo region scale (1: the served demo region)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=40, help="requests per statistics route")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--raw-rows", type=int, default=8000)
    parser.add_argument("--port", type=int, default=18741)
    parser.add_argument("--keep", default=None,
                        help="work in this folder and keep it (the demo region and the database) after the run")
    parser.add_argument("--load-only", action="store_true",
                        help="stop after the load (with --keep: a database to profile the release on)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
