"""Keyple Distributed JSON API messages (nfc_gateway.remote.messages): the specification's own
examples parse, the server's messages have the specification's shape, malformed ones are refused
naming the field; the reference terminal executes CMD messages on a software card."""

from __future__ import annotations

import json

import pytest

from nfc_gateway.errors import MalformedRemoteMessage
from nfc_gateway.remote import messages as m
from nfc_gateway.remote.terminal import Terminal, select_application_apdu
from nfc_gateway.sim.card import AID, SoftwareCard
from nfc_gateway.sim.sam import SecureModule
from nfc_gateway.sim.transaction import ReadCard, select_application

# The examples of server-json-api_2-1.md (apiLevel written 2 in the spec's examples; 3 in its tables).
SPEC_ERS = {
    "apiLevel": 2, "sessionId": "b1b8ed38-bae6-4b2e-a747-67d233652ea9", "action": "EXECUTE_REMOTE_SERVICE",
    "clientNodeId": "ca21fd3c-a055-4be5-aad1-c61af3528371", "localReaderName": "READER_1",
    "body": "{\"coreApiLevel\":2,\"serviceId\":\"AUTHENTICATE_CARD\",\"isReaderContactless\":true,\"inputData\":{\"userId\":"
            "\"7b13592c-0d21-429b-80d2-3dc565338ea3\"}}",
}
SPEC_SELECTION_RESP = {
    "apiLevel": 2, "sessionId": "b1b8ed38-bae6-4b2e-a747-67d233652ea9", "action": "RESP",
    "clientNodeId": "ca21fd3c-a055-4be5-aad1-c61af3528371", "serverNodeId": "4132f1ef-4386-49b0-acb6-cc16035c107a",
    "localReaderName": "READER_1", "remoteReaderName": "a65f4920-7e96-4082-986a-b58d85978c07",
    "body": "{\"coreApiLevel\":2,\"service\":\"TRANSMIT_CARD_SELECTION_REQUESTS\",\"result\":[{\"hasMatched\":true,"
            "\"powerOnData\":\"3B8880010000000000718100F9\",\"selectApplicationResponse\":{\"apdu\":\"6F238409315449432E49434131A5"
            "16BF0C13C708000000001122334453070A3C23121410019000\",\"statusWord\":\"9000\"},\"cardResponse\":{\"apduResponses\":"
            "[{\"apdu\":\"24B92848080000131A50001200000000000000000000000000000000009000\",\"statusWord\":\"9000\"}],"
            "\"isLogicalChannelOpen\":true}}]}",
}
SPEC_CARD_RESP = {
    **SPEC_SELECTION_RESP,
    "body": "{\"coreApiLevel\":2,\"service\":\"TRANSMIT_CARD_REQUEST\",\"result\":{\"apduResponses\":[{\"apdu\":"
            "\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCC9000\",\"statusWord\":\"9000\"}],"
            "\"isLogicalChannelOpen\":true}}",
}


def test_the_specifications_examples_parse():
    start = m.parse_message(SPEC_ERS)
    ers = m.parse_execute_remote_service(start)
    assert (start.action, start.api_level, ers.service_id, ers.reader_contactless) == ("EXECUTE_REMOTE_SERVICE", 2, "AUTHENTICATE_CARD", True)
    assert ers.input_data == {"userId": "7b13592c-0d21-429b-80d2-3dc565338ea3"}
    (selected,) = m.parse_response(m.parse_message(SPEC_SELECTION_RESP)).selection
    assert selected.has_matched and selected.select_application_response.status_word == 0x9000
    assert selected.card_response.apdu_responses[0].apdu.hex().upper().startswith("24B928")
    card = m.parse_response(m.parse_message([SPEC_CARD_RESP])).card  # a single-element array is accepted too
    assert card.logical_channel_open and len(card.apdu_responses[0].apdu) == 31


def test_the_servers_messages_have_the_specifications_shape():
    start = m.parse_message({**SPEC_ERS, "apiLevel": 3})
    ids = {"server_node_id": "srv", "remote_reader_name": "rr"}
    (cmd,) = m.card_selection_cmd(start, aid=AID, apdus=[m.ApduRequest(b"\x00\xb2\x01\x44\x00")], **ids)
    assert set(cmd) == {"apiLevel", "sessionId", "action", "clientNodeId", "serverNodeId", "localReaderName",
                        "remoteReaderName", "body"}
    assert (cmd["apiLevel"], cmd["action"], cmd["sessionId"]) == (3, "CMD", start.session_id)
    body = json.loads(cmd["body"])
    assert body["service"] == "TRANSMIT_CARD_SELECTION_REQUESTS" and body["coreApiLevel"] == 2
    parameters = body["parameters"]
    assert parameters["cardSelectors"] == [{"aid": AID.hex().upper(), "fileOccurrence": "FIRST", "fileControlInformation": "FCI"}]
    assert parameters["cardSelectionRequests"][0]["cardRequest"]["apduRequests"] == [
        {"apdu": "00B2014400", "successfulStatusWords": ["9000"]}]
    (request,) = m.card_request_cmd(start, apdus=[m.ApduRequest(b"\x00\xb2\x01\x44\x00")], channel_open=False, **ids)
    assert json.loads(request["body"])["parameters"]["channelControl"] == "CLOSE_AFTER"
    (end,) = m.end_remote_service(start, {"isSuccessful": True}, **ids)
    assert end["action"] == "END_REMOTE_SERVICE" and "localReaderName" not in end
    assert json.loads(end["body"]) == {"coreApiLevel": 2, "outputData": {"isSuccessful": True}}


