"""HTTP, demo region: journeys leave as late as they can, and windows keep to their departures.

The two defects issue 12 saw on the generated region, through GET /v1/journeys:
- from Lyon Bellecour at 23:30 to Grenoble, the answer took a bus before midnight and waited
  five to six hours at Part-Dieu for the first train (05:56 on this small region);
- a `window` search answered departures outside its window (a 23:30 + 1 h window proposed the
  05:20 departure, and journeys leaving just after midnight to wait for that train).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from journey_planner.compile import FeedSource, load_network
from oura.clock import FixedClock
from oura.demo.generate import generate_region

pytestmark = pytest.mark.slow

NIGHT = "2025-03-05T23:30:00+01:00"
LONG_WAIT_S = 3600  # the defect waited 5 to 6 hours; no leg of a good answer waits an hour


@pytest.fixture(scope="module")
def region_network(tmp_path_factory):
    out = tmp_path_factory.mktemp("latest-departure-region")
    generate_region(out, seed=5, scale=0.1, start_date=date(2025, 3, 5), fmt="zip")
    sources = [FeedSource(p.stem, p) for p in sorted((out / "gtfs").iterdir()) if p.suffix == ".zip"]
    return load_network(sources, cache_dir=Path(out) / "cache")


@pytest.fixture
async def region_client(region_network, serve_network):
    clock = FixedClock(datetime(2025, 3, 5, 21, 0, tzinfo=UTC))
    return await serve_network(region_network, clock)


async def _journeys(client, **params) -> list[dict]:
    query = {"from": "tcl:bellecour", "to": "ter:grenoble", "realtime": "false", "num": "10"} | params
    response = await client.get("/v1/journeys", params=query)
    body = await response.json()
    assert response.status == 200, body
    return body["journeys"]


def _longest_wait_s(journey: dict) -> int:
    legs = journey["legs"]
    waits = [datetime.fromisoformat(b["departure"]) - datetime.fromisoformat(a["arrival"])
             for a, b in zip(legs, legs[1:])]
    return int(max((w.total_seconds() for w in waits), default=0))


async def test_night_journey_leaves_in_the_morning_instead_of_waiting_for_the_first_train(region_client):
    journeys = await _journeys(region_client, datetime=NIGHT)
    assert journeys, "no journey from Bellecour to Grenoble after 23:30"
    for j in journeys:
        assert _longest_wait_s(j) < LONG_WAIT_S, j
        assert datetime.fromisoformat(j["departure"]) >= datetime.fromisoformat("2025-03-06T05:00:00+01:00"), j
    assert journeys[0]["arrival"] == "2025-03-06T07:09:18+01:00"  # the first train's arrival is kept


@pytest.mark.parametrize("window_s", [3600, 6 * 3600])
async def test_window_answers_only_departures_inside_it(region_client, window_s):
    start = datetime.fromisoformat(NIGHT)
    journeys = await _journeys(region_client, datetime=NIGHT, window=str(window_s))
    for j in journeys:
        assert 0 <= (datetime.fromisoformat(j["departure"]) - start).total_seconds() <= window_s, j
        assert _longest_wait_s(j) < LONG_WAIT_S, j
    if window_s == 6 * 3600:  # 23:30 to 05:30 holds the departure that catches the first train
        assert [j["departure"][11:16] for j in journeys] == ["05:25"]


async def test_daytime_window_keeps_each_departure_inside_it(region_client):
    start = datetime.fromisoformat("2025-03-05T07:30:00+01:00")
    journeys = await _journeys(region_client, datetime=start.isoformat(), window="3600")
    assert len(journeys) >= 2
    departures = [datetime.fromisoformat(j["departure"]) for j in journeys]
    assert all(0 <= (d - start).total_seconds() <= 3600 for d in departures), departures
    assert departures == sorted(departures)
