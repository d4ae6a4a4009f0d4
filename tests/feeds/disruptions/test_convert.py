"""Disruption requests: parsing, checks against the served feed, conversion to alerts and updates."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.disruptions.convert import check_disruption, convert_all, convert_disruption, route_section
from feeds.disruptions.model import Disruption, Kind, parse_draft, parse_patch
from feeds.errors import InvalidDisruption, UnknownDisruptionReference
from tests.feeds.disruptions.conftest import NOW, period


def _draft(**fields):
    return parse_draft({"header": {"fr": "Travaux"}, "period": period(), **fields})


def _stored(draft, disruption_id: int = 7) -> Disruption:
    return Disruption(id=disruption_id, authority_id="auth-a", network_id=draft.network_id, kind=draft.kind,
                      spec=draft.spec, period=draft.period, cause=draft.cause, effect=draft.effect,
                      header_text=draft.header_text, description_text=draft.description_text, url=draft.url,
                      created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "close_stop", "stop_id": "net:A", "header": {"fr": "x"}}, "period"),
    ({"kind": "close_stop", "stop_id": "net:A", "period": {"start": "2025-03-05T08:00:00"}, "header": "x"},
     "period.start"),
    ({"kind": "close_stop", "stop_id": "net:A", "period": {"start": "2025-03-05T08:00:00Z",
                                                           "end": "2025-03-05T07:00:00Z"}, "header": "x"},
     "period.end"),
    ({"kind": "close_stop", "stop_id": "A", "period": period(), "header": "x"}, "stop_id"),
    ({"kind": "close_stop", "stop_id": "net:A", "period": period()}, "header"),
    ({"kind": "close_stop", "stop_id": "net:A", "period": period(), "header": "x", "effect": "DETOUR"}, "effect"),
    ({"kind": "shut_everything", "period": period(), "header": "x"}, "kind"),
    ({"kind": "cut_route", "route_id": "net:R1", "from_stop_id": "net:B", "to_stop_id": "other:X",
      "period": period(), "header": "x"}, "body"),
    ({"kind": "replacement_bus", "route_id": "net:R1", "period": period(), "header": "x",
      "stop_times": [{"stop_id": "net:A", "departure": "08:00:00"}, {"stop_id": "net:E", "arrival": "08:30:00"}]},
     "stop_times[0].arrival"),
    ({"kind": "replacement_bus", "route_id": "net:R1", "period": period(), "header": "x", "effect": "NO_SERVICE",
      "stop_times": [{"stop_id": "net:A", "departure": "08:00:00"}, {"stop_id": "net:E", "arrival": "08:30:00"}],
      "service_dates": ["20250305"]}, "effect"),
])
def test_invalid_requests_name_the_field(body, field):
    with pytest.raises(InvalidDisruption) as caught:
        parse_draft(body)
    assert caught.value.field == field
    assert caught.value.to_problem()["invalid_params"][0]["name"] == field


def test_a_patch_changes_only_the_period_and_texts():
    assert parse_patch({"header": {"en": "Works"}}).header_text == {"en": "Works"}
    with pytest.raises(InvalidDisruption) as caught:
        parse_patch({"stop_id": "net:B"})
    assert caught.value.field == "stop_id"


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "close_stop", "stop_id": "net:Z"}, "stop_id"),
    ({"kind": "cut_route", "route_id": "net:R9", "from_stop_id": "net:B", "to_stop_id": "net:D"}, "route_id"),
    ({"kind": "cancel_trips", "trip_ids": ["net:T1", "net:T404"]}, "trip_ids"),
])
def test_unknown_ids_are_refused_with_their_field(indexes, fields, field):
    draft = _draft(**fields)
    with pytest.raises(UnknownDisruptionReference) as caught:
        check_disruption(draft.kind, draft.spec, draft.period, indexes["net"], now=NOW)
    assert caught.value.field == field


def test_a_section_follows_the_route_in_either_direction(indexes):
    index = indexes["net"]
    assert route_section(index, "net:R1", "net:B", "net:D") == ["net:B", "net:C", "net:D"]
    assert route_section(index, "net:R1", "net:D", "net:B") == ["net:B", "net:C", "net:D"]
    assert route_section(index, "net:R2", "net:B", "net:D") == []  # R2 never calls at B
    draft = _draft(kind="cut_route", route_id="net:R2", from_stop_id="net:A", to_stop_id="net:D")
    with pytest.raises(InvalidDisruption) as caught:
        check_disruption(draft.kind, draft.spec, draft.period, index, now=NOW)
    assert caught.value.field == "to_stop_id"


def test_a_cut_route_is_one_no_service_alert_on_route_and_section_stops(indexes):
    draft = _draft(kind="cut_route", route_id="net:R1", from_stop_id="net:B", to_stop_id="net:D",
                   cause="CONSTRUCTION")
    alerts, updates = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    assert updates == []
    (alert,) = alerts
    assert alert.entity_id == "net:oura-disruption-7" and alert.effect == "NO_SERVICE"
    assert alert.cause == "CONSTRUCTION"
    assert [(e.route_id, e.stop_id) for e in alert.informed_entities] == [
        ("net:R1", "net:B"), ("net:R1", "net:C"), ("net:R1", "net:D")]
    assert alert.active_periods[0].start == int(NOW.timestamp())
    assert alert.active_periods[0].end == int(NOW.timestamp()) + 48 * 3600


def test_cancelled_trips_are_the_runs_whose_departure_is_in_the_period(indexes):
    # from Wed 06:00 to Fri 08:05 Paris: T1 (08:00 weekdays) runs Wed, Thu, Fri; T2 (09:00) Wed, Thu
    draft = _draft(kind="cancel_trips", trip_ids=["net:T1", "net:T2"], period=period(0, 50 + 5 / 60))
    alerts, updates = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    runs = sorted((u.trip_id, u.service_date) for u in updates)
    assert runs == [("net:T1", "20250305"), ("net:T1", "20250306"), ("net:T1", "20250307"),
                    ("net:T2", "20250305"), ("net:T2", "20250306")]
    assert all(u.canceled and not u.added and u.route_id == "net:R1" for u in updates)
    (alert,) = alerts
    assert {e.trip.trip_id for e in alert.informed_entities} == {"net:T1", "net:T2"}
    # active during the runs only: Wednesday's T1 08:00-08:40 and T2 09:00-09:40 are two periods
    wednesday_t1 = int(dt.datetime(2025, 3, 5, 7, 0, tzinfo=dt.UTC).timestamp())
    assert (alert.active_periods[0].start, alert.active_periods[0].end) == (wednesday_t1, wednesday_t1 + 2400)
    assert len(alert.active_periods) == 5


def test_service_dates_choose_the_runs_and_weekends_have_none(indexes):
    draft = _draft(kind="cancel_trips", trip_ids=["net:T1"], period=period(0, 24 * 7),
                   service_dates=["20250306", "20250308"])  # Thursday, and a Saturday T1 does not run
    _, updates = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    assert [(u.service_date, u.start_time_s) for u in updates] == [("20250306", 8 * 3600)]


def test_a_frequency_trip_is_cancelled_run_by_run(indexes):
    draft = _draft(kind="cancel_trips", trip_ids=["net:F1"], period=period(0, 20))
    _, updates = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    assert [u.start_time_s for u in updates] == [6 * 3600, 6 * 3600 + 1800]


def test_trips_with_no_run_in_the_period_are_refused(indexes):
    draft = _draft(kind="cancel_trips", trip_ids=["net:T1"], period=period(4, 20))  # 10:00 to Thu 02:00
    with pytest.raises(InvalidDisruption) as caught:
        check_disruption(draft.kind, draft.spec, draft.period, indexes["net"], now=NOW)
    assert caught.value.field == "trip_ids"


def test_a_replacement_bus_is_an_added_trip_per_date_with_absolute_times(indexes):
    draft = _draft(kind="replacement_bus", route_id="net:R1", service_dates=["20250305", "20250306"],
                   stop_times=[{"stop_id": "net:B", "departure": "08:05:00"},
                               {"stop_id": "net:D", "arrival": "08:35:00", "departure": "08:36:00"}])
    alerts, updates = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    assert [u.trip_id for u in updates] == ["net:oura-disruption-7-20250305", "net:oura-disruption-7-20250306"]
    first = updates[0]
    at = int(dt.datetime(2025, 3, 5, 7, 5, tzinfo=dt.UTC).timestamp())  # 08:05 Paris
    assert first.added and not first.canceled and first.route_id == "net:R1"
    assert first.added_stops == (("net:B", at, at), ("net:D", at + 1800, at + 1860))
    assert first.start_time_s == 8 * 3600 + 5 * 60
    (alert,) = alerts
    assert alert.effect == "ADDITIONAL_SERVICE" and alert.informed_entities[0].route_id == "net:R1"


def test_iso_times_make_one_run_and_must_go_forward(indexes):
    draft = _draft(kind="replacement_bus", route_id="net:R1",
                   stop_times=[{"stop_id": "net:B", "departure": "2025-03-05T08:05:00+01:00"},
                               {"stop_id": "net:D", "arrival": "2025-03-05T08:00:00+01:00"}])
    with pytest.raises(InvalidDisruption) as caught:
        check_disruption(draft.kind, draft.spec, draft.period, indexes["net"], now=NOW)
    assert caught.value.field == "stop_times[1]"


def test_convert_all_skips_what_cannot_apply_and_ended_ones(indexes):
    close = _stored(_draft(kind="close_stop", stop_id="net:C"), 1)
    elsewhere = _stored(_draft(kind="close_stop", stop_id="other:X"), 2)
    ended = _stored(_draft(kind="close_stop", stop_id="net:A"), 3)
    ended = Disruption(**{**{f: getattr(ended, f) for f in ended.__dataclass_fields__}, "ended_at": NOW})
    result = convert_all([close, elsewhere, ended], {"net": indexes["net"]}.get, now=NOW)
    assert [a.entity_id for a in result.alerts] == ["net:oura-disruption-1"]
    assert result.alerts[0].informed_entities[0].stop_id == "net:C"
    assert [s[0] for s in result.skipped] == [2]
    assert Kind.CLOSE_STOP is close.kind


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "close_stop", "stop_id": "net:A", "period": {"start": "0001-01-01T00:00:00+01:00"}, "header": "x"},
     "period.start"),
    ({"kind": "cancel_trips", "trip_ids": ["net:T1"], "service_dates": ["00010101"], "period": period(),
      "header": "x"}, "service_dates"),
    ({"kind": "close_stop", "stop_id": "net:A\x00", "period": period(), "header": "x"}, "stop_id"),
    ({"kind": "close_stop", "stop_id": "net:A", "period": period(), "header": {"fr": "a\x00b"}}, "header"),
])
def test_values_postgresql_or_the_calendar_cannot_hold_are_refused(body, field):
    with pytest.raises(InvalidDisruption) as caught:
        parse_draft(body)
    assert caught.value.field == field
