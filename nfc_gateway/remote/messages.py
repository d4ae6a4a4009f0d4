"""Keyple Distributed JSON API 2.x messages (server side): parse and check what a terminal sends,
build what the server answers. Pure: no I/O.

Field names are the specification's (../shared/specs/keyple-json-api/server-json-api_2-0.md and
2-1.md): a ``MessageDto`` has ``apiLevel``, ``sessionId``, ``action``, ``clientNodeId``,
``serverNodeId``, ``localReaderName``, ``remoteReaderName`` and ``body``, a JSON *string* whose
content depends on ``action`` (and, for CMD and RESP, on its ``service``).

A terminal sends ``EXECUTE_REMOTE_SERVICE`` (once, to start) and ``RESP`` (one per CMD); the
server answers each with one ``CMD`` (``TRANSMIT_CARD_SELECTION_REQUESTS`` or
``TRANSMIT_CARD_REQUEST``) or the final ``END_REMOTE_SERVICE``. The server's messages are
single-element arrays, as the specification says. Both API levels are accepted: 2 (JSON API 2.0)
and 3 (2.1: ``isReaderContactless`` in the start body, no IS_CONTACTLESS command); the server
answers at the level the terminal started with.

Anything malformed raises `MalformedRemoteMessage` (400 problem+json) naming the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oura.errors import BadRequest
from oura.http.responses import parse_json

from ..errors import MalformedRemoteMessage

__all__ = [
    "API_LEVELS",
    "CORE_API_LEVEL",
    "EXECUTE_REMOTE_SERVICE",
    "RESP",
    "CMD",
    "END_REMOTE_SERVICE",
    "TRANSMIT_CARD_SELECTION_REQUESTS",
    "TRANSMIT_CARD_REQUEST",
    "IS_CARD_PRESENT",
    "Message",
    "ExecuteRemoteService",
    "ApduResponse",
    "CardResponse",
    "CardSelectionResponse",
    "RemoteError",
    "Response",
    "ApduRequest",
    "parse_message",
    "parse_execute_remote_service",
    "parse_response",
    "message_digest",
    "card_selection_cmd",
    "card_request_cmd",
    "end_remote_service",
    "to_wire",
]

API_LEVELS = (2, 3)          # 2: JSON API 2.0, 3: JSON API 2.1
CORE_API_LEVEL = 2           # the body's coreApiLevel, constant in both
EXECUTE_REMOTE_SERVICE = "EXECUTE_REMOTE_SERVICE"
RESP = "RESP"
CMD = "CMD"
END_REMOTE_SERVICE = "END_REMOTE_SERVICE"
TRANSMIT_CARD_SELECTION_REQUESTS = "TRANSMIT_CARD_SELECTION_REQUESTS"
TRANSMIT_CARD_REQUEST = "TRANSMIT_CARD_REQUEST"
IS_CARD_PRESENT = "IS_CARD_PRESENT"
ERROR_CODES = ("READER_COMMUNICATION_ERROR", "CARD_COMMUNICATION_ERROR", "CARD_COMMAND_ERROR")

MAX_ID_LENGTH = 100          # sessionId, clientNodeId, localReaderName, ...
MAX_BODY_LENGTH = 64_000     # a card's whole content in hex is ~2 kB; anything this large is not a card
MAX_APDUS = 64
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})*$")
_SW = re.compile(r"^[0-9A-Fa-f]{4}$")
_ID = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII without spaces (UUIDs, reader names)


@dataclass(frozen=True)
class Message:
    """One MessageDto, its ``body`` string parsed (an object)."""

    api_level: int
    session_id: str
    action: str
    client_node_id: str
    local_reader_name: str | None
    server_node_id: str | None
    remote_reader_name: str | None
    body: Mapping[str, Any]
    digest: bytes = field(default=b"", compare=False)  # SHA-256 of the message's canonical JSON (replay detection)


@dataclass(frozen=True)
class ExecuteRemoteService:
    service_id: str
    input_data: Mapping[str, Any]
    reader_contactless: bool | None
    initial_card_content: Mapping[str, Any] | None


@dataclass(frozen=True)
class ApduResponse:
    apdu: bytes          # the card's answer including its status word
    status_word: int


@dataclass(frozen=True)
class CardResponse:
    apdu_responses: tuple[ApduResponse, ...]
    logical_channel_open: bool


@dataclass(frozen=True)
class CardSelectionResponse:
    has_matched: bool
    power_on_data: str | None
    select_application_response: ApduResponse | None
    card_response: CardResponse | None


@dataclass(frozen=True)
class RemoteError:
    code: str
    message: str


@dataclass(frozen=True)
class Response:
    """The body of a RESP: exactly one of ``selection`` / ``card`` / ``present`` / ``error``."""

    service: str
    selection: tuple[CardSelectionResponse, ...] | None = None
    card: CardResponse | None = None
    present: bool | None = None
    error: RemoteError | None = None


@dataclass(frozen=True)
class ApduRequest:
    apdu: bytes
    successful_status_words: tuple[int, ...] = (0x9000,)
    info: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"apdu": self.apdu.hex().upper(),
                               "successfulStatusWords": [f"{sw:04X}" for sw in self.successful_status_words]}
        if self.info:
            out["info"] = self.info
        return out


# --- parsing ---------------------------------------------------------------------------------------

def _fail(field_name: str, reason: str) -> MalformedRemoteMessage:
    return MalformedRemoteMessage(f"{field_name}: {reason}", extra={"invalid_params": [{"name": field_name, "reason": reason}]})


def _id(data: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise _fail(name, "required")
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or not _ID.match(value):
        raise _fail(name, f"a string of 1 to {MAX_ID_LENGTH} printable characters without spaces")
    return value


def message_digest(data: Mapping[str, Any]) -> bytes:
    """SHA-256 of the message's canonical JSON: the same message sent twice has the same digest."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()).digest()


