"""FEATURE UNDER TEST: an empty answer says why (reason codes, plain words), and a wheelchair
journey says which inaccessible trip or stop it avoided (`journey_planner.explain`).

2024-03-04 is a Monday; service ``W`` runs Monday to Friday, ``S`` every day of 2024.
"""

from journey_planner.core import PlanRequest, plan
from journey_planner.explain import explain
from tests.journey_planner._data import build_network, local_ts, place
from tests.journey_planner.moduletests.test_a12_wheelchair_window_station import FEED as WHEELCHAIR_FEED

CALENDAR = """
calendar.txt
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
S,1,1,1,1,1,1,1,20240101,20241231
W,1,1,1,1,1,0,0,20240101,20241231
J,1,1,1,1,1,1,1,20240101,20240131
"""

STOPS = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding
A,Alpha,45.00,4.00,1
B,Bravo,45.10,4.00,1
C,Charlie,45.20,4.00,1
D,Delta,45.30,4.00,1
E,Echo,46.30,5.00,1
"""


def feed(trips: str, stop_times: str) -> str:
    return (STOPS + CALENDAR + "trips.txt\nroute_id,service_id,trip_id\n" + trips
            + "\nstop_times.txt\ntrip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + stop_times)


def why(net, frm: str, to: str, at: str, **kw) -> list[str]:
    """Plan, check the answer is empty, and render its reasons as 'code: message' lines."""
    request = PlanRequest(place(net, frm), place(net, to), local_ts(at), **kw)
    result = plan(net.timetable, request)
    assert result.journeys == ()
    explanation = explain(net, request, result, None)
    assert explanation.constraints == []
    return [f"{r['code']}: {r['message']}" for r in explanation.reasons]


def reasons(net, frm: str, to: str, at: str, **kw) -> list[dict]:
    request = PlanRequest(place(net, frm), place(net, to), local_ts(at), **kw)
    return explain(net, request, plan(net.timetable, request), None).reasons


def test_outside_the_timetable_dates(tmp_path):
    net = build_network(tmp_path, feed("R1,J,T1", "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2"))
    assert why(net, "A", "B", "2024-02-01 08:00") == [
        "outside_timetable_dates: The timetables run from 2024-01-01 to 2024-01-31; 2024-02-01 is after them."
    ]
    assert reasons(net, "A", "B", "2024-02-01 08:00")[0]["service_dates"] == {"first": "2024-01-01", "last": "2024-01-31"}


def test_no_service_on_that_day_at_the_origin(tmp_path):
    net = build_network(tmp_path, feed("R1,W,T1", "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2"))
    assert why(net, "A", "B", "2024-03-09 08:00") == [
        "no_service_on_date: No trip serves Alpha on Sat 2024-03-09; the next departure is Mon 2024-03-11 at 08:00."
    ]
    (r,) = reasons(net, "A", "B", "2024-03-09 08:00")
    assert (r["date"], r["next_departure"]) == ("2024-03-09", "2024-03-11T08:00:00+01:00")


def test_no_journey_that_day_though_both_places_are_served(tmp_path):
    # A is left every day (R3 to D), B reached every day (R2 from C), but A -> B runs on weekdays only
    net = build_network(tmp_path, feed(
        "R1,W,T1\nR2,S,T2\nR3,S,T3",
        "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\n"
        "T2,09:00:00,09:00:00,C,1\nT2,09:20:00,09:20:00,B,2\n"
        "T3,09:00:00,09:00:00,A,1\nT3,09:20:00,09:20:00,D,2",
    ))
    assert why(net, "A", "B", "2024-03-09 07:00") == [
        "no_service_on_date: No journey from Alpha to Bravo in the 24 h after Sat 2024-03-09 at 07:00; "
        "the next one leaves Mon 2024-03-11 at 08:00, arriving 08:20."
    ]


def test_origin_not_served_at_that_hour(tmp_path):
    # Friday 10:00: the weekday trip left at 08:00, the next is on Monday
    net = build_network(tmp_path, feed("R1,W,T1", "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2"))
    assert why(net, "A", "B", "2024-03-08 10:00") == [
        "origin_not_served: No trip leaves Alpha in the 24 h after Fri 2024-03-08 at 10:00; "
        "the next departure is Mon 2024-03-11 at 08:00."
    ]
    assert reasons(net, "A", "B", "2024-03-08 10:00")[0]["next_departure"] == "2024-03-11T08:00:00+01:00"


def test_destination_not_served_before_an_arrive_by_time(tmp_path):
    net = build_network(tmp_path, feed(
        "R1,S,T1\nR2,S,T2",
        "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\nT2,06:00:00,06:00:00,A,1\nT2,06:30:00,06:30:00,C,2",
    ))
    assert why(net, "A", "B", "2024-03-04 08:10", arrive_by=True, search_horizon_s=6 * 3600) == [
        "destination_not_served: No trip reaches Bravo in the 6 h before Mon 2024-03-04 at 08:10; the next arrival is 08:20."
    ]


def test_no_journey_within_max_transfers_says_how_many_are_needed(tmp_path):
    net = build_network(tmp_path, feed(
        "R1,S,T1\nR2,S,T2\nR3,S,T3",
        "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\nT2,08:30:00,08:30:00,B,1\nT2,08:50:00,08:50:00,C,2\n"
        "T3,09:00:00,09:00:00,C,1\nT3,09:20:00,09:20:00,D,2",
    ))
    assert why(net, "A", "D", "2024-03-04 07:50", max_transfers=1) == [
        "max_transfers_exceeded: No journey with at most 1 transfer; the fewest needed is 2 "
        "(leaving 08:00, arriving 09:20)."
    ]
    assert reasons(net, "A", "D", "2024-03-04 07:50", max_transfers=0)[0]["transfers_needed"] == 2


INACCESSIBLE = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
STN,Station,45.00,4.00,1,,1
A1,Station quai 1,45.00,4.00,0,STN,
A2,Station quai 2,45.0001,4.0001,0,STN,2
B,Bravo,45.10,4.00,0,,1
trips.txt
route_id,service_id,trip_id,wheelchair_accessible
R1,S,T1,2
R2,S,T3,1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A1,1
T1,08:20:00,08:20:00,B,2
T3,08:30:00,08:30:00,A2,1
T3,08:50:00,08:50:00,B,2
"""


