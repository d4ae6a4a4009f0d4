"""Pages of the statistics tables (limit, offset, order, totals), the CSV export, and the cache of
charts, tables and the monthly report (identical bytes, ETag, If-None-Match -> 304), with an
authority still reading only its own networks through every one of these paths.

Released rows are written straight into stat_releases / stat_cells: 250 stops of tcl (sytral)
on 2026-03-02 (every seventh suppressed), 3 stops of tag (grenoble), and the month with the same
cells, so the report has something to draw.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
from datetime import date

import pytest

from tests.ticketing.statistics.released import add_cells, add_release
from ticketing.statistics import reports
from ticketing.statistics.cache import StatisticsCache, cache_of

DAY = date(2026, 3, 2)
STOPS = 250


def _count(i: int) -> int | None:
    return None if i % 7 == 3 else 10 + (i * 37) % 200  # repeated counts: ties are ordered by key


async def released(pool) -> None:
    for period_kind, start in (("day", DAY), ("month", date(2026, 3, 1))):
        v = await add_release(pool, "validations", period_kind, start)
        await add_cells(pool, v, "stop", "tcl", {**{(f"tcl:S{i:03d}", ""): _count(i) for i in range(STOPS)},
                                                 ("*", ""): None}, authorities=["sytral"])
        await add_cells(pool, v, "route_hour", "tcl", {("tcl:C3", "08"): 40, ("tcl:C3", "*"): 40, ("*", "08"): 40,
                                                      ("*", "*"): 40}, authorities=["sytral"])
        await add_cells(pool, v, "stop", "tag", {("tag:X", ""): 30, ("tag:Y", ""): 12, ("tag:Z", ""): None,
                                                 ("*", ""): None}, authorities=["grenoble"])
        await add_cells(pool, v, "route_hour", "tag", {("tag:A", "07"): 30, ("tag:A", "*"): 30, ("*", "07"): 30,
                                                      ("*", "*"): 30}, authorities=["grenoble"])
        o = await add_release(pool, "od", period_kind, start)
        await add_cells(pool, o, "od", "tcl", {("tcl:S001", "tcl:S002"): 30, ("tcl:S001", "*"): 30, ("*", "tcl:S002"): 30,
                                              ("*", "*"): 30}, authorities=["sytral"])
        await add_cells(pool, o, "od", "tag", {("tag:X", "tag:Y"): 22, ("tag:X", "*"): 22, ("*", "tag:Y"): 22,
                                              ("*", "*"): 22}, authorities=["grenoble"])


@pytest.fixture
async def h(make_harness):
    harness = await make_harness()
    await released(harness.service.pool)
    harness.sytral = await harness.key("authority", "sytral")
    harness.grenoble = await harness.key("authority", "grenoble")
    harness.admin = await harness.key("admin", None)
    return harness


STOPS_URL = "/v1/statistics/validations?period=2026-03-02&group_by=stop"


def _expected_by_count() -> list[tuple[str, int | None]]:
    rows = [(f"tcl:S{i:03d}", _count(i)) for i in range(STOPS)]
    return sorted(rows, key=lambda r: (r[1] is None, -(r[1] or 0), r[0]))


async def test_pages_add_up_to_the_whole_table_in_count_order(h):
    pages, offset, seen_totals = [], 0, []
    while offset is not None:
        body = await (await h.client.get(f"{STOPS_URL}&offset={offset}", headers=h.sytral)).json()
        assert body["limit"] == 100 and len(body["rows"]) <= 100 and body["offset"] == offset
        assert body["total_rows"] == STOPS and body["order"] == "count"
        pages.append(body["rows"])
        seen_totals.append(body["totals"])
        offset = body["next_offset"]
    assert [len(p) for p in pages] == [100, 100, 50]
    rows = [r for page in pages for r in page]
    assert [(r["stop"], r["count"]) for r in rows] == _expected_by_count()
    assert all(r["network"] == "tcl" for r in rows)  # sytral's own network only
    released_counts = [c for i in range(STOPS) if (c := _count(i)) is not None]
    assert seen_totals[0] == seen_totals[1] == seen_totals[2] == {
        "rows": STOPS, "count": sum(released_counts), "suppressed_rows": STOPS - len(released_counts),
        "lower_bound_rows": 0}
    assert sum(r["count"] or 0 for r in rows) == seen_totals[0]["count"]


async def test_limit_order_and_bounds(h):
    top = await (await h.client.get(f"{STOPS_URL}&limit=5", headers=h.sytral)).json()
    assert [(r["stop"], r["count"]) for r in top["rows"]] == _expected_by_count()[:5]
    assert top["next_offset"] == 5
    by_key = await (await h.client.get(f"{STOPS_URL}&order=key&limit=1000", headers=h.sytral)).json()
    assert [r["stop"] for r in by_key["rows"]] == [f"tcl:S{i:03d}" for i in range(STOPS)]
    assert by_key["next_offset"] is None
    past = await (await h.client.get(f"{STOPS_URL}&offset=400", headers=h.sytral)).json()
    assert past["rows"] == [] and past["total_rows"] == STOPS and past["next_offset"] is None
    for bad in ("limit=0", "limit=1001", "limit=ten", "offset=-1", "order=random"):
        response = await h.client.get(f"{STOPS_URL}&{bad}", headers=h.sytral)
        assert response.status == 400, bad
        assert response.content_type == "application/problem+json"


async def test_csv_is_the_whole_table_by_key_unless_limit_is_given(h):
    text = await (await h.client.get(f"{STOPS_URL}&format=csv", headers=h.sytral)).text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["network", "stop", "count", "suppressed", "lower_bound"]
    assert [r[1] for r in rows[1:]] == [f"tcl:S{i:03d}" for i in range(STOPS)]
    paged = list(csv.reader(io.StringIO(await (await h.client.get(
        f"{STOPS_URL}&format=csv&order=count&limit=10&offset=10", headers=h.sytral)).text())))
    assert [(r[1], int(r[2]) if r[2] else None) for r in paged[1:]] == _expected_by_count()[10:20]


async def test_a_csv_export_is_written_once_then_served_from_memory(h, monkeypatch):
    written = []
    real = reports.rows_csv

    def counting(report, rows=None):
        written.append(report.kind)
        return real(report, rows)

    monkeypatch.setattr(reports, "rows_csv", counting)
    url = f"{STOPS_URL}&format=csv"
    first = await h.client.get(url, headers=h.sytral)
    body = await first.read()
    second = await h.client.get(url, headers=h.sytral)
    assert await second.read() == body and second.headers["ETag"] == first.headers["ETag"]
    assert second.content_type == "text/csv" and second.charset == "utf-8"
    assert len(written) == 1  # the second export came from memory
    paged = await (await h.client.get(f"{url}&limit=10", headers=h.sytral)).read()
    assert len(written) == 2 and paged != body and len(paged.splitlines()) == 11
    theirs = await (await h.client.get(url, headers=h.grenoble)).text()
    assert len(written) == 3 and "tcl:" not in theirs and "tag:X" in theirs  # grenoble's own export


async def test_a_csv_export_is_gzip_compressed_for_a_client_that_accepts_it(h):
    url = f"{STOPS_URL}&format=csv"
    plain = await h.client.get(url, headers={**h.sytral, "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    text = await plain.text()
    for accept in ("gzip", "br, gzip;q=0.5", "deflate, gzip"):
        packed = await h.client.get(url, headers={**h.sytral, "Accept-Encoding": accept}, auto_decompress=False)
        assert packed.headers["Content-Encoding"] == "gzip", accept
        assert gzip.decompress(await packed.read()).decode() == text
        assert "Accept-Encoding" in packed.headers["Vary"]
        # another representation: its own strong ETag, and a 304 only for it
        assert packed.headers["ETag"] != plain.headers["ETag"]
        again = await h.client.get(url, headers={**h.sytral, "Accept-Encoding": accept,
                                                 "If-None-Match": packed.headers["ETag"]})
        assert again.status == 304
    refused = await h.client.get(url, headers={**h.sytral, "Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and await refused.text() == text
    assert refused.headers["ETag"] == plain.headers["ETag"]


async def test_an_authority_reads_only_its_networks_through_pages_and_the_cache(h):
    own = await (await h.client.get(STOPS_URL, headers=h.sytral)).json()  # now cached for sytral
    theirs = await (await h.client.get(STOPS_URL, headers=h.grenoble)).json()
    assert [(r["network"], r["stop"], r["count"]) for r in theirs["rows"]] == [
        ("tag", "tag:X", 30), ("tag", "tag:Y", 12), ("tag", "tag:Z", None)]
    assert theirs["totals"] == {"rows": 3, "count": 42, "suppressed_rows": 1, "lower_bound_rows": 0}
    everyone = await (await h.client.get(f"{STOPS_URL}&limit=1000", headers=h.admin)).json()
    assert everyone["total_rows"] == STOPS + 3 and own["total_rows"] == STOPS
    # a cached answer of sytral's is not grenoble's, even when grenoble names its ETag
    png = await h.client.get("/v1/statistics/od.png?period=2026-03-02", headers=h.sytral)
    etag = png.headers["ETag"]
    for url in ("/v1/statistics/od.png?period=2026-03-02", STOPS_URL, "/v1/statistics/report?period=2026-03"):
        sytral = await h.client.get(url, headers=h.sytral)
        grenoble = await h.client.get(url, headers={**h.grenoble, "If-None-Match": sytral.headers["ETag"]})
        assert grenoble.status == 200 and grenoble.headers["ETag"] != sytral.headers["ETag"], url
        assert await grenoble.read() != await sytral.read(), url
        refused = await h.client.get(url + "&network=tcl", headers={**h.grenoble, "If-None-Match": sytral.headers["ETag"]})
        assert refused.status == 403, url
    assert "tag:" not in (await (await h.client.get("/v1/statistics/report?period=2026-03", headers=h.sytral)).text())
    assert etag == (await h.client.get("/v1/statistics/od.png?period=2026-03-02", headers=h.sytral)).headers["ETag"]


async def test_charts_and_the_report_are_drawn_once_then_identical_and_304(h):
    cache = cache_of(h.client.app)
    for url in ("/v1/statistics/validations.png?period=2026-03-02&chart=top_stops",
                "/v1/statistics/od.png?period=2026-03", "/v1/statistics/report?period=2026-03", STOPS_URL):
        first = await h.client.get(url, headers=h.sytral)
        assert first.status == 200, url
        body = await first.read()
        assert first.headers["Cache-Control"].startswith("private") and first.headers["ETag"].startswith('"')
        misses = cache.misses
        second = await h.client.get(url, headers=h.sytral)
        assert await second.read() == body and second.headers["ETag"] == first.headers["ETag"], url
        assert cache.misses == misses, url  # served from memory: nothing computed again
        unchanged = await h.client.get(url, headers={**h.sytral, "If-None-Match": first.headers["ETag"]})
        assert unchanged.status == 304 and await unchanged.read() == b"", url
        assert unchanged.headers["ETag"] == first.headers["ETag"]
        other = await h.client.get(url, headers={**h.sytral, "If-None-Match": '"something-else"'})
        assert other.status == 200 and await other.read() == body
    page = await (await h.client.get("/v1/statistics/report?period=2026-03", headers=h.sytral)).text()
    assert page.count("data:image/png;base64,") == 3  # hourly, top stops, heat map (no sales released)
    # the pages of one table share its cached rows: another page or order computes no new rows
    await h.client.get(f"{STOPS_URL}&offset=100", headers=h.sytral)
    hits = cache.hits
    await h.client.get(f"{STOPS_URL}&offset=200", headers=h.sytral)
    assert cache.hits == hits + 1


async def test_concurrent_first_requests_compute_once():
    cache = StatisticsCache()
    calls = 0

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return b"png"

    got = await asyncio.gather(*(cache.get_or_compute("k", compute, len) for _ in range(10)))
    assert got == [b"png"] * 10 and calls == 1 and cache.misses == 1 and cache.hits == 9


async def test_the_cache_is_bounded_least_recently_used_first_and_keeps_no_failure():
    cache = StatisticsCache(max_weight=100)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("c", "C", 40)
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert cache.weight == 80
    cache.put("huge", "H", 101)
    assert cache.get("huge") is None and len(cache) == 2

    async def fail() -> str:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        await cache.get_or_compute("x", fail, len)

    async def ok() -> str:
        return "X"

    assert await cache.get_or_compute("x", ok, len) == "X"
