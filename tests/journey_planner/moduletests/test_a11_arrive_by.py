"""FEATURE UNDER TEST: arrive-by returns the latest departures arriving by the given time."""

from tests.journey_planner._data import build_network, local_ts, render, run
from tests.journey_planner.moduletests.test_a06_transfers_txt import BASE


def test_latest_departure_arriving_by(tmp_path):
    net = build_network(tmp_path, BASE)
    result = run(net, "A", "C", "2024-03-04 09:00", arrive_by=True, transfer_slack_s=120)
    # leaves as late as it can (08:00), then arrives as early as it can for that departure (08:25, not 08:55)
    assert render(net, result) == "R1 A 08:00 -> B 08:10 | R2 B 08:15 -> C 08:25 (0:25, 1 transfer)"
    assert result.journeys[0].arrival_s <= local_ts("2024-03-04 09:00")


def test_arrive_by_direct_trip_dominates_an_earlier_departure_with_a_change(tmp_path):
    # R3 leaves later than R1 (08:05 > 08:00) with no change: the R1+R2 journey is dominated
    net = build_network(tmp_path, BASE)
    result = run(net, "A", "C", "2024-03-04 09:40", arrive_by=True, transfer_slack_s=120)
    assert render(net, result) == "R3 A 08:05 -> C 09:30 (1:25, 0 transfers)"


def test_arrive_by_respects_slack(tmp_path):
    net = build_network(tmp_path, BASE)
    result = run(net, "A", "C", "2024-03-04 08:30", arrive_by=True, transfer_slack_s=600, search_horizon_s=6 * 3600)
    assert result.journeys == ()
