"""The reference terminal: a phone or reader that relays a card's APDUs over the Keyple
Distributed JSON API (the "non-Keyple client" of the specification), over HTTP or WebSocket.

It knows no key and decides nothing: it sends EXECUTE_REMOTE_SERVICE, executes each CMD on the
card (`card.transmit(apdu) -> bytes`, a `nfc_gateway.sim.SoftwareCard` or a PC/SC reader with the
same method), answers with RESP, and returns the ``outputData`` of END_REMOTE_SERVICE. Used by the
tests, the demo and the bench.

Fault injection: ``drop_at=Drop(message, when)`` cuts the connection at the terminal's
``message``-th message (1: EXECUTE_REMOTE_SERVICE, 2: the first RESP, ...): ``"before"`` it is sent
(the server never sees it; the card did run the previous CMD's APDUs), or ``"after"`` it is sent
(the server acted on it, its answer is lost). The card then leaves the field (``card.remove()``:
an open secure session is dropped, as a real card does) and `ConnectionDropped` is raised.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import KEYPLE_READER_COMMUNICATION_ERROR

__all__ = ["Card", "Drop", "ConnectionDropped", "RemoteRefused", "Outcome", "Terminal",
           "HttpTransport", "WebSocketTransport", "DirectTransport", "select_application_apdu"]

POWER_ON_DATA = "3B8880010000000000718100F9"  # what a contactless reader reports for a Calypso card


class Card(Protocol):
    def transmit(self, apdu: bytes) -> bytes: ...
    def remove(self) -> None: ...


@dataclass(frozen=True)
class Drop:
    message: int                 # the terminal's n-th message (1-based)
    when: str = "before"         # "before" it is sent, or "after" (its answer is lost)


class ConnectionDropped(Exception):
    """The connection was cut by the fault injection hook."""


class RemoteRefused(Exception):
    """The server refused a message: its status and problem+json body."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")
        self.status = status
        self.problem = dict(problem)
        self.code = problem.get("code")


@dataclass
class Outcome:
    session_id: str
    output: dict[str, Any]       # END_REMOTE_SERVICE's outputData
    exchanges: int               # round trips (messages sent, each answered)
    messages: list[dict[str, Any]] = field(default_factory=list)  # every message sent (replay tests)


class Transport(Protocol):
    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]: ...


class HttpTransport:
    """POST each message to ``url`` with ``http`` (an aiohttp ClientSession, or a TestClient and a path)."""

    def __init__(self, http: Any, url: str = "/v1/nfc/remote", headers: Mapping[str, str] | None = None) -> None:
        self.http, self.url, self.headers = http, url, dict(headers or {})

    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.http.post(self.url, json=message, headers=self.headers) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                raise RemoteRefused(response.status, body)
            return body


