"""The site's web shop: a sales point of one authority that sells and issues wallets for the page.

A traveller's browser holds no key. The web shop is the sales point: its key (role sales_point,
bound to the shop's authority, labelled `WEB_SHOP_LABEL`) is created once and found again after a
restart; the shop calls ticketing's service with it, exactly as ``POST /v1/orders`` and
``POST /v1/media`` do for any sales point, with the channel forced to ``web``. Idempotency is the
sale's own: the page's Idempotency-Key header becomes the order's key, so a retried payment (a
reload, a lost answer) is the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from oura.auth import Role, create_key, list_keys
from ticketing.media import MediumRequest
from ticketing.requests import parse_sale_request
from ticketing.service import TicketingService

__all__ = ["WEB_SHOP_LABEL", "WebShop", "open_web_shop"]

WEB_SHOP_LABEL = "traveller-site web shop"


@dataclass(frozen=True, slots=True)
class WebShop:
    authority_id: str
    key_id: str

    async def sell(self, ticketing: TicketingService, body: Any, idempotency_key: str | None) -> tuple[Any, bool]:
        """The order of a page's purchase (the /v1/orders body without a channel), and whether it is new."""
        if isinstance(body, dict):
            body = {**body, "channel": "web"}
        sale = parse_sale_request(body, idempotency_key)
        return await ticketing.sell(sales_point_key_id=self.key_id, selling_authority_id=self.authority_id, request=sale)

    async def issue_wallet(self, ticketing: TicketingService) -> Any:
        """A new anonymous phone wallet (its serial is what the traveller keeps)."""
        return await ticketing.issue_medium(request=MediumRequest(kind="wallet"), authority_id=self.authority_id,
                                            actor_key_id=self.key_id)


async def open_web_shop(pool: asyncpg.Pool, authority_id: str) -> WebShop:
    """The web shop of ``authority_id``: its key, created on first start (never revoked here)."""
    for key in await list_keys(pool):
        if (key["label"] == WEB_SHOP_LABEL and key["role"] == Role.SALES_POINT.value
                and key["authority_id"] == authority_id and key["revoked_at"] is None):
            return WebShop(authority_id, key["key_id"])
    principal, _token = await create_key(pool, Role.SALES_POINT, authority_id, label=WEB_SHOP_LABEL)
    return WebShop(authority_id, principal.key_id)
