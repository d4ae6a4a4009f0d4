"""Watched journeys over HTTP on the demo Chambéry network: plan, watch, follow the SSE stream,
cancel a leg's trip -> a ``broken`` event with the reason and alternatives; the watch survives a
restart of the app on the same database; Last-Event-ID replays; webhooks get the same JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import numpy as np
from aiohttp import web
from aiohttp.test_utils import TestServer

from feeds.realtime.model import ResolvedTripUpdate
from journey_planner.watch_startup import WATCHES
from oura.clock import FixedClock

SERVICE_DAY = datetime(2025, 3, 5, tzinfo=UTC)  # a Wednesday of the fixture's two weeks


def _busy_pattern_trip(network) -> tuple[str, str, int]:
    """(first stop id, last stop id, first departure POSIX s) of the first trip, on the service day,
    of a pattern with at least three stops and several trips that day."""
    tt = network.timetable
    day = network.find_day(SERVICE_DAY.date())
    for p in range(tt.pattern_count):
        first, end = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
        trips = np.arange(int(tt.pattern_trip_offsets[p]), int(tt.pattern_trip_offsets[p + 1]))
        running = [int(t) for t in trips if tt.service_days[tt.trip_service[t], day]]
        if end - first < 3 or len(running) < 4:
            continue
        t = running[1]
        n = end - first
        row = int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n
        dep = int(tt.day_base_s[day, tt.pattern_tz[p]]) + int(tt.stop_time_departure[row])
        return str(network.stop_ids[tt.pattern_stops[first]]), str(network.stop_ids[tt.pattern_stops[end - 1]]), dep
    raise AssertionError("no busy pattern in the fixture")


async def _plan_and_watch(client, network, clock, **extra) -> tuple[dict, dict]:
    origin, destination, dep = _busy_pattern_trip(network)
    clock.current = datetime.fromtimestamp(dep - 300, UTC)
    answer = await client.get("/v1/journeys", params={"from": origin, "to": destination,
                                                      "datetime": clock.current.isoformat()})
    assert answer.status == 200, await answer.text()
    journey = (await answer.json())["journeys"][0]
    created = await client.post("/v1/watches", json={"itinerary_id": journey["id"], **extra})
    assert created.status == 201, await created.text()
    return journey, await created.json()


def _cancel_first_leg(journey: dict) -> ResolvedTripUpdate:
    leg = next(leg for leg in journey["legs"] if leg["type"] == "transit")
    return ResolvedTripUpdate("synchro", leg["trip_id"], leg["service_date"].replace("-", ""), True, False, ())


async def _read_event(stream) -> dict:
    """The next SSE event of the stream (comments skipped): {"id", "event", "data"}."""
    event: dict = {}
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("the stream ended")
        line = line.rstrip("\n")
        if not line:
            if event:
                return event
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        event[name] = json.loads(value) if name == "data" else value


async def test_a_cancelled_leg_gives_a_broken_event_with_alternatives_and_the_watch_survives_a_restart(
        serve_network, chambery):
    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    journey, watch = await _plan_and_watch(client, chambery, clock)
    assert watch["status"] == "ok" and watch["check"]["ok"] and watch["itinerary_id"] == journey["id"]
    assert datetime.fromisoformat(watch["expires_at"]) > datetime.fromisoformat(journey["arrival"])
    async with client.session.get(client.make_url(watch["events_url"])) as stream:
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        await client.service.on_trip_updates("synchro", [_cancel_first_leg(journey)], clock.now())
        event = await asyncio.wait_for(_read_event(stream.content), timeout=30)
    assert event["event"] == "broken" and event["id"] == "1"
    data = event["data"]
    assert [p["code"] for p in data["problems"]] == ["trip_canceled"]
    assert data["position"]["kind"] == "waiting"
    assert 1 <= len(data["alternatives"]) <= 3
    canceled = _cancel_first_leg(journey).trip_id
    for alternative in data["alternatives"]:
        assert alternative["coverage"] is None, "no medium serial: no coverage"
        rides = [leg for leg in alternative["itinerary"]["legs"] if leg["type"] == "transit"]
        assert rides and all(leg["trip_id"] != canceled for leg in rides)
        assert datetime.fromisoformat(rides[0]["departure"]) >= clock.now()
    seen = await client.get(f"/v1/watches/{watch['id']}")
    assert (await seen.json())["status"] == "broken"

    await client.close()  # a restart: a new app on the same database
    again = await serve_network(chambery, clock)
    found = await again.get(f"/v1/watches/{watch['id']}")
    assert found.status == 200
    body = await found.json()
    # the restarted planner has no trip update yet: the check reads ok, the state waits for the next snapshot
    assert body["status"] == "broken" and body["last_event_id"] == 1 and body["itinerary_id"] == journey["id"]
    restarted = again.server.app[WATCHES]
    assert restarted.index.find(watch["id"]) is not None, "loaded back into the index"
    assert await restarted.handle_snapshots(None, again.service.get_snapshot()) == [], \
        "the first snapshot after a restart (no trip update yet) does not restore the watch"
    assert (await (await again.get(f"/v1/watches/{watch['id']}")).json())["status"] == "broken"
    async with again.session.get(again.make_url(watch["events_url"]), headers={"Last-Event-ID": "0"}) as stream:
        replayed = await asyncio.wait_for(_read_event(stream.content), timeout=30)
    assert replayed["id"] == "1" and replayed["data"] == data, "Last-Event-ID replays the stored event"


async def test_restored_after_the_cancellation_is_lifted_and_webhook_gets_the_events(serve_network, chambery,
                                                                                     make_client):
    received: list[dict] = []
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        got.set()
        return web.Response(status=204)

    hooks = web.Application()
    hooks.router.add_post("/hook", hook)
    server = TestServer(hooks, host="127.0.0.1")
    await server.start_server()
    try:
        clock = FixedClock(SERVICE_DAY)
        client = await serve_network(chambery, clock)
        journey, watch = await _plan_and_watch(client, chambery, clock,
                                               webhook_url=str(server.make_url("/hook")))
        service = client.server.app[WATCHES]
        await client.service.on_trip_updates("synchro", [_cancel_first_leg(journey)], clock.now())
        await asyncio.wait_for(got.wait(), timeout=30)
        got.clear()
        await client.service.on_trip_updates("synchro", [], clock.now())
        await asyncio.wait_for(got.wait(), timeout=30)
        assert [event["event"] for event in received] == ["broken", "restored"]
        assert received[1]["problems"] == [] and received[1]["event_id"] == 2
        await service.wait_idle()
        assert service.stats.broken == 1 and service.stats.restored == 1
    finally:
        await server.close()


async def test_bad_requests_are_problems(serve_network, chambery):
    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    bad_id = await client.post("/v1/watches", json={"itinerary_id": "nope"})
    assert bad_id.status == 400 and (await bad_id.json())["code"] == "invalid_itinerary_id"
    missing = await client.post("/v1/watches", json={})
    assert missing.status == 400
    journey, _ = await _plan_and_watch(client, chambery, clock)
    plain_http = await client.post("/v1/watches", json={"itinerary_id": journey["id"],
                                                        "webhook_url": "http://example.com/hook"})
    assert plain_http.status == 400 and (await plain_http.json())["code"] == "invalid_webhook_url"
    unknown = await client.get("/v1/watches/does-not-exist")
    assert unknown.status == 404 and (await unknown.json())["code"] == "unknown_watch"
    clock.current += timedelta(days=1)
    over = await client.post("/v1/watches", json={"itinerary_id": journey["id"]})
    assert over.status == 400 and (await over.json())["code"] == "itinerary_over"


async def test_delete_ends_the_watch(serve_network, chambery):
    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    _, watch = await _plan_and_watch(client, chambery, clock)
    gone = await client.delete(f"/v1/watches/{watch['id']}")
    assert gone.status == 204
    assert (await client.get(f"/v1/watches/{watch['id']}")).status == 404
    assert (await client.delete(f"/v1/watches/{watch['id']}")).status == 404


async def test_an_expired_watch_gets_its_expired_event_and_leaves_the_index(serve_network, chambery):
    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    _, watch = await _plan_and_watch(client, chambery, clock)
    service = client.server.app[WATCHES]
    clock.current = datetime.fromisoformat(watch["expires_at"]) + timedelta(minutes=1)
    assert await service.expire_due() == 1
    assert service.index.find(watch["id"]) is None
    async with client.session.get(client.make_url(watch["events_url"])) as stream:
        event = await asyncio.wait_for(_read_event(stream.content), timeout=30)
        assert event["event"] == "expired"
        assert await asyncio.wait_for(stream.content.read(), timeout=30) == b"", "the stream ends after expired"
    assert (await (await client.get(f"/v1/watches/{watch['id']}")).json())["status"] == "expired"


class _Covered:
    def __init__(self, covered: bool) -> None:
        self.covered = covered

    def to_json(self) -> dict:
        return {"covered": self.covered, "contracts": ["synchro:pass"] if self.covered else [],
                "uncovered_legs": [] if self.covered else [0],
                "extra_price": None if self.covered else {"total_minor": 150, "currency": "EUR"}}


async def test_alternatives_say_whether_the_tickets_on_the_medium_cover_them(serve_network, chambery):
    asked: list[tuple[str, int]] = []

    async def coverage(serial, legs, at):
        asked.append((serial, len(legs)))
        return _Covered(len(legs) == 1)

    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    service = client.server.app[WATCHES]
    service.set_coverage(coverage)
    journey, watch = await _plan_and_watch(client, chambery, clock, medium_serial="CARD-1")
    async with client.session.get(client.make_url(watch["events_url"])) as stream:
        await client.service.on_trip_updates("synchro", [_cancel_first_leg(journey)], clock.now())
        event = await asyncio.wait_for(_read_event(stream.content), timeout=30)
    alternatives = event["data"]["alternatives"]
    assert alternatives and len(asked) == len(alternatives) and {serial for serial, _ in asked} == {"CARD-1"}
    for alternative, (_, legs) in zip(alternatives, asked, strict=True):
        rides = [leg for leg in alternative["itinerary"]["legs"] if leg["type"] == "transit"]
        assert legs == len(rides), "the fare legs are the alternative's rides"
        assert alternative["coverage"]["covered"] is (legs == 1)


async def test_events_of_an_unknown_watch_or_with_a_bad_last_event_id_are_problems(serve_network, chambery):
    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    unknown = await client.get("/v1/watches/nope/events")
    assert unknown.status == 404 and (await unknown.json())["code"] == "unknown_watch"
    _, watch = await _plan_and_watch(client, chambery, clock)
    for bad in ("x", "²", "1234567890"):
        answer = await client.get(watch["events_url"], headers={"Last-Event-ID": bad})
        assert answer.status == 400, bad


async def test_alternatives_reach_a_hub_destination_as_journeys_do(serve_network, chambery):
    # A journey planned to a hub id (as `make run`'s stop search offers them): its alternatives
    # must read the destination as /v1/journeys does (they were empty: the hub was not a stop id).
    from journey_planner.hubs import HubPlace

    clock = FixedClock(SERVICE_DAY)
    client = await serve_network(chambery, clock)
    origin, destination, dep = _busy_pattern_trip(chambery)
    client.service.set_hubs([HubPlace("hub:test-end", "Test end", (destination,))])
    clock.current = datetime.fromtimestamp(dep - 300, UTC)
    answer = await client.get("/v1/journeys", params={"from": origin, "to": "hub:test-end",
                                                      "datetime": clock.current.isoformat()})
    assert answer.status == 200, await answer.text()
    journey = (await answer.json())["journeys"][0]
    created = await client.post("/v1/watches", json={"itinerary_id": journey["id"]})
    assert created.status == 201, await created.text()
    watch = await created.json()
    async with client.session.get(client.make_url(watch["events_url"])) as stream:
        await client.service.on_trip_updates("synchro", [_cancel_first_leg(journey)], clock.now())
        event = await asyncio.wait_for(_read_event(stream.content), timeout=30)
    assert event["event"] == "broken"
    alternatives = event["data"]["alternatives"]
    assert 1 <= len(alternatives) <= 3
    for alternative in alternatives:
        last = [leg for leg in alternative["itinerary"]["legs"] if leg["type"] == "transit"][-1]
        assert last["to"]["id"] == destination
