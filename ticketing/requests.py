"""The requests of the sale and refund use cases, parsed by the HTTP layer into frozen dataclasses.

Parsing checks shape only (types, required fields, bounds) and raises the same codes and messages
the API has always answered; what depends on the catalogue (the product exists, its price, the
medium its fare media needs) is checked when the sale is priced (`ticketing.selling.price_order`),
so a retry of an order priced with an older catalogue still finds its order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ticketing.errors import (
    IdempotencyKeyRequired,
    InvalidChannel,
    InvalidOrder,
    InvalidPayment,
    InvalidPrice,
    InvalidQuantity,
    InvalidRefund,
)
from ticketing.orders import MAX_LINES, MAX_QUANTITY

__all__ = [
    "CHANNELS",
    "MAX_REFUND_CONTRACTS",
    "OrderLine",
    "RefundRequest",
    "SaleRequest",
    "parse_refund_request",
    "parse_sale_request",
    "request_hash",
]

CHANNELS = ("vending_machine", "desk", "web", "app")
MINOR_UNITS = "integer minor units of the currency: 1900 for 19.00 EUR"
MAX_IDEMPOTENCY_KEY = 200
MAX_REFUND_CONTRACTS = MAX_LINES * MAX_QUANTITY  # every contract an order can have
_LINE_TEXT_FIELDS = ("fare_product_id", "rider_category_id", "fare_media_id", "medium")


@dataclass(frozen=True)
class OrderLine:
    """One item of a sale as the client sent it. ``rider_category_id`` and ``fare_media_id`` are
    as sent (empty or None: the catalogue's default, the offer's media); ``unit_price_minor`` is
    the price the client showed, checked against the catalogue's."""

    line_no: int
    fare_product_id: str
    quantity: int = 1
    rider_category_id: str | None = None
    fare_media_id: str | None = None
    medium: str | None = None  # the serial of the card or wallet to load
    unit_price_minor: int | None = None


@dataclass(frozen=True)
class SaleRequest:
    """A sale attempt: its idempotency key (the header), channel, payment token, lines and the
    total shown to the rider. ``request_hash`` is the SHA-256 of the body as sent: a retry with
    the same key must send the same body (compared with the hash stored at the claim)."""

    idempotency_key: str
    channel: str
    payment_token: str
    items: tuple[OrderLine, ...]
    expected_total_minor: int
    request_hash: str


@dataclass(frozen=True)
class RefundRequest:
    """The contracts to refund; None: every contract of the order not refunded yet."""

    contract_ids: tuple[int, ...] | None = None


def _is_int(value: Any) -> bool:
    """A JSON integer (not a boolean, which Python counts as one) that fits PostgreSQL's bigint."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def parse_sale_request(body: Any, idempotency_key: str | None) -> SaleRequest:
    """The sale a ``POST /v1/orders`` asks for, or the 400 its first problem gets."""
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise IdempotencyKeyRequired(f"the Idempotency-Key header (1 to {MAX_IDEMPOTENCY_KEY} characters) is required")
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object")
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise InvalidChannel(f"channel must be one of {', '.join(CHANNELS)}")
    payment = body.get("payment")
    token = payment.get("token") if isinstance(payment, dict) else None
    if token is None:
        raise InvalidPayment("payment.token is required")
    if not isinstance(token, str) or not token:
        raise InvalidPayment("payment.token must be a non-empty string")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINES:
        raise InvalidOrder(f"items must hold 1 to {MAX_LINES} lines")
    expected = body.get("expected_total_minor")
    if expected is None:
        raise InvalidPrice(f"expected_total_minor (the total shown to the rider, {MINOR_UNITS}) is required")
    if not _is_int(expected) or expected < 0:
        raise InvalidPrice(f"expected_total_minor must be an integer from 0 ({MINOR_UNITS})")
    lines = tuple(_parse_line(line_no, item) for line_no, item in enumerate(items, start=1))
    return SaleRequest(idempotency_key, channel, token, lines, expected, request_hash(body))


def _parse_line(line_no: int, item: Any) -> OrderLine:
    if not isinstance(item, dict):
        raise InvalidOrder(f"item {line_no} must be an object")
    quantity = item.get("quantity", 1)
    if item.get("fare_product_id") is None:
        raise InvalidOrder(f"item {line_no}: fare_product_id is required")
    for name in _LINE_TEXT_FIELDS:
        if item.get(name) is not None and not isinstance(item[name], str):
            raise InvalidOrder(f"item {line_no}: {name} must be a string")
    if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(f"item {line_no}: quantity must be an integer from 1 to {MAX_QUANTITY}")
    unit = item.get("unit_price_minor")
    if unit is not None and not _is_int(unit):
        raise InvalidPrice(f"item {line_no}: unit_price_minor must be an integer ({MINOR_UNITS})")
    return OrderLine(line_no=line_no, fare_product_id=item["fare_product_id"], quantity=quantity,
                     rider_category_id=item.get("rider_category_id"), fare_media_id=item.get("fare_media_id"),
                     medium=item.get("medium"), unit_price_minor=unit)


def parse_refund_request(body: Any) -> RefundRequest:
    """The contracts a refund names (``{"contract_ids": [...]}``, duplicates dropped); no body, or
    no ``contract_ids``, asks for every contract of the order not refunded yet."""
    if body is None:
        return RefundRequest()
    if not isinstance(body, dict):
        raise InvalidRefund("the body must be a JSON object")
    contract_ids = body.get("contract_ids")
    if contract_ids is None:
        return RefundRequest()
    if (not isinstance(contract_ids, list) or not 1 <= len(contract_ids) <= MAX_REFUND_CONTRACTS
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in contract_ids)):
        raise InvalidRefund(f"contract_ids must be a list of 1 to {MAX_REFUND_CONTRACTS} contract ids")
    return RefundRequest(tuple(dict.fromkeys(contract_ids)))
