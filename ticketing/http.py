"""HTTP routes of ticketing. Handlers stay thin: parse, call the service, render. The service is
``app[TICKETING]``, put on the app by the package's start-up, `ticketing.startup`.

Roles: ``sales_point`` sells, issues and manages media of its authority; ``device`` posts
validations and reads the deny list; ``authority`` reads the clearing and the commission rate of its
own authority; ``admin`` reads everything and sets the commission rates. Products and quotes are public.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiohttp import web

from oura.auth import Role
from oura.concurrency import run_blocking
from oura.errors import InvalidParameter
from oura.http import (RouteTable, get_principal, header, json_response, path_param, query, query_int, query_str, read_json,
                       reply, schema_ref)
from oura.http.schemas import ID_MAXIMUM
from ticketing import commissions
from ticketing.errors import AuthorityRequired, InvalidLegs, InvalidMedium, UnknownOrder
from ticketing.fares import FareLeg, quote
from ticketing.products import FareProduct, get_calendar_days
from ticketing.media import parse_entitlement_request, parse_holder_proof, parse_medium_request
from ticketing.requests import parse_refund_request, parse_sale_request
from ticketing import schemas
from ticketing.schemas import COMPONENTS
from ticketing.service import TicketingService
from ticketing.startup import TICKETING
from ticketing.validation import parse_events

__all__ = ["routes", "product_json", "quote_json"]

routes = RouteTable(tag="ticketing", components=COMPONENTS)
MAX_OLDER_THAN_S = 366 * 86400  # reconciliation threshold: beyond a year it means "all", and overflows dates


def _service(request: web.Request) -> TicketingService:
    return request.app[TICKETING]


def _authority(request: web.Request) -> str:
    principal = get_principal(request)
    if principal.authority_id is None:
        raise AuthorityRequired("this operation acts for an authority; use a key bound to one")
    return principal.authority_id


def product_json(product: FareProduct) -> dict[str, Any]:
    validity = product.validity
    return {
        "fare_product_id": product.fare_product_id,
        "name": product.name,
        "price_minor": product.price_minor,
        "currency": product.currency,
        "rider_category_id": product.rider_category_id,
        "fare_media_id": product.fare_media_id,
        "network_ids": list(product.network_ids),
        "is_combined": product.is_combined,
        "shares_permille": dict(product.shares_permille),
        "validity": {
            "duration_s": validity.duration_s,
            "calendar_days": get_calendar_days(validity.duration_s),  # whole local days, else an exact duration
            "trips": validity.trips,
            "transfer_window_s": validity.transfer_window_s,
            "area_ids": sorted(validity.area_ids),
        },
    }


def quote_json(result) -> dict[str, Any]:  # noqa: ANN001
    return result.to_json()


@routes.get(
    "/v1/products",
    requires="catalogue",  # 503 + Retry-After until it is published (oura.http.health)
    summary="List sellable fare products",
    params=[
        query("network", maxLength=200, description="network id, e.g. tcl"),
        query("rider_category", maxLength=200, description="rider category id, e.g. adult"),
        query("media", maxLength=200, description="fare media id, e.g. oura-card"),
    ],
    responses={200: reply("Fare products (one row per product, rider category and media)", {
        "type": "object", "required": ["products"], "additionalProperties": False,
        "properties": {"products": {"type": "array", "items": schema_ref("FareProduct")}}})},
)
async def list_products(request: web.Request) -> web.Response:
    """Products of the region's catalogue, filtered; prices in integer minor units."""
    catalogue = _service(request).catalogue
    products = catalogue.list_products(
        network_id=query_str(request.query, "network", max_length=200),
        rider_category_id=query_str(request.query, "rider_category", max_length=200),
        fare_media_id=query_str(request.query, "media", max_length=200),
    )
    return json_response({"products": [product_json(p) for p in products]})


def _parse_time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidParameter(name, "must be an ISO 8601 time with offset")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(name, "must be an ISO 8601 time with offset") from None
    if moment.tzinfo is None:
        raise InvalidParameter(name, "must carry a UTC offset")
    return moment


