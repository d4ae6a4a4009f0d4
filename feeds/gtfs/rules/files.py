"""Required files and fields (GTFS Reference, "Dataset Files" and each file's Required fields).

Missing core files or fields make the feed unusable for planning, so they are fatal. Optional
files are checked only when present; their missing fields are fatal where ticketing or the
planner would read a wrong value (fares, frequencies), warnings otherwise.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import blank, file_name

REQUIRED_FILES = ("agency", "stops", "routes", "trips", "stop_times")

# file -> (fields that must exist as columns and be filled on every row, severity)
REQUIRED_FIELDS: dict[str, tuple[tuple[str, ...], Severity]] = {
    "agency": (("agency_name", "agency_timezone"), Severity.FATAL),
    "stops": (("stop_id",), Severity.FATAL),
    "routes": (("route_id", "route_type"), Severity.FATAL),
    "trips": (("route_id", "service_id", "trip_id"), Severity.FATAL),
    "stop_times": (("trip_id", "stop_sequence"), Severity.FATAL),
    "calendar": (
        ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "start_date", "end_date"),
        Severity.FATAL,
    ),
    "calendar_dates": (("service_id", "date", "exception_type"), Severity.FATAL),
    "frequencies": (("trip_id", "start_time", "end_time", "headway_secs"), Severity.FATAL),
    "transfers": (("transfer_type",), Severity.WARNING),
    "shapes": (("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"), Severity.WARNING),
    "feed_info": (("feed_publisher_name", "feed_lang"), Severity.WARNING),
    "levels": (("level_id", "level_index"), Severity.WARNING),
    "pathways": (("pathway_id", "from_stop_id", "to_stop_id", "pathway_mode", "is_bidirectional"), Severity.WARNING),
    "fare_products": (("fare_product_id", "amount", "currency"), Severity.FATAL),
    "fare_leg_rules": (("fare_product_id",), Severity.FATAL),
    "fare_transfer_rules": (("fare_transfer_type",), Severity.FATAL),
    "fare_media": (("fare_media_id", "fare_media_type"), Severity.FATAL),
    "rider_categories": (("rider_category_id", "rider_category_name"), Severity.FATAL),
    "networks": (("network_id",), Severity.FATAL),
    "route_networks": (("network_id", "route_id"), Severity.FATAL),
    "areas": (("area_id",), Severity.FATAL),
    "stop_areas": (("area_id", "stop_id"), Severity.FATAL),
    "timeframes": (("timeframe_group_id", "service_id"), Severity.FATAL),
}

_FARES_V2_FILES = frozenset({"fare_leg_rules", "fare_transfer_rules", "fare_media", "rider_categories", "networks",
                             "route_networks", "areas", "stop_areas", "timeframes"})
_STOP_KINDS_WITH_POSITION = {"", "0", "1", "2"}  # stop/platform, station, entrance/exit


def check_required_files_and_fields(tables: GtfsTables) -> list[Issue]:
    issues: list[Issue] = []
    for stem in REQUIRED_FILES:
        if not tables.has(stem):
            issues.append(_missing_file(stem))
        elif len(tables.get(stem)) == 0:
            issues.append(
                Issue(IssueCode.EMPTY_FILE, Severity.FATAL, file_name(stem), None, None, None, None,
                      f"{file_name(stem)} has no rows")
            )
    if not tables.has("calendar") and not tables.has("calendar_dates"):
        issues.append(
            Issue(IssueCode.MISSING_FILE, Severity.FATAL, "calendar.txt", None, None, None, None,
                  "neither calendar.txt nor calendar_dates.txt is present: no trip has service days")
        )
    uses_fares_v2 = tables.has("fare_products")
    for stem, (fields, severity) in REQUIRED_FIELDS.items():
        if stem in _FARES_V2_FILES and not uses_fares_v2:
            severity = Severity.WARNING  # pre-v2 extensions (e.g. rider_categories.txt beside Fares v1)
        frame = tables.find(stem)
        if frame is None or len(frame.columns) == 0:
            continue
        for field in fields:
            if field not in frame.columns:
                issues.append(
                    Issue(IssueCode.MISSING_FIELD, severity, file_name(stem), 1, None, field, None,
                          f"{file_name(stem)} has no {field} column")
                )
                continue
            issues += issues_for_rows(
                frame, blank(frame[field]), code=IssueCode.MISSING_VALUE, severity=severity,
                file=file_name(stem), field=field, entity_column=fields[0],
                message=lambda _value, _entity, f=field, s=stem: f"{file_name(s)} row has an empty {f}",
            )
    issues += _conditional_fields(tables)
    return issues


def _missing_file(stem: str) -> Issue:
    return Issue(IssueCode.MISSING_FILE, Severity.FATAL, file_name(stem), None, None, None, None,
                 f"the feed has no {file_name(stem)}, which every GTFS feed must contain")


def _conditional_fields(tables: GtfsTables) -> list[Issue]:
    """Fields required only in some rows: stop positions, stop_times stop and times (not Flex)."""
    issues: list[Issue] = []
    stops = tables.find("stops")
    if stops is not None and "stop_id" in stops.columns:
        kinds = stops["location_type"].str.strip() if "location_type" in stops.columns else None
        positioned = np.ones(len(stops), dtype=bool) if kinds is None else kinds.isin(_STOP_KINDS_WITH_POSITION).to_numpy()
        for field in ("stop_lat", "stop_lon"):
            if field not in stops.columns:
                issues.append(Issue(IssueCode.MISSING_FIELD, Severity.FATAL, "stops.txt", 1, None, field, None,
                                    f"stops.txt has no {field} column"))
                continue
            issues += issues_for_rows(
                stops, positioned & blank(stops[field]), code=IssueCode.MISSING_VALUE, severity=Severity.FATAL,
                file="stops.txt", field=field, entity_column="stop_id",
                message=lambda _v, entity, f=field: f"stop {entity} has no {f}",
            )
    stop_times = tables.find("stop_times")
    if stop_times is not None and len(stop_times.columns):
        flex_columns = {"location_group_id", "location_id", "start_pickup_drop_off_window"} & set(stop_times.columns)
        if "stop_id" not in stop_times.columns and not flex_columns:
            issues.append(Issue(IssueCode.MISSING_FIELD, Severity.FATAL, "stop_times.txt", 1, None, "stop_id", None,
                                "stop_times.txt has no stop_id column"))
        elif "stop_id" in stop_times.columns:
            located = np.zeros(len(stop_times), dtype=bool)
            for column in ("location_group_id", "location_id"):
                if column in stop_times.columns:
                    located |= ~blank(stop_times[column])
            issues += issues_for_rows(
                stop_times, blank(stop_times["stop_id"]) & ~located, code=IssueCode.MISSING_VALUE,
                severity=Severity.FATAL, file="stop_times.txt", field="stop_id", entity_column="trip_id",
                message=lambda _v, entity: f"a stop_time of trip {entity} has no stop_id (nor a Flex location)",
            )
        if "start_pickup_drop_off_window" not in stop_times.columns:
            for field in ("arrival_time", "departure_time"):
                if field not in stop_times.columns:
                    issues.append(Issue(IssueCode.MISSING_FIELD, Severity.FATAL, "stop_times.txt", 1, None, field,
                                        None, f"stop_times.txt has no {field} column"))
    return issues