def test_no_accessible_route_names_the_inaccessible_trip(tmp_path):
    net = build_network(tmp_path, INACCESSIBLE)
    assert why(net, "STN", "B", "2024-03-04 07:55", wheelchair=True) == [
        "no_accessible_route: No wheelchair-accessible journey: the 08:00 R1 from Station quai 1 is not "
        "wheelchair accessible."
    ]
    (r,) = reasons(net, "STN", "B", "2024-03-04 07:55", wheelchair=True)
    assert r["blocking_trips"] == [{"trip_id": "t:T1", "route": "R1", "departure": "2024-03-04T08:00:00+01:00",
                                    "from": {"id": "t:A1", "name": "Station quai 1"}}]
    assert r["blocking_stops"] == []


def test_no_accessible_route_names_the_inaccessible_stop(tmp_path):
    net = build_network(tmp_path, INACCESSIBLE)
    assert why(net, "STN", "B", "2024-03-04 08:05", wheelchair=True) == [
        "no_accessible_route: No wheelchair-accessible journey: Station quai 2 (at the origin) has no wheelchair boarding."
    ]
    (r,) = reasons(net, "STN", "B", "2024-03-04 08:05", wheelchair=True)
    assert (r["blocking_stops"], r["blocking_trips"]) == ([{"id": "t:A2", "name": "Station quai 2"}], [])


