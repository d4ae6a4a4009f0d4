"""JSON Schemas of the statistics answers (the OpenAPI document and the tests read them)."""

from __future__ import annotations

from typing import Any

__all__ = ["COMPONENTS", "PERIOD_PATTERN", "MONTH_PATTERN"]

PERIOD_PATTERN = r"^\d{4}-\d{2}(-\d{2})?$"
MONTH_PATTERN = r"^\d{4}-\d{2}$"

_NULLABLE_INT = {"type": ["integer", "null"]}

STATISTICS_ROW: dict[str, Any] = {
    "type": "object",
    "description": "One released cell, or a sum of released cells; its dimensions are named by group_by "
                   "(validations and od rows always name their network)",
    "required": ["count", "suppressed", "lower_bound"],
    "properties": {
        "count": {**_NULLABLE_INT, "minimum": 0, "description": "null: suppressed"},
        "amount_minor": {**_NULLABLE_INT, "description": "sales: revenue in minor units (null when suppressed)"},
        "currency": {"type": "string"},
        "suppressed": {"type": "boolean"},
        "lower_bound": {"type": "boolean", "description": "a month cell leaving out days where it was suppressed"},
    },
    "additionalProperties": {"type": "string"},
}

PERIOD: dict[str, Any] = {
    "type": "object", "required": ["kind", "start", "end"], "additionalProperties": False,
    "properties": {"kind": {"enum": ["day", "month"]}, "text": {"type": "string"},
                   "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"}},
}

_COUNT = {"type": "integer", "minimum": 0}

TOTALS: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "Sums over every row of the grouping (all pages), of released values only: a suppressed row adds "
                   "nothing, so count is the exact total only when suppressed_rows is 0 (otherwise a lower bound)",
    "required": ["rows", "count", "suppressed_rows", "lower_bound_rows"],
    "properties": {"rows": _COUNT, "count": _COUNT, "suppressed_rows": _COUNT, "lower_bound_rows": _COUNT,
                   "amount_minor": {"type": "integer", "description": "sales: the released revenues, added"}},
}

STATISTICS: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "period", "method", "parameters", "group_by", "rows", "note", "order", "limit", "offset",
                 "total_rows", "next_offset", "totals"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["validations", "sales", "od"]},
        "period": PERIOD,
        "method": {"enum": ["suppression", "laplace", "gaussian"]},
        "parameters": {"type": "object"},
        "group_by": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/StatisticsRow"},
                 "description": "one page: rows offset to offset + limit of the grouping in this order"},
        "note": {"type": "string"},
        "order": {"enum": ["count", "key"],
                  "description": "count: count descending, suppressed rows last, then by key; key: by key"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "offset": _COUNT,
        "total_rows": {**_COUNT, "description": "rows of the grouping, over all pages"},
        "next_offset": {"type": ["integer", "null"], "minimum": 0, "description": "the next page's offset; null: last page"},
        "totals": {"$ref": "#/components/schemas/StatisticsTotals"},
    },
}

RELEASES: dict[str, Any] = {
    "type": "object", "required": ["releases"], "additionalProperties": False,
    "properties": {"releases": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["kind", "period", "period_kind", "method", "parameters", "created_at"],
        "properties": {"kind": {"enum": ["validations", "sales", "od"]}, "period": {"type": "string"},
                       "period_kind": {"enum": ["day", "month"]},
                       "method": {"enum": ["suppression", "laplace", "gaussian"]}, "parameters": {"type": "object"},
                       "created_at": {"type": "string", "format": "date-time"}}}}},
}

COMPONENTS = {"StatisticsRow": STATISTICS_ROW, "StatisticsTotals": TOTALS, "Statistics": STATISTICS,
              "StatisticsReleases": RELEASES}
