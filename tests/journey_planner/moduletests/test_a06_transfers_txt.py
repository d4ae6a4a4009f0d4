"""FEATURE UNDER TEST: transfers.txt wins: type 3 forbids a change, type 2 sets its minimum time."""

from tests.journey_planner._data import build_network, render, run

BASE = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
R2,S,T2b
R3,S,T3
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T2,08:15:00,08:15:00,B,1
T2,08:25:00,08:25:00,C,2
T2b,08:45:00,08:45:00,B,1
T2b,08:55:00,08:55:00,C,2
T3,08:05:00,08:05:00,A,1
T3,09:30:00,09:30:00,C,2
"""


def test_change_at_b_with_default_slack(tmp_path):
    net = build_network(tmp_path, BASE)
    out = render(net, run(net, "A", "C", "2024-03-04 07:55", transfer_slack_s=120))
    assert out.splitlines()[0] == "R1 A 08:00 -> B 08:10 | R2 B 08:15 -> C 08:25 (0:25, 1 transfer)"


def test_transfer_type_3_forbids_the_change(tmp_path):
    feed = BASE + "transfers.txt\nfrom_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,3,\n"
    net = build_network(tmp_path, feed)
    assert render(net, run(net, "A", "C", "2024-03-04 07:55")) == "R3 A 08:05 -> C 09:30 (1:25, 0 transfers)"


def test_transfer_type_2_min_time_misses_the_first_connection(tmp_path):
    feed = BASE + "transfers.txt\nfrom_stop_id,to_stop_id,transfer_type,min_transfer_time\nB,B,2,600\n"
    net = build_network(tmp_path, feed)
    out = render(net, run(net, "A", "C", "2024-03-04 07:55", transfer_slack_s=0))
    assert out.splitlines()[0] == "R1 A 08:00 -> B 08:10 | R2 B 08:45 -> C 08:55 (0:55, 1 transfer)"


def test_request_slack_applies_where_transfers_txt_is_silent(tmp_path):
    net = build_network(tmp_path, BASE)
    out = render(net, run(net, "A", "C", "2024-03-04 07:55", transfer_slack_s=360))
    assert out == (
        "R1 A 08:00 -> B 08:10 | R2 B 08:45 -> C 08:55 (0:55, 1 transfer)\n"
        "R3 A 08:05 -> C 09:30 (1:25, 0 transfers)"
    )
