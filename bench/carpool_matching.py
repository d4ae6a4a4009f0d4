"""Carpool matching of a morning (issue 16: "on 1,000 requests and 300 offers, the model serves at
least as many passengers as a greedy nearest-driver baseline in the same run, within the detour
limits, in <= 10 s").

    .venv/bin/python bench/carpool_matching.py [--requests 1000] [--offers 300] [--seed 1]
                                              [--time-limit 7] [--workers 2] [--dense]

A generated weekday morning in Ardèche and Drôme (the demo region's coach towns and the rail
stations of the Rhône valley and the Drôme line, at their real coordinates from
`oura.demo.region`): commuters live in villages 1-10 km around the towns and go to a station (to
take the TER) or to a town with jobs, the nearer the likelier; drivers live and go the same way.
Earliest departures around 07:30 (sd 35 min, 06:00-09:00), waiting limits 5/10/15 min, half the
passengers with a latest arrival (their train: direct ride + 20-40 min), 1 seat (90 %) or 2;
drivers leave 06:00-09:00 with 1-3 seats and the default 15 min detour budget. Travel time is the
default straight-line estimate (haversine x 1.3 at 50 km/h).

Runs the greedy baseline alone, then `match` (which starts from the same greedy), checks every
route of both with `verify_routes`, and prints served counts, solve times, the largest detour used
against its budget, the unserved reasons and the load average. ``--dense`` puts everyone on the
roads towards Valence (six home towns, one destination): many more routes per driver.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from journey_planner.carpool.matching import (  # noqa: E402
    DriverOffer,
    PassengerRequest,
    match,
    match_greedy,
    straight_line_travel_time,
    verify_routes,
)
from oura.demo.region import COACH_NETWORKS, STATIONS  # noqa: E402

MORNING = datetime(2025, 3, 4, 7, 30, tzinfo=ZoneInfo("Europe/Paris"))
_STATION_KEYS = ("valence", "montelimar", "romans", "tain", "saint-rambert", "livron", "pierrelatte", "crest", "die")
_JOB_TOWNS = ("valence", "montelimar", "romans", "privas", "aubenas", "annonay", "crest", "tournon")
_KM_PER_DEG = 111.2


def places():
    """(homes, destinations): (name, lat, lon, weight) of the towns people live around, and of the
    stations and job towns they go to."""
    towns = {}
    for network in COACH_NETWORKS:
        if network.key in ("ardeche", "drome"):
            for town in network.towns:
                towns.setdefault(town.key, town)
    homes = [(t.key, t.lat, t.lon, 1.0) for t in towns.values()]
    destinations = [(f"station:{k}", STATIONS[k].lat, STATIONS[k].lon, 1.0) for k in _STATION_KEYS]
    destinations += [(f"town:{k}", towns[k].lat, towns[k].lon, 1.5 if k in ("valence", "montelimar") else 1.0)
                     for k in _JOB_TOWNS]
    return homes, destinations


def _trip_ends(rng, homes, destinations, n):
    """``n`` (origin, destination) point pairs: a village near a home town, a destination drawn
    with weight / (distance + 5 km)^2 (commutes are short), never the home town itself."""
    home = np.array([(lat, lon) for _, lat, lon, _ in homes])
    dest = np.array([(lat, lon) for _, lat, lon, _ in destinations])
    dest_w = np.array([w for *_, w in destinations])
    which = rng.integers(0, len(home), n)
    bearing = rng.uniform(0, 2 * np.pi, n)
    radius_km = rng.uniform(1, 10, n)
    lat = home[which, 0] + radius_km * np.cos(bearing) / _KM_PER_DEG
    lon = home[which, 1] + radius_km * np.sin(bearing) / (_KM_PER_DEG * np.cos(np.radians(home[which, 0])))
    origins = np.stack([lat, lon], axis=1)
    km = np.hypot((origins[:, None, 0] - dest[None, :, 0]) * _KM_PER_DEG,
                  (origins[:, None, 1] - dest[None, :, 1]) * _KM_PER_DEG * np.cos(np.radians(44.8)))
    weight = dest_w[None, :] / (km + 5.0) ** 2
    weight[km < 3.0] = 0.0  # not a carpool trip
    weight /= weight.sum(axis=1, keepdims=True)
    chosen = np.array([rng.choice(len(dest), p=w) for w in weight])
    # a little spread at the destination (a station forecourt, a business park)
    ends = dest[chosen] + rng.normal(0, 0.004, (n, 2))
    return origins, ends


def _morning_times(rng, n):
    base = int(MORNING.timestamp())
    minutes = np.clip(rng.normal(0, 35, n), -90, 90)
    return base + np.rint(minutes * 60).astype(np.int64)


_DENSE_HOMES = ("romans", "tournon", "loriol", "crest", "saint-vallier", "lamastre")


def generate(n_requests: int, n_offers: int, seed: int, dense: bool = False):
    """The batch; ``dense``: everyone lives around six towns north of Valence and goes to Valence
    (station or town), a stress case for the enumeration of routes (~24,000 columns)."""
    rng = np.random.default_rng(seed)
    homes, destinations = places()
    if dense:
        homes = [h for h in homes if h[0] in _DENSE_HOMES]
        destinations = [d for d in destinations if d[0] in ("station:valence", "town:valence")]
    travel = straight_line_travel_time()
    o, d = _trip_ends(rng, homes, destinations, n_requests)
    ready = _morning_times(rng, n_requests)
    waiting = rng.choice([300, 600, 900], n_requests, p=[0.25, 0.5, 0.25])
    ride = travel(o[:, 0], o[:, 1], d[:, 0], d[:, 1])
    has_latest = rng.random(n_requests) < 0.5
    latest = ready + np.rint(ride).astype(np.int64) + rng.integers(20, 41, n_requests) * 60
    seats = np.where(rng.random(n_requests) < 0.9, 1, 2)
    requests = [PassengerRequest(f"req-{i:04d}", float(o[i, 0]), float(o[i, 1]), float(d[i, 0]), float(d[i, 1]),
                                 int(ready[i]), int(waiting[i]), int(latest[i]) if has_latest[i] else None,
                                 int(seats[i]))
                for i in range(n_requests)]
    o, d = _trip_ends(rng, homes, destinations, n_offers)
    departure = _morning_times(rng, n_offers) - 10 * 60  # drivers leave a little before their passengers' peak
    capacity = rng.choice([1, 2, 3], n_offers, p=[0.2, 0.4, 0.4])
    offers = [DriverOffer(f"off-{i:03d}", float(o[i, 0]), float(o[i, 1]), float(d[i, 0]), float(d[i, 1]),
                          int(departure[i]), int(capacity[i]))
              for i in range(n_offers)]
    return requests, offers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--offers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=7.0, help="match's wall-time limit, s (default 7)")
    parser.add_argument("--dense", action="store_true", help="the stress case: everyone towards Valence")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    args = parser.parse_args()

    requests, offers = generate(args.requests, args.offers, args.seed, args.dense)
    print(f"batch: {len(requests)} requests ({sum(r.seats for r in requests)} passengers), {len(offers)} offers "
          f"({sum(o.seats for o in offers)} seats), seed {args.seed}; load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    t = time.perf_counter()
    greedy = match_greedy(requests, offers)
    greedy_wall = time.perf_counter() - t
    t = time.perf_counter()
    model = match(requests, offers, time_limit_s=args.time_limit, seed=args.seed, workers=args.workers)
    model_wall = time.perf_counter() - t
    load = os.getloadavg()

    for result, wall in ((greedy, greedy_wall), (model, model_wall)):
        problems = verify_routes(result.routes, requests, offers)
        worst = max(result.routes, key=lambda r: r.detour_s, default=None)
        over = sum(r.detour_s > r.detour_budget_s for r in result.routes)
        print(f"{result.method:>6}: {result.served_passengers} passengers ({result.served_requests} requests) in "
              f"{len(result.routes)} cars, {wall:.2f} s wall, status {result.status}; "
              f"max detour {worst.detour_s if worst else 0} s (budget {worst.detour_budget_s if worst else '-'} s), "
              f"{over} over budget; verify_routes: {len(problems)} problems")
        for problem in problems[:5]:
            print("    ", problem)
    print(f" model: baseline inside the same call {model.baseline_passengers} passengers; "
          + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in model.stats.items()))
    print(" unserved (model):", dict(Counter(u.reason.value for u in model.unserved).most_common()))
    ok = model.served_passengers >= greedy.served_passengers and model_wall <= 10.0
    print(f"acceptance: model {model.served_passengers} >= greedy {greedy.served_passengers} passengers, "
          f"{model_wall:.2f} s <= 10 s: {'yes' if ok else 'NO'}; load average after "
          f"{' '.join(f'{x:.2f}' for x in load)} (2 cores)")


if __name__ == "__main__":
    main()
