"""Benchmark: generating the demo region at the default scale and at scale 10.

    .venv/bin/python bench/demo_generate.py [--scales 1 10] [--workers 1] [--keep DIR] [--no-write-docs]

Each generation runs in a fresh child process (so its peak RSS is its own) into a temporary folder
that is deleted afterwards (unless --keep). Reported: wall time of `generate_region`, the child's
peak RSS, and the sizes the issue sets targets for: the default region needs >= 25,000 stops and
>= 1,000,000 stop_times on a weekday in under 60 s; scale 10 needs >= 100,000 stops and >= 10
million stop_times with memory staying flat (stop_times are streamed to disk, so the peak grows
with the number of stops and lines, not with the number of stop_times).

The results replace the "Demo region" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"
TODAY = date(2025, 3, 5)
SECTION = "## Demo region"


def _child(scale: float, out: Path, workers: int, fmt: str) -> None:
    from oura.demo.generate import generate_region

    started = time.perf_counter()
    summary = generate_region(out, seed=1, scale=scale, start_date=TODAY, fmt=fmt, workers=workers)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(json.dumps({
        "scale": scale, "workers": workers, "format": fmt, "elapsed_s": round(elapsed, 1),
        "peak_mb": round(max(peak_mb, worker_peak_mb)), "feeds": len(summary.feeds), "stops": summary.stops,
        "trips": summary.trips, "stop_times": summary.stop_times, "stop_times_weekday": summary.stop_times_weekday,
        "size_mb": round(size / 2**20), "largest": max(summary.feeds, key=lambda f: f.stop_times).network_id,
        "largest_stop_times": max(f.stop_times for f in summary.feeds),
    }))


def _run(scale: float, workers: int, fmt: str, keep: Path | None) -> dict:
    out = keep / f"scale-{scale:g}" if keep else Path(tempfile.mkdtemp(prefix=f"oura-demo-{scale:g}-"))
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--child", "--scale", str(scale), "--out", str(out), "--workers", str(workers),
             "--format", fmt],
            check=True, capture_output=True, text=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        if keep is None:
            shutil.rmtree(out, ignore_errors=True)


def _section(results: list[dict]) -> str:
    lines = [
        SECTION,
        "",
        "`.venv/bin/python bench/demo_generate.py` (seed 1, service window from 2025-03-03, zipped feeds,",
        "one process; each run in a fresh child process). Targets: default region >= 25,000 stops and",
        ">= 1,000,000 stop_times on a weekday in < 60 s; scale 10 >= 100,000 stops and >= 10 M stop_times",
        "with flat memory (stop_times are streamed to disk route by route).",
        "",
        "| scale | wall time | peak RSS | feeds | stops | trips | stop_times | on a school weekday | output |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scale']:g} | {r['elapsed_s']:.1f} s | {r['peak_mb']} MB | {r['feeds']} | {r['stops']:,} | "
            f"{r['trips']:,} | {r['stop_times']:,} | {r['stop_times_weekday']:,} | {r['size_mb']} MB |"
        )
    lines += [
        "",
        "The largest feed is " + ", ".join(f"`{r['largest']}` ({r['largest_stop_times']:,} stop_times at scale "
                                          f"{r['scale']:g})" for r in results) + ".",
        "Peak memory grows with the number of stops and lines held per feed (route plans, shapes), not",
        "with stop_times: stop_times grow about " + (
            f"{results[-1]['stop_times'] / results[0]['stop_times']:.1f}x between the first and last rows while peak RSS "
            f"grows {results[-1]['peak_mb'] / max(results[0]['peak_mb'], 1):.1f}x." if len(results) > 1 else "linearly."),
        "",
    ]
    return "\n".join(lines)


def _write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        rest = text[start + len(SECTION):]
        end = rest.find("\n## ")
        text = text[:start] + section + ("" if end < 0 else rest[end + 1:])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--format", choices=("zip", "dir"), default="zip")
    parser.add_argument("--keep", type=Path, help="write into this folder and keep the output")
    parser.add_argument("--no-write-docs", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.scale, args.out, args.workers, args.format)
        return
    results = []
    for scale in args.scales:
        result = _run(scale, args.workers, args.format, args.keep)
        print(json.dumps(result), flush=True)
        results.append(result)
    section = _section(results)
    print(section)
    if not args.no_write_docs:
        _write_docs(section)


if __name__ == "__main__":
    main()