class WebSocketTransport:
    """One WebSocket (``ws`` from ``ws_connect``); a problem frame is raised as `RemoteRefused`."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        await self.ws.send_str(json.dumps(message, separators=(",", ":")))
        answer = json.loads(await self.ws.receive_str())
        if isinstance(answer, dict):
            raise RemoteRefused(int(answer.get("status", 400)), answer)
        return answer


class DirectTransport:
    """Calls the server's handler in-process (``RemoteServices.handle`` and a key id): the protocol
    without HTTP, for runs of thousands of loads. Refusals surface as `RemoteRefused` too."""

    def __init__(self, handle: Callable[[Any, str], Awaitable[list[dict[str, Any]]]], key_id: str) -> None:
        self.handle, self.key_id = handle, key_id

    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        from oura.errors import OuraError

        try:
            return await self.handle(json.loads(json.dumps(message)), self.key_id)
        except OuraError as error:
            raise RemoteRefused(error.status, error.to_problem()) from None


def select_application_apdu(aid: bytes, occurrence: str = "FIRST", control: str = "FCI") -> bytes:
    """ISO 7816-4 SELECT by DF name (P1 04), P2 from the file occurrence and control information."""
    p2 = {"FIRST": 0x00, "LAST": 0x01, "NEXT": 0x02, "PREVIOUS": 0x03}[occurrence]
    p2 |= {"FCI": 0x00, "FCP": 0x04, "FMD": 0x08, "NO_RESPONSE": 0x0C}[control]
    return bytes((0x00, 0xA4, 0x04, p2, len(aid))) + aid + b"\x00"


def _apdu_response(raw: bytes) -> dict[str, str]:
    return {"apdu": raw.hex().upper(), "statusWord": raw[-2:].hex().upper()}


class Terminal:
    """A terminal with one card in its reader."""

    def __init__(self, card: Card, transport: Transport, *, client_node_id: str | None = None,
                 reader_name: str = "READER_1", api_level: int = 3) -> None:
        self.card = card
        self.transport = transport
        self.client_node_id = client_node_id or str(uuid.uuid4())
        self.reader_name = reader_name
        self.api_level = api_level

    def _message(self, session_id: str, action: str, body: Mapping[str, Any], last: Mapping[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {"apiLevel": self.api_level, "sessionId": session_id, "action": action,
                                   "clientNodeId": self.client_node_id, "localReaderName": self.reader_name,
                                   "body": json.dumps(body, separators=(",", ":"))}
        if last is not None:
            message["serverNodeId"] = last.get("serverNodeId")
            message["remoteReaderName"] = last.get("remoteReaderName")
        return message

    async def run(self, service_id: str, input_data: Mapping[str, Any] | None = None, *,
                  drop_at: Drop | None = None, session_id: str | None = None) -> Outcome:
        session_id = session_id or str(uuid.uuid4())
        body: dict[str, Any] = {"coreApiLevel": 2, "serviceId": service_id}
        if self.api_level >= 3:
            body["isReaderContactless"] = True
        if input_data:
            body["inputData"] = dict(input_data)
        message = self._message(session_id, "EXECUTE_REMOTE_SERVICE", body, None)
        sent: list[dict[str, Any]] = []
        while True:
            answer = await self._exchange(message, len(sent) + 1, drop_at)
            sent.append(message)
            if not isinstance(answer, list) or len(answer) != 1:
                raise ValueError("the server's message is not a single-element array")
            command = answer[0]
            cmd_body = json.loads(command["body"])
            if command["action"] == "END_REMOTE_SERVICE":
                return Outcome(session_id, cmd_body.get("outputData") or {}, len(sent), sent)
            if command["action"] != "CMD":
                raise ValueError(f"unexpected action {command['action']}")
            message = self._message(session_id, "RESP", self._execute(cmd_body), command)

    async def _exchange(self, message: dict[str, Any], number: int, drop_at: Drop | None) -> list[dict[str, Any]]:
        if drop_at is not None and drop_at.message == number and drop_at.when == "before":
            self._drop()
        answer = await self.transport.send(message)
        if drop_at is not None and drop_at.message == number and drop_at.when == "after":
            self._drop()
        return answer

    def _drop(self) -> None:
        self.card.remove()
        raise ConnectionDropped()

    # --- executing the server's commands on the card ---------------------------------------------

    def _card_request(self, request: Mapping[str, Any]) -> list[dict[str, str]]:
        responses = []
        for apdu_request in request["apduRequests"]:
            raw = self.card.transmit(bytes.fromhex(apdu_request["apdu"]))
            responses.append(_apdu_response(raw))
            ok = {sw.upper() for sw in apdu_request.get("successfulStatusWords", ["9000"])}
            if request.get("stopOnUnsuccessfulStatusWord") and raw[-2:].hex().upper() not in ok:
                break
        return responses

    def _execute(self, body: Mapping[str, Any]) -> dict[str, Any]:
        service = body["service"]
        parameters = body.get("parameters") or {}
        if service == "TRANSMIT_CARD_REQUEST":
            result = {"apduResponses": self._card_request(parameters["cardRequest"]),
                      "isLogicalChannelOpen": parameters.get("channelControl") != "CLOSE_AFTER"}
            return {"coreApiLevel": 2, "service": service, "result": result}
        if service == "TRANSMIT_CARD_SELECTION_REQUESTS":
            results = []
            pairs = zip(parameters["cardSelectors"], parameters["cardSelectionRequests"], strict=True)
            for selector, request in pairs:
                results.append(self._select(selector, request, parameters.get("channelControl") != "CLOSE_AFTER"))
                if results[-1]["hasMatched"] and parameters.get("multiSelectionProcessing", "FIRST_MATCH") == "FIRST_MATCH":
                    break
            return {"coreApiLevel": 2, "service": service, "result": results}
        if service == "IS_CARD_PRESENT":
            return {"coreApiLevel": 2, "service": service, "result": True}
        return {"coreApiLevel": 2, "service": service,
                "error": {"code": KEYPLE_READER_COMMUNICATION_ERROR, "message": f"service {service} not supported"}}

    def _select(self, selector: Mapping[str, Any], request: Mapping[str, Any], keep_open: bool) -> dict[str, Any]:
        result: dict[str, Any] = {"hasMatched": False, "powerOnData": POWER_ON_DATA}
        pattern = selector.get("powerOnDataRegex")
        if pattern and not re.fullmatch(pattern, POWER_ON_DATA):
            return result
        if selector.get("aid"):
            raw = self.card.transmit(select_application_apdu(bytes.fromhex(selector["aid"]),
                                                             selector.get("fileOccurrence", "FIRST"),
                                                             selector.get("fileControlInformation", "FCI")))
            result["selectApplicationResponse"] = _apdu_response(raw)
            ok = {sw.upper() for sw in request.get("successfulSelectionStatusWords", ["9000"])}
            if raw[-2:].hex().upper() not in ok:
                return result
        result["hasMatched"] = True
        if request.get("cardRequest"):
            result["cardResponse"] = {"apduResponses": self._card_request(request["cardRequest"]),
                                      "isLogicalChannelOpen": keep_open}
        return result
