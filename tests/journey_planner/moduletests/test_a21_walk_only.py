"""FEATURE UNDER TEST: a walk-only journey when walking is competitive (journey_planner.walk_only).

The Chambéry case: the station G and the centre C are 700 m apart (910 m of walking at the 1.3
detour factor, 12 min 39 s at 1.2 m/s); the bus from G leaves at 08:21. Walking is proposed
first and the bus stays (its ride is shorter); a bus slower than walking is dropped; a walk
longer than max_walk_only_m, or one arriving more than the margin after the bus, is not proposed.
"""

import numpy as np

from journey_planner.core import PlanRequest, PlanResult, plan
from journey_planner.core.timetable import reverse_timetable
from journey_planner.journey_pages import Page
from journey_planner.places import WalkingRules, distances_m, place_point
from journey_planner.walk_only import walk_only_journey, with_walk_only
from tests.journey_planner._data import build_network, local_ts, place, render

# 0.0063 degrees of latitude is 700.5 m; F is 3 km north of G
FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
G,Chambéry Gare,45.5700,5.9200
C,Chambéry Centre,45.5763,5.9200
F,Far,45.5970,5.9200
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
R3,S,T3
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:21:00,08:21:00,G,1
T1,08:27:00,08:27:00,C,2
T2,08:01:00,08:01:00,G,1
T2,08:40:00,08:40:00,C,2
T3,08:30:00,08:30:00,G,1
T3,08:40:00,08:40:00,F,2
"""


def answer(net, frm: str, to: str, at: str, *, arrive_by: bool = False, rules: WalkingRules = WalkingRules()) -> str:
    """The core's journeys with the walk-only rules applied, rendered; num 5."""
    origin, destination = place(net, frm), place(net, to)
    page = Page(local_ts(at), arrive_by, 0)
    reversed_tt = reverse_timetable(net.timetable) if arrive_by else None
    result = plan(net.timetable, PlanRequest(origin, destination, page.time_s, arrive_by=arrive_by), reversed_tt)
    a = place_point(net, origin, f"t:{frm}")
    b = place_point(net, destination, f"t:{to}")
    straight = float(distances_m(np.array([b[0]]), np.array([b[1]]), a[0], a[1])[0])
    walk = walk_only_journey(page, straight, rules)
    chosen, _ = with_walk_only(result.journeys, walk, arrive_by, rules, 5)
    return render(net, PlanResult(tuple(chosen), 0, 0))


def test_walking_is_proposed_before_a_bus_that_makes_you_wait(tmp_path):
    net = build_network(tmp_path, FEED.replace("T2,08:01:00,08:01:00,G,1\nT2,08:40:00,08:40:00,C,2\n", ""))
    assert answer(net, "G", "C", "2024-03-04 08:00") == (
        "walk place -> place 12m (0:12, 0 transfers)\n"
        "R1 G 08:21 -> C 08:27 (0:06, 0 transfers)"
    )


def test_a_ride_slower_than_walking_is_dropped(tmp_path):
    # T2 leaves at 08:01 and takes 39 min for 700 m: walking, leaving with it, arrives earlier
    net = build_network(tmp_path, FEED.replace("T1,08:21:00,08:21:00,G,1\nT1,08:27:00,08:27:00,C,2\n", ""))
    assert answer(net, "G", "C", "2024-03-04 08:00") == "walk place -> place 12m (0:12, 0 transfers)"


def test_no_walk_beyond_the_walk_only_maximum(tmp_path):
    net = build_network(tmp_path, FEED)
    assert answer(net, "G", "F", "2024-03-04 08:00") == "R3 G 08:30 -> F 08:40 (0:10, 0 transfers)"
    # the same trip with a 5 km maximum: walking 3.9 km (54 min) arrives 08:54, not within 5 min of 08:40
    assert answer(net, "G", "F", "2024-03-04 08:00", rules=WalkingRules(max_walk_only_m=5000)) == (
        "R3 G 08:30 -> F 08:40 (0:10, 0 transfers)"
    )


def test_no_walk_arriving_more_than_the_margin_after_the_bus(tmp_path):
    net = build_network(tmp_path, FEED.replace("08:21:00,08:21:00,G", "08:00:00,08:00:00,G")
                        .replace("08:27:00,08:27:00,C", "08:04:00,08:04:00,C"))
    # the bus arrives 08:04, walking 08:12:39: more than 5 min later
    assert answer(net, "G", "C", "2024-03-04 07:59") == "R1 G 08:00 -> C 08:04 (0:04, 0 transfers)"
    assert answer(net, "G", "C", "2024-03-04 07:59", rules=WalkingRules(walk_only_margin_s=600)) == (
        "R1 G 08:00 -> C 08:04 (0:04, 0 transfers)\n"
        "walk place -> place 12m (0:12, 0 transfers)"
    )


def test_arrive_by_walks_as_late_as_it_can(tmp_path):
    net = build_network(tmp_path, FEED.replace("T2,08:01:00,08:01:00,G,1\nT2,08:40:00,08:40:00,C,2\n", ""))
    # arriving by 08:40 on foot means leaving at 08:27:21, later than the 08:21 bus
    assert answer(net, "G", "C", "2024-03-04 08:40", arrive_by=True) == (
        "walk place -> place 12m (0:12, 0 transfers)\n"
        "R1 G 08:21 -> C 08:27 (0:06, 0 transfers)"
    )


def test_walk_only_at_night_not_the_bus_of_the_next_morning(tmp_path):
    net = build_network(tmp_path, FEED)
    # the 08:21 bus of the next day arrives 9 h after walking (more than max(1 h, the walk) later)
    assert answer(net, "G", "C", "2024-03-04 23:00") == "walk place -> place 12m (0:12, 0 transfers)"


def test_the_walk_leg_is_place_to_place_with_detour_distance(tmp_path):
    rules = WalkingRules()
    journey = walk_only_journey(Page(local_ts("2024-03-04 08:00"), False, 0), 700.0, rules)
    leg = journey.legs[0]
    assert (leg.from_stop, leg.to_stop, leg.distance_m, leg.duration_s) == (-1, -1, 910.0, 759)
    assert journey.arrival_s - journey.departure_s == 759
    assert walk_only_journey(Page(0, False, 0), 1600.0, rules) is None  # 2080 m of walking > 2 km

