"""HTTP foundation: route declaration, error middleware, JSON helpers, metrics, OpenAPI."""

from .params import query_bool, query_datetime, query_float, query_int, query_latlon, query_str
from .responses import json_response, read_json
from .routing import Reply, RouteTable, get_principal, header, path_param, query, reply, schema_ref

__all__ = [
    "Reply",
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
    "reply",
    "schema_ref",
]
