"""Writing the simulated month (bench.statistics_month) into ticketing's tables by COPY, in the row
shapes ticketing writes: keys, media, orders with their lines, charges, revenue ledger rows and
contracts (with their usage state), validations."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np

from bench.statistics_month import REASONS, TRANSFER, Month

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
