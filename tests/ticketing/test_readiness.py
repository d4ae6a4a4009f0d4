"""Start-up: until the catalogue is published, the routes that need it answer 503 with Retry-After,
never a permanent refusal computed from the empty placeholder; nothing is recorded meanwhile, so
the same order key and the same validation event are decided properly once it is published."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from tests.ticketing.conftest import REGION_AUTHORITIES

EVENT = {"event_id": "ev-1", "medium": "OURA-NOPE", "time": "2026-03-02T06:00:00+00:00", "stop_id": "tcl:s1", "route_id": "tcl:C3"}


def single_order() -> dict:
    item = {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 1}
    return {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210, "items": [item]}


async def _still_loading(app) -> AsyncIterator[None]:  # noqa: ANN001
    """What the app looks like before the first ingestion round has published anything."""
    from oura.keys import READINESS

    app[READINESS].set("catalogue", False, "waiting for the first ingestion round")
    app[READINESS].set("timetable", False, "waiting for the first ingestion round")
    yield


async def test_routes_that_need_the_catalogue_answer_503_until_it_is_published(app_config, make_client, region_catalogue,
                                                                                 caplog):
    from oura.app import create_app
    from oura.auth import create_key
    from oura.clock import FixedClock
    from oura.keys import POOL, READINESS
    from ticketing.catalogue import build_catalogue
    from ticketing.http import routes
    from ticketing.startup import TICKETING, make_ticketing_context

    empty, _ = build_catalogue({})
    app = create_app(app_config, clock=FixedClock(datetime(2026, 3, 2, 6, 5, tzinfo=UTC)), extra_routes=[routes],
                     extra_contexts=[make_ticketing_context(empty, REGION_AUTHORITIES), _still_loading])
    client = await make_client(app)
    _, desk_token = await create_key(app[POOL], "sales_point", "sytral")
    _, device_token = await create_key(app[POOL], "device", "sytral")
    desk = {"Authorization": f"Bearer {desk_token}", "Idempotency-Key": "sale-1"}
    device = {"Authorization": f"Bearer {device_token}"}

    loading = [
        await client.get("/v1/products"),
        await client.post("/v1/fares/quote", json={"legs": [{"route_id": "tcl:C3", "departure": EVENT["time"],
                                                              "arrival": EVENT["time"]}]}),
        await client.post("/v1/orders", json=single_order(), headers=desk),
        await client.post("/v1/validations", json={"events": [EVENT]}, headers=device),
    ]
    for answer in loading:
        assert answer.status == 503, (answer.url, await answer.text())
        assert answer.content_type == "application/problem+json"
        assert (await answer.json())["code"] == "catalogue_not_ready"
        assert int(answer.headers["Retry-After"]) > 0
    # expected while starting: not an error in the log (an operator would page on those)
    assert not [r for r in caplog.records if r.name == "oura.http" and r.levelno >= logging.WARNING]
    journeys = await client.get("/v1/journeys", params={"from": "a", "to": "b"})
    assert journeys.status == 503 and (await journeys.json())["code"] == "timetable_not_ready"
    assert "Retry-After" in journeys.headers
    unauthenticated = await client.post("/v1/orders", json=single_order(), headers={"Idempotency-Key": "x"})
    assert unauthenticated.status == 401  # the key is checked first, loading or not
    pool = app[POOL]
    assert await pool.fetchval("SELECT count(*) FROM ticketing_orders") == 0
    assert await pool.fetchval("SELECT count(*) FROM ticketing_validations") == 0  # the refusal was not stored

    app[TICKETING].catalogues.swap(region_catalogue)  # what the wiring does after the first round
    app[READINESS].set("catalogue", True, "published")
    sold = await client.post("/v1/orders", json=single_order(), headers=desk)
    assert sold.status == 201, await sold.text()
    validated = await client.post("/v1/validations", json={"events": [EVENT]}, headers=device)
    assert validated.status == 200
    (decision,) = (await validated.json())["decisions"]
    assert (decision["reason"], decision["replayed"]) == ("unknown_medium", False)  # decided now, not replayed
    assert (await client.get("/v1/products")).status == 200
