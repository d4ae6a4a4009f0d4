"""Benchmark: the traveller site in headless Chromium on the demo region (issue 17).

    .venv/bin/python bench/site.py [--url http://127.0.0.1:8080] [--searches 20]

Without ``--url`` it serves the demo region itself (``oura serve`` in a temporary data folder,
no simulated usage) and waits until it is ready. Then, in Debian's Chromium driven by
Playwright: the first load's compressed weight (every byte on the wire until the basemap is
drawn: page, bundle, settings, basemap), and ``--searches`` searches between pairs of real stops,
each timed from the submit click to the itinerary list rendered (the page's own
``performance.now()`` around fetch + render, read from ``window.__ouraTimings``), and printed as
p50 / p95 / max. Target (issue 17): <= 400 kB and <= 1.5 s, on loopback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAIRS = [("Bellecour", "Part-Dieu"), ("Perrache", "Grenoble"), ("Part-Dieu", "Chambéry"), ("Valence", "Lyon"),
         ("Saint-Étienne", "Part-Dieu"), ("Grenoble", "Annecy"), ("Clermont", "Lyon"), ("Villeurbanne", "Vénissieux")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as answer:
            return b'"status":"ready"' in answer.read()
    except OSError:
        return False


def _serve(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "OURA_DATA_DIR": str(data_dir), "OURA_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "oura"), "serve", "--port", str(port), "--no-usage"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while not _ready(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the demo region never got ready")
        time.sleep(2)
    return process, url


def _pick(page, field: str, typed: str) -> bool:
    page.fill(f"#{field}", typed)
    try:
        page.locator(f"#{field}-options li[role=option]").first.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 - no stop of that name in this region
        return False
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    return True


def measure(url: str, searches: int) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/")
        page.wait_for_function("document.querySelector('#map')?.dataset.basemap === 'ready'", timeout=60_000)
        weight = page.evaluate("""() => performance.getEntriesByType('navigation').concat(
            performance.getEntriesByType('resource')).reduce((s, e) => s + (e.transferSize || 0), 0)""")
        times, found = [], []
        for i in range(searches):
            origin, destination = PAIRS[i % len(PAIRS)]
            if not (_pick(page, "from", origin) and _pick(page, "to", destination)):
                continue
            page.fill("#when", "2026-12-08T08:00" if i % 2 else "2026-12-08T17:30")
            page.evaluate("window.__ouraTimings = {}")
            page.click("#submit")
            page.wait_for_function("window.__ouraTimings && window.__ouraTimings.listRenderedMs !== undefined",
                                   timeout=60_000)
            times.append(page.evaluate("window.__ouraTimings.listRenderedMs"))
            found.append(page.locator("button.itinerary").count())
        browser.close()
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"chromium {chromium}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"first load: {weight / 1024:.0f} kB compressed (target <= 400 kB)")
    print(f"submit -> itinerary list, {len(times)} searches: p50 {times[len(times) // 2]:.0f} ms, "
          f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms (target <= 1500 ms); itineraries per search "
          f"{min(found)}-{max(found)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running OùRA (default: serve the demo region here)")
    parser.add_argument("--searches", type=int, default=20)
    args = parser.parse_args()
    if args.url:
        measure(args.url.rstrip("/"), args.searches)
        return
    with tempfile.TemporaryDirectory(prefix="oura-site-bench-") as folder:
        process, url = _serve(Path(folder))
        try:
            measure(url, args.searches)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
