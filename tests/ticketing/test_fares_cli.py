"""``oura fares quote``: the command-line contract (feeds, regional folder, legs file -> JSON).

The feeds are the hand-written region of `tests.ticketing.conftest.write_region`: ``tcl`` single
1.90 on the card (2.10 paper), ``ter`` Lyon(A)-Mâcon(C) 12.00, and the regional ``ter-tcl-day``
pass 15.00 on the card (24 h, ter + tcl).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ticketing.conftest import write_feed, write_region
from ticketing.cli import main

REPO = Path(__file__).resolve().parents[2]

# Mâcon -> Lyon (12.00), tram (1.90), 3 h later tram (1.90), Lyon -> Mâcon (12.00): 27.80 in
# singles, the regional day pass covers the four legs for 15.00.
DAY_LEGS = [
    {"route_id": "ter:L1", "departure": "2026-03-02T07:00:00+01:00", "arrival": "2026-03-02T07:50:00+01:00",
     "from_stop_id": "ter:macon", "to_stop_id": "ter:lyon"},
    {"route_id": "tcl:T1", "departure": "2026-03-02T08:00:00+01:00", "arrival": "2026-03-02T08:15:00+01:00",
     "from_stop_id": "tcl:a", "to_stop_id": "tcl:b"},
    {"route_id": "tcl:T1", "departure": "2026-03-02T11:00:00+01:00", "arrival": "2026-03-02T11:15:00+01:00",
     "from_stop_id": "tcl:b", "to_stop_id": "tcl:a"},
    {"route_id": "ter:L1", "departure": "2026-03-02T11:30:00+01:00", "arrival": "2026-03-02T12:20:00+01:00",
     "from_stop_id": "ter:lyon", "to_stop_id": "ter:macon"},
]


@pytest.fixture
def region(tmp_path) -> dict[str, Path]:
    return write_region(tmp_path / "region")


def write_legs(tmp_path: Path, legs) -> Path:
    path = tmp_path / "legs.json"
    path.write_text(json.dumps(legs), encoding="utf-8")
    return path


@pytest.mark.slow  # starts the `oura` command in a new interpreter (one to two seconds)
def test_oura_fares_quote_prints_the_quote_as_json(tmp_path, region):
    # End to end through the `oura` command: two feeds namespaced by --gtfs NAME, the regional
    # folder, a legs file; the day pass covers every leg.
    command = [
        sys.executable, "-m", "oura", "fares", "quote",
        "--gtfs", f"tcl={region['tcl']}", "--gtfs", f"ter={region['ter']}", "--regional", str(region["regional"]),
        "--legs", str(write_legs(tmp_path, DAY_LEGS)), "--rider-category", "adult",
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert {"total_minor", "currency", "products", "is_complete", "issues"} <= set(answer)
    assert (answer["total_minor"], answer["currency"], answer["is_complete"], answer["issues"]) == (1500, "EUR", True, [])
    (product,) = answer["products"]
    assert (product["fare_product_id"], product["leg_indices"]) == ("ter-tcl-day", [0, 1, 2, 3])
    assert answer["rider_category_id"] == "adult"


def test_fare_media_times_without_offset_and_an_incomplete_quote(tmp_path, region, capsys):
    # On paper the day pass (card only) is not sold: one tram leg is the 2.10 paper single. A
    # time without offset is read in the route's feed zone (Europe/Paris). A route no feed
    # knows is an issue in the JSON, not a failure.
    legs = [{"route_id": "tcl:C3", "departure": "2026-03-02T08:00:00", "arrival": "2026-03-02T08:20:00"}]
    args = ["quote", "--gtfs", f"tcl={region['tcl']}", "--legs", str(write_legs(tmp_path, legs)), "--fare-media", "paper"]
    assert main(args) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["total_minor"], answer["fare_media_id"], answer["is_complete"]) == (210, "paper", True)
    assert answer["products"][0]["leg_indices"] == [0]
    legs.append({"route_id": "nowhere:9", "departure": "2026-03-02T09:00:00+01:00", "arrival": "2026-03-02T09:10:00+01:00"})
    assert main(["quote", "--gtfs", f"tcl={region['tcl']}", "--legs", str(write_legs(tmp_path, legs))]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["is_complete"] is False
    assert {(i["code"], i["leg_index"]) for i in answer["issues"]} >= {("unknown_network", 1), ("no_fare_for_leg", 1)}


@pytest.mark.parametrize(
    ("legs", "extra", "message"),
    [
        ([{"departure": "2026-03-02T08:00:00+01:00", "arrival": "2026-03-02T08:20:00+01:00"}], [], "legs[0].route_id"),
        ([{"route_id": "tcl:C3", "departure": "8 o'clock", "arrival": "2026-03-02T08:20:00+01:00"}], [], "legs[0].departure"),
        ([], [], "non-empty list"),
        ([{"route_id": "tcl:C3", "departure": "2026-03-02T08:00:00+01:00", "arrival": "2026-03-02T08:20:00+01:00"}],
         ["--rider-category", "pensioner"], "unknown rider category"),
    ],
)
def test_unusable_input_exits_2_with_a_message(tmp_path, region, capsys, legs, extra, message):
    args = ["quote", "--gtfs", f"tcl={region['tcl']}", "--legs", str(write_legs(tmp_path, legs)), *extra]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def test_a_bad_gtfs_argument_exits_2(tmp_path, capsys):
    feed = write_feed(tmp_path / "f", {"agency": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,Europe/Paris"})
    assert main(["quote", "--gtfs", str(feed), "--legs", str(write_legs(tmp_path, DAY_LEGS))]) == 2
    assert "NAME=PATH" in capsys.readouterr().err
