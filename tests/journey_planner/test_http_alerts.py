"""HTTP, on the demo region's Chambéry network: legs and departures carry their alerts in the
requested language (lang, else Accept-Language), a NO_SERVICE alert on a stop keeps journeys off
it in the next snapshot, and lifting it restores them; answers fit their documented schemas."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feeds.realtime.model import Alert, EntitySelector
from oura.clock import FixedClock
from tests.openapi_check import checker_for

PARIS = ZoneInfo("Europe/Paris")
FROM, TO = "synchro:1-02a", "synchro:1-10a"
QUERY = {"from": FROM, "to": TO, "datetime": "2025-03-05T08:00:00+01:00"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def client(chambery, serve_network):
    return await serve_network(chambery, FixedClock(datetime(2025, 3, 5, 7, 0, tzinfo=PARIS)))


def rides(body: dict) -> list[dict]:
    return [leg for j in body["journeys"] for leg in j["legs"] if leg["type"] == "transit"]


def detour(route_id: str) -> Alert:
    return Alert("works-12", informed_entities=(EntitySelector(route_id=route_id),), effect="DETOUR",
                 cause="CONSTRUCTION", severity_level="WARNING",
                 header_text={"fr": "Déviation ligne 1", "en": "Line 1 detour"},
                 description_text={"": "Rue de Boigne fermée"}, url={"fr": "https://example.org/fr"})


async def test_legs_and_departures_carry_alerts_in_the_requested_language(client):
    body = await (await client.get("/v1/journeys", params=QUERY)).json()
    leg = rides(body)[0]
    assert leg["alerts"] == []
    route = leg["route"]["id"].split(":", 1)[1]
    await client.service.on_alerts("synchro", [detour(route)], datetime(2025, 3, 5, 7, 0, tzinfo=PARIS))
    english = await (await client.get("/v1/journeys", params=QUERY | {"lang": "en-GB"})).json()
    alerts = rides(english)[0]["alerts"]
    assert [(a["id"], a["effect"], a["header"], a["description"]) for a in alerts] == [
        ("synchro:works-12", "DETOUR", "Line 1 detour", "Rue de Boigne fermée")]
    french = await (await client.get("/v1/journeys", params=QUERY, headers={"Accept-Language": "fr-FR,en;q=0.5"})).json()
    assert rides(french)[0]["alerts"][0]["header"] == "Déviation ligne 1"
    assert rides(french)[0]["alerts"][0]["url"] == "https://example.org/fr"
    board = await (await client.get(f"/v1/stops/{FROM}/departures", params={"datetime": QUERY["datetime"],
                                                                            "lang": "de"})).json()
    on_route = [d for d in board["departures"] if d["route"]["id"] == leg["route"]["id"]]
    assert on_route and all([a["id"] for a in d["alerts"]] == ["synchro:works-12"] for d in on_route)
    assert on_route[0]["alerts"][0]["header"] in ("Déviation ligne 1", "Line 1 detour")
    others = [d for d in board["departures"] if d["route"]["id"] != leg["route"]["id"]]
    assert all(d["alerts"] == [] for d in others)
    document = await (await client.get("/openapi.json")).json()
    checker = checker_for(document)
    for path, params in (("/v1/journeys", QUERY | {"lang": "en"}), (f"/v1/stops/{FROM}/departures", {"lang": "fr"})):
        raw = await (await client.get(path, params=params)).read()
        assert checker.check("GET", path, 200, JSON, raw) == [], path


async def test_a_closed_stop_is_avoided_in_the_next_snapshot_and_lifting_it_restores_journeys(client):
    received = datetime(2025, 3, 5, 7, 0, tzinfo=PARIS)
    before = await (await client.get("/v1/journeys", params=QUERY)).json()
    assert rides(before)[0]["from"]["id"] == FROM
    closure = Alert("closed-02a", informed_entities=(EntitySelector(stop_id=FROM.split(":", 1)[1]),),
                    effect="NO_SERVICE", header_text={"": "Arrêt fermé"})
    await client.service.on_alerts("synchro", [closure], received)
    closed = await (await client.get("/v1/journeys", params=QUERY)).json()
    assert closed["snapshot_version"] > before["snapshot_version"]
    assert all(FROM not in (leg["from"]["id"], leg["to"]["id"]) for leg in rides(closed))
    # riding through the closed stop still works
    through = await (await client.get("/v1/journeys", params=QUERY | {"from": "synchro:1-01a"})).json()
    assert any(leg["from"]["id"] == "synchro:1-01a" for leg in rides(through))
    board = await (await client.get(f"/v1/stops/{FROM}/departures", params={"datetime": QUERY["datetime"]})).json()
    assert all(d["route"]["id"] != rides(before)[0]["route"]["id"] or d["status"] == "cancelled"
               for d in board["departures"])
    await client.service.on_alerts("synchro", [], received)
    lifted = await (await client.get("/v1/journeys", params=QUERY)).json()
    assert [j["id"] for j in lifted["journeys"]] == [j["id"] for j in before["journeys"]]
