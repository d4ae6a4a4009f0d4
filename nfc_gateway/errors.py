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


# --- nfc_gateway.devices (registration, heartbeats, deny-list acknowledgements, offline sales) ------

class InvalidDeviceRequest(BadRequest):
    """The body of this device request is malformed (the detail names the field)."""

    code = "invalid_device_request"
    title = "Invalid device request"


class InvalidOfflineSales(BadRequest):
    """The offline sales upload is malformed (the detail names the sale and the field); nothing was recorded."""

    code = "invalid_offline_sales"
    title = "Invalid offline sales"


class UnknownDevice(NotFound):
    """No device with this id (or not one your key may see)."""

    code = "unknown_device"
    title = "Unknown device"


class UnknownDeviceAuthority(NotFound):
    """No authority of the registry has this id: a device is registered for one of them."""

    code = "unknown_device_authority"
    title = "Unknown authority"


class OtherDevice(Forbidden):
    """This key is not the key of this device: a device speaks for itself only."""

    code = "other_device"
    title = "Another device"


class DeviceRevoked(Forbidden):
    """This device was revoked: it may no longer contact the server."""

    code = "device_revoked"
    title = "Device revoked"


class NotAVendingMachine(Conflict):
    """This device is a validator: only vending machines upload sales."""

    code = "not_a_vending_machine"
    title = "Not a vending machine"


class DenylistVersionAhead(Conflict):
    """This deny-list version was never issued (it is above the current one)."""

    code = "denylist_version_ahead"
    title = "Deny-list version ahead"


# --- nfc_gateway.remote.loads (load jobs, the card mirror) ---------------------------------------

class UnknownLoadJob(NotFound):
    """No load job has this id."""

    code = "unknown_load_job"
    title = "Unknown load job"


class LoadRefunded(Conflict):
    """This load was refunded (it was not written before its deadline): it must not be written or confirmed now."""

    code = "load_refunded"
    title = "Load refunded"


class LoadCancelled(Conflict):
    """This load is cancelled: its contract left the medium (moved to a new card by reconstitution)."""

    code = "load_cancelled"
    title = "Load cancelled"


class LoadNotOnCard(Conflict):
    """The card image given does not hold this load's contract (its serial number), or is another card's."""

    code = "load_not_on_card"
    title = "Load not on the card"


class WebSocketRequired(BadRequest):
    """This route speaks WebSocket only: send an HTTP upgrade request (Connection: Upgrade, Upgrade: websocket)."""

    code = "websocket_required"
    title = "WebSocket required"


# --- nfc_gateway.intercode (card records: decode and encode) -----------------------------------

class InvalidCardRecord(BadRequest):
    """The card record cannot be decoded or encoded (wrong length, not hex, a value too large for its field)."""

    code = "invalid_card_record"
    title = "Invalid card record"


# --- nfc_gateway.devices (registration, heartbeats, deny-list acknowledgements, offline sales) ------

class InvalidDeviceRequest(BadRequest):
    """The body of this device request is malformed (the detail names the field)."""

    code = "invalid_device_request"
    title = "Invalid device request"


class InvalidOfflineSales(BadRequest):
    """The offline sales upload is malformed (the detail names the sale and the field); nothing was recorded."""

    code = "invalid_offline_sales"
    title = "Invalid offline sales"


class UnknownDevice(NotFound):
    """No device with this id (or not one your key may see)."""

    code = "unknown_device"
    title = "Unknown device"


class UnknownDeviceAuthority(NotFound):
    """No authority of the registry has this id: a device is registered for one of them."""

    code = "unknown_device_authority"
    title = "Unknown authority"


class OtherDevice(Forbidden):
    """This key is not the key of this device: a device speaks for itself only."""

    code = "other_device"
    title = "Another device"


class DeviceRevoked(Forbidden):
    """This device was revoked: it may no longer contact the server."""

    code = "device_revoked"
    title = "Device revoked"


class NotAVendingMachine(Conflict):
    """This device is a validator: only vending machines upload sales."""

    code = "not_a_vending_machine"
    title = "Not a vending machine"


class DenylistVersionAhead(Conflict):
    """This deny-list version was never issued (it is above the current one)."""

    code = "denylist_version_ahead"
    title = "Deny-list version ahead"


# --- Keyple protocol error codes (inside messages, not problem+json answers) ---------------------
# The Keyple Distributed JSON API carries its own error objects ({"code", "message"}) in an
# END_REMOTE_SERVICE's output or a RESP body; their codes are the specification's names.

KEYPLE_CARD_NOT_SELECTED = "CARD_NOT_SELECTED"  # the card has no application the service can use
KEYPLE_READER_COMMUNICATION_ERROR = "READER_COMMUNICATION_ERROR"  # the terminal cannot run that reader service
