"""The site's routes: the page at ``/``, its bundle, its settings, and the web shop.

The page and its bundle are files of this package (static/); the bundle is built from web/ by
``make site`` (esbuild) and committed with its lock file, so serving needs no Node.js. The web
shop's two routes are public: a browser buys as a traveller at a desk would, and the order is the
web shop's (see `shop`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aiohttp import web

from oura.http import RouteTable, header, json_response, path_param, read_json, reply, schema_ref
from ticketing.schemas import ORDER_REQUEST
from ticketing.startup import TICKETING

from .errors import WebShopClosed
from .startup import SITE

__all__ = ["routes", "STATIC", "NOT_MODIFIED"]

STATIC = Path(__file__).with_name("static")
_ASSETS = {"site.js": "text/javascript", "site.css": "text/css"}
_HTML = {"type": "string", "description": "an HTML page"}
_TEXT = {"type": "string"}

routes = RouteTable(tag="site", components={
    "SiteConfig": {"type": "object", "required": ["tile_url", "tile_attribution", "languages"],
                   "additionalProperties": False, "properties": {
                       "tile_url": {"type": ["string", "null"], "description": "a raster tile URL template, or null: "
                                    "the offline basemap (GET /v1/basemap) only"},
                       "tile_attribution": {"type": "string"},
                       "languages": {"type": "array", "items": {"type": "string"}}}},
    "Wallet": {"type": "object", "required": ["serial", "kind"], "additionalProperties": False,
               "properties": {"serial": {"type": "string"}, "kind": {"const": "wallet"}}},
})


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def _bundle_tag() -> str:
    return '"' + _read("dist/SOURCES").decode().strip()[:32] + '"'


def _page(body: bytes, content_type: str, request: web.Request, cache_control: str, tag: str | None = None) -> web.StreamResponse:
    headers = {"Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if tag is not None:
        headers["ETag"] = tag
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers=headers)
    response = web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)
    response.enable_compression()
    return response


@routes.get("/", summary="The traveller site: plan, map, follow and buy (French and English)",
            responses={200: reply("HTML page", _HTML)}, content_type="text/html")
async def get_site(request: web.Request) -> web.StreamResponse:
    return _page(_read("index.html"), "text/html", request, "no-cache")


NOT_MODIFIED = {"description": "Not modified: If-None-Match names this answer's ETag", "content": {},
                "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}}
_IF_NONE_MATCH = header("If-None-Match", description="the ETag of an earlier answer: 304 when unchanged")


def _asset(request: web.Request, name: str) -> web.StreamResponse:
    return _page(_read(f"dist/{name}"), _ASSETS[name], request, "public, max-age=300", _bundle_tag())


@routes.get("/site/dist/site.js", summary="The site's script (built from traveller_site/web, Leaflet included)",
            params=[_IF_NONE_MATCH], responses={200: reply("JavaScript", _TEXT), 304: NOT_MODIFIED},
            content_type="text/javascript")
async def get_site_script(request: web.Request) -> web.StreamResponse:
    return _asset(request, "site.js")


@routes.get("/site/dist/site.css", summary="The site's style sheet (Leaflet's included)",
            params=[_IF_NONE_MATCH], responses={200: reply("CSS", _TEXT), 304: NOT_MODIFIED}, content_type="text/css")
async def get_site_style(request: web.Request) -> web.StreamResponse:
    return _asset(request, "site.css")


@routes.get("/site/config.json", summary="The site's settings: tile URL (none: the offline basemap) and languages",
            responses={200: reply("Settings", schema_ref("SiteConfig"))})
async def get_site_config(request: web.Request) -> web.Response:
    site = request.app.get(SITE)
    config = site.config if site is not None else None
    return json_response({"tile_url": (config.tile_url if config else "") or None,
                          "tile_attribution": config.tile_attribution if config else "",
                          "languages": ["fr", "en"]})


def _shop(request: web.Request):  # noqa: ANN202 - (WebShop, TicketingService)
    site = request.app.get(SITE)
    ticketing = request.app.get(TICKETING)
    if site is None or site.shop is None or ticketing is None:
        raise WebShopClosed()
    return site.shop, ticketing


_SHOP_ORDER = {**ORDER_REQUEST, "required": [r for r in ORDER_REQUEST["required"] if r != "channel"],
               "properties": {k: v for k, v in ORDER_REQUEST["properties"].items() if k != "channel"},
               "description": "POST /v1/orders's body without a channel (the web shop's is web)"}


@routes.post(
    "/site/shop/orders",
    requires="catalogue",
    summary="Buy on the site's web shop (an ordinary web order of its sales point; idempotent on Idempotency-Key)",
    params=[header("Idempotency-Key", required=True, maxLength=200,
                   description="one key per purchase attempt, made by the page; a retry reuses it")],
    body=_SHOP_ORDER,
    responses={201: reply("Order paid", schema_ref("Order")), 200: reply("The same order (retry)", schema_ref("Order")),
               402: "Payment declined", 403: "The product needs an entitlement",
               404: "Unknown product, or a medium that does not exist",
               409: "Price mismatch, key reused, medium not active, or the order failed",
               503: "The web shop is closed, or the payment outcome is unknown: retry with the same key"},
)
async def buy_on_site(request: web.Request) -> web.Response:
    shop, ticketing = _shop(request)
    order, created = await shop.sell(ticketing, await read_json(request), request.headers.get("Idempotency-Key"))
    return json_response(order.to_json(), status=201 if created else 200)


@routes.post(
    "/site/shop/wallets",
    summary="A new anonymous phone wallet from the site's web shop (tickets bought on the site load onto it)",
    responses={201: reply("The wallet", schema_ref("Wallet")), 503: "The web shop is closed"},
)
async def create_site_wallet(request: web.Request) -> web.Response:
    shop, ticketing = _shop(request)
    view = await shop.issue_wallet(ticketing)
    return json_response({"serial": view.medium.serial, "kind": "wallet"}, status=201)