def _parse_legs(body: Any) -> list[FareLeg]:
    if not isinstance(body, dict) or not isinstance(body.get("legs"), list) or not 1 <= len(body["legs"]) <= 12:
        raise InvalidLegs("the body must be an object with 1 to 12 'legs'")
    legs = []
    for i, raw in enumerate(body["legs"]):
        if not isinstance(raw, dict):
            raise InvalidParameter(f"legs[{i}]", "must be an object")
        if raw.get("route_id") is None:
            raise InvalidParameter(f"legs[{i}].route_id", "is required")
        if not isinstance(raw["route_id"], str):
            raise InvalidParameter(f"legs[{i}].route_id", "must be a string")
        optional = {}
        for name in ("network_id", "from_stop_id", "to_stop_id", "from_area_id", "to_area_id"):
            value = raw.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidParameter(f"legs[{i}].{name}", "must be a string")
            optional[name] = value
        departure = _parse_time(raw.get("departure"), f"legs[{i}].departure")
        arrival = _parse_time(raw.get("arrival"), f"legs[{i}].arrival")
        if arrival < departure:
            raise InvalidParameter(f"legs[{i}].arrival", "is before the departure")
        legs.append(FareLeg(route_id=raw["route_id"], departure=departure, arrival=arrival, **optional))
    return legs


@routes.post(
    "/v1/fares/quote",
    requires="catalogue",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Price a journey",
    body=schemas.QUOTE_REQUEST,
    responses={200: reply("The cheapest set of products, with the product covering each leg", schema_ref("FareQuote"))},
)
async def quote_fare(request: web.Request) -> web.Response:
    """The cheapest combination of products covering every leg (transfers and combined products included)."""
    body = await read_json(request)
    legs = _parse_legs(body)
    rider = body.get("rider_category_id")
    media = body.get("fare_media_id")
    if rider is not None and not isinstance(rider, str) or media is not None and not isinstance(media, str):
        raise InvalidLegs("rider_category_id and fare_media_id must be strings")
    result = await run_blocking(quote, _service(request).catalogue, legs, rider, media)
    return json_response(quote_json(result))


@routes.post(
    "/v1/orders",
    requires="catalogue",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Sell products (idempotent on the Idempotency-Key header)",
    roles=[Role.SALES_POINT],
    params=[header("Idempotency-Key", required=True, maxLength=200,
                   description="one key per sale attempt (1 to 200 characters); retries reuse it")],
    body=schemas.ORDER_REQUEST,
    responses={201: reply("Order paid", schema_ref("Order")), 200: reply("The same order (retry)", schema_ref("Order")),
               402: "Payment declined", 403: "The key's role or authority does not allow this, or the product needs an entitlement",
               404: "Unknown product, or a medium that does not exist",
               409: "Price mismatch, key reused, medium not active, or the order failed",
               503: "Payment outcome unknown: retry with the same key"},
)
async def create_order(request: web.Request) -> web.Response:
    """Sell any product of any network from a sales point of its authority."""
    principal = get_principal(request)
    body = await read_json(request)
    selling_authority_id = _authority(request)
    sale = parse_sale_request(body, request.headers.get("Idempotency-Key"))
    order, created = await _service(request).sell(
        sales_point_key_id=principal.key_id, selling_authority_id=selling_authority_id, request=sale,
    )
    return json_response(order.to_json(), status=201 if created else 200)


def _order_id(request: web.Request) -> int:
    try:
        order_id = int(request.match_info["order_id"])
    except ValueError:
        raise UnknownOrder() from None
    if not 1 <= order_id < 2**63:  # ids are bigint: anything else names no order
        raise UnknownOrder()
    return order_id


@routes.get("/v1/orders/{order_id}", summary="One order", roles=[Role.SALES_POINT, Role.ADMIN],
            params=[path_param("order_id", "integer", minimum=1, maximum=ID_MAXIMUM)],
            responses={200: reply("The order", schema_ref("Order")), 404: "Unknown order (or another authority's)"})
async def get_order(request: web.Request) -> web.Response:
    principal = get_principal(request)
    order = await _service(request).get_order(_order_id(request))
    if principal.role is not Role.ADMIN and order.selling_authority_id != principal.authority_id:
        raise UnknownOrder()
    return json_response(order.to_json())


