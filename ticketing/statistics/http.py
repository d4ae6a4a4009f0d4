"""HTTP routes of the statistics: GET /v1/statistics/... for authorities (their own networks)
and admins (the region).

Every route reads released cells only (`reports`). Isolation is the same on all of them: an
authority key sees the cells whose readers include its authority, and ``network=`` naming a
network of another authority answers 403 ``other_authority_statistics`` (JSON, CSV, PNG and the
report alike); an admin key sees everything (``authority=`` narrows the report to one authority).
A period not released yet is a 404 ``statistics_not_released``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from oura.auth import Role
from oura.concurrency import run_blocking
from oura.errors import InvalidParameter
from oura.http import RouteTable, get_principal, json_response, query, query_str, reply, schema_ref
from oura.keys import POOL
from ticketing.errors import AuthorityRequired, OtherAuthorityStatistics, StatisticsNotReleased
from ticketing.products import DEFAULT_TIMEZONE
from ticketing.startup import TICKETING
from ticketing.statistics import charts, reports
from ticketing.statistics.schemas import COMPONENTS, MONTH_PATTERN, PERIOD_PATTERN

__all__ = ["routes"]

routes = RouteTable(tag="statistics", components=COMPONENTS)
_ROLES = [Role.AUTHORITY, Role.ADMIN]
CSV = "text/csv"
PNG = "image/png"
HTML = "text/html"
KINDS = ("validations", "sales", "od")

_PERIOD = query("period", required=True, maxLength=10, pattern=PERIOD_PATTERN,
                description="a service day YYYY-MM-DD (04:00 to 04:00 in the region's zone) or a month YYYY-MM")
_NETWORK = query("network", maxLength=200, description="only this network (an authority key: one of its own)")
_ERRORS = {400: "Malformed period or group_by (the supported groupings are listed)",
           403: "A network of another authority (other_authority_statistics), or a role that does not read statistics",
           404: "This period is not released yet (statistics_not_released)"}


def _caller(request: web.Request) -> str | None:
    """The authority whose cells the caller reads; None: an admin (everything)."""
    principal = get_principal(request)
    if principal.role is Role.ADMIN:
        return None
    if principal.authority_id is None:
        raise AuthorityRequired("statistics are read for an authority; use a key bound to one")
    return principal.authority_id


def _context(request: web.Request) -> tuple[Mapping[str, str], str, str]:
    """(network -> authority, the region's zone, its currency)."""
    service = request.app.get(TICKETING)
    if service is None:
        return {}, DEFAULT_TIMEZONE, "EUR"
    catalogue = service.catalogue
    return service.network_authority, catalogue.timezone, catalogue.currency


def _period(request: web.Request) -> reports.Period:
    return reports.parse_period(query_str(request.query, "period", required=True, max_length=10))


def _scope(request: web.Request) -> tuple[str | None, str | None]:
    """(authority read for, network filter), refusing another authority's network first."""
    authority_id = _caller(request)
    network = query_str(request.query, "network", max_length=200)
    network_authority, _, _ = _context(request)
    reports.check_network(network, authority_id, network_authority)
    return authority_id, network


async def _read(request: web.Request, kind: str, group_by: str | None, period: reports.Period,
                authority_id: str | None, network: str | None) -> reports.Report:
    _, _, currency = _context(request)
    grouping = reports.parse_group_by(kind, group_by)
    return await reports.read_report(request.app[POOL], kind, period, grouping, authority_id=authority_id,
                                     network=network, currency=currency)


def _report_json(report: reports.Report, timezone: str) -> dict[str, Any]:
    start, end = report.period.bounds(timezone)
    return {
        "kind": report.kind,
        "period": {"kind": report.period.kind, "text": report.period.text, "start": start.isoformat(),
                   "end": end.isoformat()},
        "method": report.method,
        "parameters": dict(report.parameters),
        "group_by": list(report.grouping.dims),
        "rows": list(report.rows),
        "note": reports.SUPPRESSION_NOTE,
    }


def _groupings_text(kind: str) -> str:
    return "; ".join(sorted(",".join(g.dims) or "(empty)" for g in reports.GROUPINGS[kind].values()))


def _wants_csv(request: web.Request) -> bool:
    wanted = query_str(request.query, "format", max_length=10)
    if wanted is not None and wanted not in ("json", "csv"):
        raise InvalidParameter("format", "json or csv")
    if wanted is not None:
        return wanted == "csv"
    return CSV in request.headers.get("Accept", "") and "application/json" not in request.headers.get("Accept", "")


def _table_route(kind: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        period = _period(request)
        authority_id, network = _scope(request)
        as_csv = _wants_csv(request)
        report = await _read(request, kind, query_str(request.query, "group_by", max_length=200), period,
                             authority_id, network)
        if as_csv:
            return web.Response(text=reports.rows_csv(report), content_type=CSV, charset="utf-8")
        return json_response(_report_json(report, _context(request)[1]))

    handler.__name__ = handler.__qualname__ = f"get_{kind}_statistics"
    handler.__doc__ = (f"Released {kind} statistics of a period, grouped (default {reports.DEFAULT_GROUPING[kind]}). "
                       f"Supported group_by: {_groupings_text(kind)}. Coarser groupings are sums of released cells, "
                       "suppressed when any part is.")
    routes.get(
        f"/v1/statistics/{kind}", summary=f"Anonymised {kind} statistics of a released period", roles=_ROLES,
        params=[_PERIOD, query("group_by", maxLength=200, description=f"comma list of dimensions: {_groupings_text(kind)}"),
                _NETWORK, query("format", enum=["json", "csv"], description="json (default) or csv (or Accept: text/csv)")],
        responses={200: {"description": "The rows (JSON), or the same rows as CSV",
                         "content": {"application/json": {"schema": schema_ref("Statistics")},
                                     CSV: {"schema": {"type": "string"}}}}, **_ERRORS},
    )(handler)


_CHART_SOURCE = {"hourly": ("validations", "hour"), "top_stops": ("validations", "stop"),
                 "channels": ("sales", "channel"), "heatmap": ("od", "origin,destination")}
_CHART_TITLES = {"hourly": "Boardings per hour", "top_stops": "Top stops", "channels": "Items sold by channel",
                 "heatmap": "Origin-destination flows"}


async def _chart(request: web.Request, chart: str, period: reports.Period, authority_id: str | None,
                 network: str | None) -> tuple[bytes, reports.Report]:
    kind, group_by = _CHART_SOURCE[chart]
    report = await _read(request, kind, group_by, period, authority_id, network)
    title = f"{_CHART_TITLES[chart]} — {period.text}"
    return await run_blocking(charts.render_chart, chart, report.rows, title), report


def _chart_route(kind: str) -> None:
    names = charts.CHARTS[kind]

    async def handler(request: web.Request) -> web.Response:
        period = _period(request)
        authority_id, network = _scope(request)
        chart = query_str(request.query, "chart", default=names[0], max_length=20)
        if chart not in names:
            raise InvalidParameter("chart", f"one of {', '.join(names)}")
        png, _ = await _chart(request, chart, period, authority_id, network)
        return web.Response(body=png, content_type=PNG)

    handler.__name__ = handler.__qualname__ = f"get_{kind}_chart"
    handler.__doc__ = f"A PNG chart of released {kind} statistics ({', '.join(names)}), drawn from released cells only."
    routes.get(
        f"/v1/statistics/{kind}.png", summary=f"A chart of {kind} statistics (PNG)", roles=_ROLES, content_type=PNG,
        params=[_PERIOD, query("chart", enum=list(names), description=f"default {names[0]}"), _NETWORK],
        responses={200: reply("The chart", {"type": "string", "format": "binary"}, content_type=PNG), **_ERRORS},
    )(handler)


@routes.get("/v1/statistics/releases", summary="Released periods, with their method and parameters", roles=_ROLES,
            params=[query("period", maxLength=10, pattern=PERIOD_PATTERN, description="only this day or month")],
            responses={200: reply("Releases, newest first", schema_ref("StatisticsReleases")), 400: _ERRORS[400]})
async def list_statistics_releases(request: web.Request) -> web.Response:
    """Which periods are released (each kind of each day and month), how they were protected."""
    _caller(request)
    text = query_str(request.query, "period", max_length=10)
    period = None if text is None else reports.parse_period(text)
    return json_response({"releases": await reports.list_releases(request.app[POOL], period)})


async def _try(coroutine: Any) -> Any:
    try:
        return await coroutine
    except StatisticsNotReleased:
        return None


@routes.get("/v1/statistics/report", summary="The monthly report of an authority (printable HTML with its charts)",
            roles=_ROLES, content_type=HTML,
            params=[query("period", required=True, maxLength=7, pattern=MONTH_PATTERN, description="a month YYYY-MM"),
                    query("authority", maxLength=200, description="admin: one authority (default: the region)"),
                    _NETWORK],
            responses={200: reply("One HTML page, the charts embedded as data: URIs", {"type": "string"},
                                  content_type=HTML), **_ERRORS})
async def get_statistics_report(request: web.Request) -> web.Response:
    """Key figures, tables and charts of a released month, with the protection method used."""
    period = _period(request)
    if period.kind != "month":
        raise InvalidParameter("period", "the report is monthly: YYYY-MM")
    authority_id, network = _scope(request)
    asked = query_str(request.query, "authority", max_length=200)
    if asked is not None and authority_id is not None and asked != authority_id:
        raise OtherAuthorityStatistics(f"the report of {asked[:100]!r} is not yours to read")
    if authority_id is None:
        authority_id = asked
    read = {name: await _try(_read(request, kind, group_by, period, authority_id, network))
            for name, (kind, group_by) in {"total": ("validations", ""), "refusals": ("validations", "reason"),
                                           "routes": ("validations", "route"), "sales": ("sales", ""),
                                           "od": ("od", "")}.items()}
    if all(r is None for r in read.values()):
        raise StatisticsNotReleased(f"nothing of {period.text} is released yet")
    figures = []

    def total(report: reports.Report | None) -> str:
        if report is None:
            return "not released"
        if any(r["count"] is None for r in report.rows):
            known = sum(r["count"] or 0 for r in report.rows)
            return f"at least {known} (some parts suppressed)"
        return str(sum(r["count"] for r in report.rows))

    figures.append(("accepted validations", total(read["total"])))
    figures.append(("refused validations", total(read["refusals"])))
    figures.append(("chained boardings (origin-destination)", total(read["od"])))
    figures.append(("items sold", total(read["sales"])))
    if read["sales"] is not None and read["sales"].rows and all(r["amount_minor"] is not None for r in read["sales"].rows):
        figures.append(("revenue (minor units)", f"{sum(r['amount_minor'] for r in read['sales'].rows)} "
                                                 f"{read['sales'].rows[0].get('currency', '')}"))
    images = []
    for chart, label in _CHART_TITLES.items():
        drawn = await _try(_chart(request, chart, period, authority_id, network))
        if drawn is not None:
            images.append((label, drawn[0]))
    first = next(r for r in read.values() if r is not None)
    tables = [(name, report.rows, ["network", *report.grouping.dims, "count"]) for name, report in
              (("Validations by route", read["routes"]), ("Refusals by reason", read["refusals"])) if report is not None]
    who = authority_id or "the region"
    page = await run_blocking(
        charts.render_report, title=f"OùRA statistics — {who} — {period.text}", period=period.text,
        method=first.method, parameters=first.parameters, figures=figures, tables=tables, charts=images)
    return web.Response(text=page, content_type=HTML, charset="utf-8")


for _kind in KINDS:
    _chart_route(_kind)
for _kind in KINDS:
    _table_route(_kind)
