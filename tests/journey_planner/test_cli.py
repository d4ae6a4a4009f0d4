"""The `plan` command: single query, batch CSV in input order, realtime .pb applied (stable JSON contract)."""

from __future__ import annotations

import json

from google.transit import gtfs_realtime_pb2

from journey_planner.cli import main
from oura.cli import resolve_realtime_files
from tests.journey_planner._data import local_ts, write_feed
from tests.journey_planner.moduletests.test_a06_transfers_txt import BASE


def run_cli(capsys, *args: str) -> list[dict]:
    assert main(["plan", *args], resolve_realtime=resolve_realtime_files) == 0  # as `oura plan` runs it
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_single_query_contract(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    [out] = run_cli(capsys, "--gtfs", f"t={feed}", "--from", "t:A", "--to", "t:C",
                    "--at", "2024-03-04T07:55:00+01:00", "--cache-dir", str(tmp_path / "cache"))
    assert set(out) == {"from", "to", "at", "elapsed_ms", "journeys"}
    j = out["journeys"][0]
    assert (j["departure"], j["arrival"], j["transfers"]) == ("2024-03-04T08:00:00+01:00", "2024-03-04T08:25:00+01:00", 1)
    assert [(leg["mode"], leg["from"], leg["to"], leg["trip_id"], leg["route_id"]) for leg in j["legs"]] == [
        ("transit", "t:A", "t:B", "t:T1", "t:R1"),
        ("transit", "t:B", "t:C", "t:T2", "t:R2"),
    ]
    assert out["elapsed_ms"] >= 0


def test_batch_keeps_input_order_and_arrive_by(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    csv = tmp_path / "q.csv"
    csv.write_text("from,to,at,arrive_by\n"
                   "t:A,t:C,2024-03-04T07:55:00+01:00,\n"
                   "t:B,t:C,2024-03-04T08:20:00+01:00,\n"
                   "t:A,t:C,2024-03-04T09:00:00+01:00,1\n"
                   "t:NOPE,t:C,2024-03-04T08:00:00+01:00,\n")
    rows = run_cli(capsys, "--gtfs", f"t={feed}", "--queries", str(csv), "--no-cache", "--transfer-slack", "60")
    assert [r["from"] for r in rows] == ["t:A", "t:B", "t:A", "t:NOPE"]
    assert rows[0]["journeys"][0]["arrival"] == "2024-03-04T08:25:00+01:00"
    assert rows[1]["journeys"][0]["departure"] == "2024-03-04T08:45:00+01:00"
    # arrive by 09:00: leaves as late as it can (08:00), then arrives as early as it can (08:25, not 08:55)
    assert (rows[2]["journeys"][0]["departure"], rows[2]["journeys"][0]["arrival"]) == (
        "2024-03-04T08:00:00+01:00", "2024-03-04T08:25:00+01:00")
    assert rows[3]["journeys"] == [] and "error" in rows[3]


def test_realtime_file_is_applied(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = local_ts("2024-03-04 07:50")
    entity = message.entity.add(id="e1")
    entity.trip_update.trip.trip_id = "T3"
    entity.trip_update.trip.start_date = "20240304"
    stu = entity.trip_update.stop_time_update.add(stop_sequence=1)
    stu.departure.delay = -1800  # 07:35 instead of 08:05
    stu = entity.trip_update.stop_time_update.add(stop_sequence=2)
    stu.arrival.delay = -4200  # 08:20 instead of 09:30
    pb = tmp_path / "tu.pb"
    pb.write_bytes(message.SerializeToString())
    [out] = run_cli(capsys, "--gtfs", f"t={feed}", "--realtime", str(pb), "--from", "t:A", "--to", "t:C",
                    "--at", "2024-03-04T07:30:00+01:00", "--no-cache")
    j = out["journeys"][0]
    assert (j["departure"], j["arrival"], j["transfers"]) == ("2024-03-04T07:35:00+01:00", "2024-03-04T08:20:00+01:00", 0)
