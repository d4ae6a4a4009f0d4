"""Fixtures of the carpool tests: the standard's document, stub operators on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.journey_planner.carpool.stdcov_spec import StandardSpec, spec_path


@pytest.fixture(scope="module")
def spec() -> StandardSpec:
    return StandardSpec.load()


class StubOperator:
    """A standard-covoiturage operator on loopback; ``mode`` says how it behaves."""

    def __init__(self, spec: StandardSpec, name: str) -> None:
        self.spec = spec
        self.name = name
        self.mode = "ok"  # ok | instant | refuse | hang | fail_500 | not_json | wrong_shape
        self.requests: list[tuple[str, str, dict]] = []
        self.request_errors: list[str] = []
        self.release = asyncio.Event()
        data = json.loads(spec_path("playground_testData.gen.json").read_text(encoding="utf-8"))
        self.journeys = [{**j, "operator": name, "id": f"{name}-{i}", "passengerPickupDate": 1_790_000_000 + 60 * i,
                          "availableSeats": 3, "price": {"type": "PAYING", "amount": 2.5, "currency": "EUR"}}
                         for i, j in enumerate(data["driverJourneys"][:3])]
        self.trips = data["driverRegularTrips"][:2]
        self.bookings: dict[str, dict] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        template = "/bookings/{bookingId}" if path.startswith("/bookings/") else path
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, path, dict(request.query)))
        self.request_errors += self.spec.request_errors(request.method, template, dict(request.query), body)
        if request.headers.get("X-API-KEY") not in (None, "secret"):
            return web.Response(status=401)
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "fail_500":
            return web.json_response({"error": "boom"}, status=500)
        if self.mode == "not_json":
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        if self.mode == "wrong_shape":
            return web.json_response([{"operator": self.name}])
        if path == "/driver_journeys":
            return web.json_response(self.journeys)
        if path == "/driver_regular_trips":
            return web.json_response(self.trips)
        if path == "/status":
            return web.Response(status=200)
        if path == "/booking_events":
            return web.Response(status=200)
        if path == "/bookings" and request.method == "POST":
            if self.mode == "refuse":
                return web.json_response({"error": "no seat"}, status=400)
            self.bookings[body["id"]] = body
            answer = {**body, "status": "CONFIRMED"} if self.mode == "instant" else body
            return web.json_response(answer, status=201)
        booking_id = path.removeprefix("/bookings/")
        if booking_id not in self.bookings:
            return web.json_response({"error": "missing_booking"}, status=404)
        if request.method == "PATCH":
            if self.bookings[booking_id]["status"] == request.query["status"]:
                return web.json_response({"error": "status_already_set"}, status=409)
            self.bookings[booking_id]["status"] = request.query["status"]
            return web.Response(status=200)
        return web.json_response(self.bookings[booking_id])


@pytest_asyncio.fixture
async def serve(spec) -> AsyncIterator[Callable]:
    """``await serve(name)`` -> (a `StubOperator`, its base URL)."""
    servers: list[tuple[TestServer, StubOperator]] = []

    async def start(name: str) -> tuple[StubOperator, str]:
        stub = StubOperator(spec, name)
        server = TestServer(stub.app())
        await server.start_server()
        servers.append((server, stub))
        return stub, str(server.make_url("")).rstrip("/")

    yield start
    for server, stub in servers:
        stub.release.set()
        await server.close()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
