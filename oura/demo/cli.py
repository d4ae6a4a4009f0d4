"""``oura demo``: generate the demo region and serve its live feeds.

`register(subparsers)` adds the command to the main ``oura`` parser; ``python -m oura.demo`` runs
the same parser on its own. This is an edge: it reads the
system clock (through `oura.clock.SystemClock`) and hands dates and clocks to the pure cores.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from oura.clock import SystemClock
from oura.commands import add_command

__all__ = ["register", "main"]

_GENERATE_EXAMPLES = """oura demo generate --out var/demo                    # the default region, zipped feeds
oura demo generate --out /tmp/big --scale 10 --format dir --workers 2
oura demo generate --out var/demo --start-date 2025-03-03 --seed 7"""
_REALTIME_EXAMPLES = """oura demo realtime --registry var/demo/registry.toml             # http://127.0.0.1:8090
curl -s http://127.0.0.1:8090/rt/tcl/trip-updates.pb | wc -c"""


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from error


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _cmd_generate(args: argparse.Namespace, config: object = None) -> int:
    from oura.demo.generate import generate_region

    today = args.start_date or SystemClock().now().astimezone(ZoneInfo("Europe/Paris")).date()
    base_url = None if args.no_realtime else f"http://{args.realtime_host}:{args.realtime_port}"
    summary = generate_region(args.out, seed=args.seed, scale=args.scale, start_date=today, fmt=args.format,
                              days=args.days, realtime_base_url=base_url, workers=args.workers)
    print(f"demo region written to {summary.out_dir} in {summary.elapsed_s:.1f} s "
          f"(seed {summary.seed}, scale {summary.scale:g}, service {summary.service_start} to {summary.service_end})")
    print(f"  {len(summary.feeds)} feeds, {summary.stops:,} stops, {summary.trips:,} trips, "
          f"{summary.stop_times:,} stop_times ({summary.stop_times_weekday:,} on a school weekday)")
    print(f"  registry: {summary.registry}")
    return 0


def _cmd_realtime(args: argparse.Namespace, config: object = None) -> int:
    from oura.demo.realtime import serve_realtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    clock = SystemClock()
    print(f"serving {args.registry} on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    try:
        asyncio.run(serve_realtime(args.registry, host=args.host, port=args.port, seed=args.seed,
                                   clock=clock.now, step_s=args.step))
    except KeyboardInterrupt:
        return 130
    return 0


def register(subparsers: argparse._SubParsersAction, extra_actions=None) -> None:  # noqa: SLF001
    """Add ``demo generate`` and ``demo realtime`` to the ``oura`` command line; ``extra_actions``
    (the assembly's) adds more under ``demo`` (``simulate-usage``, `oura.usage.register`)."""
    demo = add_command(subparsers, "demo", "Generate the demo region and serve its live feeds",
                       _GENERATE_EXAMPLES + "\n" + _REALTIME_EXAMPLES)
    actions = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)

    generate = add_command(actions, "generate", "Write the demo region: GTFS + Fares v2 feeds, registry, regional fares",
                           _GENERATE_EXAMPLES)
    generate.add_argument("--out", required=True, type=Path, help="output folder (created if needed)")
    generate.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    generate.add_argument("--scale", type=_positive_float, default=1.0,
                          help="multiplies lines and trips; 10 gives a country-sized input (default 1)")
    generate.add_argument("--start-date", type=_parse_date, default=None,
                          help="'today' for the calendar: service starts the Monday of its week "
                               "(default: today in Europe/Paris)")
    generate.add_argument("--days", type=int, default=90, help="length of the service window (default 90)")
    generate.add_argument("--format", choices=("zip", "dir"), default="zip", help="one zip or folder per feed")
    generate.add_argument("--workers", type=int, default=1, help="processes writing feeds in parallel (default 1)")
    generate.add_argument("--realtime-host", default="127.0.0.1", help="host written in realtime URLs")
    generate.add_argument("--realtime-port", type=int, default=8090, help="port written in realtime URLs")
    generate.add_argument("--no-realtime", action="store_true", help="write no realtime URLs in the registry")
    generate.set_defaults(func=_cmd_generate)

    realtime = add_command(actions, "realtime", "Serve static feeds and live GTFS-realtime for a demo registry",
                           _REALTIME_EXAMPLES)
    realtime.add_argument("--registry", required=True, type=Path, help="registry.toml written by `demo generate`")
    realtime.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    realtime.add_argument("--port", type=int, default=8090, help="port to listen on (default 8090)")
    realtime.add_argument("--seed", type=int, default=1, help="seed of the simulated disruptions (default 1)")
    realtime.add_argument("--step", type=int, default=30, help="seconds between realtime updates (default 30)")
    realtime.set_defaults(func=_cmd_realtime)
    if extra_actions is not None:
        extra_actions(actions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oura.demo")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(["demo", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args, None) or 0)
