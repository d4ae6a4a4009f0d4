"""Lock pair (STYLE rule 24): concurrent validations of one 10-trip card, real HTTP, real PostgreSQL.

FEATURE UNDER TEST: a 10-trip contract is decremented exactly once per accepted boarding even when
several validators present the same card at the same instant. Five devices each post one boarding
(different routes, an hour apart in event time, so none is a transfer or an anti-passback repeat).

- With the debug flag ``lock_contracts=False`` the read-modify-write of the contract races: all
  five boardings are accepted but fewer than five trips are taken off. This proves the test
  can see the race.
- With the lock (the default), the same burst takes off exactly five trips.

``race_delay_s`` holds each transaction between reading and writing the contract, so the
requests overlap deterministically instead of by luck.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.ticketing.conftest import validation_event

BURST = 5


async def _burst(h) -> tuple[list[dict], int]:
    card = await h.card_with_carnet()
    devices = [await h.key("device", "sytral") for _ in range(BURST)]
    start = h.clock.now() + timedelta(minutes=1)
    h.clock.advance(timedelta(hours=BURST))  # uploaded after the boardings: no event is ahead of the clock
    routes = ["tcl:C3", "tcl:T1"]
    requests = [
        h.client.post("/v1/validations", json={"events": [validation_event(f"e{i}", card, start + timedelta(hours=i), routes[i % 2])]}, headers=devices[i])
        for i in range(BURST)
    ]
    responses = await asyncio.gather(*requests)
    decisions = [(await r.json())["decisions"][0] for r in responses]
    remaining = await h.service.pool.fetchval("SELECT remaining_trips FROM ticketing_contracts")
    return decisions, remaining


async def test_without_the_lock_trips_are_lost(make_harness):
    h = await make_harness(lock_contracts=False, race_delay_s=0.3)
    decisions, remaining = await _burst(h)
    assert all(d["accepted"] for d in decisions)
    assert remaining > 10 - BURST  # lost updates: the race is real


async def test_with_the_lock_each_boarding_takes_exactly_one_trip(make_harness):
    h = await make_harness(race_delay_s=0.3)
    decisions, remaining = await _burst(h)
    assert all(d["accepted"] for d in decisions)
    assert remaining == 10 - BURST
    assert sorted(d["remaining_trips"] for d in decisions) == [5, 6, 7, 8, 9]
