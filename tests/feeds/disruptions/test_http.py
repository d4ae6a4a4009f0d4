"""The disruptions routes over HTTP: keys and scoping, problems naming the field, the audit, and
the public GTFS-realtime export (protobuf, JSON, ETag and 304)."""

from __future__ import annotations

from dataclasses import replace

import pytest_asyncio
from google.transit import gtfs_realtime_pb2 as pb

from feeds.realtime.startup import STATIC_INDEX_FINDER
from oura.app import create_app
from oura.auth import create_key
from oura.clock import FixedClock
from oura.keys import POOL
from tests.feeds.disruptions.conftest import NET, NOW, OTHER, period
from tests.registry_toml import TestNetwork, write_registry


@pytest_asyncio.fixture
async def served(app_config, make_client, indexes, tmp_path):
    for name, files in (("net", NET), ("other", OTHER)):
        (tmp_path / name).mkdir()
        for file, text in files.items():
            (tmp_path / name / file).write_text(text, encoding="utf-8")
    registry = write_registry(tmp_path / "registry.toml", TestNetwork("auth-a", "net", tmp_path / "net"),
                              TestNetwork("auth-b", "other", tmp_path / "other"), timezone="Europe/Paris")
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry))
    app = create_app(config, clock=FixedClock(NOW))
    app[STATIC_INDEX_FINDER] = indexes.get  # the served versions, as the assembly indexes them
    client = await make_client(app)

    async def key(role: str, authority: str | None = None) -> dict[str, str]:
        _, token = await create_key(client.app[POOL], role, authority)
        return {"Authorization": f"Bearer {token}"}

    return client, {"a": await key("authority", "auth-a"), "b": await key("authority", "auth-b"),
                    "admin": await key("admin"), "device": await key("device", "auth-a")}


CLOSE_C = {"kind": "close_stop", "stop_id": "net:C", "period": period(), "header": {"fr": "Arrêt C fermé"}}


async def test_declare_scope_audit_and_end_over_http(served):
    client, keys = served
    assert (await client.post("/v1/disruptions", json=CLOSE_C)).status == 401
    assert (await client.post("/v1/disruptions", json=CLOSE_C, headers=keys["device"])).status == 403
    refused = await client.post("/v1/disruptions", json=CLOSE_C, headers=keys["b"])
    assert refused.status == 403 and (await refused.json())["code"] == "other_authority"
    unknown = await client.post("/v1/disruptions", json={**CLOSE_C, "stop_id": "net:Z"}, headers=keys["a"])
    body = await unknown.json()
    assert unknown.status == 422 and body["invalid_params"][0]["name"] == "stop_id"

    created = await client.post("/v1/disruptions", json=CLOSE_C, headers={**keys["a"], "Idempotency-Key": "x1"})
    disruption = await created.json()
    assert created.status == 201 and disruption["status"] == "active" and disruption["stop_id"] == "net:C"
    retry = await client.post("/v1/disruptions", json=CLOSE_C, headers={**keys["a"], "Idempotency-Key": "x1"})
    assert retry.status == 200 and (await retry.json())["id"] == disruption["id"]
    path = f"/v1/disruptions/{disruption['id']}"
    assert (await client.get(path, headers=keys["b"])).status == 403
    patched = await client.patch(path, json={"header": {"en": "Stop C closed"}}, headers=keys["a"])
    assert patched.status == 200 and (await patched.json())["header"] == {"en": "Stop C closed"}
    bad_patch = await client.patch(path, json={"stop_id": "net:D"}, headers=keys["a"])
    assert bad_patch.status == 422
    ended = await client.delete(path, headers=keys["admin"])
    assert ended.status == 200 and (await ended.json())["status"] == "ended"
    audit = await (await client.get(f"{path}/audit", headers=keys["a"])).json()
    assert [e["action"] for e in audit["audit"]] == ["create", "update", "end"]
    assert audit["audit"][2]["authority_id"] is None  # the admin's key acts for no authority
    listed = await (await client.get("/v1/disruptions", params={"include_ended": "true"}, headers=keys["a"])).json()
    assert [d["id"] for d in listed["disruptions"]] == [disruption["id"]]
    assert (await client.get("/v1/disruptions/99999", headers=keys["a"])).status == 404


async def test_the_gtfs_rt_exports_carry_the_disruptions(served):
    client, keys = served
    await client.post("/v1/disruptions", json=CLOSE_C, headers=keys["a"])
    await client.post("/v1/disruptions", headers=keys["a"], json={
        "kind": "cancel_trips", "trip_ids": ["net:T1"], "period": period(0, 20), "header": "T1"})
    response = await client.get("/v1/gtfs-rt/alerts")
    assert response.status == 200 and response.content_type == "application/x-protobuf"
    message = pb.FeedMessage()
    message.ParseFromString(await response.read())
    stops = {e.stop_id for entity in message.entity for e in entity.alert.informed_entity}
    assert "net:C" in stops and len(message.entity) == 2
    etag = response.headers["ETag"]
    assert (await client.get("/v1/gtfs-rt/alerts", headers={"If-None-Match": etag})).status == 304
    updates = await (await client.get("/v1/gtfs-rt/trip-updates", params={"format": "json"})).json()
    (entity,) = updates["entity"]
    assert entity["trip_update"]["trip"] == {"trip_id": "net:T1", "start_date": "20250305", "start_time": "08:00:00",
                                            "route_id": "net:R1", "schedule_relationship": "CANCELED"}
    assert (await client.get("/v1/gtfs-rt/alerts", params={"format": "xml"})).status == 400
