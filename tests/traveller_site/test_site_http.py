"""The site's routes over HTTP: the page, its bundle, its settings and the web shop."""

from __future__ import annotations

import uuid

from oura.app import create_app
from oura.clock import FixedClock
from oura.keys import POOL
from tests.oura.conftest import REGION_START
from traveller_site.shop import WEB_SHOP_LABEL


async def test_the_page_and_its_bundle_are_served_compressed_with_an_etag(site_client):
    page = await site_client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert '<script defer src="/site/dist/site.js">' in html and 'lang="fr"' in html
    bundle = await site_client.get("/site/dist/site.js", headers={"Accept-Encoding": "gzip"})
    assert bundle.status == 200 and bundle.content_type == "text/javascript"
    assert bundle.headers["Content-Encoding"] == "gzip"
    tag = bundle.headers["ETag"]
    again = await site_client.get("/site/dist/site.js", headers={"If-None-Match": tag})
    assert again.status == 304
    style = await site_client.get("/site/dist/site.css")
    assert style.status == 200 and style.content_type == "text/css" and style.headers["ETag"] == tag
    assert (await site_client.get("/site/dist/secrets.txt")).status == 404
    assert (await (await site_client.get("/site/config.json")).json()) == {
        "tile_url": None, "tile_attribution": "", "languages": ["fr", "en"]}


def _order(serial: str, price: int) -> dict:
    return {"items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "oura-wallet",
                       "medium": serial, "unit_price_minor": price}],
            "payment": {"token": "tok_approve"}, "expected_total_minor": price}


async def _single_price(client) -> int:
    products = (await (await client.get("/v1/products", params={"network": "tcl", "media": "oura-wallet",
                                                                "rider_category": "adult"})).json())["products"]
    return next(p["price_minor"] for p in products if p["fare_product_id"] == "tcl:single")


async def test_the_web_shop_sells_a_web_order_once_per_key_onto_a_new_wallet(site_client):
    wallet = await site_client.post("/site/shop/wallets")
    assert wallet.status == 201
    serial = (await wallet.json())["serial"]
    assert serial.startswith("W")
    price = await _single_price(site_client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await site_client.post("/site/shop/orders", json=_order(serial, price), headers=key)
    assert first.status == 201, await first.text()
    again = await site_client.post("/site/shop/orders", json=_order(serial, price), headers=key)
    assert again.status == 200
    assert (await again.json())["order_id"] == (await first.json())["order_id"]
    pool = site_client.app[POOL]
    rows = await pool.fetch("SELECT o.channel, o.status, k.label, k.role FROM ticketing_orders o "
                            "JOIN api_keys k ON k.key_id = o.sales_point_key_id")
    assert [tuple(r) for r in rows] == [("web", "paid", WEB_SHOP_LABEL, "sales_point")]


async def test_the_web_shop_refuses_what_v1_orders_refuses(site_client):
    serial = (await (await site_client.post("/site/shop/wallets")).json())["serial"]
    price = await _single_price(site_client)
    no_key = await site_client.post("/site/shop/orders", json=_order(serial, price))
    assert no_key.status == 400 and no_key.content_type == "application/problem+json"
    wrong_total = {**_order(serial, price), "expected_total_minor": price + 1}
    refused = await site_client.post("/site/shop/orders", json=wrong_total, headers={"Idempotency-Key": "k-1"})
    assert refused.status == 409, await refused.text()
    declined = {**_order(serial, price), "payment": {"token": "tok_decline"}}
    answer = await site_client.post("/site/shop/orders", json=declined, headers={"Idempotency-Key": "k-2"})
    assert answer.status == 402
    assert await site_client.app[POOL].fetchval("SELECT count(*) FROM ticketing_orders WHERE status = 'paid'") == 0


async def test_the_web_shop_key_is_found_again_after_a_restart(site_region, site_client, app_config, make_client):
    from dataclasses import replace

    first = await site_client.app[POOL].fetch("SELECT key_id FROM api_keys WHERE label = $1", WEB_SHOP_LABEL)
    await site_client.close()
    config = replace(app_config, feeds=replace(app_config.feeds, registry=site_region, ingest_on_start=True,
                                               realtime=False))
    again = await make_client(create_app(config, clock=FixedClock(REGION_START)))
    keys = await again.app[POOL].fetch("SELECT key_id FROM api_keys WHERE label = $1", WEB_SHOP_LABEL)
    assert len(first) == 1 and [k["key_id"] for k in keys] == [first[0]["key_id"]]


async def test_without_a_registry_the_web_shop_is_closed(app_config, make_client):
    client = await make_client(create_app(app_config, clock=FixedClock(REGION_START)))
    closed = await client.post("/site/shop/wallets")
    assert closed.status == 503 and (await closed.json())["code"] == "web_shop_closed"
    assert (await client.get("/")).status == 200
