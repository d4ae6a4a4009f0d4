"""The `plan` command: single query, batch CSV in input order, realtime .pb applied (stable JSON contract)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from google.transit import gtfs_realtime_pb2

from journey_planner.cli import main
from oura.cli import resolve_realtime_files
from tests.conftest import require_shared_data
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


# --- GTFS-realtime conformance (issue 13): malformed files, feed binding, report, alerts, --now -------------

AT = "2024-03-04T07:55:00+01:00"


def run_cli_status(capsys, *args: str) -> tuple[int, list[dict], str]:
    """(exit code, one JSON per stdout line, stderr) of `oura plan ...`."""
    code = main(["plan", *args], resolve_realtime=resolve_realtime_files)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def rt_file(path, entities, timestamp: int | None = local_ts("2024-03-04 07:50")) -> str:
    """Write a FeedMessage with ``entities`` (callables filling a FeedEntity) to ``path``."""
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    if timestamp is not None:
        message.header.timestamp = timestamp
    for i, fill in enumerate(entities):
        fill(message.entity.add(id=f"e{i + 1}"))
    path.write_bytes(message.SerializeToString())
    return str(path)


def cancel(trip_id: str, start_date: str | None = "20240304"):
    def fill(entity) -> None:
        entity.trip_update.trip.trip_id = trip_id
        if start_date:
            entity.trip_update.trip.start_date = start_date
        entity.trip_update.trip.schedule_relationship = gtfs_realtime_pb2.TripDescriptor.CANCELED
    return fill


def first_journey(row: dict) -> tuple[str, str, int]:
    j = row["journeys"][0]
    return j["departure"][11:16], j["arrival"][11:16], j["transfers"]


def test_unusable_realtime_file_is_one_line_error_and_exit_2(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    good = rt_file(tmp_path / "good.pb", [cancel("T1")])
    cases = {
        "empty": b"",
        "html": b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>",
        "truncated": (tmp_path / "good.pb").read_bytes()[:-5],
    }
    for name, payload in cases.items():
        (tmp_path / f"{name}.pb").write_bytes(payload)
    for name in (*cases, "missing"):
        code, rows, err = run_cli_status(capsys, "--gtfs", f"t={feed}", "--realtime", str(tmp_path / f"{name}.pb"),
                                         "--from", "t:A", "--to", "t:C", "--at", AT, "--no-cache")
        assert (code, rows) == (2, []), name
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith("oura plan: error: --realtime ") and f"{name}.pb" in err
    code, rows, _ = run_cli_status(capsys, "--gtfs", f"t={feed}", "--alerts", good + ".nope",
                                   "--from", "t:A", "--to", "t:C", "--at", AT, "--no-cache")
    assert (code, rows) == (2, [])


def test_realtime_is_bound_to_its_feed(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    far = write_feed(tmp_path / "far", BASE.replace(",45.", ",46."))  # same ids, no footpath between feeds
    pb = rt_file(tmp_path / "cancel.pb", [cancel("T1")])
    common = ["--gtfs", f"a={feed}", "--gtfs", f"b={far}", "--at", AT, "--no-cache"]
    code, [in_a], _ = run_cli_status(capsys, *common, "--realtime", f"a={pb}", "--from", "a:A", "--to", "a:C")
    assert code == 0 and first_journey(in_a) == ("08:05", "09:30", 0)  # T1 cancelled in a
    code, [in_b], _ = run_cli_status(capsys, *common, "--realtime", f"a={pb}", "--from", "b:A", "--to", "b:C")
    assert code == 0 and first_journey(in_b) == ("08:00", "08:25", 1)  # b's T1 is another trip
    code, rows, err = run_cli_status(capsys, *common, "--realtime", pb, "--from", "a:A", "--to", "a:C")
    assert (code, rows) == (2, []) and "name the feed" in err and "NAME=PATH" in err
    code, rows, err = run_cli_status(capsys, *common, "--realtime", f"c={pb}", "--from", "a:A", "--to", "a:C")
    assert (code, rows) == (2, []) and "no loaded feed named 'c'" in err


def test_realtime_report_lists_rejected_entities_on_stderr(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)

    def impostor(entity) -> None:  # a NEW trip reusing the static trip_id T1
        entity.trip_update.trip.trip_id = "T1"
        entity.trip_update.trip.route_id = "R1"
        entity.trip_update.trip.schedule_relationship = gtfs_realtime_pb2.TripDescriptor.NEW
        for stop, hhmm in (("A", "07:58"), ("C", "08:02")):
            stu = entity.trip_update.stop_time_update.add(stop_id=stop)
            stu.arrival.time = stu.departure.time = local_ts(f"2024-03-04 {hhmm}")

    pb = rt_file(tmp_path / "tu.pb", [cancel("T2b"), impostor, cancel("T2b"), cancel("NOPE")])
    code, rows, err = run_cli_status(capsys, "--gtfs", f"t={feed}", "--realtime", f"t={pb}", "--realtime-report",
                                     "--from", "t:A", "--to", "t:C", "--at", AT, "--no-cache")
    assert code == 0 and len(rows) == 1 and first_journey(rows[0]) == ("08:00", "08:25", 1)
    lines = err.strip().splitlines()
    rejected = [line for line in lines if line.startswith("realtime rejected:")]
    assert [line.split(" detail=")[0] for line in rejected] == [
        "realtime rejected: feed=t entity=e2 trip=T1 type=trip_id_conflict",
        "realtime rejected: feed=t entity=e3 trip=T2b type=duplicate_entity",
        "realtime rejected: feed=t entity=e4 trip=NOPE type=unknown_trip",
    ]
    assert f"realtime file: feed=t kind=trip_updates entities=4 resolved=1 rejected=3 path={pb}" in lines
    assert "realtime applied: trip_updates=1 alerts=0 rejected_by_planner=0" in lines
    code, _, err = run_cli_status(capsys, "--gtfs", f"t={feed}", "--realtime", f"t={pb}",
                                  "--from", "t:A", "--to", "t:C", "--at", AT, "--no-cache")
    assert code == 0 and err == ""  # without --realtime-report: nothing on stderr


def test_alerts_file_applies_at_the_reference_time(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)

    def close_b(entity) -> None:
        alert = entity.alert
        alert.effect = gtfs_realtime_pb2.Alert.NO_SERVICE
        alert.informed_entity.add(stop_id="B")
        period = alert.active_period.add()
        period.start, period.end = local_ts("2024-03-04 07:00"), local_ts("2024-03-04 12:00")
        alert.header_text.translation.add(text="B closed", language="en")

    alerts = rt_file(tmp_path / "alerts.pb", [close_b])
    query = ["--gtfs", f"t={feed}", "--alerts", f"t={alerts}", "--from", "t:A", "--to", "t:C", "--at", AT, "--no-cache"]
    code, [closed], _ = run_cli_status(capsys, *query)
    assert code == 0 and first_journey(closed) == ("08:05", "09:30", 0)  # no change at B
    code, [later], _ = run_cli_status(capsys, *query, "--now", "2024-03-20T08:00:00+01:00")
    assert code == 0 and first_journey(later) == ("08:00", "08:25", 1)  # alert days out of --now's horizon


def test_now_picks_the_service_day_of_updates_without_start_date(tmp_path, capsys):
    feed = write_feed(tmp_path / "feed", BASE)
    pb = rt_file(tmp_path / "tu.pb", [cancel("T1", start_date=None)], timestamp=None)
    base = ["--gtfs", f"t={feed}", "--realtime", pb, "--from", "t:A", "--to", "t:C", "--no-cache"]
    code, [today], _ = run_cli_status(capsys, *base, "--at", AT)  # reference: the query's --at
    assert code == 0 and first_journey(today) == ("08:05", "09:30", 0)
    code, [other], _ = run_cli_status(capsys, *base, "--at", AT, "--now", "2024-03-05T07:50:00+01:00")
    assert code == 0 and first_journey(other) == ("08:00", "08:25", 1)  # T1 cancelled on the 5th only
    code, rows, err = run_cli_status(capsys, *base, "--at", AT, "--now", "yesterday")
    assert (code, rows) == (2, []) and "--now 'yesterday'" in err


@pytest.mark.realdata
def test_caltrain_payload_report_and_conformance(tmp_path, capsys):
    """The real Caltrain TripUpdates (19 entities, all matched) through `oura plan --realtime-report`,
    then the same payload with a NEW impostor of its first trip and a second entity for it."""
    static = require_shared_data("caltrain-2023-rt", "ct.zip")
    payload = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(payload)
    first = message.entity[0].trip_update
    origin, destination = first.stop_time_update[0].stop_id, first.stop_time_update[-1].stop_id
    at = datetime.fromtimestamp(first.stop_time_update[0].departure.time - 300, ZoneInfo("America/Los_Angeles"))
    query = ["--gtfs", f"ct={static}", "--from", f"ct:{origin}", "--to", f"ct:{destination}", "--at", at.isoformat(),
             "--cache-dir", str(tmp_path / "cache"), "--realtime-report"]
    real = tmp_path / "ct.pb"
    real.write_bytes(payload)
    code, [row], err = run_cli_status(capsys, *query, "--realtime", f"ct={real}")
    assert code == 0 and row["journeys"]
    assert f"realtime file: feed=ct kind=trip_updates entities=19 resolved=19 rejected=0 path={real}" in err
    assert "realtime rejected:" not in err

    impostor = message.entity.add(id="impostor")
    impostor.trip_update.trip.trip_id = first.trip.trip_id
    impostor.trip_update.trip.route_id = first.trip.route_id
    impostor.trip_update.trip.schedule_relationship = gtfs_realtime_pb2.TripDescriptor.NEW
    impostor.trip_update.stop_time_update.extend(first.stop_time_update)
    again = message.entity.add(id="again")
    again.trip_update.trip.CopyFrom(first.trip)
    again.trip_update.trip.schedule_relationship = gtfs_realtime_pb2.TripDescriptor.CANCELED
    tampered = tmp_path / "ct-tampered.pb"
    tampered.write_bytes(message.SerializeToString())
    code, [same], err = run_cli_status(capsys, *query, "--realtime", f"ct={tampered}")
    assert code == 0 and same["journeys"] == row["journeys"]  # the genuine update still wins
    rejected = [line.split(" detail=")[0] for line in err.splitlines() if line.startswith("realtime rejected:")]
    assert rejected == [
        f"realtime rejected: feed=ct entity=impostor trip={first.trip.trip_id} type=trip_id_conflict",
        f"realtime rejected: feed=ct entity=again trip={first.trip.trip_id} type=duplicate_entity",
    ]

    truncated = tmp_path / "ct-truncated.pb"
    truncated.write_bytes(payload[: len(payload) // 2])
    code, rows, err = run_cli_status(capsys, *query, "--realtime", f"ct={truncated}")
    assert (code, rows) == (2, []) and len(err.splitlines()) == 1 and "truncated or corrupt" in err