def test_no_connection_when_nothing_more_specific_holds(tmp_path):
    net = build_network(tmp_path, feed(
        "R1,S,T1\nR2,S,T2",
        "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\nT2,08:30:00,08:30:00,C,1\nT2,08:50:00,08:50:00,D,2",
    ))
    assert why(net, "A", "D", "2024-03-04 07:50") == [
        "no_connection: No journey connects Alpha to Delta, even with up to 10 transfers, over the 7 days searched."
    ]


def test_a_wheelchair_journey_says_which_trip_it_avoided(tmp_path):
    # T1 (08:00, not accessible) would arrive at 08:20; the accessible T2 leaves at 09:00
    net = build_network(tmp_path, WHEELCHAIR_FEED)
    request = PlanRequest(place(net, "STN"), place(net, "B"), local_ts("2024-03-04 07:55"), wheelchair=True)
    result = plan(net.timetable, request)
    explanation = explain(net, request, result, None)
    assert explanation.reasons == []
    (constraints,) = explanation.constraints
    assert [c["message"] for c in constraints] == [
        "The 08:00 R1 from A1 is not wheelchair accessible; this journey leaves 1 h 00 later and arrives 1 h 00 later."
    ]
    c = constraints[0]
    assert (c["code"], c["departure_delta_s"], c["arrival_delta_s"]) == ("inaccessible_avoided", 3600, 3600)
    assert c["avoided_departure"] == "2024-03-04T08:00:00+01:00"


def test_a_wheelchair_journey_that_avoided_nothing_has_no_constraint(tmp_path):
    net = build_network(tmp_path, WHEELCHAIR_FEED)
    request = PlanRequest(place(net, "STN"), place(net, "B"), local_ts("2024-03-04 08:35"), wheelchair=True)
    result = plan(net.timetable, request)
    assert explain(net, request, result, None).constraints == [[]]


def test_a_stop_only_reached_on_foot_is_served(tmp_path):
    # no trip stops at C2, 12 m from C: the answer is empty because of max_transfers, not C2
    stops = STOPS + "C2,Charlie opposite,45.2001,4.00,1\n"
    net = build_network(tmp_path, (stops + CALENDAR + "trips.txt\nroute_id,service_id,trip_id\nR1,S,T1\nR2,S,T2\n"
                                   "stop_times.txt\ntrip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                                   "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\n"
                                   "T2,08:30:00,08:30:00,B,1\nT2,08:50:00,08:50:00,C,2"))
    assert [r["code"] for r in reasons(net, "A", "C2", "2024-03-04 07:50", max_transfers=0)] == ["max_transfers_exceeded"]
    # nothing leaves C2, nor C (the line ends there)
    assert why(net, "C2", "A", "2024-03-04 07:50") == [
        "no_service_on_date: No trip serves Charlie opposite on Mon 2024-03-04; none does later."
    ]


def test_arrive_by_without_accessible_route_names_the_stop(tmp_path):
    # arriving by 08:55 the only journeys are T1 (trip not accessible) and T3 (platform A2 not accessible)
    net = build_network(tmp_path, WHEELCHAIR_FEED)
    assert why(net, "STN", "B", "2024-03-04 08:55", arrive_by=True, wheelchair=True, search_horizon_s=3 * 3600) == [
        "no_accessible_route: No wheelchair-accessible journey: A2 (at the origin) has no wheelchair boarding."
    ]


