"""The HTTP foundation as a client meets it: errors as problem+json, auth, metrics, OpenAPI."""

from __future__ import annotations

import json

from aiohttp import web

from oura.app import create_app, route_tables
from oura.auth import Role
from oura.errors import NotFound, ServiceUnavailable
from oura.http import RouteTable, get_principal, json_response, query, query_int, read_json
from oura.keys import POOL


async def test_healthz_and_readyz_answer(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"
    ready = await client.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    assert body["checks"]["database"]["ready"] is True


async def test_unknown_path_is_a_404_problem(client):
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["code"] == "not_found" and problem["status"] == 404
    assert "/v1/nothing-here" in problem["detail"]
    assert problem["instance"].startswith("urn:oura:request:")


async def test_wrong_method_is_a_405_problem(client):
    response = await client.post("/healthz", data=b"{}")
    assert response.status == 405
    assert (await response.json())["code"] == "method_not_allowed"


def _probe_app(app_config) -> web.Application:
    """The real app plus a few probe routes that exercise the foundation's helpers."""
    probes = RouteTable(tag="probe")

    @probes.get("/probe/count", summary="echo an int", params=[query("n", "integer", required=True)])
    async def probe_count(request: web.Request) -> web.Response:
        return json_response({"n": query_int(request.query, "n", required=True, minimum=0, maximum=10)})

    @probes.post("/probe/echo", summary="echo JSON")
    async def probe_echo(request: web.Request) -> web.Response:
        return json_response({"echo": await read_json(request)})

    @probes.get("/probe/boom", summary="fails")
    async def probe_boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    @probes.get("/probe/missing", summary="raises a domain error", responses={404: "No such widget"})
    async def probe_missing(request: web.Request) -> web.Response:
        raise NotFound("no such widget", code="widget_not_found")

    @probes.get("/probe/warming-up", summary="not ready yet")
    async def probe_warming_up(request: web.Request) -> web.Response:
        class WarmingUp(ServiceUnavailable):
            """Still warming up."""

            retry_after_s = 7

        raise WarmingUp()

    @probes.get("/probe/authority/{authority_id}", summary="authority-scoped", roles=[Role.AUTHORITY, Role.ADMIN])
    async def probe_authority(request: web.Request) -> web.Response:
        from oura.auth import require_authority

        principal = get_principal(request)
        require_authority(principal, request.match_info["authority_id"])
        return json_response({"key_id": principal.key_id, "role": principal.role})

    return create_app(app_config, extra_routes=[probes])


async def test_malformed_query_parameter_is_a_400_naming_it(app_config, make_client):
    client = await make_client(_probe_app(app_config))
    assert (await (await client.get("/probe/count?n=3")).json()) == {"n": 3}
    for bad in ("abc", "-1", "11", ""):
        response = await client.get(f"/probe/count?n={bad}")
        assert response.status == 400, bad
        problem = await response.json()
        assert problem["invalid_params"][0]["name"] == "n"
        assert problem["code"] in {"invalid_parameter", "missing_parameter"}


async def test_non_json_body_is_a_400(app_config, make_client):
    client = await make_client(_probe_app(app_config))
    ok = await client.post("/probe/echo", json={"a": 1})
    assert (await ok.json()) == {"echo": {"a": 1}}
    for body in (b"not json", b"{", b"", "\udcff".encode("utf-8", "surrogatepass")):
        response = await client.post("/probe/echo", data=body, headers={"Content-Type": "application/json"})
        assert response.status == 400
        assert (await response.json())["code"] == "invalid_json"


async def test_ten_megabyte_body_is_a_413(app_config, make_client):
    client = await make_client(_probe_app(app_config))
    payload = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = await client.post("/probe/echo", data=payload, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "payload_too_large"


async def test_unexpected_error_is_a_500_without_details(app_config, make_client, caplog):
    client = await make_client(_probe_app(app_config))
    response = await client.get("/probe/boom")
    assert response.status == 500
    text = await response.text()
    assert "secret internal detail" not in text and "Traceback" not in text
    problem = json.loads(text)
    assert problem["code"] == "internal_error"
    request_id = response.headers["X-Request-Id"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert len(logged) == 1 and logged[0].exc_info is not None


async def test_domain_errors_keep_their_code(app_config, make_client):
    client = await make_client(_probe_app(app_config))
    response = await client.get("/probe/missing")
    assert response.status == 404
    assert (await response.json())["code"] == "widget_not_found"


async def test_a_503_tells_when_to_retry(app_config, make_client):
    client = await make_client(_probe_app(app_config))
    response = await client.get("/probe/warming-up")
    assert response.status == 503 and response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "7" and (await response.json())["detail"] == "Still warming up."
    missing = await client.get("/probe/missing")
    assert "Retry-After" not in missing.headers


async def test_protected_route_needs_a_key_of_the_right_role_and_authority(app_config, make_client):
    from oura.auth import create_key, revoke_key

    client = await make_client(_probe_app(app_config))
    pool = client.app[POOL]
    _, sytral = await create_key(pool, "authority", "sytral")
    _, device = await create_key(pool, "device", "sytral")
    revoked_principal, revoked = await create_key(pool, "authority", "sytral")
    await revoke_key(pool, revoked_principal.key_id)
    _, admin = await create_key(pool, "admin")

    async def call(token: str | None, authority: str = "sytral") -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await client.get(f"/probe/authority/{authority}", headers=headers)
        if response.status >= 400:
            assert response.content_type == "application/problem+json"
        return response.status

    assert await call(None) == 401
    assert await call("oura_0123456789abcdef_" + "x" * 43) == 401
    assert await call("garbage") == 401
    assert await call(revoked) == 401
    assert await call(device) == 403
    assert await call(sytral, "tag") == 403
    assert await call(sytral) == 200
    assert await call(admin, "tag") == 200


async def test_metrics_count_requests_per_route(client, api_key):
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/nope")
    text = await (await client.get("/metrics", headers={"Authorization": f"Bearer {await api_key('metrics')}"})).text()
    assert 'oura_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "oura_http_request_duration_seconds_bucket" in text


async def test_openapi_document_covers_exactly_the_mounted_routes(client):
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    mounted = set()
    for resource in client.app.router.resources():
        for route in resource:
            if route.method != "HEAD":
                mounted.add((route.method, resource.canonical))
    assert documented == mounted
    declared = {(spec.method, spec.path) for table in route_tables() for spec in table}
    assert declared == mounted
    page = await client.get("/docs")
    assert page.status == 200 and "/openapi.json" in await page.text()
