"""End-to-end `GET /v1/journeys` latency against a running `oura serve` (e.g. `make run`).

What a traveller's app sees: HTTP, planning on the current realtime snapshot, mapping (names,
ISO times, GeoJSON) and pricing by the fare engine, while the realtime pollers keep publishing new
snapshots. Random pairs among the stops near Lyon and Grenoble centres (so many trips cross
three networks); bounded number of requests, loopback only.

    .venv/bin/python bench/service_journeys.py [--base http://127.0.0.1:8080] [--requests 80]
"""

from __future__ import annotations

import argparse
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--datetime", default="2026-12-01T08:30:00+01:00")
    args = parser.parse_args()
    ids: list[str] = []
    for near in ("45.76,4.84", "45.19,5.72"):
        with urllib.request.urlopen(f"{args.base}/v1/stops?near={near}&limit=100") as response:
            ids += [s["id"] for s in json.load(response)["stops"]]
    rng = random.Random(args.seed)
    times_ms: list[float] = []
    priced = journeys = 0
    for _ in range(args.requests):
        a, b = rng.sample(ids, 2)
        query = urllib.parse.urlencode({"from": a, "to": b, "datetime": args.datetime, "num": 5})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{args.base}/v1/journeys?{query}") as response:
                body = json.load(response)
        except urllib.error.HTTPError:
            continue
        times_ms.append((time.perf_counter() - started) * 1000)
        journeys += len(body["journeys"])
        priced += sum(1 for j in body["journeys"] if j["fare"])
    times_ms.sort()
    n = len(times_ms)
    print(f"{n} requests answered: median {times_ms[n // 2]:.1f} ms, p95 {times_ms[int(n * 0.95)]:.1f} ms, "
          f"max {times_ms[-1]:.1f} ms; {journeys} itineraries, {priced} priced")


if __name__ == "__main__":
    main()
