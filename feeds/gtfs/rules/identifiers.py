"""Duplicate identifiers: two rows claiming the same primary key.

Duplicates of the keys the planner indexes by (stops, routes, trips, services) are fatal because
one of the rows would silently win; duplicates in descriptive files are warnings.
"""

from __future__ import annotations

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import file_name

# file -> (primary key columns, severity); optional key columns missing from a file are ignored
PRIMARY_KEYS: dict[str, tuple[tuple[str, ...], Severity]] = {
    "agency": (("agency_id",), Severity.FATAL),
    "stops": (("stop_id",), Severity.FATAL),
    "routes": (("route_id",), Severity.FATAL),
    "trips": (("trip_id",), Severity.FATAL),
    "calendar": (("service_id",), Severity.FATAL),
    "calendar_dates": (("service_id", "date"), Severity.FATAL),
    "frequencies": (("trip_id", "start_time"), Severity.WARNING),
    "shapes": (("shape_id", "shape_pt_sequence"), Severity.WARNING),
    "levels": (("level_id",), Severity.WARNING),
    "pathways": (("pathway_id",), Severity.WARNING),
    "fare_attributes": (("fare_id",), Severity.WARNING),
    "fare_products": (("fare_product_id", "rider_category_id", "fare_media_id"), Severity.FATAL),
    "fare_media": (("fare_media_id",), Severity.FATAL),
    "rider_categories": (("rider_category_id",), Severity.FATAL),
    "networks": (("network_id",), Severity.FATAL),
    "route_networks": (("route_id",), Severity.FATAL),
    "areas": (("area_id",), Severity.FATAL),
    "stop_areas": (("area_id", "stop_id"), Severity.WARNING),
}


def check_duplicate_ids(tables: GtfsTables) -> list[Issue]:
    issues: list[Issue] = []
    for stem, (key, severity) in PRIMARY_KEYS.items():
        frame = tables.find(stem)
        if frame is None or key[0] not in frame.columns or len(frame) < 2:
            continue
        columns = [column for column in key if column in frame.columns]
        duplicated = frame.duplicated(subset=columns, keep="first").to_numpy()
        if stem == "agency" and len(frame) == 1:
            continue
        label = " + ".join(columns)
        issues += issues_for_rows(
            frame, duplicated, code=IssueCode.DUPLICATE_ID, severity=severity, file=file_name(stem),
            field=columns[0], entity_column=columns[0],
            message=lambda value, _e, s=stem, k=label: f"{file_name(s)} repeats the {k} {value!r} of an earlier row",
        )
    return issues
