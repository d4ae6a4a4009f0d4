"""The OpenAPI document describes every answer of every operation with a JSON Schema.

And the suite-wide check (tests/openapi_check.py, wired in tests/conftest.py) really catches a
response that does not match it.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from oura.app import create_app
from oura.http import RouteTable, json_response, reply
from oura.http.openapi import build_openapi
from oura.http.system import OPENAPI
from tests.openapi_check import OpenApiChecker

PROBLEM = "application/problem+json"


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _document(app_config):
    return create_app(app_config)[OPENAPI]


def test_every_2xx_answer_has_a_json_schema(app_config):
    missing = [f"{label} {status}" for label, operation in _operations(_document(app_config))
               for status, response in operation["responses"].items() if status.startswith("2")
               for media_type, content in response["content"].items() if "schema" not in content]
    assert not missing, missing


def test_every_schema_is_valid_draft_2020_12(app_config):
    document = _document(app_config)
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for label, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status == "101":  # Switching Protocols (the WebSocket route) has no body by definition
                assert "content" not in response, label
                continue
            for content in response["content"].values():
                Draft202012Validator.check_schema(content.get("schema", {}))
        if "requestBody" in operation:
            Draft202012Validator.check_schema(operation["requestBody"]["content"]["application/json"]["schema"])


def test_errors_are_problems_and_every_operation_documents_500_and_503_with_retry_after(app_config):
    document = _document(app_config)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "code"} <= set(problem["properties"])
    for label, operation in _operations(document):
        responses = operation["responses"]
        assert {"400", "500", "503"} <= set(responses), label
        if "x-roles" in operation:
            assert {"401", "403"} <= set(responses), label
        for status, response in responses.items():
            if int(status) < 400 or (label == "GET /readyz" and status == "503"):
                continue
            assert list(response["content"]) == [PROBLEM], (label, status)
            schema = response["content"][PROBLEM]["schema"]
            assert {"$ref": "#/components/schemas/Problem"} in schema["allOf"], (label, status)
            assert {"properties": {"status": {"const": int(status)}}} in schema["allOf"], (label, status)
        if label != "GET /readyz":  # its 503 is the readiness report, not a problem
            assert responses["503"]["headers"]["Retry-After"]["required"] is True, label


def test_a_reference_to_an_undeclared_schema_is_refused():
    table = RouteTable(tag="probe")

    @table.get("/probe", summary="probe", responses={200: reply("x", {"$ref": "#/components/schemas/Nowhere"})})
    async def probe(request: web.Request) -> web.Response:
        return json_response({})

    with pytest.raises(ValueError, match="Nowhere"):
        build_openapi(list(table), title="t", version="1")


def _probe_document() -> dict:
    table = RouteTable(tag="probe", components={"Thing": {"type": "object", "required": ["n"],
                                                          "properties": {"n": {"type": "integer"}}}})

    @table.get("/probe/{thing_id}", summary="probe",
               responses={200: reply("a thing", {"$ref": "#/components/schemas/Thing"}), 404: "no such thing"})
    async def probe(request: web.Request) -> web.Response:
        return json_response({})

    return build_openapi(list(table), title="t", version="1")


def test_the_suite_check_catches_a_body_status_or_media_type_the_document_does_not_describe():
    checker = OpenApiChecker(_probe_document())
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": 1}') == []
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": "one"}')  # wrong type
    assert checker.check("GET", "/probe/1", 200, json_type, b"{}")  # required property missing
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": NaN}')  # not JSON, though Python writes it
    assert checker.check("GET", "/probe/1", 409, {"Content-Type": PROBLEM}, b"{}")  # undocumented status
    assert checker.check("GET", "/probe/1", 200, {"Content-Type": "text/html"}, b"<p>")  # undocumented media type
    problem = (b'{"type": "https://oura.example/problems/x", "title": "Not found", "status": 404, "code": "x",'
               b' "detail": "no"}')
    assert checker.check("GET", "/probe/1", 404, {"Content-Type": PROBLEM}, problem) == []
    assert checker.check("GET", "/probe/1", 404, {"Content-Type": PROBLEM}, problem.replace(b"404", b"410"))
    assert checker.check("GET", "/probe/1", 503, {"Content-Type": PROBLEM}, problem.replace(b"404", b"503"))  # no Retry-After
    assert checker.check("GET", "/nowhere", 404, {"Content-Type": "text/plain"}, b"404")  # unmatched, not a problem


def test_the_suite_check_validates_formats():
    document = _probe_document()
    document["components"]["schemas"]["Thing"]["properties"]["at"] = {"type": "string", "format": "date-time"}
    checker = OpenApiChecker(document)
    json_type = {"Content-Type": "application/json"}
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": 1, "at": "2025-03-05T08:00:00+01:00"}') == []
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": 1, "at": "2025-03-05T08:00:00"}')  # no offset
    assert checker.check("GET", "/probe/1", 200, json_type, b'{"n": 1, "at": "5 March"}')


pytest_plugins = ["pytester"]

_PROBE_TESTS = '''
import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from oura.http import RouteTable, json_response, reply
from oura.http.openapi import build_openapi
from oura.http.system import OPENAPI


def _app():
    table = RouteTable(tag="probe")

    @table.get("/probe", summary="probe", responses={200: reply("n", {"type": "object", "required": ["n"]})})
    async def probe(request):
        return json_response({"m": 1} if request.query.get("bad") else {"n": 1})

    app = web.Application()
    for spec in table:
        app.router.add_get(spec.path, spec.handler)
    app[OPENAPI] = build_openapi(list(table), title="t", version="1")
    return app


async def _status(query):
    async with TestClient(TestServer(_app())) as client:
        return (await client.get("/probe", params=query)).status


def test_documented():
    assert asyncio.run(_status({})) == 200


def test_undocumented():
    assert asyncio.run(_status({"bad": "1"})) == 200


@pytest.mark.openapi_unchecked(reason="a probe of the opt-out")
def test_opted_out():
    assert asyncio.run(_status({"bad": "1"})) == 200


@pytest.mark.openapi_unchecked
def test_opted_out_without_a_reason():
    pass
'''


@pytest.mark.http  # the inner run serves an app on loopback (no fixture says so)
@pytest.mark.openapi_unchecked(reason="the inner run receives undocumented responses on purpose")
def test_the_suite_fails_a_test_that_receives_an_undocumented_response(pytester):
    pytester.makeconftest("from tests.conftest import openapi_checked_responses  # noqa: F401\n")
    pytester.makepyfile(test_probe=_PROBE_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning",
                                          "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_undocumented*", "*do not match the OpenAPI document*",
                                 "*ERROR at setup of test_opted_out_without_a_reason*"])
