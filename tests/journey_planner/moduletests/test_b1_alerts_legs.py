"""FEATURE UNDER TEST: legs and departures carry their alerts (issue 13, "Legs carry their alerts").

An alert is attached to a ride when one of its entities names (all fields of it) the ride's trip,
route, agency, route_type, or its boarding or alighting stop (or their station), and it is active
while the ride runs; texts are chosen by language with fallback. NO_SERVICE alerts route too, the
others only inform.
"""

from feeds.realtime.model import Alert, EntitySelector, TimeRange, TripDescriptor
from journey_planner.alert_index import AlertIndex, parse_accept_language, pick_text
from journey_planner.core import PlanRequest, TransitLeg, plan
from journey_planner.departures import list_departures
from journey_planner.mapping import Mapper
from journey_planner.realtime import apply_realtime
from journey_planner.snapshot import Snapshot
from tests.journey_planner._data import build_network, local_ts, place
from tests.journey_planner.moduletests.test_b1_alerts_routing import DAY, FEED


def alert(entity_id: str, *selectors: EntitySelector, effect: str = "DETOUR", periods=()) -> Alert:
    return Alert(entity_id, active_periods=periods, informed_entities=selectors, effect=effect, cause="CONSTRUCTION",
                 severity_level="WARNING", header_text={"fr": f"{entity_id} fr", "en": f"{entity_id} en", "": "x"},
                 description_text={"": f"{entity_id} plain"}, url={"": "https://example.org/a"})


def ride_alerts(static, alerts, frm: str, to: str, at: str, langs=("fr",)) -> list[dict]:
    net, overlay = apply_realtime(static, [], alerts)
    result = plan(net.timetable, PlanRequest(place(net, frm), place(net, to), local_ts(at)))
    leg = next(leg for leg in result.journeys[0].legs if isinstance(leg, TransitLeg))
    mapper = Mapper(net, overlay, True, alerts=AlertIndex.of(alerts, static), langs=langs)
    return mapper.transit_leg_json(leg)["alerts"]


def test_a_leg_carries_the_alerts_of_its_trip_route_mode_agency_and_ends(tmp_path):
    static = build_network(tmp_path, FEED)
    alerts = [
        alert("t:trip", EntitySelector(trip=TripDescriptor(trip_id="t:T1"))),
        alert("t:route", EntitySelector(route_id="t:R1")),
        alert("t:mode", EntitySelector(route_type=3)),
        alert("t:agency", EntitySelector(agency_id="t:a")),
        alert("t:board", EntitySelector(stop_id="t:A")),
        alert("t:alight", EntitySelector(stop_id="t:C")),
        alert("t:middle", EntitySelector(stop_id="t:B")),  # ridden through: not the leg's
        alert("t:other-trip", EntitySelector(trip=TripDescriptor(trip_id="t:T2"))),
        alert("t:tram", EntitySelector(route_type=0)),
        alert("t:and", EntitySelector(route_id="t:R2", stop_id="t:A")),  # both fields must hold
    ]
    got = ride_alerts(static, alerts, "A", "C", f"{DAY} 07:55")
    assert sorted(a["id"] for a in got) == ["t:agency", "t:alight", "t:board", "t:mode", "t:route", "t:trip"]


def test_a_station_alert_reaches_legs_from_its_platforms(tmp_path):
    static = build_network(tmp_path, FEED)
    got = ride_alerts(static, [alert("t:stn", EntitySelector(stop_id="t:STN"))], "P1", "E", f"{DAY} 07:55")
    assert [a["id"] for a in got] == ["t:stn"]


def test_only_alerts_active_during_the_leg(tmp_path):
    static = build_network(tmp_path, FEED)
    later = alert("t:later", EntitySelector(route_id="t:R1"),
                  periods=(TimeRange(local_ts(f"{DAY} 12:00"), local_ts(f"{DAY} 13:00")),))
    during = alert("t:during", EntitySelector(route_id="t:R1"), periods=(TimeRange(local_ts(f"{DAY} 08:15"), None),))
    got = ride_alerts(static, [later, during], "A", "C", f"{DAY} 07:55")
    assert [a["id"] for a in got] == ["t:during"]
    assert got[0]["active_periods"][0]["end"] is None and got[0]["active_periods"][0]["start"].startswith(f"{DAY}T07:15")


def test_texts_in_the_requested_language_with_fallback(tmp_path):
    static = build_network(tmp_path, FEED)
    a = [alert("t:x", EntitySelector(route_id="t:R1"))]
    assert ride_alerts(static, a, "A", "C", f"{DAY} 07:55", ("fr-FR",))[0]["header"] == "t:x fr"
    assert ride_alerts(static, a, "A", "C", f"{DAY} 07:55", ("en",))[0]["header"] == "t:x en"
    assert ride_alerts(static, a, "A", "C", f"{DAY} 07:55", ("de",))[0]["header"] == "x"
    rendered = ride_alerts(static, a, "A", "C", f"{DAY} 07:55", ("de",))[0]
    assert rendered | {"header": None} == {
        "id": "t:x", "effect": "DETOUR", "cause": "CONSTRUCTION", "severity": "WARNING", "header": None,
        "description": "t:x plain", "url": "https://example.org/a", "active_periods": []}
    assert pick_text({"it": "ciao"}, ("de",)) == "ciao"
    assert pick_text({"en-GB": "colour"}, ("en-US",)) == "colour"
    assert pick_text({}, ("fr",)) is None
    assert parse_accept_language("de;q=0.5, fr-CH, en;q=0.8, *;q=0.1, it;q=0") == ("fr-CH", "en", "de")


def test_a_no_service_alert_that_spares_the_ride_is_still_attached(tmp_path):
    static = build_network(tmp_path, FEED)
    # A closes from 08:05: T1 leaves A at 08:00 and rides until 08:20, so the alert is on the leg
    closed = alert("t:closed-a", EntitySelector(stop_id="t:A"), effect="NO_SERVICE",
                   periods=(TimeRange(local_ts(f"{DAY} 08:05"), local_ts(f"{DAY} 08:06")),))
    got = ride_alerts(static, [closed], "A", "C", f"{DAY} 07:55")
    assert [(a["id"], a["effect"]) for a in got] == [("t:closed-a", "NO_SERVICE")]
    far = alert("t:closed-d", EntitySelector(stop_id="t:D"), effect="NO_SERVICE")
    assert ride_alerts(static, [far], "A", "C", f"{DAY} 07:55") == []


def test_departures_carry_their_alerts(tmp_path):
    static = build_network(tmp_path, FEED)
    alerts = [alert("t:route", EntitySelector(route_id="t:R1")), alert("t:at-c", EntitySelector(stop_id="t:C")),
              alert("t:stop-a", EntitySelector(stop_id="t:A"))]
    net, overlay = apply_realtime(static, [], alerts)
    snapshot = Snapshot.prepared(static, net, overlay, alerts=AlertIndex.of(alerts, static))
    board = list_departures(snapshot, "t:A", local_ts(f"{DAY} 07:55"), 5, True, ("en",))
    r1 = [d for d in board["departures"] if d["route"]["id"] == "t:R1"]
    assert r1 and all(sorted(a["id"] for a in d["alerts"]) == ["t:route", "t:stop-a"] for d in r1)
    assert r1[0]["alerts"][0]["header"].endswith(" en")
    r3 = [d for d in board["departures"] if d["route"]["id"] == "t:R3"]
    assert [a["id"] for a in r3[0]["alerts"]] == ["t:stop-a"]
