"""Benchmark: decode + resolve 1,000 GTFS-realtime trip updates built from a real feed.

The planner issue budgets "applying a realtime feed of 1,000 trip updates <= 1 s"; this measures
the feeds side of it (protobuf bytes -> ResolvedTripUpdate values), not the planner's apply.

    .venv/bin/python bench/realtime.py [--feed hart-tampa-2021/hart.zip] [--updates 1000] [--runs 7]

The payload mixes the two shapes publishers send: half the updates carry absolute times for
every remaining stop (like Caltrain), half carry one delay that propagates downstream.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from google.transit import gtfs_realtime_pb2 as pb  # noqa: E402

from feeds.gtfs.reader import read_gtfs  # noqa: E402
from feeds.realtime.decode import decode_feed_message  # noqa: E402
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def build_payload(index: StaticTripIndex, count: int, seed: int = 7) -> tuple[bytes, int, str]:
    """A FULL_DATASET TripUpdates payload for ``count`` trips running on one service day."""
    rng = random.Random(seed)
    # The busiest day of the first weeks covered by the calendar.
    services = {s for s in index.trip_service_ids}
    service_days = index.service_days
    day = dt.date.fromordinal(service_days.first_ordinal) if service_days.day_count else dt.date(2024, 1, 1)
    best_date, best_trips = None, []
    for offset in range(14):
        date = (day + dt.timedelta(days=offset)).strftime("%Y%m%d")
        active = {s for s in services if index.is_service_active(s, date)}
        trips = [t for t, s in enumerate(index.trip_service_ids) if s in active and t not in index.frequencies]
        if len(trips) > len(best_trips):
            best_date, best_trips = date, trips
    if len(best_trips) < count:
        raise SystemExit(f"only {len(best_trips)} trips run on {best_date}; ask for fewer updates")
    chosen = rng.sample(best_trips, count)
    base = index.get_service_day_start(best_date)
    message = pb.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = pb.FeedHeader.FULL_DATASET
    header_s = base + 12 * 3600
    message.header.timestamp = header_s
    stop_time_updates = 0
    for n, trip in enumerate(chosen):
        stop_ids, sequences, arrivals, departures = index.list_trip_stop_times(trip)
        entity = message.entity.add()
        entity.id = f"tu-{n}"
        update = entity.trip_update
        update.trip.trip_id = index.trip_ids[trip]
        update.trip.start_date = best_date
        update.timestamp = header_s
        first = rng.randrange(0, max(1, len(stop_ids) - 1))
        delay = rng.randrange(-60, 600)
        if n % 2 == 0:  # absolute times for every remaining stop
            for i in range(first, len(stop_ids)):
                stu = update.stop_time_update.add()
                stu.stop_sequence = sequences[i]
                stu.stop_id = stop_ids[i]
                stu.arrival.time = base + arrivals[i] + delay
                stu.departure.time = base + departures[i] + delay
                stop_time_updates += 1
        else:  # one delay, propagated downstream by the resolver
            stu = update.stop_time_update.add()
            stu.stop_sequence = sequences[first]
            stu.arrival.delay = delay
            stop_time_updates += 1
    return message.SerializeToString(), stop_time_updates, best_date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feed", default="hart-tampa-2021/hart.zip", help="static feed under ../shared/data")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    tables = read_gtfs(
        SHARED / args.feed,
        only=["agency", "trips", "stop_times", "stops", "routes", "calendar", "calendar_dates", "frequencies"],
    )
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    index = StaticTripIndex.from_gtfs("bench", tables)
    index_s = time.perf_counter() - started
    payload, stus, date = build_payload(index, args.updates)

    decode_times, resolve_times = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        message = decode_feed_message(payload, feed_id="bench")
        t1 = time.perf_counter()
        resolved, errors = resolve_trip_updates(message, index)
        t2 = time.perf_counter()
        decode_times.append(t1 - t0)
        resolve_times.append(t2 - t1)
    assert not errors, errors[:3]
    assert len(resolved) == args.updates
    resolved_stops = sum(len(u.stop_time_updates) for u in resolved)
    decode_ms = statistics.median(decode_times) * 1000
    resolve_ms = statistics.median(resolve_times) * 1000
    print(f"feed {args.feed}: {len(index.trip_ids)} trips, {len(index.stop_time_stop_ids)} stop_times")
    print(f"read_gtfs {read_s * 1000:.0f} ms, StaticTripIndex.from_gtfs {index_s * 1000:.0f} ms (once per static import)")
    print(f"payload {len(payload)} bytes: {args.updates} trip updates, {stus} stop_time_updates, service day {date}")
    print(f"resolved {resolved_stops} stop times (after propagation)")
    print(f"median of {args.runs} runs: decode {decode_ms:.0f} ms + resolve {resolve_ms:.0f} ms = {decode_ms + resolve_ms:.0f} ms")


if __name__ == "__main__":
    main()
