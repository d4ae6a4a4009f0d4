"""Simulated usage of the demo region: riders, the tickets they buy and the trips they board.

Pure and seeded: from the networks' timetables (`oura.demo.feed_arrays.NetworkTimetable`, read from the
generated feeds) and a list of service days, `simulate_usage` draws a population of riders and
returns plain records, which the assembly (`oura.usage`) writes through ticketing's real services:

- commuters (about 60 %) with a monthly pass on a smartcard or a wallet, bought the evening before
  the first day (a vending machine, the web shop or the app): home stop -> work stop on one route,
  a morning and an evening trip on weekdays (rarely on a Saturday); some are youth, senior or
  reduced riders, on a registered card whose entitlement the desk of the network records;
- occasional riders with single paper tickets (bought at a vending machine minutes before
  boarding) or a 10-trip carnet on a card, riding some days, any hour, and back a few hours later;
- a few riders with an empty card (no valid ticket: refused), a few double taps (refused by
  anti-passback), and a few cards declared lost then used the next day (deny-listed).

Every boarding is a real stop_time: a trip whose service runs that day, boarded at its departure
time from that stop. A simulated day outside the feeds' service window (the demo region's window
starts on the Monday of the week it was generated) rides the timetable of the same weekday a whole
number of weeks later, inside the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from feeds.gtfs.service_days import service_day_origin_s
from oura.demo.feed_arrays import NetworkTimetable
from oura.demo.region import COACH_NETWORKS, URBAN_AREAS

__all__ = ["Medium", "SalesPoint", "Device", "Purchase", "Boarding", "Declaration", "Usage", "simulate_usage",
           "get_timetable_day"]

_NEAR_M = 250.0
_DAY_S = 86400


@dataclass(frozen=True, slots=True)
class Medium:
    """A card or wallet a rider holds (paper tickets are created by their sale, see `Purchase`)."""

    ref: str  # the simulation's name of it; the writer maps it to the serial ticketing issues
    kind: str  # smartcard | wallet
    issuing_authority_id: str
    issued_at: datetime
    rider_category_id: str = "adult"  # not adult: a registered medium with that entitlement
    registered: bool = False


@dataclass(frozen=True, slots=True)
class SalesPoint:
    sales_point_id: str
    authority_id: str
    channel: str  # vending_machine | desk | web | app
    label: str


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    authority_id: str
    network_id: str
    label: str


@dataclass(frozen=True, slots=True)
class Purchase:
    at: datetime
    rider: int
    sales_point_id: str
    channel: str
    fare_product_id: str  # the catalogue's id (feed products namespaced: "tcl:monthly-pass")
    rider_category_id: str
    medium_kind: str  # smartcard | wallet | paper
    medium_ref: str  # a rider's Medium, or the new paper ticket this sale creates


@dataclass(frozen=True, slots=True)
class Boarding:
    at: datetime
    rider: int
    medium_ref: str
    medium_kind: str
    network_id: str
    route_id: str  # namespaced, as the catalogue knows it
    stop_id: str
    trip_id: str
    direction_id: int
    device_id: str
    expected: str = "valid"  # what the simulation meant: valid, no_contract, double_tap, deny_listed


@dataclass(frozen=True, slots=True)
class Declaration:
    at: datetime
    medium_ref: str
    authority_id: str
    reason: str = "lost"


@dataclass(frozen=True)
class Usage:
    days: tuple[date, ...]
    riders: int
    media: tuple[Medium, ...]
    sales_points: tuple[SalesPoint, ...]
    devices: tuple[Device, ...]
    purchases: tuple[Purchase, ...]
    boardings: tuple[Boarding, ...]
    declarations: tuple[Declaration, ...]
    kinds: Mapping[int, str] = field(default_factory=dict)  # rider -> commuter | occasional | evader


def get_timetable_day(day: date, services_by_date: Mapping[date, frozenset[str]]) -> date | None:
    """The day whose timetable ``day`` rides: itself inside the feed's window, else the same
    weekday a whole number of weeks away inside it (None: the feed runs no service at all)."""
    if day in services_by_date:
        return day
    if not services_by_date:
        return None
    first, last = min(services_by_date), max(services_by_date)
    candidate = day
    while candidate < first:
        candidate += timedelta(weeks=1)
    while candidate > last:
        candidate -= timedelta(weeks=1)
    return candidate if first <= candidate <= last else None


class _Index:
    """One network's stop_times for lookups: rows by stop in departure order, trips' routes."""

    def __init__(self, tt: NetworkTimetable) -> None:
        self.tt = tt
        counts = tt.st_end - tt.st_start
        self.row_trip = np.repeat(np.arange(len(tt.st_start)), counts)
        order = np.lexsort((tt.st_departure_s, tt.st_stop))
        self.by_stop = order
        self.stop_ptr = np.searchsorted(tt.st_stop[order], np.arange(len(tt.stop_ids) + 1))
        self.route_names, self.trip_route = np.unique(tt.route_ids.astype(str), return_inverse=True)
        self._active: dict[date, np.ndarray] = {}
        lat = np.radians(tt.stop_lat)
        self._xy = np.stack([np.radians(tt.stop_lon) * np.cos(np.nanmean(lat)), lat], axis=1) * 6_371_000.0

        served = np.bincount(tt.st_stop[tt.st_stop >= 0], minlength=len(tt.stop_ids))
        self.machines = np.argsort(-served, kind="stable")[:3]  # vending machines at the busiest stops

    def machine_for(self, stop: int) -> int:
        d = np.hypot(*(self._xy[self.machines] - self._xy[stop]).T)
        return int(self.machines[int(np.argmin(d))])

    def active(self, day: date) -> np.ndarray | None:
        tday = get_timetable_day(day, self.tt.services_by_date)
        if tday is None:
            return None
        if tday not in self._active:
            self._active[tday] = np.isin(self.tt.service_ids.astype(str), list(self.tt.services_by_date[tday]))
        return self._active[tday]

    def near(self, stop: int) -> np.ndarray:
        d = np.hypot(*(self._xy - self._xy[stop]).T)
        return np.flatnonzero(d <= _NEAR_M)

    def departure(self, stops: np.ndarray, route: int, active: np.ndarray, after_s: int, within_s: int) -> int | None:
        """The first row boarding one of ``stops`` on ``route`` in [after_s, after_s + within_s]."""
        rows = np.concatenate([self.by_stop[self.stop_ptr[s]:self.stop_ptr[s + 1]] for s in stops])
        if not len(rows):
            return None
        dep = self.tt.st_departure_s[rows]
        trips = self.row_trip[rows]
        ok = (dep >= after_s) & (dep <= after_s + within_s) & active[trips] & (self.trip_route[trips] == route)
        ok &= self.tt.st_end[trips] - 1 > rows  # not the last stop of the trip (nobody boards there)
        if not ok.any():
            return None
        candidates = rows[ok]
        return int(candidates[np.argmin(dep[ok])])


@dataclass
class _Plan:
    network_id: str
    route: int
    home: np.ndarray  # stops near home
    work: np.ndarray  # stops near work
    home_stop: int


def _pick_plan(index: _Index, rng: np.random.Generator) -> _Plan | None:
    tt = index.tt
    if not len(tt.st_start):
        return None
    trip = int(rng.integers(len(tt.st_start)))
    start, end = int(tt.st_start[trip]), int(tt.st_end[trip])
    if end - start < 3:
        return None
    i = int(rng.integers(start, end - 2))
    j = int(rng.integers(i + 2, end)) if i + 2 < end else end - 1
    home, work = int(tt.st_stop[i]), int(tt.st_stop[j])
    if home < 0 or work < 0:
        return None
    return _Plan(tt.network_id, int(index.trip_route[trip]), index.near(home), index.near(work), home)


def _network_weights(networks: Sequence[str]) -> np.ndarray:
    population = {a.network_id: a.population for a in URBAN_AREAS}
    coach = {c.network_id for c in COACH_NETWORKS}
    weights = [population.get(n, 40_000 if n in coach else 0) for n in networks]
    array = np.array(weights, dtype=float)
    return array / array.sum() if array.sum() else np.full(len(networks), 1.0 / max(len(networks), 1))


def simulate_usage(networks: Mapping[str, NetworkTimetable], network_authority: Mapping[str, str],
                   days: Sequence[date], *, riders: int = 3000, seed: int = 1,
                   timezone: str = "Europe/Paris") -> Usage:
    """The usage of ``riders`` riders over ``days`` (service days, in order) of the urban and
    coach networks in ``networks`` (the rail network is not ridden: its passes need a distance
    band and an area, left out of this simulation)."""
    rng = np.random.default_rng([seed, 14])
    zone = ZoneInfo(timezone)
    ridden = sorted(n for n in networks if n in network_authority and n in
                    {a.network_id for a in URBAN_AREAS} | {c.network_id for c in COACH_NETWORKS})
    indexes = {n: _Index(networks[n]) for n in ridden}
    weights = _network_weights(ridden)
    days = sorted(days)
    origins = {(n, d): service_day_origin_s(zone, d) for n in ridden for d in days}

    sales_points: dict[str, SalesPoint] = {}
    devices: dict[str, Device] = {}

    def sales_point(network_id: str, channel: str, stop: int | None = None) -> str:
        authority = network_authority[network_id]
        tt = indexes[network_id].tt
        if channel == "vending_machine":
            # machines stand at the network's busiest stops: the one nearest the rider's stop
            label = f"{network_id} distributeur {tt.stop_names[indexes[network_id].machine_for(stop)]}"
        elif channel == "desk":
            label = f"{network_id} agence commerciale"
        elif channel == "web":
            label = f"{network_id} boutique en ligne"
        else:
            label = f"{network_id} appli OùRA"
        key = f"{authority}|{label}"
        sales_points.setdefault(key, SalesPoint(key, authority, channel, label))
        return key

    def device(network_id: str, route_id: str) -> str:
        key = f"{network_id}|{route_id}"
        devices.setdefault(key, Device(key, network_authority[network_id], network_id, f"valideurs {route_id}"))
        return key

    def moment(network_id: str, day: date, seconds: int) -> datetime:
        return datetime.fromtimestamp(origins[(network_id, day)] + int(seconds), zone)

    media: list[Medium] = []
    purchases: list[Purchase] = []
    boardings: list[Boarding] = []
    declarations: list[Declaration] = []
    kinds: dict[int, str] = {}
    first_day = days[0]

    def board(rider: int, ref: str, kind: str, plan: _Plan, day: date, at_s: int, reverse: bool,
              expected: str = "valid") -> Boarding | None:
        index = indexes[plan.network_id]
        active = index.active(day)
        if active is None:
            return None
        row = index.departure(plan.work if reverse else plan.home, plan.route, active, at_s, 5400)
        if row is None:
            return None
        tt = index.tt
        trip = int(index.row_trip[row])
        net = plan.network_id
        route_id = f"{net}:{tt.route_ids[trip]}"
        result = Boarding(moment(net, day, int(tt.st_departure_s[row])), rider, ref, kind, net, route_id,
                          f"{net}:{tt.stop_ids[tt.st_stop[row]]}", f"{net}:{tt.trip_ids[trip]}",
                          int(tt.direction_ids[trip]), device(net, route_id), expected)
        boardings.append(result)
        if expected == "valid" and rng.random() < 0.01:  # a double tap, refused by anti-passback
            boardings.append(Boarding(result.at + timedelta(seconds=int(rng.integers(5, 40))), rider, ref, kind, net,
                                      route_id, result.stop_id, result.trip_id, result.direction_id, result.device_id,
                                      "double_tap"))
        return result

    for rider in range(riders):
        net = ridden[int(rng.choice(len(ridden), p=weights))]
        plan = None
        for _ in range(5):
            plan = _pick_plan(indexes[net], rng)
            if plan is not None:
                break
        if plan is None:
            continue
        authority = network_authority[net]
        roll = rng.random()
        if roll < 0.6:
            kinds[rider] = "commuter"
            kind = "wallet" if rng.random() < 0.25 else "smartcard"
            category = str(rng.choice(["adult", "youth", "senior", "reduced"], p=[0.78, 0.14, 0.04, 0.04]))
            registered = category != "adult" or rng.random() < 0.6
            bought = datetime.combine(first_day - timedelta(days=1), datetime.min.time(), zone) + timedelta(
                hours=float(rng.uniform(17, 21)))
            ref = f"r{rider}-{kind}"
            media.append(Medium(ref, kind, authority, bought - timedelta(minutes=10), category, registered))
            channel = str(rng.choice(["vending_machine", "web", "app", "desk"], p=[0.4, 0.3, 0.2, 0.1]))
            if kind == "wallet" and channel == "vending_machine":
                channel = "app"
            purchases.append(Purchase(bought, rider, sales_point(net, channel, plan.home_stop), channel,
                                      f"{net}:monthly-pass", category, kind, ref))
            morning, evening = rng.normal(7.75 * 3600, 2400), rng.normal(17.5 * 3600, 3000)
            lost_on = days[int(rng.integers(len(days)))] if rng.random() < 0.005 and len(days) > 1 else None
            for day in days:
                if lost_on is not None and day > lost_on:
                    board(-1, ref, kind, plan, day, int(morning), False, "deny_listed")  # someone found it
                    break
                rides = rng.random() < (0.92 if day.weekday() < 5 else 0.1 if day.weekday() == 5 else 0.0)
                if not rides:
                    continue
                jitter = int(rng.normal(0, 600))
                board(rider, ref, kind, plan, day, int(morning) + jitter, False)
                board(rider, ref, kind, plan, day, int(evening) + jitter, True)
                if lost_on == day:
                    declarations.append(Declaration(moment(net, day, 22 * 3600), ref, authority))
        elif roll < 0.985:
            kinds[rider] = "occasional"
            carnet = rng.random() < 0.4
            ref = f"r{rider}-smartcard"
            left = 0
            tickets = 0
            for day in days:
                if rng.random() > 0.25:
                    continue
                out_s = int(rng.uniform(8.5 * 3600, 19 * 3600))
                back_s = out_s + int(rng.uniform(3600, 4 * 3600))
                for at_s, reverse in ((out_s, False), (back_s, True)):
                    index = indexes[net]
                    active = index.active(day)
                    if active is None:
                        continue
                    row = index.departure(plan.work if reverse else plan.home, plan.route, active, at_s, 5400)
                    if row is None:
                        continue
                    dep = int(index.tt.st_departure_s[row])
                    buy_at = moment(net, day, dep - int(rng.integers(60, 600)))
                    stop = int(index.tt.st_stop[row])
                    if carnet:
                        if left <= 0:
                            if tickets == 0:
                                media.append(Medium(ref, "smartcard", network_authority[net],
                                                    buy_at - timedelta(minutes=1)))
                            purchases.append(Purchase(buy_at, rider, sales_point(net, "vending_machine", stop),
                                                      "vending_machine", f"{net}:10-trips", "adult", "smartcard", ref))
                            tickets += 1
                            left = 10
                        left -= 1
                        board(rider, ref, "smartcard", plan, day, dep, reverse)
                    else:
                        paper = f"r{rider}-paper{tickets}"
                        tickets += 1
                        purchases.append(Purchase(buy_at, rider, sales_point(net, "vending_machine", stop),
                                                  "vending_machine", f"{net}:single", "adult", "paper", paper))
                        board(rider, paper, "paper", plan, day, dep, reverse)
        else:
            kinds[rider] = "evader"  # a card with nothing valid on it
            ref = f"r{rider}-smartcard"
            media.append(Medium(ref, "smartcard", authority,
                                datetime.combine(first_day - timedelta(days=2), datetime.min.time(), zone)))
            for day in days:
                if rng.random() < 0.3:
                    board(rider, ref, "smartcard", plan, day, int(rng.uniform(7 * 3600, 19 * 3600)), False,
                          "no_contract")
    boardings.sort(key=lambda b: (b.at, b.device_id))
    purchases.sort(key=lambda p: p.at)
    return Usage(tuple(days), riders, tuple(media), tuple(sales_points.values()), tuple(devices.values()),
                 tuple(purchases), tuple(boardings), tuple(declarations), kinds)