def test_a_journey_within_max_transfers_says_what_more_transfers_would_gain(tmp_path):
    # the direct R3 is slow; with two changes (R1, R2, R3 chain via B and C) D is reached at 09:20
    net = build_network(tmp_path, feed(
        "R1,S,T1\nR2,S,T2\nR3,S,T3\nR3,S,T4",
        "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\nT2,08:30:00,08:30:00,B,1\nT2,08:50:00,08:50:00,C,2\n"
        "T3,09:00:00,09:00:00,C,1\nT3,09:20:00,09:20:00,D,2\nT4,08:00:00,08:00:00,A,1\nT4,10:30:00,10:30:00,D,2",
    ))
    request = PlanRequest(place(net, "A"), place(net, "D"), local_ts("2024-03-04 07:50"), max_transfers=1)
    result = plan(net.timetable, request)
    assert [(j.transfers, j.duration_s) for j in result.journeys] == [(0, 9000)]
    (constraints,) = explain(net, request, result, None).constraints
    assert [f"{c['code']}: {c['message']}" for c in constraints] == [
        "max_transfers_avoided: A journey with 2 transfers, leaving 08:00 and arriving 09:20, is over the limit of "
        "1 transfer; this journey leaves at the same time and arrives 1 h 10 later."
    ]
    assert constraints[0]["transfers_needed"] == 2
    # at the default max_transfers the request is not constrained: nothing to say
    free = PlanRequest(place(net, "A"), place(net, "D"), local_ts("2024-03-04 07:50"))
    assert explain(net, free, plan(net.timetable, free), None).constraints == [[], []]  # both Pareto journeys


def test_a_window_with_no_departure_says_when_the_next_journey_leaves(tmp_path):
    net = build_network(tmp_path, feed("R1,S,T1", "T1,10:00:00,10:00:00,A,1\nT1,10:20:00,10:20:00,B,2"))
    assert why(net, "A", "B", "2024-03-04 07:00", window_s=3600) == [
        "none_in_window: No journey from Alpha to Bravo leaves between 07:00 and 08:00; the next one leaves 10:00."
    ]
    assert why(net, "A", "B", "2024-03-04 12:00", arrive_by=True, window_s=3600) == [
        "none_in_window: No journey from Alpha to Bravo arrives between 11:00 and 12:00; "
        "the latest one before arrives 10:20."
    ]


def test_no_accessible_route_on_a_later_day(tmp_path):
    # Saturday: A -> B runs on weekdays only, and its one trip is not wheelchair accessible
    text = feed("R1,W,T1\nR2,S,T2\nR3,S,T3",
                "T1,08:00:00,08:00:00,A,1\nT1,08:20:00,08:20:00,B,2\n"
                "T2,09:00:00,09:00:00,C,1\nT2,09:20:00,09:20:00,B,2\n"
                "T3,09:00:00,09:00:00,A,1\nT3,09:20:00,09:20:00,D,2")
    text = text.replace("trips.txt\nroute_id,service_id,trip_id\nR1,W,T1\nR2,S,T2\nR3,S,T3",
                        "trips.txt\nroute_id,service_id,trip_id,wheelchair_accessible\nR1,W,T1,2\nR2,S,T2,1\nR3,S,T3,1")
    net = build_network(tmp_path, text)
    assert why(net, "A", "B", "2024-03-09 07:00", wheelchair=True) == [
        "no_accessible_route: No wheelchair-accessible journey: the Mon 2024-03-11 08:00 R1 from Alpha is not "
        "wheelchair accessible."
    ]


def test_an_arrive_by_wheelchair_journey_says_it_leaves_earlier(tmp_path):
    # arriving by 08:30: the 08:00 T1 is not accessible, the accessible T0 leaves at 07:00
    text = INACCESSIBLE.replace("R1,S,T1,2\n", "R1,S,T1,2\nR1,S,T0,1\n").replace(
        "T1,08:00:00,08:00:00,A1,1\n", "T0,07:00:00,07:00:00,A1,1\nT0,07:20:00,07:20:00,B,2\nT1,08:00:00,08:00:00,A1,1\n")
    net = build_network(tmp_path, text)
    request = PlanRequest(place(net, "STN"), place(net, "B"), local_ts("2024-03-04 08:30"), arrive_by=True,
                          wheelchair=True)
    result = plan(net.timetable, request)
    assert [c["message"] for cs in explain(net, request, result, None).constraints for c in cs] == [
        "The 08:00 R1 from Station quai 1 is not wheelchair accessible; this journey leaves 1 h 00 earlier and "
        "arrives 1 h 00 earlier."
    ]
