"""The remote load protocol over HTTP on the whole app: a phone wallet buys a TCL carnet, the
reference terminal loads it onto the phone's card over the Keyple JSON API, a TCL validator uses it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from nfc_gateway.intercode import decode_record
from nfc_gateway.remote import loads
from nfc_gateway.remote.model import CardImage
from nfc_gateway.remote.terminal import RemoteRefused
from nfc_gateway.sim.card import SFI_CONTRACTS, SFI_COUNTER
from nfc_gateway.sim.transaction import ReadCard
from tests.nfc_gateway.remote_support import CARNET, make_remote_harness
from tests.ticketing.conftest import demo_catalogue, demo_region  # noqa: F401  (fixtures)


@pytest.fixture
async def h(app_config, make_client, demo_catalogue):  # noqa: F811
    return await make_remote_harness(app_config, make_client, demo_catalogue)


def _card_records(h, card) -> dict[int, tuple[bytes, ...]]:
    """What the card really holds, read straight from it (not through the server)."""
    reader = ReadCard(h.services.sam)
    return reader.result([card.transmit(c) for c in reader.commands()]).records


async def test_wallet_buys_a_tcl_carnet_loads_it_over_the_json_api_and_validates(h):
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    await h.buy(desk, serial)
    (sold,) = (await (await h.client.get(f"/v1/media/{serial}", headers=desk)).json())["contracts"]

    card = h.card(serial)
    outcome = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    print(f"round trips per load over HTTP: {outcome.exchanges}")
    assert outcome.output["successful"] and outcome.exchanges == 3
    (load,) = outcome.output["loads"]
    assert load["written_by_this_session"] and load["status"] == "confirmed"

    # the card holds the contract, decoded to the product's tariff; its counter has the 10 trips
    records = _card_records(h, card)
    contract = decode_record("contract", records[SFI_CONTRACTS][load["record"] - 1])
    assert await loads.due_loads(h.pool, serial, h.clock.now()) == []  # nothing owed any more
    tariff = await h.pool.fetchval("SELECT tariff FROM nfc_tariff_codes WHERE fare_product_id = $1", CARNET)
    assert sold["fare_product_id"] == CARNET and contract["ContractTariff"] == tariff
    assert contract["ContractSerialNumber"] == load["card_contract_serial"]
    counter = int.from_bytes(records[SFI_COUNTER][0][3 * (load["record"] - 1):3 * load["record"]], "big")
    assert counter == 10
    assert load["contract_id"] == sold["contract_id"]

    # the server's mirror agrees with a fresh read of the card
    mirror = await loads.mirror(h.pool, serial)
    read = await h.terminal(card, phone).run("READ_CARD")
    assert mirror is not None and mirror.to_json() == read.output["card"]
    assert CardImage.from_json(read.output["card"]).contract_serials() == {load["card_contract_serial"]}

    # a TCL validator validates the wallet: the same contract goes from 10 trips to 9
    validator = await h.key("device", h.authorities["tcl"])
    when = h.clock.now() + timedelta(minutes=5)
    event = {"event_id": "e1", "medium": serial, "time": when.isoformat(), "stop_id": "tcl:stop", "route_id": "tcl:A"}
    response = await h.client.post("/v1/validations", json={"events": [event]}, headers=validator)
    assert response.status == 200, await response.text()
    (decision,) = (await response.json())["decisions"]
    assert decision["accepted"], decision
    assert decision["contract_id"] == load["contract_id"]
    view = await (await h.client.get(f"/v1/media/{serial}", headers=desk)).json()
    (held,) = [c for c in view["contracts"] if c["contract_id"] == load["contract_id"]]
    assert held["remaining_trips"] == 9


async def test_replayed_message_and_reused_session_id_are_refused(h):
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    await h.buy(desk, serial)
    card = h.card(serial)
    outcome = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    start, first_resp = outcome.messages[0], outcome.messages[1]

    for message, code in ((first_resp, "remote_message_replayed"), (start, "remote_session_reused")):
        response = await h.client.post("/v1/nfc/remote", json=message, headers=phone)
        assert response.status == 409 and response.content_type == "application/problem+json"
        assert (await response.json())["code"] == code

    # another terminal reusing a fresh session's id is refused too, and the card is loaded once
    again = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    with pytest.raises(RemoteRefused) as refused:
        await h.terminal(card, phone).run("LOAD_CONTRACTS", session_id=again.session_id)
    assert refused.value.status == 409 and refused.value.code == "remote_session_reused"
    assert again.output["loads"] == [] and len(CardImage.from_json(again.output["card"]).contracts) == 1


@pytest.mark.parametrize("message", [
    {"apiLevel": 3, "sessionId": "s1", "action": "EXECUTE_REMOTE_SERVICE", "clientNodeId": "c", "localReaderName": "r",
     "body": "{not json"},
    {"apiLevel": 9, "sessionId": "s1", "action": "EXECUTE_REMOTE_SERVICE", "clientNodeId": "c", "localReaderName": "r",
     "body": json.dumps({"coreApiLevel": 2, "serviceId": "LOAD_CONTRACTS", "isReaderContactless": True})},
    {"apiLevel": 3, "sessionId": "s1", "action": "CMD", "clientNodeId": "c", "localReaderName": "r", "body": "{}"},
    {"apiLevel": 3, "sessionId": "s1", "action": "RESP", "clientNodeId": "c", "localReaderName": "r", "serverNodeId": "x",
     "remoteReaderName": "y", "body": json.dumps({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST",
                                                 "result": {"apduResponses": [{"apdu": "9000", "statusWord": "6A82"}],
                                                            "isLogicalChannelOpen": True}})},
    [],
])
async def test_malformed_message_is_a_400_problem(h, message):
    phone = await h.key("device", h.authorities["tcl"])
    response = await h.client.post("/v1/nfc/remote", json=message, headers=phone)
    assert response.status == 400 and response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "malformed_remote_message"


async def test_unknown_service_is_a_400(h):
    phone = await h.key("device", h.authorities["tcl"])
    body = json.dumps({"coreApiLevel": 2, "serviceId": "FORMAT_CARD", "isReaderContactless": True})
    message = {"apiLevel": 3, "sessionId": "s2", "action": "EXECUTE_REMOTE_SERVICE", "clientNodeId": "c",
               "localReaderName": "r", "body": body}
    response = await h.client.post("/v1/nfc/remote", json=message, headers=phone)
    assert response.status == 400 and (await response.json())["code"] == "unknown_remote_service"


async def test_no_device_key_is_401_and_another_role_403(h):
    message = {"apiLevel": 3, "sessionId": "s3", "action": "EXECUTE_REMOTE_SERVICE", "clientNodeId": "c",
               "localReaderName": "r", "body": json.dumps({"coreApiLevel": 2, "serviceId": "READ_CARD",
                                                           "isReaderContactless": True})}
    assert (await h.client.post("/v1/nfc/remote", json=message)).status == 401
    desk = await h.key("sales_point", h.authorities["tcl"])
    assert (await h.client.post("/v1/nfc/remote", json=message, headers=desk)).status == 403
    assert (await h.client.get("/v1/nfc/remote/ws")).status == 401


async def test_a_session_of_another_device_is_refused(h):
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    thief = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    card = h.card(serial)
    from nfc_gateway.remote.terminal import Drop, ConnectionDropped

    terminal = h.terminal(card, phone)
    with pytest.raises(ConnectionDropped):
        await terminal.run("READ_CARD", drop_at=Drop(2, "before"))
    # the thief replays a RESP-shaped message for the open session with its own key
    opened = await h.pool.fetchval("SELECT session_id FROM nfc_remote_sessions WHERE step = 'awaiting'")
    body = json.dumps({"coreApiLevel": 2, "service": "TRANSMIT_CARD_SELECTION_REQUESTS",
                       "result": [{"hasMatched": False}]})
    message = {"apiLevel": 3, "sessionId": opened, "action": "RESP", "clientNodeId": terminal.client_node_id,
               "localReaderName": "READER_1", "serverNodeId": "s", "remoteReaderName": "r", "body": body}
    response = await h.client.post("/v1/nfc/remote", json=message, headers=thief)
    assert response.status == 403 and (await response.json())["code"] == "remote_session_of_other_device"


async def test_load_over_websocket(h):
    from nfc_gateway.remote.terminal import Terminal, WebSocketTransport

    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    await h.buy(desk, serial)
    card = h.card(serial)
    async with h.client.ws_connect("/v1/nfc/remote/ws", headers=phone) as ws:
        transport = WebSocketTransport(ws)
        outcome = await Terminal(card, transport).run("LOAD_CONTRACTS")
        assert outcome.output["successful"] and len(outcome.output["loads"]) == 1
        # a refusal is a problem frame, and the socket stays open for the next session
        with pytest.raises(RemoteRefused) as refused:
            await transport.send(outcome.messages[1])
        assert refused.value.code == "remote_message_replayed"
        read = await Terminal(card, transport, api_level=2).run("READ_CARD")
    print(f"round trips per load over WebSocket: {outcome.exchanges}")
    assert read.output["card"] == outcome.output["card"]