@routes.post("/v1/orders/{order_id}/refund", summary="Refund unused contracts of an order (all, or those named)",
             roles=[Role.SALES_POINT, Role.ADMIN], params=[path_param("order_id", "integer", minimum=1, maximum=ID_MAXIMUM)],
             body=schemas.REFUND_REQUEST, body_required=False,
             responses={200: reply("The order, refunded or partially refunded", schema_ref("Order")),
                        404: "Unknown order (or another authority's)",
                        409: "Not refundable: the order is not paid, or a contract named was used, moved or is not the order's "
                             "(listed in contract_ids)",
                        503: "The provider did not answer: retry"})
async def refund_order(request: web.Request) -> web.Response:
    """Optional JSON body ``{"contract_ids": [ids]}``: refund only those contracts; without it,
    every contract not refunded yet. Each contract refunds its line's unit price. Repeating a
    refund returns the order unchanged."""
    principal = get_principal(request)
    body = await read_json(request) if request.can_read_body else None
    order = await _service(request).refund(
        order_id=_order_id(request), actor_key_id=principal.key_id,
        authority_id=None if principal.role is Role.ADMIN else principal.authority_id,
        request=parse_refund_request(body),
    )
    return json_response(order.to_json())


@routes.post("/v1/reconciliations", summary="Close abandoned pending orders now (refunding any charge)", roles=[Role.ADMIN],
             params=[query("older_than_s", "integer", description="only orders claimed at least this many seconds ago "
                           "(default: the service's abandon_after_s, 900; at most a year)", minimum=0,
                           maximum=MAX_OLDER_THAN_S)],
             responses={200: reply("What the run did: abandoned orders closed as failed, how many were refunded, how many "
                                   "were left pending because the provider did not answer", schema_ref("Reconciliation"))})
async def run_reconciliation(request: web.Request) -> web.Response:
    """The app reconciles every ``reconcile_every_s`` on its own; this runs a pass now (after an
    outage, or with another threshold). It runs in the app, with the app's payment provider: the
    only one that can tell which of these orders it charged."""
    older_than_s = query_int(request.query, "older_than_s", minimum=0, maximum=MAX_OLDER_THAN_S)
    result = await _service(request).reconcile_pending(None if older_than_s is None else float(older_than_s))
    return json_response(asdict(result))


def _medium_json(view) -> dict[str, Any]:  # noqa: ANN001
    medium = view.medium if hasattr(view, "medium") else view
    data = {
        "serial": medium.serial,
        "kind": medium.kind,
        "fare_media_id": medium.fare_media_id,
        "status": medium.status,
        "anonymous": medium.account_id is None,
        "issuing_authority_id": medium.issuing_authority_id,
        "replaced_by": medium.replaced_by_serial,
    }
    if hasattr(view, "contracts"):
        data["contracts"] = [
            {k: v for k, v in c.__dict__.items() if k not in ("medium_id",)} for c in view.contracts
        ]
        data["entitlements"] = [asdict(e) for e in view.entitlements]
    if getattr(view, "card_secret", None):  # a new anonymous medium: print it on the card; never shown again
        data["card_secret"] = view.card_secret
    if getattr(view, "account_number", None):  # a new registered medium: give it to the holder; never shown again
        data["holder"] = {"account_number": view.account_number}
    return data


@routes.post("/v1/media", summary="Issue a regional smartcard or a phone wallet", roles=[Role.SALES_POINT],
             body=schemas.MEDIUM_REQUEST,
             responses={201: reply("The new medium", schema_ref("Medium"))})
