"""nfc_gateway errors: one class per stable machine code, the docstring is the default message.

The foundation's middleware renders them as RFC 9457 problem+json (`oura.errors`). Each helper of
the package appends its classes at the end, grouped under a comment naming the module raising them.
"""

from __future__ import annotations

from oura.errors import BadRequest, Conflict, Forbidden, NotFound, OuraError, UnprocessableEntity


class NfcGatewayError(OuraError):
    """The NFC gateway could not carry out the request."""


# --- nfc_gateway.remote (Keyple Distributed JSON API: messages, sessions, services) ----------------

class MalformedRemoteMessage(BadRequest):
    """The message is not a Keyple Distributed JSON API message the server accepts."""

    code = "malformed_remote_message"
    title = "Malformed remote message"


class UnknownRemoteService(BadRequest):
    """The serviceId names no remote service of this server (READ_CARD, LOAD_CONTRACTS, TOP_UP)."""

    code = "unknown_remote_service"
    title = "Unknown remote service"


class RemoteSessionReused(Conflict):
    """This sessionId was already used: every card transaction needs a new one."""

    code = "remote_session_reused"
    title = "Session id reused"


class RemoteMessageReplayed(Conflict):
    """This message was already received in this session: a replay is refused (start a new session)."""

    code = "remote_message_replayed"
    title = "Message replayed"


class RemoteMessageOutOfOrder(Conflict):
    """The session does not expect this message now (another one is being processed, or it asked for another service)."""

    code = "remote_message_out_of_order"
    title = "Message out of order"


class RemoteSessionEnded(Conflict):
    """This session has ended (END_REMOTE_SERVICE was sent, or it failed): start a new session."""

    code = "remote_session_ended"
    title = "Session ended"


class RemoteSessionLost(Conflict):
    """The server restarted during this session and cannot continue it: start a new session (nothing is lost)."""

    code = "remote_session_lost"
    title = "Session lost"


class UnknownRemoteSession(NotFound):
    """No session of this device has this sessionId (a RESP must follow an EXECUTE_REMOTE_SERVICE)."""

    code = "unknown_remote_session"
    title = "Unknown session"


class RemoteSessionOfOtherDevice(Forbidden):
    """This session was opened by another device key or terminal (clientNodeId)."""

    code = "remote_session_of_other_device"
    title = "Session of another device"


class UnknownCard(UnprocessableEntity):
    """The card read is not a medium of this region (its application serial names no card or wallet)."""

    code = "unknown_card"
    title = "Unknown card"


# --- nfc_gateway.sim (software card and secure module, sans-IO card transactions) ------------------

class MalformedApdu(BadRequest):
    """The bytes are not a short ISO 7816-4 command or response APDU."""

    code = "malformed_apdu"
    title = "Malformed APDU"


class CardCommandFailed(UnprocessableEntity):
    """The card refused a command of the transaction (its status word is in the detail)."""

    code = "card_command_failed"
    title = "Card command failed"

    def __init__(self, detail: str | None = None, *, sw: int | None = None) -> None:
        super().__init__(detail, extra={"sw": f"{sw:04X}"} if sw is not None else None)
        self.sw = sw


class CardMacInvalid(UnprocessableEntity):
    """The card's session MAC does not match what the secure module computed: a card response was altered or is not from this card."""

    code = "card_mac_invalid"
    title = "Card MAC invalid"


class CardStateChanged(Conflict):
    """The card is not in the state the session was prepared for (another card, or it changed since it was read): read it again."""

    code = "card_state_changed"
    title = "Card state changed"


class CardSessionPlanInvalid(UnprocessableEntity):
    """The card session asked for is impossible (unknown file or record, counter out of range, too many writes)."""

    code = "card_session_plan_invalid"
    title = "Card session plan invalid"


# --- nfc_gateway.intercode (card records: decode and encode) -----------------------------------

class InvalidCardRecord(BadRequest):
    """The card record cannot be decoded or encoded (wrong length, not hex, a value too large for its field)."""

    code = "invalid_card_record"
    title = "Invalid card record"
