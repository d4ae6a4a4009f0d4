"""Issue 18, footpaths: the footpath build, old code against new, on the generated region.

    .venv/bin/python bench/planner_footpaths.py [--scales 1 5] [--new-only-scales 10] [--queries 200]
        [--old DIR | --old-ref REF] [--regions DIR] [--kaunas] [--write]

For each scale the region (seed 1, service from 2025-03-03) is generated once (or read from
``--regions``/region-<scale>), then compiled cold, without cache, in a fresh interpreter per code
version: the old one from a git worktree of ``--old-ref`` (default: the commit before issue
18's footpath work) made in a temporary folder, or the checkout ``--old``, the new one from this checkout (``--new-only-scales``: the new one only, where the
old one does not fit in memory). Each child reports the footpath build time (the
compile's ``footpaths`` call, wrapped), the footpath pairs, the compile time, its peak RSS
(ru_maxrss of the child: the whole cold compile) and the depart-at query times over the same
queries (stop ids and times drawn by the first child, read by the second), and each query's
earliest arrival and fewest rides, so the answers lost to the smaller walking model are counted.
--write appends the "## Issue 18: footpaths" section to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_REF = "2d4d6f9^"  # the commit before "footpaths in bounded memory (issue 18, first part)"
KAUNAS = ROOT.parent / "shared" / "data" / "kaunas-2018" / "kaunas.zip"

CHILD = r'''
import gc, json, resource, sys, time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo
root, region, queries_file, n_queries, kind = sys.argv[1:6]
sys.path.insert(0, root)
import numpy as np
import journey_planner.compile.build as build
from journey_planner.compile import FeedSource, load_network
from journey_planner.core import Place, PlanRequest, plan

spent = []
inner = build.footpaths
def timed(*args, **kwargs):
    started = time.perf_counter()
    out = inner(*args, **kwargs)
    spent.append(time.perf_counter() - started)
    return out
build.footpaths = timed
if kind == "kaunas":
    sources = [FeedSource("kaunas", Path(region))]
    day = date(2018, 6, 7)
    tz = ZoneInfo("Europe/Vilnius")
else:
    gtfs = Path(region) / "gtfs"
    sources = [FeedSource(p.stem, p) for p in sorted(gtfs.iterdir()) if p.suffix == ".zip" or p.is_dir()]
    day = date(2025, 3, 4)
    tz = ZoneInfo("Europe/Paris")
started = time.perf_counter()
network = load_network(sources)
compile_s = time.perf_counter() - started
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
tt = network.timetable
ids = [str(s) for s in network.stop_ids]
index = {s: i for i, s in enumerate(ids)}
qpath = Path(queries_file)
if not qpath.exists():
    d = network.find_day(day)
    active = np.flatnonzero(tt.service_days[tt.trip_service, d] == 1)
    patterns = np.unique(tt.trip_pattern[active])
    stops = np.unique(np.concatenate([tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]]
                                      for p in patterns]))
    rng = np.random.default_rng(42)
    t7 = int(datetime(day.year, day.month, day.day, 7, 0, tzinfo=tz).timestamp())
    qs = [(ids[int(a)], ids[int(b)], t7 + 60 * int(rng.integers(0, 12 * 60)))
          for a, b in (rng.choice(stops, 2, replace=False) for _ in range(int(n_queries)))]
    qpath.write_text(json.dumps(qs))
qs = json.loads(qpath.read_text())
plan(tt, PlanRequest(Place.of_stops([index[qs[0][0]]]), Place.of_stops([index[qs[0][1]]]), qs[0][2]))
times, answers = [], []
for a, b, t in qs:
    req = PlanRequest(Place.of_stops([index[a]]), Place.of_stops([index[b]]), t, max_journeys=5)
    gc.disable()
    s = time.perf_counter()
    result = plan(tt, req)
    times.append((time.perf_counter() - s) * 1000)
    gc.enable()
    js = result.journeys
    answers.append([min(j.arrival_s for j in js), min(j.transfers for j in js)] if js else None)
print(json.dumps({
    "stops": int(tt.stop_count), "footpaths": int(tt.footpath_to.size), "footpath_s": sum(spent),
    "compile_s": compile_s, "peak_mib": peak_mib, "query_ms": times, "answers": answers,
}))
'''


def child(root: Path, region: Path, queries: Path, n: int, kind: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(root), str(region), str(queries), str(n), kind],
                         capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode:
        raise SystemExit(f"child failed ({root}, {region}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def region_of(scale: float, regions: Path) -> Path:
    folder = regions / f"region-{scale:g}"
    if not (folder / "gtfs").exists():
        sys.path.insert(0, str(ROOT))
        from datetime import date

        from oura.demo.generate import generate_region

        generate_region(folder, seed=1, scale=scale, start_date=date(2025, 3, 3), fmt="zip")
    return folder


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def compare(old: dict, new: dict) -> dict:
    same = later = fewer_rides_lost = lost = 0
    later_s = []
    for a, b in zip(old["answers"], new["answers"]):
        if a is None:
            continue
        if b is None:
            lost += 1
        elif b[0] == a[0]:
            same += 1
            fewer_rides_lost += b[1] > a[1]
        else:
            later += b[0] > a[0]
            later_s.append(b[0] - a[0])
    return {"answered": sum(a is not None for a in old["answers"]), "same_arrival": same, "later": later,
            "later_s": later_s, "more_rides": fewer_rides_lost, "lost": lost}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--new-only-scales", type=float, nargs="*", default=[])
    parser.add_argument("--old", type=Path, help="checkout of the old code (default: a worktree of --old-ref)")
    parser.add_argument("--old-ref", default=OLD_REF)
    parser.add_argument("--regions", type=Path, help="folder of region-<scale> (generated when missing)")
    parser.add_argument("--kaunas", action="store_true", help="also the kaunas feed of ../shared/data")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_root = args.old
        if old_root is None:
            old_root = Path(tmp) / "old"
            subprocess.run(["git", "worktree", "add", "--detach", str(old_root), args.old_ref], cwd=ROOT, check=True,
                           capture_output=True)
        regions = args.regions or Path(tmp)
        rows = []
        cases = [(f"scale {s:g}", region_of(s, regions), "region", True) for s in args.scales]
        if args.kaunas:
            cases.append(("kaunas", KAUNAS, "kaunas", True))
        cases += [(f"scale {s:g}", region_of(s, regions), "region", False) for s in args.new_only_scales]
        for name, region, kind, with_old in cases:
            queries = Path(tmp) / f"queries-{name.replace(' ', '-')}.json"
            old = child(old_root, region, queries, args.queries, kind) if with_old else None
            new = child(ROOT, region, queries, args.queries, kind)
            rows.append((name, old, new, compare(old, new) if old else None))
            print(name, *(json.dumps({k: v for k, v in x.items() if k not in ("query_ms", "answers")})
                          for x in (old, new) if x), json.dumps(rows[-1][3]), flush=True)
        if args.old is None:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_root)], cwd=ROOT, capture_output=True)
    lines = [
        "| | stops | footpath pairs old / new | footpath build old / new | cold compile old / new | "
        "peak RSS old / new | query median old / new | p90 old / new | same earliest arrival | later | lost |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, old, new, cmp in rows:
        if old is None:
            lines.append(
                f"| {name} | {new['stops']:,} | — / {new['footpaths']:,} | — / {new['footpath_s']:.1f} s | "
                f"— / {new['compile_s']:.1f} s | — / {new['peak_mib'] / 1024:.2f} GiB | "
                f"— / {pct(new['query_ms'], 50):.1f} ms | — / {pct(new['query_ms'], 90):.1f} ms | — | — | — |"
            )
            continue
        later = (f"{cmp['later']} (median +{pct(cmp['later_s'], 50) / 60:.0f} min)" if cmp["later"] else "0")
        lines.append(
            f"| {name} | {new['stops']:,} | {old['footpaths']:,} / {new['footpaths']:,} | "
            f"{old['footpath_s']:.1f} / {new['footpath_s']:.1f} s | {old['compile_s']:.1f} / {new['compile_s']:.1f} s | "
            f"{old['peak_mib'] / 1024:.2f} / {new['peak_mib'] / 1024:.2f} GiB | "
            f"{pct(old['query_ms'], 50):.1f} / {pct(new['query_ms'], 50):.1f} ms | "
            f"{pct(old['query_ms'], 90):.1f} / {pct(new['query_ms'], 90):.1f} ms | "
            f"{cmp['same_arrival']} / {cmp['answered']} ({cmp['more_rides']} with more rides) | {later} | {cmp['lost']} |"
        )
    print("\n".join(lines))
    if args.write:
        text = (ROOT / "docs" / "benchmarks.md").read_text()
        section = "\n## Issue 18: footpaths\n\n" + "\n".join(lines) + "\n"
        (ROOT / "docs" / "benchmarks.md").write_text(text.rstrip("\n") + "\n" + section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
