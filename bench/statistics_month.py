"""The simulated month of the statistics benchmark (bench/statistics.py): riders drawn with numpy
over the demo timetables, every boarding a real stop_time of a trip running that day; the sizes of
each kind of rider for a target of validations and sales; the contracts' usage state.

Pure numpy, no I/O: `Month` holds arrays, `bench.statistics_fill.Writer` writes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

_KEY = 1 << 18  # stop index * _KEY + departure seconds: one sortable key per boardable stop_time
_WITHIN_S = 5400  # a rider waits at most this long for a departure
DAY_S = 86400
REASONS = ("valid", "transfer_within_window", "already_validated", "no_contract_for_network")
VALID, TRANSFER, DOUBLE_TAP, NO_CONTRACT = range(4)
PASS_S = 2592000


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

