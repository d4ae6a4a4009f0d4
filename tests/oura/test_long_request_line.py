"""The tests' app server answers as `oura serve` does: a request line aiohttp cannot parse gets
problem+json (schemathesis sent one to /v1/itineraries/{id} and got aiohttp's plain text)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.db, pytest.mark.http]


async def test_an_over_long_request_line_gets_problem_json(client):
    answer = await client.get("/v1/itineraries/" + "x" * 9000)
    assert answer.status == 414
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert (await answer.json())["code"] == "uri_too_long"
