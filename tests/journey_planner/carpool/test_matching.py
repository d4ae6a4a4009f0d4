"""Carpool matching (journey_planner.carpool.matching): hand-made cases with a known optimum, every
unserved reason, the independent route checker, and the model against the greedy baseline.

The cases run on a line: a planar travel time where 0.01 degree is 60 s (`LINE`), no stop time,
the driver going from latitude 0 to 0.5 (3000 s) leaving at T, with the 900 s default budget.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from journey_planner.carpool.matching import (
    DriverOffer,
    MatchingInputError,
    PassengerRequest,
    RouteProblemKind,
    UnservedReason,
    match,
    match_greedy,
    straight_line_travel_time,
    verify_routes,
)

T = 1_750_000_000


def LINE(lat1, lon1, lat2, lon2):
    return np.hypot(np.asarray(lat2) - lat1, np.asarray(lon2) - lon1) * 6000.0


def driver(seats=3, offer_id="d", departure=T, end=0.5, budget=900):
    return DriverOffer(offer_id, 0.0, 0.0, end, 0.0, departure, seats, budget)


def rider(request_id, pickup, drop, ready=None, waiting=600, latest=None, seats=1):
    ready = T + round(pickup * 6000) if ready is None else ready
    return PassengerRequest(request_id, pickup, 0.0, drop, 0.0, ready, waiting, latest, seats)


def run(requests, offers):
    result = match(requests, offers, travel_time=LINE, stop_s=0, time_limit_s=5)
    assert verify_routes(result.routes, requests, offers, travel_time=LINE, stop_s=0) == []
    greedy = match_greedy(requests, offers, travel_time=LINE, stop_s=0)
    assert verify_routes(greedy.routes, requests, offers, travel_time=LINE, stop_s=0) == []
    assert result.served_passengers >= greedy.served_passengers
    served = set(result.assignments)
    assert served | {u.request_id for u in result.unserved} == {r.request_id for r in requests}
    assert not served & {u.request_id for u in result.unserved}
    return result


def reasons(result):
    return {u.request_id: (u.reason, u.missed_by) for u in result.unserved}


def test_a_detour_at_the_budget_is_served_one_second_over_is_not():
    # dropping past the destination and coming back: detour = 2 x the overshoot
    result = run([rider("at", 0.1, 0.575), rider("over", 0.1, 0.5751)], [driver(seats=1, offer_id="a"),
                                                                             driver(seats=1, offer_id="b")])
    assert result.assignments.keys() == {"at"}
    # 0.0001 degree further is 0.6 s each way, rounded to a second each: 2 s over
    assert reasons(result) == {"over": (UnservedReason.DETOUR_OVER_BUDGET, 2)}
    assert result.max_detour_s == 900


def test_the_waiting_limit():
    # the car reaches latitude 0.2 at T + 1200; the passenger is ready at T + 600
    on_time = rider("on-time", 0.2, 0.3, ready=T + 600, waiting=600)
    late = rider("late", 0.2, 0.3, ready=T + 600, waiting=599)
    result = run([on_time, late], [driver(seats=1, offer_id="a"), driver(seats=1, offer_id="b")])
    assert result.assignments.keys() == {"on-time"}
    assert reasons(result) == {"late": (UnservedReason.PICKUP_AFTER_WAITING_LIMIT, 1)}


def test_a_driver_too_early_and_a_latest_arrival():
    too_early = rider("early", 0.1, 0.3, ready=T + 600 + 901)  # the car would wait 901 s > 900 s
    latest = rider("latest", 0.1, 0.3, latest=T + 1799)  # dropped at T + 1800
    result = run([too_early, latest], [driver()])
    assert result.served_requests == 0
    assert reasons(result) == {"early": (UnservedReason.DRIVER_WAIT_OVER_BUDGET, 1),
                               "latest": (UnservedReason.ARRIVAL_AFTER_LATEST, 1)}


def test_no_offer_with_the_seats_and_no_offers():
    result = run([rider("three", 0.1, 0.3, seats=3)], [driver(seats=2)])
    assert reasons(result) == {"three": (UnservedReason.NO_OFFER_WITH_SEATS, 1)}
    assert reasons(run([rider("alone", 0.1, 0.3)], [])) == {"alone": (UnservedReason.NO_OFFER_WITH_SEATS, 1)}


@pytest.mark.parametrize("seats, served", [(1, 1), (2, 2)])
def test_two_passengers_same_trip_share_a_car_when_it_has_two_seats(seats, served):
    result = run([rider("p", 0.1, 0.4), rider("q", 0.1, 0.4)], [driver(seats=seats)])
    assert result.served_requests == served
    if seats == 1:
        [unserved] = result.unserved
        assert unserved.reason is UnservedReason.SEATS_TAKEN and unserved.offer_id == "d"
    else:
        [route] = result.routes
        assert [s.kind.value for s in route.stops] == ["pickup", "pickup", "drop_off", "drop_off"]
        assert route.detour_s == 0


def test_one_seat_serves_two_passengers_one_after_the_other():
    result = run([rider("first", 0.1, 0.2), rider("second", 0.3, 0.4)], [driver(seats=1)])
    assert result.served_requests == 2 and result.status == "optimal"


def test_a_two_seat_passenger_counts_twice():
    # one car, two seats: the pair of seats beats the single passenger
    result = run([rider("one", 0.1, 0.4), rider("two", 0.1, 0.4, seats=2)], [driver(seats=2)])
    assert result.assignments.keys() == {"two"} and result.served_passengers == 2


def test_the_model_beats_greedy_where_greedy_takes_the_wrong_passenger():
    # greedy places the earliest request first (one seat, the long ride), which blocks both
    # short rides; the model serves the two short ones
    requests = [rider("long", 0.05, 0.45, ready=T + 300), rider("a", 0.1, 0.2), rider("b", 0.3, 0.4)]
    greedy = match_greedy(requests, [driver(seats=1)], travel_time=LINE, stop_s=0)
    result = run(requests, [driver(seats=1)])
    assert greedy.served_passengers == 1 and result.served_passengers == 2
    assert result.baseline_passengers == 1


def _random_batch(seed, n_requests=150, n_offers=50):
    rng = np.random.default_rng(seed)
    lat0, lon0 = 44.93, 4.89  # around Valence
    def point():
        return lat0 + rng.normal(0, 0.08), lon0 + rng.normal(0, 0.08)
    requests, offers = [], []
    for i in range(n_requests):
        (a, b), (c, d) = point(), point()
        requests.append(PassengerRequest(f"r{i}", a, b, c, d, T + int(rng.integers(0, 5400)),
                                         int(rng.choice([300, 600, 900])),
                                         None if rng.random() < 0.5 else T + 9000, int(rng.choice([1, 1, 1, 2]))))
    for i in range(n_offers):
        (a, b), (c, d) = point(), point()
        offers.append(DriverOffer(f"o{i}", a, b, c, d, T + int(rng.integers(0, 5400)), int(rng.integers(1, 5))))
    return requests, offers


def test_model_at_least_greedy_on_a_seeded_random_batch_and_every_route_checks():
    requests, offers = _random_batch(7)
    greedy = match_greedy(requests, offers)
    result = match(requests, offers, time_limit_s=8)
    assert result.served_passengers >= greedy.served_passengers > 0
    assert result.baseline_passengers == greedy.served_passengers
    for answer in (greedy, result):
        assert verify_routes(answer.routes, requests, offers) == []
        assert all(r.detour_s <= r.detour_budget_s for r in answer.routes)
    assert {u.reason for u in result.unserved} <= set(UnservedReason)


def test_the_verifier_rejects_hand_broken_routes():
    requests = [rider("p", 0.1, 0.4), rider("q", 0.1, 0.4)]
    offers = [driver(seats=2)]
    [route] = run(requests, offers).routes
    check = lambda routes: {p.kind for p in verify_routes(routes, requests, offers, travel_time=LINE, stop_s=0)}
    stops = list(route.stops)
    faster = dataclasses.replace(stops[2], time_s=stops[2].time_s - 1)
    assert RouteProblemKind.TOO_FAST in check([dataclasses.replace(route, stops=tuple(stops[:2] + [faster] + stops[3:]))])
    assert RouteProblemKind.NOT_DROPPED in check([dataclasses.replace(route, stops=tuple(stops[:3]))])
    one_seat = verify_routes([route], requests, [driver(seats=1)], travel_time=LINE, stop_s=0)
    assert RouteProblemKind.OVER_SEATS in {p.kind for p in one_seat}
    assert RouteProblemKind.WRONG_DETOUR in check([dataclasses.replace(route, detour_s=route.detour_s - 1)])
    late = dataclasses.replace(route, arrival_s=route.arrival_s + 901, detour_s=route.detour_s + 901)
    assert RouteProblemKind.DETOUR_OVER_BUDGET in check([late])
    swapped = tuple([stops[2]] + stops[:2] + stops[3:])
    assert RouteProblemKind.DROP_BEFORE_PICKUP in check([dataclasses.replace(route, stops=swapped)])
    assert RouteProblemKind.SERVED_TWICE in check([route, dataclasses.replace(route, offer_id="d")])
    assert RouteProblemKind.UNKNOWN_OFFER in check([dataclasses.replace(route, offer_id="nobody")])
    assert RouteProblemKind.WRONG_DEPARTURE in check([dataclasses.replace(route, departure_s=T - 60)])
    assert check([route]) == set()


def test_bad_input_is_refused():
    with pytest.raises(MatchingInputError):
        match([rider("p", 0.1, 0.2), rider("p", 0.1, 0.2)], [driver()], travel_time=LINE)
    with pytest.raises(MatchingInputError):
        match([rider("p", 91.0, 0.2)], [driver()], travel_time=LINE)


def test_the_default_travel_time_is_haversine_times_detour_at_speed():
    tt = straight_line_travel_time(detour_factor=1.3, speed_kmh=50.0)
    p1, p2, dl = math.radians(44.9282), math.radians(44.5605), math.radians(4.7442 - 4.8935)
    km = 6371.0088 * math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl))
    assert 42 < km < 43  # Valence -> Montélimar as the crow flies
    assert float(tt(44.9282, 4.8935, 44.5605, 4.7442)) == pytest.approx(km * 1.3 / 50 * 3600, rel=1e-9)


def test_the_matching_modules_stay_pure():
    allowed = {"__future__", "collections", "dataclasses", "enum", "itertools", "math", "time", "numpy", "ortools"}
    root = Path(__file__).resolve().parents[3] / "journey_planner" / "carpool"
    for path in sorted(root.glob("matching*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    names = [node.module] if node.module else [a.name for a in node.names]
                    assert all(n.startswith("matching") for n in names), (path.name, names)
                    continue
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed | set(sys.stdlib_module_names) - {"asyncio", "socket"}, \
                    (path.name, name)


def test_routes_capped_still_checked_and_never_below_greedy(monkeypatch):
    from journey_planner.carpool import matching_model

    requests, offers = _random_batch(11)
    greedy = match_greedy(requests, offers)
    monkeypatch.setattr(matching_model, "MAX_COLUMNS_PER_DRIVER", 1)  # one route per driver at most, then the hint's
    result = match(requests, offers, time_limit_s=8)
    assert result.status == "feasible" and result.stats["complete"] is False
    assert result.served_passengers >= greedy.served_passengers > 0
    assert verify_routes(result.routes, requests, offers) == []
