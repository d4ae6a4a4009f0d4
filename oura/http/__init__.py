"""HTTP foundation: route declaration, error middleware, JSON helpers, metrics, OpenAPI."""

from .params import query_bool, query_datetime, query_float, query_int, query_latlon, query_str
from .responses import json_response, read_json
from .routing import RouteTable, get_principal, header, path_param, query

__all__ = [
    "RouteTable",
    "get_principal",
    "header",
    "json_response",
    "path_param",
    "query",
    "query_bool",
    "query_datetime",
    "query_float",
    "query_int",
    "query_latlon",
    "query_str",
    "read_json",
]
