"""Shared set-up of the remote protocol tests: the whole app on the demo region's fares, a phone
wallet with a software card personalised by the server's secure module, a reference terminal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nfc_gateway.remote.services import REMOTE_SERVICES, RemoteServices, card_serial_of_medium
from nfc_gateway.remote.terminal import HttpTransport, Terminal
from nfc_gateway.sim.card import SoftwareCard

START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)   # a Tuesday inside the demo region's week
CARNET = "tcl:10-trips"


@dataclass
class RemoteHarness:
    client: Any
    clock: Any
    provider: Any
    authorities: dict[str, str]         # network -> authority
    catalogue: Any

    @property
    def app(self) -> Any:
        return self.client.app

    @property
    def services(self) -> RemoteServices:
        return self.app[REMOTE_SERVICES]

    @property
    def pool(self) -> Any:
        from oura.keys import POOL

        return self.app[POOL]

    async def key(self, role: str, authority_id: str | None) -> dict[str, str]:
        from oura.auth import create_key

        _, token = await create_key(self.pool, role, authority_id, label=f"test {role}")
        return {"Authorization": f"Bearer {token}"}

    async def wallet(self, desk: dict[str, str]) -> str:
        response = await self.client.post("/v1/media", json={"kind": "wallet", "holder": {"display_name": "A. Rider"}},
                                          headers=desk)
        assert response.status == 201, await response.text()
        return (await response.json())["serial"]

    async def buy(self, desk: dict[str, str], serial: str, product: str = CARNET, *, key: str | None = None) -> dict[str, Any]:
        offer = self.catalogue.find_offer(product, "adult", "oura-wallet")
        order = {"channel": "app", "payment": {"token": "tok_approve"}, "expected_total_minor": offer.price_minor,
                 "items": [{"fare_product_id": product, "fare_media_id": "oura-wallet", "medium": serial}]}
        response = await self.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": key or f"buy-{serial}-{product}"})
        assert response.status == 201, await response.text()
        return await response.json()

    def card(self, serial: str) -> SoftwareCard:
        """The phone's card for wallet ``serial``, personalised by the server's secure module."""
        card_serial = card_serial_of_medium(serial)
        return SoftwareCard.blank(card_serial, self.services.sam.personalise(card_serial))

    def terminal(self, card: SoftwareCard, device: dict[str, str], **options: Any) -> Terminal:
        return Terminal(card, HttpTransport(self.client, "/v1/nfc/remote", device), **options)


async def make_remote_harness(app_config, make_client, demo_catalogue) -> RemoteHarness:
    from oura.app import create_app
    from oura.clock import FixedClock
    from ticketing.payments import TestPaymentProvider
    from ticketing.service import network_authorities
    from ticketing.startup import make_ticketing_context

    (catalogue, _), registry = demo_catalogue
    authorities = network_authorities(registry)
    provider = TestPaymentProvider()
    clock = FixedClock(START)
    app = create_app(app_config, clock=clock,
                     extra_contexts=[make_ticketing_context(catalogue, authorities, provider)])
    client = await make_client(app)
    return RemoteHarness(client, clock, provider, dict(authorities), catalogue)