def parse_message(value: Any) -> Message:
    """A terminal's message (an object, or a single-element array of one) -> `Message`."""
    if isinstance(value, list):
        if len(value) != 1:
            raise _fail("message", "one MessageDto object (or an array holding exactly one)")
        value = value[0]
    if not isinstance(value, dict):
        raise _fail("message", "a JSON object")
    api_level = value.get("apiLevel")
    if type(api_level) is not int or api_level not in API_LEVELS:
        raise _fail("apiLevel", f"one of {list(API_LEVELS)}")
    action = value.get("action")
    if action not in (EXECUTE_REMOTE_SERVICE, RESP):
        raise _fail("action", f"a terminal sends {EXECUTE_REMOTE_SERVICE} or {RESP}")
    body_text = value.get("body")
    if not isinstance(body_text, str) or not body_text:
        raise _fail("body", "a JSON string holding an object")
    if len(body_text) > MAX_BODY_LENGTH:
        raise _fail("body", f"longer than {MAX_BODY_LENGTH} characters")
    try:
        body = parse_json(body_text, max_depth=12)
    except BadRequest as error:
        raise _fail("body", f"not JSON ({error.detail})") from None
    if not isinstance(body, dict):
        raise _fail("body", "a JSON string holding an object")
    if body.get("coreApiLevel") != CORE_API_LEVEL or type(body.get("coreApiLevel")) is not int:
        raise _fail("body.coreApiLevel", f"the constant {CORE_API_LEVEL}")
    starting = action == EXECUTE_REMOTE_SERVICE
    if starting and value.get("remoteReaderName") is not None:
        raise _fail("remoteReaderName", "null or absent in EXECUTE_REMOTE_SERVICE")
    return Message(
        api_level=api_level,
        session_id=_id(value, "sessionId", required=True),  # type: ignore[arg-type]
        action=action,
        client_node_id=_id(value, "clientNodeId", required=True),  # type: ignore[arg-type]
        local_reader_name=_id(value, "localReaderName", required=True),
        server_node_id=_id(value, "serverNodeId", required=not starting),
        remote_reader_name=_id(value, "remoteReaderName", required=not starting),
        body=body,
        digest=message_digest(value),
    )


