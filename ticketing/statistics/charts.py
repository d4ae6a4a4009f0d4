"""PNG charts of released statistics (matplotlib, Agg backend) and the monthly HTML report.

Everything here is synchronous CPU work on rows already read and isolated by `reports`: the
routes call it through `oura.concurrency.run_blocking`. A suppressed value is drawn as 0 with
the chart saying how many were suppressed; nothing unreleased is ever drawn.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (after the backend is chosen)

__all__ = ["CHARTS", "render_chart", "render_report"]

CHARTS = {"validations": ("hourly", "top_stops"), "sales": ("channels",), "od": ("heatmap",)}
TOP = 15  # bars of a top chart, rows/columns of the OD heat map


def _sum_by(rows: Sequence[Mapping[str, Any]], key: str) -> tuple[dict[str, int], int]:
    """Counts per key over the rows (suppressed rows add nothing) and how many were suppressed."""
    totals: dict[str, int] = {}
    hidden = 0
    for row in rows:
        if row["count"] is None:
            hidden += 1
            totals.setdefault(row[key], 0)
        else:
            totals[row[key]] = totals.get(row[key], 0) + row["count"]
    return totals, hidden


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100, bbox_inches="tight")
    return out.getvalue()


def _footnote(figure: Figure, hidden: int) -> None:
    if hidden:
        figure.text(0.01, 0.01, f"{hidden} suppressed value(s) not drawn (small cells)", fontsize=8)


def render_chart(chart: str, rows: Sequence[Mapping[str, Any]], title: str) -> bytes:
    """One chart as PNG bytes: ``hourly`` (rows by hour), ``top_stops`` (by stop), ``channels``
    (sales by channel), ``heatmap`` (od by origin and destination)."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    if chart == "heatmap":
        totals_o, hidden = _sum_by(rows, "origin")
        totals_d, _ = _sum_by(rows, "destination")
        origins = sorted(totals_o, key=lambda k: -totals_o[k])[:TOP]
        destinations = sorted(totals_d, key=lambda k: -totals_d[k])[:TOP]
        matrix = [[0] * len(destinations) for _ in origins]
        where_o = {o: i for i, o in enumerate(origins)}
        where_d = {d: j for j, d in enumerate(destinations)}
        for row in rows:
            i, j = where_o.get(row["origin"]), where_d.get(row["destination"])
            if i is not None and j is not None and row["count"] is not None:
                matrix[i][j] += row["count"]
        image = axes.imshow(matrix or [[0]], cmap="viridis", aspect="auto")
        figure.colorbar(image, ax=axes, label="chained boardings")
        axes.set_yticks(range(len(origins)), origins, fontsize=7)
        axes.set_xticks(range(len(destinations)), destinations, fontsize=7, rotation=90)
        axes.set_ylabel("origin")
        axes.set_xlabel("destination")
    else:
        key = {"hourly": "hour", "top_stops": "stop", "channels": "channel"}[chart]
        totals, hidden = _sum_by(rows, key)
        labels = sorted(totals) if chart == "hourly" else sorted(totals, key=lambda k: -totals[k])[:TOP]
        axes.bar(range(len(labels)), [totals[k] for k in labels], color="#2b6cb0")
        axes.set_xticks(range(len(labels)), labels, fontsize=7, rotation=0 if chart == "hourly" else 60)
        axes.set_ylabel({"hourly": "boardings", "top_stops": "boardings", "channels": "items sold"}[chart])
    axes.set_title(title)
    _footnote(figure, hidden)
    return _png(figure)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], limit: int = 20) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows[:limit]:
        cells = []
        for c in columns:
            value = row.get(c)
            cells.append("<td>suppressed</td>" if c == "count" and value is None
                         else f"<td>{'' if value is None else html.escape(str(value))}{'+' if c == 'count' and row.get('lower_bound') else ''}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_report(*, title: str, period: str, method: str, parameters: Mapping[str, Any],
                  figures: Sequence[tuple[str, str]], tables: Sequence[tuple[str, Sequence[Mapping[str, Any]], Sequence[str]]],
                  charts: Sequence[tuple[str, bytes]]) -> str:
    """One printable HTML page: key figures, tables, charts embedded as data: URIs, the method."""
    k = parameters.get("k")
    method_text = f"cells under k={k} suppressed (with complementary suppression)" if k else "small cells suppressed"
    if method != "suppression":
        method_text += f"; differential privacy ({html.escape(method)}, epsilon {parameters.get('epsilon', '?')})"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #999;padding:2px 6px;font-size:small}img{max-width:100%}"
        "@media print{section{page-break-inside:avoid}}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>Period {html.escape(period)}. Method: {method_text}.</p>",
        "<section><h2>Key figures</h2><ul>",
        *(f"<li>{html.escape(name)}: {html.escape(value)}</li>" for name, value in figures),
        "</ul></section>",
    ]
    for name, png in charts:
        parts.append(f"<section><h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='{_data_uri(png)}'></section>")
    for name, rows, columns in tables:
        parts.append(f"<section><h2>{html.escape(name)}</h2>{_table(rows, columns)}</section>")
    parts.append("<p><small>Counts marked + are lower bounds (days where the cell was suppressed are left out). "
                 "Statistics are computed from released tables only.</small></p></body></html>")
    return "".join(parts)
