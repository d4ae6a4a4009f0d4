"""The "service never runs" warning of feeds.gtfs.rules.calendar reads days as every consumer does."""

from __future__ import annotations

import pandas as pd

from feeds.gtfs.issues import IssueCode
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules.calendar import check_calendar

WEEKDAYS = {"monday": "1", "tuesday": "1", "wednesday": "1", "thursday": "1", "friday": "1",
            "saturday": "0", "sunday": "0"}


def _idle_services(calendar_dates: list[dict[str, str]]) -> set[str]:
    tables = GtfsTables("inline", {
        "calendar": pd.DataFrame([{"service_id": "wk", **WEEKDAYS, "start_date": "20240325", "end_date": "20240329"}],
                                 dtype=str),
        "calendar_dates": pd.DataFrame(calendar_dates, dtype=str),
        "trips": pd.DataFrame([{"trip_id": "t1", "service_id": "wk"}, {"trip_id": "t2", "service_id": "extra"}],
                              dtype=str),
    })
    return {i.value for i in check_calendar(tables) if i.code is IssueCode.SERVICE_WITHOUT_DAYS}


def test_a_service_whose_every_day_is_removed_never_runs() -> None:
    removed = [{"service_id": "wk", "date": f"2024032{d}", "exception_type": "2"} for d in range(5, 10)]
    added_then_removed = [{"service_id": "extra", "date": "20240401", "exception_type": "1"},
                          {"service_id": "extra", "date": "20240401", "exception_type": "2"}]
    assert _idle_services(removed + added_then_removed) == {"wk", "extra"}


def test_removing_a_day_the_service_does_not_run_leaves_its_other_days() -> None:
    # four weekdays and a Sunday removed: Friday still runs (counting removals said it never ran)
    removed = [{"service_id": "wk", "date": d, "exception_type": "2"}
               for d in ("20240325", "20240326", "20240327", "20240328", "20240331")]
    assert _idle_services(removed + [{"service_id": "extra", "date": "20240401", "exception_type": "1"}]) == set()