def parse_execute_remote_service(message: Message) -> ExecuteRemoteService:
    body = message.body
    service_id = body.get("serviceId")
    if not isinstance(service_id, str) or not service_id or len(service_id) > MAX_ID_LENGTH:
        raise _fail("body.serviceId", "a non-empty string")
    input_data = body.get("inputData")
    if input_data is None:
        input_data = {}
    if not isinstance(input_data, dict):
        raise _fail("body.inputData", "an object")
    contactless = body.get("isReaderContactless")
    if message.api_level >= 3 and not isinstance(contactless, bool):
        raise _fail("body.isReaderContactless", "a boolean (API level 3)")
    if contactless is not None and not isinstance(contactless, bool):
        raise _fail("body.isReaderContactless", "a boolean")
    initial = body.get("initialCardContent")
    if initial is not None and not isinstance(initial, dict):
        raise _fail("body.initialCardContent", "an object")
    if initial is not None and body.get("initialCardContentClassName") != "java.util.Properties":
        raise _fail("body.initialCardContentClassName", "'java.util.Properties' when initialCardContent is set")
    return ExecuteRemoteService(service_id, input_data, contactless, initial)


def _hex(value: Any, name: str, *, min_bytes: int = 0) -> bytes:
    if not isinstance(value, str) or not _HEX.match(value) or len(value) // 2 < min_bytes or len(value) > 1024:
        raise _fail(name, "an even-length hexadecimal string" + (f" of at least {min_bytes} bytes" if min_bytes else ""))
    return bytes.fromhex(value)


def _apdu_response(value: Any, name: str) -> ApduResponse:
    if not isinstance(value, dict):
        raise _fail(name, "an object with apdu and statusWord")
    apdu = _hex(value.get("apdu"), f"{name}.apdu", min_bytes=2)
    sw = value.get("statusWord")
    if not isinstance(sw, str) or not _SW.match(sw):
        raise _fail(f"{name}.statusWord", "a 2-byte hexadecimal string")
    if int(sw, 16) != int.from_bytes(apdu[-2:], "big"):
        raise _fail(f"{name}.statusWord", "not the last two bytes of apdu")
    return ApduResponse(apdu, int(sw, 16))


def _card_response(value: Any, name: str) -> CardResponse:
    if not isinstance(value, dict):
        raise _fail(name, "a CardResponse object")
    responses = value.get("apduResponses")
    if not isinstance(responses, list) or len(responses) > MAX_APDUS:
        raise _fail(f"{name}.apduResponses", f"an array of at most {MAX_APDUS} ApduResponse")
    is_open = value.get("isLogicalChannelOpen")
    if not isinstance(is_open, bool):
        raise _fail(f"{name}.isLogicalChannelOpen", "a boolean")
    return CardResponse(tuple(_apdu_response(r, f"{name}.apduResponses[{i}]") for i, r in enumerate(responses)), is_open)


def _error(value: Any) -> RemoteError:
    if not isinstance(value, dict) or value.get("code") not in ERROR_CODES:
        raise _fail("body.error.code", f"one of {list(ERROR_CODES)}")
    message = value.get("message", "")
    if not isinstance(message, str):
        raise _fail("body.error.message", "a string")
    return RemoteError(value["code"], message[:500])