def _with_body(message: dict, **body) -> dict:
    return {**message, "body": json.dumps(body)}


@pytest.mark.parametrize(("message", "field"), [
    ({**SPEC_ERS, "apiLevel": 1}, "apiLevel"),
    ({**SPEC_ERS, "apiLevel": True}, "apiLevel"),
    ({**SPEC_ERS, "action": "CMD"}, "action"),
    ({**SPEC_ERS, "sessionId": ""}, "sessionId"),
    ({**SPEC_ERS, "sessionId": "with space"}, "sessionId"),
    ({k: v for k, v in SPEC_ERS.items() if k != "clientNodeId"}, "clientNodeId"),
    ({**SPEC_ERS, "body": {"coreApiLevel": 2}}, "body"),
    ({**SPEC_ERS, "body": "[1]"}, "body"),
    ({**SPEC_ERS, "body": "{\"coreApiLevel\": 1, \"serviceId\": \"X\"}"}, "body.coreApiLevel"),
    ({**SPEC_ERS, "remoteReaderName": "x"}, "remoteReaderName"),
    ({k: v for k, v in SPEC_SELECTION_RESP.items() if k != "serverNodeId"}, "serverNodeId"),
    ([SPEC_ERS, SPEC_ERS], "message"),
    ("hello", "message"),
])
def test_malformed_envelopes_are_refused_naming_the_field(message, field):
    with pytest.raises(MalformedRemoteMessage) as refused:
        m.parse_message(message)
    assert refused.value.status == 400 and refused.value.extra["invalid_params"][0]["name"] == field


@pytest.mark.parametrize(("body", "field"), [
    ({"coreApiLevel": 2, "service": "FORMAT"}, "body.service"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST"}, "body.result"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST", "result": {"apduResponses": [], "isLogicalChannelOpen": 1}},
     "body.result.isLogicalChannelOpen"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST", "result": {"apduResponses": [{"apdu": "9000", "statusWord": "6A82"}],
                                                                       "isLogicalChannelOpen": True}},
     "body.result.apduResponses[0].statusWord"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST", "result": {"apduResponses": [{"apdu": "9G00", "statusWord": "9000"}],
                                                                       "isLogicalChannelOpen": True}},
     "body.result.apduResponses[0].apdu"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_SELECTION_REQUESTS", "result": []}, "body.result"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_SELECTION_REQUESTS", "result": [{"hasMatched": "yes"}]},
     "body.result[0].hasMatched"),
    ({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST", "error": {"code": "OOPS", "message": ""}}, "body.error.code"),
])
def test_malformed_responses_are_refused_naming_the_field(body, field):
    with pytest.raises(MalformedRemoteMessage) as refused:
        m.parse_response(m.parse_message(_with_body(SPEC_SELECTION_RESP, **body)))
    assert refused.value.extra["invalid_params"][0]["name"] == field


def test_api_level_3_requires_is_reader_contactless():
    body = json.dumps({"coreApiLevel": 2, "serviceId": "READ_CARD"})
    assert m.parse_execute_remote_service(m.parse_message({**SPEC_ERS, "body": body})).reader_contactless is None
    with pytest.raises(MalformedRemoteMessage):
        m.parse_execute_remote_service(m.parse_message({**SPEC_ERS, "apiLevel": 3, "body": body}))


def test_a_replayed_message_has_the_same_digest_and_another_one_not():
    first = m.parse_message(SPEC_SELECTION_RESP)
    assert m.parse_message(json.loads(json.dumps(SPEC_SELECTION_RESP))).digest == first.digest
    assert m.parse_message(SPEC_CARD_RESP).digest != first.digest


class _Echo:
    """A transport answering a read selection once, then END: enough to drive the terminal."""

    def __init__(self, sam: SecureModule) -> None:
        self.reader = ReadCard(sam)
        self.sent: list[dict] = []

    async def send(self, message: dict) -> list[dict]:
        self.sent.append(message)
        start = m.parse_message({**message, "action": "EXECUTE_REMOTE_SERVICE", "remoteReaderName": None,
                                 "body": json.dumps({"coreApiLevel": 2, "serviceId": "X"})})
        ids = {"server_node_id": "srv", "remote_reader_name": "rr"}
        if len(self.sent) == 1:
            apdus = [m.ApduRequest(a) for a in self.reader.commands()[1:]]
            return m.card_selection_cmd(start, aid=AID, apdus=apdus, **ids)
        return m.end_remote_service(start, {"done": True}, **ids)


async def test_the_terminal_runs_a_selection_on_the_card_and_the_sam_verifies_it():
    sam = SecureModule(bytes(16))
    serial = bytes.fromhex("00000000DEADBEEF")
    card = SoftwareCard.blank(serial, sam.personalise(serial))
    transport = _Echo(sam)
    outcome = await Terminal(card, transport).run("READ_CARD")
    assert outcome.output == {"done": True} and outcome.exchanges == 2
    resp = m.parse_message(transport.sent[1])
    (selected,) = m.parse_response(resp).selection
    answers = [selected.select_application_response.apdu, *(r.apdu for r in selected.card_response.apdu_responses)]
    assert transport.reader.result(answers).serial == serial  # the card MAC of the read checks
    assert select_application_apdu(AID) == select_application(AID)
