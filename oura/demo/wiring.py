"""`oura serve` without a registry: generate the demo region once and publish its live feeds.

The region is regenerated when its 90-day service window no longer covers the coming weeks, so a
`make run` months later still shows today's services. The realtime simulator runs inside the
serving process, on the port the generated registry points at (8090 by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from ..clock import Clock, SystemClock
from .generate import DEFAULT_REALTIME_BASE_URL, generate_region
from .realtime import serve_realtime

__all__ = ["ensure_demo_region", "demo_realtime_context"]

log = logging.getLogger(__name__)
_MARKER = ".oura-demo.json"
_WINDOW_DAYS = 90
_MIN_AHEAD_DAYS = 30


def ensure_demo_region(out_dir: Path, *, clock: Clock | None = None, seed: int = 1) -> Path:
    """The registry of the demo region in ``out_dir``, generated first when absent or outdated."""
    today = (clock or SystemClock()).now().date()
    registry = out_dir / "registry.toml"
    marker = out_dir / _MARKER
    if registry.exists() and marker.exists():
        try:
            made = json.loads(marker.read_text())
            start = date.fromisoformat(made["start_date"])
            if made.get("seed") == seed and start <= today <= start + timedelta(days=_WINDOW_DAYS - _MIN_AHEAD_DAYS):
                return registry
        except (ValueError, KeyError, TypeError):
            pass
    log.info("generating the demo region in %s (takes about 20 s)", out_dir)
    print(f"Generating the demo region in {out_dir} (once; about 20 s)...", flush=True)
    generate_region(out_dir, seed=seed, start_date=today, days=_WINDOW_DAYS, workers=2)
    marker.write_text(json.dumps({"start_date": today.isoformat(), "seed": seed}))
    return registry


def demo_realtime_context(
    registry: Path, *, seed: int = 1, clock: Clock | None = None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the demo GTFS-realtime publisher beside the API."""
    source = clock or SystemClock()
    base = urlsplit(DEFAULT_REALTIME_BASE_URL)

    async def context(app: web.Application) -> AsyncIterator[None]:
        ready = asyncio.Event()
        task = asyncio.create_task(
            serve_realtime(registry, host=base.hostname or "127.0.0.1", port=base.port or 8090,
                           seed=seed, clock=source.now, ready=ready)
        )
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            log.error("demo realtime publisher could not start: %s", task.exception())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    return context
