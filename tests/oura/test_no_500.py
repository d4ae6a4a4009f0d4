"""Every documented route, fed malformed input, answers 4xx problem+json and never 500.

The routes and their parameters come from the app's own OpenAPI document, so a route added later
is covered without touching this test. The app serves a small generated region, so requests get
past "not ready" into the handlers' real parsing and lookups.
"""

from __future__ import annotations


import pytest

from oura.auth import create_key
from oura.keys import POOL
from tests.oura.conftest import serve_ready_region

pytestmark = pytest.mark.slow

NASTY = ["", "x", "-1", "0", "99999999999999999999", "1e309", "nan", "true", "'; DROP TABLE api_keys; --",
         "2025-13-45T99:99:99", "2025-03-05T08:00:00+01:00", "45.1,5.7", "999,999", "a,b", "\x00", "é" * 600,
         "tcl:bellecour", "tcl:", ":", "../../etc/passwd", "%", "null"]
BODIES = [b"", b"null", b"[]", b"{}", b'"text"', b"{\"items\": \"x\"}", b'{"items": [{"fare_product_id": 1}]}',
          b'{"events": [{"event_id": null}]}', b'{"legs": [{"route_id": []}]}', b"[" * 500 + b"]" * 500,
          b'{"quantity": -1}', b"\xff\xfe"]


async def test_malformed_input_never_gives_a_500(small_region, app_config, make_client):
    client = await serve_ready_region(small_region, app_config, make_client)
    pool = client.app[POOL]
    tokens = {role: (await create_key(pool, role, None if role == "admin" else "sytral"))[1]
              for role in ("device", "sales_point", "authority", "admin")}
    document = await (await client.get("/openapi.json")).json()
    failures: list[str] = []
    checked = 0

    async def check(method: str, url: str, **kwargs) -> None:
        nonlocal checked
        response = await client.request(method, url, **kwargs)
        checked += 1
        if response.status >= 500 and response.status != 503:
            failures.append(f"{method} {url} {kwargs.get('params') or ''} -> {response.status}")
        elif response.status >= 400 and response.content_type != "application/problem+json":
            failures.append(f"{method} {url} -> {response.status} as {response.content_type}")

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            roles = operation.get("x-roles") or []
            headers = {"Authorization": f"Bearer {tokens[roles[0]]}"} if roles else {}
            path_params = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
            query_params = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
            for value in NASTY:
                url = path
                for name in path_params:
                    url = url.replace("{" + name + "}", value.replace("/", "%2F").replace("%", "%25") or "x")
                if method == "get":
                    await check("GET", url, headers=headers)
                    for name in query_params:
                        await check("GET", url, params={name: value}, headers=headers)
                else:
                    for body in BODIES:
                        await check(method.upper(), url, data=body,
                                    headers={**headers, "Content-Type": "application/json", "Idempotency-Key": value[:40].isprintable() and value[:40].isascii() and value[:40] or "k"})
    assert checked > 200
    assert not failures, "\n".join(failures[:30])
