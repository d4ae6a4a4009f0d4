"""The watch scenario end to end, on a generated region with its live publisher (issue 13).

A traveller holding a TCL monthly pass on an OùRA card plans a journey across Lyon and watches
it; the simulator's operator cancels the trip of one of its legs (`POST /control/events` on the
demo publisher); the realtime poller brings the cancellation in, the planner publishes a new
snapshot, the watch re-check finds the journey broken and pushes, on the watch's Server-Sent
Events stream, an event with the reason and alternatives, each saying whether the pass covers it.
A new app on the same database still knows the watch.

The region's registry is rewritten to poll the TCL publisher every second (20 s in the demo), so
the figure printed (cancellation injected -> event received) measures the service, not the
polling interval.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from oura.app import create_app
from oura.clock import FixedClock
from tests.oura.conftest import live_region, wait_ready

pytestmark = pytest.mark.slow
TODAY = date(2025, 3, 5)
NOW = datetime(2025, 3, 5, 7, 30, tzinfo=UTC)  # Wednesday 08:30 in Lyon
EVENT_TIMEOUT_S = 60.0  # generous: the target is 5 s, measured and printed, not asserted


async def _stop(client, q: str) -> str:
    stops = (await (await client.get("/v1/stops", params={"q": q})).json())["stops"]
    matching = [s["id"] for s in stops if s["id"].startswith("tcl:")]
    assert matching, f"no TCL stop for {q!r}"
    return matching[0]


async def _card_with_tcl_pass(client, registry: Path) -> str:
    """A registered card issued at a TCL sales point, loaded with a TCL monthly pass (68.00)."""
    from feeds.authorities import load_registry
    from oura.auth import create_key
    from oura.keys import POOL

    owner = next(a.id for a in load_registry(registry).authorities if any(n.id == "tcl" for n in a.networks))
    _, token = await create_key(client.app[POOL], "sales_point", owner, label="TCL desk")
    desk = {"Authorization": f"Bearer {token}"}
    card = await client.post("/v1/media", json={"kind": "smartcard", "holder": {"display_name": "A. Rider"}}, headers=desk)
    assert card.status == 201, await card.text()
    serial = (await card.json())["serial"]
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6800,
             "items": [{"fare_product_id": "tcl:monthly-pass", "rider_category_id": "adult",
                        "fare_media_id": "oura-card", "medium": serial}]}
    sold = await client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": f"pass-{serial}"})
    assert sold.status == 201, await sold.text()
    return serial


async def _plan(client, origin: str, destination: str) -> dict:
    """A journey with TCL legs only, leaving after NOW."""
    response = await client.get("/v1/journeys", params={"from": origin, "to": destination,
                                                        "datetime": "2025-03-05T08:40:00+01:00", "num": "5"})
    body = await response.json()
    assert response.status == 200, body
    for journey in body["journeys"]:
        transit = [leg for leg in journey["legs"] if leg["type"] == "transit"]
        if transit and all(leg["route"]["id"].startswith("tcl:") for leg in transit):
            return journey
    raise AssertionError(f"no TCL-only journey from {origin} to {destination}")


async def _read_events(response, events: asyncio.Queue) -> None:
    """Parse a text/event-stream into {"id", "event", "data"} dicts (comments are keep-alives)."""
    current: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if "data" in current:
                await events.put(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value[1:] if value.startswith(" ") else value


async def test_a_cancelled_leg_pushes_alternatives_marked_covered_by_the_pass(tmp_path, app_config, make_client):
    clock = FixedClock(NOW)
    async with live_region(tmp_path / "region", clock, poll_networks="tcl") as region:
        registry, control = region.registry, region.control_url
        config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, ingest_on_start=True,
                                                   realtime=True))
        client = await make_client(create_app(config, clock=clock))
        ready = await wait_ready(client, 240.0)
        assert ready["status"] == "ready", ready
        serial = await _card_with_tcl_pass(client, registry)
        journey = await _plan(client, await _stop(client, "bellecour"), await _stop(client, "part-dieu"))

        created = await client.post("/v1/watches", json={"itinerary_id": journey["id"], "medium_serial": serial})
        assert created.status == 201, await created.text()
        watch = await created.json()
        assert watch["status"] == "ok" and watch["itinerary_id"] == journey["id"]

        # Through the session: the OpenAPI checker of TestClient requests reads whole bodies, and
        # an event stream does not end.
        async with asyncio.timeout(30):
            stream = await client.session.get(client.make_url(f"/v1/watches/{watch['id']}/events"),
                                              headers={"Accept": "text/event-stream"})
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        events: asyncio.Queue = asyncio.Queue()
        reader = asyncio.create_task(_read_events(stream, events))
        try:
            leg = next(leg for leg in journey["legs"] if leg["type"] == "transit")
            service_date = leg["service_date"].replace("-", "")
            loop = asyncio.get_running_loop()
            injected_at = loop.time()
            async with client.session.post(control, json={"network": "tcl", "kind": "cancel",
                                                          "trip_id": leg["trip_id"], "service_date": service_date}) as r:
                assert r.status == 201, await r.text()
            async with asyncio.timeout(EVENT_TIMEOUT_S):
                event = await events.get()
                while event.get("event") != "broken":
                    event = await events.get()
            latency_s = loop.time() - injected_at
        finally:
            reader.cancel()
            stream.close()
        print(f"\nwatch scenario: cancellation injected -> broken event received in {latency_s:.2f} s "
              f"(TCL polled every 1 s)")

        data = json.loads(event["data"])
        print("alternatives:", [(a["coverage"] or {}).get("covered") for a in data["alternatives"]],
              "problems:", [p["code"] for p in data["problems"]])
        assert int(event["id"]) == data["event_id"] >= 1
        assert any(p["code"] == "trip_canceled" and p["leg_index"] == 0 for p in data["problems"]), data["problems"]
        alternatives = data["alternatives"]
        assert 1 <= len(alternatives) <= 3
        for alternative in alternatives:
            legs = alternative["itinerary"]["legs"]
            assert leg["trip_id"] not in {x.get("trip_id") for x in legs}, "an alternative rides the cancelled run"
            coverage = alternative["coverage"]
            transit = [x for x in legs if x["type"] == "transit"]
            # The pass covers TCL legs only; anything else is to pay for.
            tcl_only = all(x["route"]["id"].startswith("tcl:") for x in transit)
            assert coverage["covered"] is tcl_only, (coverage, [x["route"]["id"] for x in transit])
            if tcl_only:
                assert coverage["extra_price"] == {"total_minor": 0, "currency": "EUR"}
                assert coverage["contracts"] == (["tcl:monthly-pass"] if transit else [])
            else:  # e.g. a TER hop Perrache - Part-Dieu: that leg alone is to pay for
                assert coverage["uncovered_legs"] == [i for i, x in enumerate(transit) if not x["route"]["id"].startswith("tcl:")]
                assert coverage["extra_price"]["total_minor"] > 0

        await client.close()  # the server restarts: a new app on the same database
        again = await make_client(create_app(config, clock=clock))
        assert (await wait_ready(again, 240.0))["status"] == "ready"
        kept = await again.get(f"/v1/watches/{watch['id']}")
        assert kept.status == 200, await kept.text()
        body = await kept.json()
        assert body["id"] == watch["id"] and body["itinerary_id"] == journey["id"]
        assert body["last_event_id"] >= data["event_id"]