async def issue_medium(request: web.Request) -> web.Response:
    principal = get_principal(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidMedium("the body must be an object")
    authority_id = _authority(request)
    medium = await _service(request).issue_medium(
        request=parse_medium_request(body), authority_id=authority_id, actor_key_id=principal.key_id,
    )
    return json_response(_medium_json(medium), status=201)


@routes.get("/v1/media/{serial}", summary="A medium and its contracts", roles=[Role.SALES_POINT, Role.ADMIN],
            params=[path_param("serial")],
            responses={200: reply("The medium", schema_ref("Medium")), 404: "Unknown medium"})
async def get_medium(request: web.Request) -> web.Response:
    return json_response(_medium_json(await _service(request).get_medium(request.match_info["serial"])))


@routes.post("/v1/media/{serial}/declare", summary="Declare a medium lost or stolen (deny-lists it)",
             roles=[Role.SALES_POINT, Role.ADMIN], params=[path_param("serial")],
             body=schemas.DECLARE_REQUEST,
             responses={200: reply("The medium and the deny-list version", schema_ref("DeclaredMedium")),
                 403: "Another authority's card, without the holder's proof (not_card_issuer)",
                 404: "Unknown medium", 409: "Already declared, or replaced"})
async def declare_medium(request: web.Request) -> web.Response:
    principal = get_principal(request)
    body = await read_json(request)
    medium, version = await _service(request).declare_medium(
        serial=request.match_info["serial"], reason=body.get("reason") if isinstance(body, dict) else None,
        actor_key_id=principal.key_id, authority_id=None if principal.role is Role.ADMIN else principal.authority_id,
        proof=parse_holder_proof(body),
    )
    return json_response({**_medium_json(medium), "denylist_version": version})


@routes.post("/v1/media/{serial}/reconstitute", summary="Move a declared card's remaining rights to a new card, once",
             roles=[Role.SALES_POINT], params=[path_param("serial")],
             body=schemas.RECONSTITUTE_REQUEST, body_required=False,
             responses={201: reply("The new card and its contracts (an anonymous one with its new card_secret)",
                                   schema_ref("Medium")),
                        403: "No valid proof of holding (reconstitution_proof_required)", 404: "Unknown medium",
                        409: "Not declared, already reconstituted, or a paper ticket (paper_not_reconstitutable)"})
async def reconstitute_medium(request: web.Request) -> web.Response:
    principal = get_principal(request)
    body = await read_json(request) if request.can_read_body else None
    view = await _service(request).reconstitute_medium(
        serial=request.match_info["serial"], actor_key_id=principal.key_id, authority_id=_authority(request),
        proof=parse_holder_proof(body),
    )
    return json_response(_medium_json(view), status=201)


@routes.post("/v1/media/{serial}/entitlements", summary="Record a checked entitlement to a reduced rider category",
             roles=[Role.SALES_POINT], params=[path_param("serial")],
             body=schemas.ENTITLEMENT_REQUEST,
             responses={201: reply("The entitlement recorded (a minimal claim: category, end, checking authority)",
                                   schema_ref("Entitlement")),
                        400: "Malformed, the default category, or an end in the past (invalid_entitlement)",
                        403: "A card of another authority (not_card_issuer)", 404: "Unknown medium",
                        409: "An anonymous medium (anonymous_medium), or a card that is not active"})
async def record_entitlement(request: web.Request) -> web.Response:
    """A reduced fare is sold onto a card only while it holds a valid entitlement for its rider
    category; a sales point of the card's issuing authority records one after checking the proof."""
    principal = get_principal(request)
    service = _service(request)
    body = await read_json(request)
    authority_id = _authority(request)
    catalogue = service.catalogue
    wanted = parse_entitlement_request(body, catalogue.rider_categories.keys(), catalogue.default_rider_category_id)
    entitlement = await service.record_entitlement(
        serial=request.match_info["serial"], request=wanted, authority_id=authority_id, actor_key_id=principal.key_id,
    )
    return json_response(asdict(entitlement), status=201)


@routes.post(
    "/v1/validations",
    requires="catalogue",  # 503 + Retry-After until it is published (oura.http.health)
    summary="Record a batch of validation events (idempotent on device + event id)",
    roles=[Role.DEVICE],
    body=schemas.VALIDATIONS_REQUEST,
    responses={200: reply("One decision per event, in order (events on unknown routes or networks, or on another "
                          "authority's network, are refusals with their reason code)", schema_ref("ValidationResults")),
               422: "Malformed events: nothing recorded"},
)
async def post_validations(request: web.Request) -> web.Response:
    """Each event gets a decision with a reason code and the contract consumed; one event the
    catalogue cannot place never holds back the rest of its batch."""
    principal = get_principal(request)
    events = parse_events(await read_json(request))
    result = await _service(request).validate(
        device_key_id=principal.key_id, device_authority_id=_authority(request), events=events
    )
    return json_response({
        "decisions": [asdict(d) for d in result.decisions],
        "new_events": result.new_events,
        "replayed_events": result.replayed_events,
    })


@routes.get("/v1/denylist", summary="Deny-list entries after a version", roles=[Role.DEVICE, Role.ADMIN],
            params=[query("since", "integer", description="the last version the validator holds (0: all)",
                          minimum=0, maximum=2**63 - 1),
                    query("limit", "integer", description="at most this many entries (1-10000, default 1000)",
                          minimum=1, maximum=10000)],
            responses={200: reply("Entries after `since` and the latest version", schema_ref("DenyList"))})
async def get_denylist(request: web.Request) -> web.Response:
    since = query_int(request.query, "since", default=0, minimum=0, maximum=2**63 - 1)
    limit = query_int(request.query, "limit", default=1000, minimum=1, maximum=10000)
    version, entries = await _service(request).list_denylist(since, limit)
    return json_response({"since": since, "version": version, "entries": entries,
                          "complete": not entries or entries[-1]["version"] == version})


@routes.get("/v1/clearing", summary="Balances between authorities over a period", roles=[Role.AUTHORITY, Role.ADMIN],
            params=[query("period", required=True, maxLength=40, pattern=schemas.PERIOD_PATTERN,
                          description="YYYY-MM, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD (the region's local days, end exclusive)")],
            responses={200: reply("Net balances between every pair of authorities, per-authority totals, and the ledger check",
                                  schema_ref("ClearingReport"))})
async def get_clearing(request: web.Request) -> web.Response:
    principal = get_principal(request)
    period = query_str(request.query, "period", required=True, max_length=40)
    try:
        report = await _service(request).clearing_report(period, None if principal.role is Role.ADMIN else principal.authority_id)
    except ValueError as error:
        raise InvalidParameter("period", str(error)) from None
    return json_response(asdict(report))


_RATE_ID = path_param("selling_authority_id", description="an authority that owns a network, or '*' for the default")


@routes.get("/v1/commission-rates", summary="Commission rates of selling authorities", roles=[Role.AUTHORITY, Role.ADMIN],
            responses={200: reply("The default ('*') first, then each authority's own rate (an authority key: its own only)", {
                "type": "object", "required": ["rates"], "additionalProperties": False,
                "properties": {"rates": {"type": "array", "items": schema_ref("CommissionRate")}}})})
async def list_commission_rates(request: web.Request) -> web.Response:
    """The permille of another authority's part of a sale that the selling authority keeps."""
    principal = get_principal(request)
    rates = await _service(request).list_commission_rates(
        authority_id=None if principal.role is Role.ADMIN else principal.authority_id)
    return json_response({"rates": [asdict(rate) for rate in rates]})


@routes.put("/v1/commission-rates/{selling_authority_id}", summary="Set a commission rate (audited)",
            roles=[Role.ADMIN], params=[_RATE_ID],
            body=schemas.COMMISSION_RATE_REQUEST,
            responses={200: reply("The rate; it applies to sales claimed from now on", schema_ref("CommissionRate")),
                       400: "Not an integer from 0 to 1000",
                       404: "No authority with this id owns a network"})
async def set_commission_rate(request: web.Request) -> web.Response:
    """Orders already claimed keep the rate they were claimed with, even when resumed later."""
    rate = await _service(request).set_commission_rate(
        selling_authority_id=request.match_info["selling_authority_id"],
        commission_permille=commissions.parse_commission_permille(await read_json(request)),
        actor_key_id=get_principal(request).key_id,
    )
    return json_response(asdict(rate))


@routes.delete("/v1/commission-rates/{selling_authority_id}", summary="Remove an authority's own rate (audited)",
               roles=[Role.ADMIN], params=[_RATE_ID],
               responses={200: reply("The default rate the authority now falls back to", schema_ref("CommissionRate")),
                          404: "Unknown authority, or no own rate", 409: "The default cannot be removed"})
async def delete_commission_rate(request: web.Request) -> web.Response:
    default = await _service(request).delete_commission_rate(
        selling_authority_id=request.match_info["selling_authority_id"],
        actor_key_id=get_principal(request).key_id,
    )
    return json_response(asdict(default))
