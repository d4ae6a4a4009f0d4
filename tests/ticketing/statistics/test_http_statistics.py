"""The statistics routes over HTTP: isolation (403 for another authority's network on every
endpoint, own cells only without network=, admin sees all), JSON and CSV rows equal to the released
cells, PNG charts, the monthly HTML report with its charts embedded, 404 for unreleased periods.

Released rows are written straight into stat_releases / stat_cells (tests/ticketing/statistics/
released.py): tcl (sytral) and tag (grenoble) validations of 2026-03-02, one sales scope sold by
sytral of a combined tcl+ter product (readers sytral and region).
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.ticketing.statistics.released import add_cells, add_release

DAY = date(2026, 3, 2)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def released_region(pool) -> None:
    for period_kind, start in (("day", DAY), ("month", date(2026, 3, 1))):
        parts = 1 if period_kind == "month" else 0
        v = await add_release(pool, "validations", period_kind, start)
        await add_cells(pool, v, "route_hour", "tcl", {
            ("tcl:C3", "08"): 40, ("tcl:C3", "09"): None, ("tcl:T1", "08"): 25, ("tcl:T1", "09"): None,
            ("tcl:C3", "*"): (None, None, 0), ("tcl:T1", "*"): (None, None, 0),
            ("*", "08"): (65, None, parts), ("*", "09"): (24, None, 0), ("*", "*"): (89, None, parts)}, authorities=["sytral"])
        await add_cells(pool, v, "stop", "tcl", {("tcl:S1", ""): 50, ("tcl:S2", ""): 39, ("*", ""): 89},
                        authorities=["sytral"])
        await add_cells(pool, v, "refusals", "tcl", {("no_contract", ""): 12, ("*", ""): 12}, authorities=["sytral"])
        await add_cells(pool, v, "route_hour", "tag", {("tag:A", "07"): 30, ("tag:A", "*"): 30, ("*", "07"): 30,
                                                      ("*", "*"): 30}, authorities=["grenoble"])
        s = await add_release(pool, "sales", period_kind, start)
        await add_cells(pool, s, "product_channel", "sytral|ter+tcl", {
            ("ter-tcl-day", "desk"): (11, 16500), ("ter-tcl-day", "web"): (None, None), ("ter-tcl-day", "*"): (None, None),
            ("*", "desk"): (11, 16500), ("*", "web"): (None, None), ("*", "*"): (None, None)},
            authorities=["sytral", "region"], networks=["ter", "tcl"])
        await add_cells(pool, s, "product_channel", "sytral|tcl", {
            ("tcl:single", "desk"): (20, 3800), ("tcl:single", "*"): (20, 3800), ("*", "desk"): (20, 3800),
            ("*", "*"): (20, 3800)}, authorities=["sytral"], networks=["tcl"])
        o = await add_release(pool, "od", period_kind, start)
        await add_cells(pool, o, "od", "tcl", {("tcl:S1", "tcl:S2"): 30, ("tcl:S2", "tcl:S1"): 28, ("tcl:S1", "*"): 30,
                                              ("tcl:S2", "*"): 28, ("*", "tcl:S2"): 30, ("*", "tcl:S1"): 28,
                                              ("*", "*"): 58}, authorities=["sytral"])


@pytest.fixture
async def h(make_harness):
    harness = await make_harness()
    await released_region(harness.service.pool)
    harness.sytral = await harness.key("authority", "sytral")
    harness.grenoble = await harness.key("authority", "grenoble")
    harness.admin = await harness.key("admin", None)
    return harness


ENDPOINTS = [
    "/v1/statistics/validations?period=2026-03-02",
    "/v1/statistics/validations?period=2026-03-02&format=csv",
    "/v1/statistics/sales?period=2026-03-02",
    "/v1/statistics/od?period=2026-03",
    "/v1/statistics/validations.png?period=2026-03-02",
    "/v1/statistics/sales.png?period=2026-03-02",
    "/v1/statistics/od.png?period=2026-03-02",
    "/v1/statistics/report?period=2026-03",
]


async def test_another_authoritys_network_is_403_on_every_endpoint(h):
    for url in ENDPOINTS:
        response = await h.client.get(url + "&network=tcl", headers=h.grenoble)
        assert response.status == 403, url
        assert response.content_type == "application/problem+json"
        assert (await response.json())["code"] == "other_authority_statistics"
        own = await h.client.get(url + "&network=tcl", headers=h.sytral)
        assert own.status == 200, (url, await own.text())


async def test_an_authority_sees_its_own_cells_only_and_admin_sees_all(h):
    def keyed(body):
        return {(r["network"], r["route"], r["hour"]): r["count"] for r in body["rows"]}

    own = await (await h.client.get("/v1/statistics/validations?period=2026-03-02", headers=h.sytral)).json()
    assert keyed(own) == {("tcl", "tcl:C3", "08"): 40, ("tcl", "tcl:C3", "09"): None, ("tcl", "tcl:T1", "08"): 25,
                          ("tcl", "tcl:T1", "09"): None}
    assert own["method"] == "suppression" and own["parameters"] == {"k": 10} and own["group_by"] == ["route", "hour"]
    assert own["period"] == {"kind": "day", "text": "2026-03-02", "start": "2026-03-02T04:00:00+01:00",
                             "end": "2026-03-03T04:00:00+01:00"}
    theirs = await (await h.client.get("/v1/statistics/validations?period=2026-03-02", headers=h.grenoble)).json()
    assert keyed(theirs) == {("tag", "tag:A", "07"): 30}
    everything = await (await h.client.get("/v1/statistics/validations?period=2026-03-02", headers=h.admin)).json()
    assert keyed(everything) == {**keyed(own), **keyed(theirs)}


async def test_margins_and_derived_sales_groupings(h):
    hours = await (await h.client.get("/v1/statistics/validations?period=2026-03-02&group_by=hour", headers=h.sytral)).json()
    assert [(r["hour"], r["count"], r["suppressed"]) for r in hours["rows"]] == [("08", 65, False), ("09", 24, False)]
    # channel over sytral's two scopes: desk = 11 + 20; web has one suppressed part: suppressed
    channels = await (await h.client.get("/v1/statistics/sales?period=2026-03-02&group_by=channel", headers=h.sytral)).json()
    assert [(r["channel"], r["count"], r["amount_minor"], r["suppressed"]) for r in channels["rows"]] == [
        ("desk", 31, 20300, False), ("web", None, None, True)]
    assert all(set(r) == {"channel", "count", "amount_minor", "currency", "suppressed", "lower_bound"} for r in channels["rows"])
    # the region reads only the combined product's scope; its total is suppressed, so by seller too
    region = await h.key("authority", "region")
    sellers = await (await h.client.get("/v1/statistics/sales?period=2026-03-02&group_by=selling_authority",
                                        headers=region)).json()
    assert [(r["selling_authority"], r["count"]) for r in sellers["rows"]] == [("sytral", None)]
    networks = await (await h.client.get("/v1/statistics/sales?period=2026-03-02&group_by=owning_network",
                                         headers=h.sytral)).json()
    assert [(r["owning_network"], r["count"]) for r in networks["rows"]] == [("tcl", 20), ("ter+tcl", None)]


async def test_month_cells_with_suppressed_days_are_lower_bounds(h):
    body = await (await h.client.get("/v1/statistics/validations?period=2026-03&group_by=network", headers=h.sytral)).json()
    assert body["rows"] == [{"network": "tcl", "count": 89, "suppressed": False, "lower_bound": True}]
    assert body["period"]["start"] == "2026-03-01T04:00:00+01:00" and body["period"]["end"] == "2026-04-01T04:00:00+02:00"


async def test_csv_has_a_header_and_the_same_rows(h):
    response = await h.client.get("/v1/statistics/validations?period=2026-03-02", headers={**h.sytral, "Accept": "text/csv"})
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["network", "route", "hour", "count", "suppressed", "lower_bound"]
    assert rows[1:] == [["tcl", "tcl:C3", "08", "40", "false", "false"], ["tcl", "tcl:C3", "09", "", "true", "false"],
                        ["tcl", "tcl:T1", "08", "25", "false", "false"], ["tcl", "tcl:T1", "09", "", "true", "false"]]


async def test_png_charts_and_the_report(h):
    for url in ENDPOINTS[4:7]:
        response = await h.client.get(url, headers=h.sytral)
        assert response.status == 200 and response.content_type == "image/png", url
        assert (await response.read()).startswith(PNG_SIGNATURE)
    top = await h.client.get("/v1/statistics/validations.png?period=2026-03-02&chart=top_stops", headers=h.admin)
    assert (await top.read()).startswith(PNG_SIGNATURE)
    report = await h.client.get("/v1/statistics/report?period=2026-03", headers=h.sytral)
    assert report.status == 200 and report.content_type == "text/html"
    page = await report.text()
    assert page.count("data:image/png;base64,") == 4
    assert "cells under k=10 suppressed" in page and "accepted validations: 89" in page
    other = await h.client.get("/v1/statistics/report?period=2026-03&authority=grenoble", headers=h.sytral)
    assert other.status == 403
    admin = await (await h.client.get("/v1/statistics/report?period=2026-03&authority=grenoble", headers=h.admin)).text()
    assert "accepted validations: 30" in admin


async def test_unreleased_and_malformed_requests(h):
    missing = await h.client.get("/v1/statistics/od?period=2026-03-05", headers=h.sytral)
    assert missing.status == 404 and (await missing.json())["code"] == "statistics_not_released"
    for url, code in (("/v1/statistics/od?period=2026-13-01", "invalid_statistics_period"),
                      ("/v1/statistics/validations?period=2026-03-02&group_by=route,stop", "unsupported_grouping"),
                      ("/v1/statistics/sales?period=2026-03-02&group_by=day", "unsupported_grouping")):
        response = await h.client.get(url, headers=h.sytral)
        assert response.status == 400, url
        assert (await response.json())["code"] == code
    assert (await h.client.get("/v1/statistics/od?period=2026-03-02")).status == 401
    device = await h.key("device", "sytral")
    assert (await h.client.get("/v1/statistics/od?period=2026-03-02", headers=device)).status == 403


async def test_releases_lists_the_periods(h):
    body = await (await h.client.get("/v1/statistics/releases?period=2026-03-02", headers=h.grenoble)).json()
    assert sorted((r["kind"], r["period"]) for r in body["releases"]) == [
        ("od", "2026-03-02"), ("sales", "2026-03-02"), ("validations", "2026-03-02")]
