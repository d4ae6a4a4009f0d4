"""The validation rule (pure) and its use case over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.ticketing.conftest import validation_event
from ticketing.errors import InvalidEvents
from ticketing.validation import (
    ContractState,
    MediumState,
    Reason,
    ValidationEvent,
    decide,
    find_network_refusal,
    parse_events,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CARD = MediumState(1, "C1", "active", None)


def contract(**changes) -> ContractState:
    values = dict(
        contract_id=10, medium_id=1, fare_product_id="tcl:single", network_ids=frozenset({"tcl"}), area_ids=frozenset(),
        valid_from=T0 - timedelta(days=1), valid_until=None, duration_s=None, trips_total=1, remaining_trips=1,
        transfer_window_s=3600, first_used_at=None, last_counted_at=None, last_route_id=None,
    )
    values.update(changes)
    return ContractState(**values)


def ev(minutes: int = 0, route: str = "tcl:C3", event_id: str = "e") -> ValidationEvent:
    return ValidationEvent(event_id, "C1", T0 + timedelta(minutes=minutes), "tcl:stop", route)


def test_single_ticket_first_boarding_is_valid_and_consumes_it():
    decision, updated = decide(ev(), "tcl", CARD, [contract()])
    assert (decision.accepted, decision.reason, decision.remaining_trips) == (True, Reason.VALID, 0)
    assert updated.first_used_at == T0 and updated.last_route_id == "tcl:C3"


def test_transfer_within_window_on_another_route_consumes_nothing():
    used = contract(remaining_trips=0, first_used_at=T0, last_counted_at=T0, last_route_id="tcl:C3")
    decision, updated = decide(ev(40, "tcl:T1"), "tcl", CARD, [used])
    assert (decision.accepted, decision.reason, updated) == (True, Reason.TRANSFER, None)
    late, _ = decide(ev(61, "tcl:T1"), "tcl", CARD, [used])
    assert (late.accepted, late.reason) == (False, Reason.TRIPS_EXHAUSTED)


def test_anti_passback_on_the_same_route():
    ten = contract(trips_total=10, remaining_trips=9, first_used_at=T0, last_counted_at=T0, last_route_id="tcl:C3")
    decision, updated = decide(ev(1), "tcl", CARD, [ten])
    assert (decision.accepted, decision.reason, updated) == (False, Reason.ALREADY_VALIDATED, None)


def test_pass_expires_duration_after_first_use():
    day = contract(trips_total=None, remaining_trips=None, duration_s=86400, transfer_window_s=0)
    decision, updated = decide(ev(), "tcl", CARD, [day])
    assert decision.reason is Reason.VALID and updated.valid_until == T0 + timedelta(days=1)
    after, _ = decide(ev(24 * 60 + 1, "tcl:T1"), "tcl", CARD, [updated])
    assert (after.accepted, after.reason) == (False, Reason.EXPIRED)


def test_refusals_in_explanation_order():
    assert decide(ev(), "tcl", None, [])[0].reason is Reason.UNKNOWN_MEDIUM
    assert decide(ev(), "tcl", MediumState(1, "C1", "lost", None), [contract()])[0].reason is Reason.DENY_LISTED
    assert decide(ev(), "stas", CARD, [contract()])[0].reason is Reason.NO_CONTRACT
    zoned = contract(area_ids=frozenset({"ter:A", "ter:B"}), network_ids=frozenset({"ter"}))
    assert decide(ev(), "ter", CARD, [zoned], stop_areas=frozenset({"ter:C"}))[0].reason is Reason.OUT_OF_AREA


def test_unlimited_pass_is_used_before_a_carnet():
    carnet = contract(contract_id=1, trips_total=10, remaining_trips=10, transfer_window_s=0)
    day = contract(contract_id=2, trips_total=None, remaining_trips=None, duration_s=86400, transfer_window_s=0)
    decision, _ = decide(ev(), "tcl", CARD, [carnet, day])
    assert decision.contract_id == 2


def test_malformed_events_are_all_named():
    body = {"events": [
        {"event_id": "ok", "medium": "C1", "time": "2026-03-02T08:00:00+01:00", "stop_id": "s", "route_id": "r"},
        {"event_id": "naive", "medium": "C1", "time": "2026-03-02T08:00:00", "stop_id": "s", "route_id": "r"},
        {"event_id": "", "medium": "C1", "time": "2026-03-02T08:00:00Z", "stop_id": "s", "route_id": "r"},
        "not an object",
    ]}
    with pytest.raises(InvalidEvents) as caught:
        parse_events(body)
    assert [p["index"] for p in caught.value.extra["invalid_events"]] == [1, 2, 3]


# -- over HTTP --------------------------------------------------------------------------------------


async def test_offline_batch_is_decided_in_event_time_order(make_harness):
    h = await make_harness()
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    base = h.clock.now() + timedelta(minutes=1)
    # Uploaded hours later, out of order: the C3 boarding at +0 counts, T1 at +1 min is within
    # no transfer window (the carnet has none) so it counts too, C3 again at +1h30 counts.
    events = [validation_event("late", card, base + timedelta(hours=1, minutes=30)), validation_event("first", card, base),
              validation_event("second", card, base + timedelta(minutes=1), "tcl:T1")]
    h.clock.advance(timedelta(hours=6))
    body = await (await h.client.post("/v1/validations", json={"events": events}, headers=validator)).json()
    assert [(d["event_id"], d["reason"], d["remaining_trips"]) for d in body["decisions"]] == [
        ("late", "valid", 7), ("first", "valid", 9), ("second", "valid", 8)]


async def test_malformed_batches_write_nothing(make_harness):
    h = await make_harness()
    card = await h.card_with_carnet()
    when = h.clock.now() + timedelta(minutes=5)
    tcl_device = await h.key("device", "sytral")
    bad_bodies = [
        {"events": [validation_event("x2", card, when), {"event_id": "x3"}]},  # missing fields
        {"events": [validation_event("x4", card, when), {**validation_event("x5", card, when), "direction_id": "north"}]},  # bad type
        {"events": [{**validation_event("x6", card, when), "time": "2026-03-02T08:00:00"}]},  # naive time
        {"events": "x7"},  # wrong shape
    ]
    for body in bad_bodies:
        response = await h.client.post("/v1/validations", json=body, headers=tcl_device)
        assert response.status == 422, body
        assert response.content_type == "application/problem+json"
        assert (await response.json())["code"] == "invalid_events"
    assert await h.count("ticketing_validations") == 0
    remaining = await h.service.pool.fetchval("SELECT remaining_trips FROM ticketing_contracts")
    assert remaining == 10


async def test_an_event_the_catalogue_cannot_place_is_refused_alone_and_recorded(make_harness):
    """FEATURE UNDER TEST: an offline batch with events on an unknown route, an unknown network
    and another authority's network still decides every other event; the refusals carry their
    reason, consume nothing, are recorded, and a retry of the batch replays every decision."""
    h = await make_harness()
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    base = h.clock.now() + timedelta(minutes=1)
    events = [
        validation_event("on-unknown-route", card, base, "nowhere:9"),
        validation_event("boarding", card, base + timedelta(minutes=2)),
        {**validation_event("on-unknown-network", card, base + timedelta(minutes=3), "bus:1"), "network_id": "nowhere"},
        validation_event("on-stas", card, base + timedelta(hours=2), "stas:M1"),
        validation_event("later-boarding", card, base + timedelta(hours=3), "tcl:T1"),
    ]
    h.clock.advance(timedelta(hours=8))
    response = await h.client.post("/v1/validations", json={"events": events}, headers=validator)
    assert response.status == 200
    body = await response.json()
    assert [(d["event_id"], d["accepted"], d["reason"], d["remaining_trips"]) for d in body["decisions"]] == [
        ("on-unknown-route", False, "unknown_route", None),
        ("boarding", True, "valid", 9),
        ("on-unknown-network", False, "unknown_network", None),
        ("on-stas", False, "other_authority_network", None),
        ("later-boarding", True, "valid", 8),
    ]
    assert all(d["explanation"] for d in body["decisions"])
    assert (body["new_events"], body["replayed_events"]) == (5, 0)
    recorded = await h.service.pool.fetch(
        "SELECT event_id, accepted, reason, network_id FROM ticketing_validations ORDER BY event_id")
    assert {r["event_id"]: (r["accepted"], r["reason"], r["network_id"]) for r in recorded} == {
        "boarding": (True, "valid", "tcl"),
        "later-boarding": (True, "valid", "tcl"),
        "on-stas": (False, "other_authority_network", "stas"),
        "on-unknown-network": (False, "unknown_network", "nowhere"),
        "on-unknown-route": (False, "unknown_route", None),
    }

    # The validator did not get the answer and uploads the same batch again: nothing changes.
    again = await (await h.client.post("/v1/validations", json={"events": events}, headers=validator)).json()
    assert [(d["event_id"], d["reason"], d["replayed"]) for d in again["decisions"]] == [
        (d["event_id"], d["reason"], True) for d in body["decisions"]]
    assert (again["new_events"], again["replayed_events"]) == (0, 5)
    assert await h.service.pool.fetchval("SELECT remaining_trips FROM ticketing_contracts") == 8
    assert await h.count("ticketing_validations") == 5


async def test_a_batch_of_only_unplaceable_events_is_recorded(make_harness):
    h = await make_harness()
    card = await h.card_with_carnet()
    stas_device = await h.key("device", "saint-etienne")
    when = h.clock.now() + timedelta(minutes=5)
    response = await h.client.post("/v1/validations", json={"events": [validation_event("x1", card, when)]}, headers=stas_device)
    assert response.status == 200
    (decision,) = (await response.json())["decisions"]
    assert (decision["accepted"], decision["reason"], decision["contract_id"]) == (False, "other_authority_network", None)
    assert await h.count("ticketing_validations") == 1
    assert await h.service.pool.fetchval("SELECT remaining_trips FROM ticketing_contracts") == 10


@pytest.mark.parametrize(
    ("route_id", "network_id", "device_authority", "expected"),
    [
        ("tcl:C3", None, "sytral", ("tcl", None)),
        ("tcl:new-route", "tcl", "sytral", ("tcl", None)),  # the validator knows its network
        ("tcl:new-route", None, "sytral", (None, Reason.UNKNOWN_ROUTE)),
        ("x:1", "nowhere", "sytral", ("nowhere", Reason.UNKNOWN_NETWORK)),
        ("ter:L1", None, "sytral", ("ter", Reason.OTHER_AUTHORITY_NETWORK)),
        ("ter:L1", None, "region", ("ter", None)),
    ],
)
def test_find_network_refusal(region_catalogue, route_id, network_id, device_authority, expected):
    from tests.ticketing.conftest import REGION_AUTHORITIES

    event = ValidationEvent("e", "C1", T0, "tcl:stop", route_id, network_id=network_id)
    assert find_network_refusal(event, region_catalogue, REGION_AUTHORITIES, device_authority) == expected


def test_an_offline_boarding_before_the_purchase_is_not_yet_valid():
    bought_later = contract(valid_from=T0 + timedelta(hours=1))
    decision, updated = decide(ev(), "tcl", CARD, [bought_later])
    assert (decision.accepted, decision.reason, decision.contract_id, updated) == (False, Reason.NOT_YET_VALID, 10, None)
    assert decide(ev(), "tcl", CARD, [contract(network_ids=frozenset({"ter"}))])[0].reason is Reason.NO_CONTRACT


# -- offline events arriving out of order (regressions) ---------------------------------------------
# A validator uploads hours of offline events, so an earlier boarding can reach the server after a
# later one was already decided. The outcome must not depend on the upload order.


def _run(events, state):
    """Decide events one after the other (as successive batches do) on one contract."""
    decisions = []
    for event in events:
        decision, updated = decide(event, "tcl", CARD, [state])
        decisions.append(decision)
        state = updated or state
    return decisions, state


def test_same_route_boarding_uploaded_late_is_anti_passback_not_a_second_trip():
    carnet = contract(trips_total=10, remaining_trips=10, transfer_window_s=0)
    first, second = ev(0, event_id="a"), ev(1, event_id="b")
    in_order, s1 = _run([first, second], carnet)
    reversed_, s2 = _run([second, first], carnet)
    assert s1.remaining_trips == 9
    assert s2.remaining_trips == s1.remaining_trips
    assert [d.reason for d in reversed_] == [Reason.VALID, Reason.ALREADY_VALIDATED]


def test_transfer_uploaded_before_its_first_boarding_is_still_a_transfer():
    single = contract()  # 1 trip, transfers within 3600 s
    bus, tram = ev(0, "tcl:C3", "bus"), ev(40, "tcl:T1", "tram")
    in_order, _ = _run([bus, tram], single)
    reversed_, _ = _run([tram, bus], single)
    assert [d.accepted for d in in_order] == [True, True]
    assert [d.accepted for d in reversed_] == [True, True]
    assert reversed_[1].reason is Reason.TRANSFER


def test_pass_validity_starts_at_the_earliest_boarding_even_when_uploaded_late():
    day = contract(trips_total=None, remaining_trips=None, duration_s=86400, transfer_window_s=0)
    morning, evening = ev(0, "tcl:C3", "m"), ev(12 * 60, "tcl:T1", "e")
    _, s1 = _run([morning, evening], day)
    _, s2 = _run([evening, morning], day)
    assert s1.valid_until == T0 + timedelta(days=1)
    assert (s2.first_used_at, s2.valid_until) == (s1.first_used_at, s1.valid_until)
    late, _ = decide(ev(24 * 60 + 30, "tcl:C3", "x"), "tcl", CARD, [s2])
    assert (late.accepted, late.reason) == (False, Reason.EXPIRED)


# --- pass validity in calendar terms (Europe/Paris: DST starts 2026-03-29, ends 2026-10-25) ------

from zoneinfo import ZoneInfo  # noqa: E402

from ticketing.products import get_validity_end  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
DAYS_30 = 30 * 86400


def paris(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("first_use", "days", "end"),
    [
        # 30-day passes run to the end of the service day D+29 (04:00 local on D+30), whatever the
        # DST change in between: neither 22:30 nor 00:30.
        (paris(2026, 3, 15, 23, 30), 30, paris(2026, 4, 14, 4, 0)),  # across the spring change
        (paris(2026, 10, 10, 23, 30), 30, paris(2026, 11, 9, 4, 0)),  # across the autumn change
        (paris(2026, 3, 29, 1, 30), 30, paris(2026, 4, 27, 4, 0)),  # 01:30 belongs to the 28th's service day
        (paris(2026, 3, 29, 4, 0), 30, paris(2026, 4, 28, 4, 0)),  # 04:00 opens the 29th's service day
        (paris(2026, 10, 24, 12, 0), 2, paris(2026, 10, 26, 4, 0)),  # a 2-day pass over the 25-hour day
    ],
)
def test_calendar_passes_end_with_a_local_service_day(first_use, days, end):
    assert get_validity_end(first_use, days * 86400, PARIS) == end
    assert get_validity_end(first_use.astimezone(UTC), days * 86400, PARIS) == end  # the zone is the rule's, not the input's


@pytest.mark.parametrize(
    "first_use", [paris(2026, 3, 28, 23, 30), paris(2026, 10, 24, 23, 30), paris(2026, 3, 29, 1, 30)]
)
def test_a_24_hour_pass_stays_24_hours(first_use):
    end = get_validity_end(first_use, 86400, PARIS)
    assert (end - first_use).total_seconds() == 86400


def test_30_day_pass_expires_at_the_end_of_its_last_service_day_across_dst():
    first = paris(2026, 3, 15, 23, 30)
    month = contract(trips_total=None, remaining_trips=None, duration_s=DAYS_30, transfer_window_s=0,
                     valid_from=first - timedelta(days=3))

    def at(moment: datetime, route: str) -> ValidationEvent:
        return ValidationEvent(f"e-{moment.isoformat()}", "C1", moment, "tcl:stop", route)

    decision, used = decide(at(first, "tcl:C3"), "tcl", CARD, [month], timezone="Europe/Paris")
    assert decision.reason is Reason.VALID and used.valid_until == paris(2026, 4, 14, 4, 0)
    last, _ = decide(at(paris(2026, 4, 14, 3, 59), "tcl:T1"), "tcl", CARD, [used], timezone="Europe/Paris")
    assert last.reason is Reason.VALID
    late, _ = decide(at(paris(2026, 4, 14, 4, 0), "tcl:C3"), "tcl", CARD, [used], timezone="Europe/Paris")
    assert (late.accepted, late.reason) == (False, Reason.EXPIRED)
    # A boarding uploaded late, before the first one, moves the whole period to its service day.
    earlier, moved = decide(at(paris(2026, 3, 14, 8, 0), "tcl:T1"), "tcl", CARD, [used], timezone="Europe/Paris")
    assert earlier.reason is Reason.VALID and moved.valid_until == paris(2026, 4, 13, 4, 0)
