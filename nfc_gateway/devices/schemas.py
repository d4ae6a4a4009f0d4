"""JSON Schemas of the device routes: request bodies (what the parsers accept; anything else is a
400) and answers (the OpenAPI document and the test suite's response check read them)."""

from __future__ import annotations

from typing import Any

from oura.http.schemas import BOOLEAN, DATE_TIME, ID_MAXIMUM, STRING, array_of, nullable, object_of

__all__ = ["COMPONENTS", "REGISTRATION_REQUEST", "HEARTBEAT_REQUEST", "DENYLIST_ACK_REQUEST", "OFFLINE_SALES_REQUEST",
           "MAX_LABEL"]

MAX_LABEL = 200
_COUNT = {"type": "integer", "minimum": 0}
_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAXIMUM}
_MINOR = {"type": "integer", "minimum": 0, "maximum": ID_MAXIMUM, "description": "integer minor units (cents)"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}

# -- request bodies ---------------------------------------------------------------------------------

REGISTRATION_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["authority_id", "kind", "label"],
    "properties": {
        "authority_id": {**_TEXT, "description": "an authority of the registry (404 otherwise)"},
        "kind": {"enum": ["vending_machine", "validator"]},
        "label": {**_TEXT, "maxLength": MAX_LABEL,
                  "description": "the device's name, also its key's label (statistics name sales points by it)"},
        "offline_credit_limit_minor": nullable({**_MINOR, "description": "vending machines: the sales allowed per "
                                                "offline window (default 50000); ignored for validators"}),
    },
}

HEARTBEAT_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "last_sequence": nullable({"type": "integer", "minimum": 0, "maximum": ID_MAXIMUM,
                                   "description": "vending machines: the sequence of the last sale made (0: none)"}),
    },
}

DENYLIST_ACK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["version"],
    "properties": {"version": {"type": "integer", "minimum": 0, "maximum": ID_MAXIMUM,
                               "description": "the deny-list version the device now holds (GET /v1/denylist)"}},
}

_SALE_LINE: dict[str, Any] = {
    "type": "object",
    "description": "a line as in a sale request (POST /v1/orders items)",
    "required": ["fare_product_id"],
    "properties": {
        "fare_product_id": STRING,
        "quantity": {"type": "integer", "minimum": 1, "maximum": 50, "default": 1},
        "rider_category_id": nullable(STRING),
        "fare_media_id": nullable(STRING),
        "unit_price_minor": {"type": "integer", "minimum": -(2**63), "maximum": ID_MAXIMUM},
        "medium": {"type": "string", "description": "serial of the card or wallet the product is loaded on"},
    },
}

OFFLINE_SALES_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["sales"],
    "properties": {"sales": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
        "type": "object",
        "required": ["sequence", "sold_at", "lines", "payment"],
        "properties": {
            "sequence": {**_ID, "description": "the machine's own number of the sale (1, 2, ... since registration)"},
            "sold_at": {**DATE_TIME, "maxLength": 64, "description": "when it was sold, with its UTC offset"},
            "lines": {"type": "array", "minItems": 1, "maxItems": 20, "items": _SALE_LINE},
            "payment": {"type": "object", "required": ["method", "amount_minor"], "properties": {
                "method": {"enum": ["cash", "card"]},
                "amount_minor": {**_MINOR, "description": "what the machine took: the catalogue's total"}}},
        },
    }}},
}

# -- answers --------------------------------------------------------------------------------------

DEVICE: dict[str, Any] = object_of({
    "device_id": _ID,
    "authority_id": STRING,
    "kind": {"enum": ["vending_machine", "validator"]},
    "label": STRING,
    "key_id": {**STRING, "description": "the public part of its API key"},
    "offline_credit_limit_minor": nullable(_MINOR),
    "created_at": DATE_TIME,
    "revoked_at": nullable(DATE_TIME),
    "last_contact_at": nullable({**DATE_TIME, "description": "last heartbeat, deny-list acknowledgement or upload"}),
    "last_heartbeat_at": nullable(DATE_TIME),
    "silent": {**BOOLEAN, "description": "not heard from for the silence threshold (15 min by default)"},
    "stale_denylist": {**BOOLEAN, "description": "the deny list it acknowledged is older than the current one"},
    "denylist": object_of({
        "acknowledged_version": _COUNT,
        "acknowledged_at": nullable(DATE_TIME),
        "current_version": _COUNT,
        "versions_behind": _COUNT,
    }),
    "offline_sales": object_of({
        "sold": {**_COUNT, "description": "sales uploaded that became orders"},
        "refused": _COUNT,
        "in_progress": {**_COUNT, "description": "accepted, order not made yet (the next upload makes it)"},
        "highest_sequence": {**_COUNT, "description": "the highest sequence received"},
        "reported_last_sequence": nullable({**_COUNT, "description": "the last sequence the machine said it made"}),
        "awaiting_upload": {**_COUNT, "description": "sequences the machine reported above the highest received"},
        "missing": {**_COUNT, "description": "sequences below the highest received that never arrived"},
        "gaps": array_of(object_of({"from": _ID, "to": _ID}), maxItems=20,
                         description="the first missing ranges, inclusive"),
    }),
}, description="A device and its status")

REGISTRATION: dict[str, Any] = object_of({
    "device": {"$ref": "#/components/schemas/Device"},
    "api_key": {**STRING, "description": "the device's API key (role device): shown once, never again"},
})

OFFLINE_SALES_RESULT: dict[str, Any] = object_of({
    "device_id": _ID,
    "received": _COUNT,
    "sold": _COUNT,
    "refused": _COUNT,
    "in_progress": _COUNT,
    "replayed": {**_COUNT, "description": "sales received before (an earlier or concurrent upload)"},
    "sales": array_of(object_of({
        "sequence": _ID,
        "status": {"enum": ["sold", "refused", "in_progress"]},
        "replayed": BOOLEAN,
        "order_id": nullable(_ID),
        "amount_minor": _MINOR,
        "refusal": nullable(object_of({"code": STRING, "detail": STRING})),
    })),
}, description="One outcome per sale sent, in the order sent")

COMPONENTS: dict[str, Any] = {
    "Device": DEVICE,
    "DeviceList": object_of({"devices": array_of({"$ref": "#/components/schemas/Device"})}),
    "DeviceRegistration": REGISTRATION,
    "OfflineSalesResult": OFFLINE_SALES_RESULT,
}
