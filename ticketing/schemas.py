"""JSON Schemas of what the ticketing routes answer (components of the OpenAPI document).

Each shape is what `ticketing.http` renders: `product_json`, `FareQuote.to_json`,
`OrderView.to_json`, `_medium_json`, `asdict` of `Decision`, `ClearingReport`,
`CommissionRate` and `Reconciliation`. Change a renderer and its schema together: the test suite
checks every response it receives against them (tests/openapi_check.py).
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import DATE_TIME, INTEGER, STRING, nullable, object_of

__all__ = ["COMPONENTS"]

_STR = STRING
_INT = INTEGER
_MINOR = {"type": "integer", "description": "integer minor units (cents)"}
_TIME = DATE_TIME
_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217"}
_nullable = nullable
_object = object_of


def _strings() -> dict[str, Any]:
    return {"type": "array", "items": _STR}


_MEDIUM_PROPERTIES: dict[str, Any] = {
    "serial": _STR,
    "kind": {"type": "string", "description": "smartcard, wallet or paper"},
    "fare_media_id": _STR,
    "status": {"type": "string", "description": "active, lost or stolen"},
    "anonymous": {"type": "boolean"},
    "issuing_authority_id": _STR,
    "replaced_by": _nullable(_STR),
    "contracts": {"type": "array", "items": schema_ref("Contract")},
    "entitlements": {"type": "array", "items": schema_ref("Entitlement")},
    "card_secret": {"type": "string", "description": "a new anonymous card's printed secret: shown once"},
    "holder": _object({"account_number": _STR}, description="a new registered medium's holder account: shown once"),
}
_MEDIUM_OPTIONAL = ("contracts", "entitlements", "card_secret", "holder")

COMPONENTS: dict[str, Any] = {
    "FareProduct": _object({
        "fare_product_id": _STR,
        "name": _STR,
        "price_minor": _MINOR,
        "currency": _CURRENCY,
        "rider_category_id": _nullable(_STR),
        "fare_media_id": _nullable(_STR),
        "network_ids": _strings(),
        "is_combined": {"type": "boolean"},
        "shares_permille": {"type": "object", "additionalProperties": _INT,
                            "description": "network id -> its share of the price, in permille"},
        "validity": _object({
            "duration_s": _nullable(_INT),
            "calendar_days": _nullable(_INT),
            "trips": _nullable(_INT),
            "transfer_window_s": _INT,
            "area_ids": _strings(),
        }),
    }, description="one sellable row: a product for one rider category on one fare media"),
    "FareQuote": _object({
        "total_minor": _MINOR,
        "currency": _STR,
        "rider_category_id": _nullable(_STR),
        "fare_media_id": _nullable(_STR),
        "is_complete": {"type": "boolean", "description": "every leg is paid for (else the total is a lower bound)"},
        "method": {"type": "string", "description": "direct, cp-sat or none"},
        "products": {"type": "array", "items": _object({
            "fare_product_id": _STR,
            "name": _STR,
            "price_minor": _MINOR,
            "currency": _STR,
            "network_ids": _strings(),
            "leg_indices": {"type": "array", "items": _INT},
            "kind": {"type": "string", "description": "single, transfer or pass"},
            "fare_media_id": _nullable(_STR),
            "rider_category_id": _nullable(_STR),
        })},
        "legs": {"type": "array", "items": _object({
            "leg_index": _INT,
            "network_id": _nullable(_STR),
            "leg_group_ids": _strings(),
            "fare_product_ids": _strings(),
            "explanation": _STR,
        })},
        "issues": {"type": "array", "items": _object({
            "code": _STR,
            "leg_index": _nullable(_INT),
            "detail": _STR,
        })},
    }, description="the cheapest set of products covering every leg"),
    "Order": _object({
        "order_id": _INT,
        "status": {"type": "string", "description": "pending, paid, declined, refunded, partially_refunded or failed"},
        "selling_authority_id": _STR,
        "sales_point_key_id": _STR,
        "channel": _STR,
        "total_minor": _MINOR,
        "currency": _STR,
        "refunded_minor": _MINOR,
        "created_at": _TIME,
        "lines": {"type": "array", "items": schema_ref("OrderLine")},
        "payments": {"type": "array", "items": _object({
            "kind": {"type": "string", "description": "charge or refund"},
            "provider": _STR,
            "provider_reference": _nullable(_STR),
            "amount_minor": _MINOR,
            "currency": _STR,
            "created_at": _TIME,
        })},
        "ledger": {"type": "array", "items": _object({
            "line_no": _INT,
            "kind": {"type": "string", "description": "revenue or commission"},
            "collector_authority_id": _STR,
            "beneficiary_authority_id": _STR,
            "network_id": _nullable(_STR),
            "amount_minor": {"type": "integer", "description": "minor units; negative for a refund"},
        })},
        "failure": _nullable(_object({
            "code": _STR,
            "detail": {"type": ["string", "object", "null"], "description": "a sentence, or the particulars (e.g. the medium)"},
        }, description="why a failed order failed")),
    }),
    "OrderLine": _object({
        "line_no": _INT,
        "fare_product_id": _STR,
        "rider_category_id": _nullable(_STR),
        "fare_media_id": _nullable(_STR),
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price_minor": _MINOR,
        "amount_minor": _MINOR,
        "currency": _STR,
        "network_ids": _strings(),
        "owning_authority_ids": _strings(),
        "contract_ids": {"type": "array", "items": _INT},
        "media": {"type": "array", "items": _STR, "description": "serials of the media holding the contracts"},
    }),
    "Contract": _object({
        "contract_id": _INT,
        "order_id": _nullable(_INT),
        "line_no": _nullable(_INT),
        "fare_product_id": _STR,
        "rider_category_id": _nullable(_STR),
        "network_ids": _strings(),
        "area_ids": _strings(),
        "valid_from": _TIME,
        "valid_until": _nullable(_TIME),
        "duration_s": _nullable(_INT),
        "trips_total": _nullable(_INT),
        "remaining_trips": _nullable(_INT),
        "transfer_window_s": _INT,
        "status": {"type": "string", "description": "active, refunded or transferred"},
        "first_used_at": _nullable(_TIME),
        "last_counted_at": _nullable(_TIME),
        "last_route_id": _nullable(_STR),
        "reconstituted_from": _nullable(_INT),
    }),
    "Medium": _object(_MEDIUM_PROPERTIES, optional=_MEDIUM_OPTIONAL,
                      description="a card, wallet or paper ticket (with its contracts and entitlements when read)"),
    "DeclaredMedium": _object({**_MEDIUM_PROPERTIES, "denylist_version": {
        "type": "integer", "description": "the deny-list version that lists it"}}, optional=_MEDIUM_OPTIONAL,
        description="a medium just declared lost or stolen"),
    "Entitlement": _object({
        "rider_category_id": _STR,
        "valid_until": _TIME,
        "verified_by_authority_id": _STR,
        "created_at": _TIME,
    }, description="a checked right to a reduced rider category (the proof itself is not stored)"),
    "ValidationResults": _object({
        "decisions": {"type": "array", "items": _object({
            "event_id": _STR,
            "accepted": {"type": "boolean"},
            "reason": {"type": "string", "description": "the reason code (valid, transfer_within_window, expired, ...)"},
            "explanation": _STR,
            "contract_id": _nullable(_INT),
            "remaining_trips": _nullable(_INT),
            "replayed": {"type": "boolean", "description": "decided before: an idempotent retry"},
        })},
        "new_events": _INT,
        "replayed_events": _INT,
    }),
    "DenyList": _object({
        "since": _INT,
        "version": _INT,
        "entries": {"type": "array", "items": _object({
            "version": _INT,
            "serial": _STR,
            "reason": {"type": "string", "description": "lost, stolen or replaced"},
            "created_at": _TIME,
        })},
        "complete": {"type": "boolean", "description": "no entry after these (else ask again from the last version)"},
    }),
    "ClearingReport": _object({
        "period_start": _TIME,
        "period_end": _TIME,
        "balances": {"type": "array", "items": _object({
            "debtor_authority_id": _STR,
            "creditor_authority_id": _STR,
            "amount_minor": _MINOR,
            "currency": _STR,
        })},
        "authorities": {"type": "array", "items": _object({
            "authority_id": _STR,
            "currency": _STR,
            "collected_minor": {"type": "integer"},
            "revenue_minor": {"type": "integer"},
            "commission_minor": {"type": "integer"},
        })},
        "ledger_total_minor": {"type": "object", "additionalProperties": _INT, "description": "per currency"},
        "money_taken_minor": {"type": "object", "additionalProperties": _INT, "description": "per currency"},
        "is_balanced": {"type": "boolean"},
    }),
    "CommissionRate": _object({
        "selling_authority_id": {"type": "string", "description": "an authority id, or '*' for the default"},
        "commission_permille": {"type": "integer", "minimum": 0, "maximum": 1000},
    }),
    "Reconciliation": _object({
        "abandoned": _INT,
        "refunded": _INT,
        "unanswered": _INT,
        "failed": _INT,
        "failures": {"type": "array", "items": _object({"order_id": _INT, "error": _STR, "detail": _STR},
                                                       description="an order the pass could not close")},
    }),
}


# -- request bodies (what the parsers in ticketing accept; anything else is a 400 or 422) ----------

_ID_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_HOLDER_PROOF = {  # null: absent (ticketing.media.parse_holder_proof)
    "card_secret": nullable({**_ID_TEXT, "description": "anonymous card: the secret printed on it at issue"}),
    "holder_account": nullable({**_ID_TEXT, "description": "registered card: the holder's account number (A…)"}),
}

QUOTE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["legs"],
    "properties": {
        "legs": {"type": "array", "minItems": 1, "maxItems": 12, "items": {
            "type": "object",
            "required": ["route_id", "departure", "arrival"],
            "properties": {
                "route_id": {"type": "string", "description": "namespaced route id, e.g. tcl:C3"},
                "departure": {**_TIME, "description": "with its UTC offset"},
                "arrival": {**_TIME, "description": "with its UTC offset; not before the departure"},
                **{name: nullable(_STR) for name in ("network_id", "from_stop_id", "to_stop_id", "from_area_id",
                                                      "to_area_id")},
            },
        }},
        "rider_category_id": nullable(_STR),
        "fare_media_id": nullable(_STR),
    },
}

ORDER_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["channel", "items", "payment", "expected_total_minor"],
    "properties": {
        "channel": {"enum": ["vending_machine", "desk", "web", "app"]},
        "items": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
            "type": "object",
            "required": ["fare_product_id"],
            "properties": {
                "fare_product_id": _STR,
                "quantity": {"type": "integer", "minimum": 1, "maximum": 50, "default": 1},
                "rider_category_id": nullable(_STR),
                "fare_media_id": nullable(_STR),
                "unit_price_minor": {**_MINOR, "description": "the price the buyer saw (409 when it changed)"},
                "medium": {"type": "string", "description": "serial of the card or wallet the product is loaded on "
                                                            "(required for products on those media)"},
            },
        }},
        "payment": {"type": "object", "required": ["token"],
                    "properties": {"token": {"type": "string", "minLength": 1}}},
        "expected_total_minor": {"type": "integer", "minimum": 0,
                                 "description": "the total the buyer agreed to (409 when it differs)"},
    },
}

REFUND_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {"contract_ids": {
        "type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "integer", "minimum": 1},
        "description": "the contracts to refund; without it, every contract not refunded yet"}},
}

MEDIUM_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["smartcard", "wallet"], "default": "smartcard"},
        "holder": nullable({"type": "object", "description": "a registered medium's holder (none: anonymous)",
                            "properties": {"display_name": _STR, "email": nullable(_STR)}}),
    },
}

DECLARE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": {"enum": ["lost", "stolen"]}, **_HOLDER_PROOF},
    "description": "a sales point declares the cards its authority issued; another authority's card "
                   "only with the holder's proof (holder_account or card_secret)",
}

RECONSTITUTE_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": _HOLDER_PROOF,
    "description": "the holder's proof: holder_account for a registered card, card_secret for an anonymous one",
}

ENTITLEMENT_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["rider_category_id", "valid_until", "proof_checked"],
    "properties": {
        "rider_category_id": {"type": "string", "description": "a rider category other than the default"},
        "valid_until": {**_TIME, "description": "end of the proof's validity"},
        "proof_checked": {"const": True, "description": "the desk checked the proof; the document is not stored"},
    },
}

VALIDATIONS_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 5000, "items": {
        "type": "object",
        "required": ["event_id", "medium", "time", "stop_id", "route_id"],
        "properties": {
            "event_id": {**_ID_TEXT, "description": "unique per device (a replay returns the first decision)"},
            "medium": {**_ID_TEXT, "description": "the serial read"},
            "time": {**_TIME, "description": "when the card was presented, with its UTC offset"},
            "stop_id": _ID_TEXT,
            "route_id": _ID_TEXT,
            "direction_id": nullable({"enum": [0, 1]}),
            "network_id": nullable(_STR),
        },
    }, "description": "event_ids unique within the batch"}},
}

COMMISSION_RATE_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["commission_permille"],
    "properties": {"commission_permille": {"type": "integer", "minimum": 0, "maximum": 1000}},
}

# a clearing period: YYYY-MM, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD (ticketing.clearing.parse_period)
_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
PERIOD_PATTERN = rf"^([1-9][0-9]{{3}}-(0[1-9]|1[0-2])|{_DAY}|{_DAY}/{_DAY})$"
