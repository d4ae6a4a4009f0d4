"""HTTP and WebSocket routes of the remote load protocol (Keyple Distributed JSON API, server side).

- ``POST /v1/nfc/remote``: the JSON API over HTTP request/response. The terminal POSTs one
  message (EXECUTE_REMOTE_SERVICE to start, then one RESP per CMD); the answer is the server's
  next message, a single-element array holding a CMD or the final END_REMOTE_SERVICE.
- ``GET /v1/nfc/remote/ws``: the same messages over a WebSocket, one JSON text frame each way. A
  refused message is answered by a frame holding its problem (the same problem+json object the
  HTTP route answers), and the socket stays open for the next session.

Both take a device key (role device). A sessionId is used once; a message is accepted once (see
`nfc_gateway.remote.sessions`); a terminal that lost an answer starts a new session, which the
load jobs make safe (`nfc_gateway.remote.services`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from oura.auth import Role
from oura.errors import OuraError
from oura.http import RouteTable, get_principal, json_response, read_json, reply, schema_ref
from oura.http.responses import parse_json

from ..errors import MalformedRemoteMessage, WebSocketRequired
from .services import REMOTE_SERVICES, SERVICES

__all__ = ["routes", "COMPONENTS"]

log = logging.getLogger(__name__)

_ID = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[\x21-\x7e]+$"}
_NULLABLE_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 100, "pattern": r"^[\x21-\x7e]+$"}

REMOTE_MESSAGE: dict[str, Any] = {
    "type": "object",
    "description": "A Keyple Distributed JSON API MessageDto (2.0: apiLevel 2, 2.1: apiLevel 3). body is a JSON "
                   "string: ExecuteRemoteServiceBody (serviceId: " + ", ".join(SERVICES) + "), or a RESP body "
                   "(service TRANSMIT_CARD_SELECTION_REQUESTS or TRANSMIT_CARD_REQUEST with its result)",
    "required": ["apiLevel", "sessionId", "action", "clientNodeId", "body"],
    "properties": {
        "apiLevel": {"type": "integer", "enum": [2, 3]},
        "sessionId": _ID,
        "action": {"type": "string", "enum": ["EXECUTE_REMOTE_SERVICE", "RESP", "CMD", "END_REMOTE_SERVICE"]},
        "clientNodeId": _ID,
        "serverNodeId": _NULLABLE_ID,
        "localReaderName": _NULLABLE_ID,
        "remoteReaderName": _NULLABLE_ID,
        "body": {"type": "string", "minLength": 1, "maxLength": 64000,
                 "description": "a JSON object as a string (coreApiLevel 2, then the action's fields)"},
    },
}

COMPONENTS = {
    "RemoteMessage": REMOTE_MESSAGE,
    "RemoteAnswer": {"type": "array", "minItems": 1, "maxItems": 1, "items": schema_ref("RemoteMessage"),
                     "description": "The server's next message (CMD or END_REMOTE_SERVICE), in a single-element array"},
}

routes = RouteTable(tag="nfc", components=COMPONENTS)

_REFUSALS = {
    400: "Not a message the server accepts (malformed_remote_message), or an unknown serviceId",
    403: "A session opened by another device (remote_session_of_other_device), or not a device key",
    404: "A RESP for no session of this device (unknown_remote_session)",
    409: "A reused sessionId, a replayed message, a message out of order, a session ended or lost (the server "
         "restarted): start a new session",
    422: "The card is not a card or wallet of the region, or the card's answers fail the secure module's checks",
}


@routes.post(
    "/v1/nfc/remote",
    summary="Keyple Distributed JSON API over HTTP: post a terminal's message, get the server's next one",
    roles=[Role.DEVICE],
    body={"oneOf": [schema_ref("RemoteMessage"),
                    {"type": "array", "minItems": 1, "maxItems": 1, "items": schema_ref("RemoteMessage")}]},
    responses={200: reply("The server's next message: a CMD (card selection or APDUs to relay) or END_REMOTE_SERVICE "
                          "whose outputData holds the card read and the loads done", schema_ref("RemoteAnswer")),
               **_REFUSALS},
)
async def post_remote_message(request: web.Request) -> web.Response:
    """Start a remote service (EXECUTE_REMOTE_SERVICE) or answer the server's last command (RESP)."""
    principal = get_principal(request)
    raw = await read_json(request)
    answer = await request.app[REMOTE_SERVICES].handle(raw, principal.key_id)
    return json_response(answer)


@routes.get(
    "/v1/nfc/remote/ws",
    summary="Keyple Distributed JSON API over WebSocket: one JSON text frame per message each way",
    roles=[Role.DEVICE],
    responses={101: {"description": "Switching to the WebSocket protocol: the terminal sends RemoteMessage frames, the "
                                    "server answers each with a RemoteAnswer frame, or with a Problem frame refusing it "
                                    "(the socket stays open)"},
               400: "Not a WebSocket upgrade request (websocket_required)"},
)
async def remote_websocket(request: web.Request) -> web.StreamResponse:
    """The remote protocol over one WebSocket (several sessions may follow each other on it)."""
    principal = get_principal(request)
    socket = web.WebSocketResponse(heartbeat=30.0, max_msg_size=128 * 1024)
    if not socket.can_prepare(request).ok:
        raise WebSocketRequired()
    await socket.prepare(request)
    services = request.app[REMOTE_SERVICES]
    async for frame in socket:
        if frame.type != WSMsgType.TEXT:
            if frame.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            await socket.send_str(json.dumps(MalformedRemoteMessage("frames are JSON text").to_problem()))
            continue
        try:
            answer: Any = await services.handle(parse_json(frame.data), principal.key_id)
        except OuraError as error:
            answer = error.to_problem()
        await socket.send_str(json.dumps(answer, separators=(",", ":"), ensure_ascii=False))
    return socket
