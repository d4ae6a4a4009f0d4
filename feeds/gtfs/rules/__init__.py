"""Validation rules: one module per rule family, each a function (GtfsTables) -> list[Issue].

Rules are independent and vectorised (pandas/numpy over whole columns, one Python call per
distinct value at most). `feeds.validate.validate_feed` runs them all. `shared_factorizations`,
`to_numbers` and `not_in` are the helpers of `_common` that feeds' own whole-feed checks
(`feeds.validate`, `feeds.regional`) share with the rules.
"""

from feeds.gtfs.rules._common import not_in, shared_factorizations, to_numbers
from feeds.gtfs.rules.calendar import check_calendar, get_validity_range
from feeds.gtfs.rules.fares import check_fares_v2
from feeds.gtfs.rules.files import check_required_files_and_fields
from feeds.gtfs.rules.identifiers import check_duplicate_ids
from feeds.gtfs.rules.references import check_references
from feeds.gtfs.rules.routes import check_route_types
from feeds.gtfs.rules.stop_times import check_stop_times, find_flex_rows
from feeds.gtfs.rules.stops import check_stop_locations
from feeds.gtfs.rules.transfers import check_transfers

__all__ = [
    "check_calendar",
    "check_duplicate_ids",
    "check_fares_v2",
    "check_references",
    "check_required_files_and_fields",
    "check_route_types",
    "check_stop_locations",
    "check_stop_times",
    "check_transfers",
    "find_flex_rows",
    "get_validity_range",
    "not_in",
    "shared_factorizations",
    "to_numbers",
]