def parse_response(message: Message) -> Response:
    """The body of a RESP message."""
    body = message.body
    service = body.get("service")
    if service not in (TRANSMIT_CARD_SELECTION_REQUESTS, TRANSMIT_CARD_REQUEST, IS_CARD_PRESENT):
        raise _fail("body.service", f"one of {TRANSMIT_CARD_SELECTION_REQUESTS}, {TRANSMIT_CARD_REQUEST}, {IS_CARD_PRESENT}")
    if body.get("error") is not None:
        if body.get("result") is not None:
            raise _fail("body.result", "absent when error is set")
        return Response(service, error=_error(body["error"]))
    result = body.get("result")
    if result is None:
        raise _fail("body.result", "required unless error is set")
    if service == IS_CARD_PRESENT:
        if not isinstance(result, bool):
            raise _fail("body.result", "a boolean")
        return Response(service, present=result)
    if service == TRANSMIT_CARD_REQUEST:
        return Response(service, card=_card_response(result, "body.result"))
    if not isinstance(result, list) or not result or len(result) > 16:
        raise _fail("body.result", "a non-empty array of CardSelectionResponse")
    selections = []
    for i, item in enumerate(result):
        name = f"body.result[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("hasMatched"), bool):
            raise _fail(f"{name}.hasMatched", "a boolean")
        power_on = item.get("powerOnData")
        if power_on is not None and (not isinstance(power_on, str) or len(power_on) > 200):
            raise _fail(f"{name}.powerOnData", "a string")
        select = item.get("selectApplicationResponse")
        card = item.get("cardResponse")
        selections.append(CardSelectionResponse(
            item["hasMatched"], power_on,
            None if select is None else _apdu_response(select, f"{name}.selectApplicationResponse"),
            None if card is None else _card_response(card, f"{name}.cardResponse"),
        ))
    return Response(service, selection=tuple(selections))


# --- building the server's messages ------------------------------------------------------------------

def _dto(start: Message, action: str, body: Mapping[str, Any], *, server_node_id: str, remote_reader_name: str) -> list[dict[str, Any]]:
    message: dict[str, Any] = {
        "apiLevel": start.api_level,
        "sessionId": start.session_id,
        "action": action,
        "clientNodeId": start.client_node_id,
        "serverNodeId": server_node_id,
        "remoteReaderName": remote_reader_name,
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
    }
    if action != END_REMOTE_SERVICE:
        message["localReaderName"] = start.local_reader_name
    return [message]  # "The MessageDto is contained in a single-element array!"


def card_selection_cmd(start: Message, *, aid: bytes, apdus: Sequence[ApduRequest], server_node_id: str,
                       remote_reader_name: str, channel_open: bool = True) -> list[dict[str, Any]]:
    """CMD TRANSMIT_CARD_SELECTION_REQUESTS: select the application ``aid`` (FIRST, FCI), then send ``apdus``."""
    request: dict[str, Any] = {"successfulSelectionStatusWords": ["9000"]}
    if apdus:
        request["cardRequest"] = {"apduRequests": [a.to_json() for a in apdus], "stopOnUnsuccessfulStatusWord": True}
    body = {"coreApiLevel": CORE_API_LEVEL, "service": TRANSMIT_CARD_SELECTION_REQUESTS, "parameters": {
        "multiSelectionProcessing": "FIRST_MATCH",
        "channelControl": "KEEP_OPEN" if channel_open else "CLOSE_AFTER",
        "cardSelectors": [{"aid": aid.hex().upper(), "fileOccurrence": "FIRST", "fileControlInformation": "FCI"}],
        "cardSelectionRequests": [request],
    }}
    return _dto(start, CMD, body, server_node_id=server_node_id, remote_reader_name=remote_reader_name)


def card_request_cmd(start: Message, *, apdus: Sequence[ApduRequest], server_node_id: str, remote_reader_name: str,
                     channel_open: bool = True) -> list[dict[str, Any]]:
    """CMD TRANSMIT_CARD_REQUEST: send ``apdus`` to the selected card, stopping at the first unexpected status word."""
    body = {"coreApiLevel": CORE_API_LEVEL, "service": TRANSMIT_CARD_REQUEST, "parameters": {
        "cardRequest": {"apduRequests": [a.to_json() for a in apdus], "stopOnUnsuccessfulStatusWord": True},
        "channelControl": "KEEP_OPEN" if channel_open else "CLOSE_AFTER",
    }}
    return _dto(start, CMD, body, server_node_id=server_node_id, remote_reader_name=remote_reader_name)


def end_remote_service(start: Message, output_data: Mapping[str, Any] | None, *, server_node_id: str,
                       remote_reader_name: str) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"coreApiLevel": CORE_API_LEVEL}
    if output_data is not None:
        body["outputData"] = output_data
    return _dto(start, END_REMOTE_SERVICE, body, server_node_id=server_node_id, remote_reader_name=remote_reader_name)


def to_wire(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
