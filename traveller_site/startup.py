"""The site's start-up: its settings and its web shop on the app (``app[SITE]``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web

from oura.config import SiteConfig
from oura.keys import POOL

from .shop import WebShop, open_web_shop

__all__ = ["SITE", "Site", "make_site_context"]

log = logging.getLogger("traveller_site")


@dataclass(frozen=True, slots=True)
class Site:
    config: SiteConfig
    shop: WebShop | None  # None: no authority to sell for (no registry), the shop answers 503


SITE = web.AppKey("traveller_site.site", Site)


def make_site_context(config: SiteConfig, shop_authority: str | None) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx generator (after the database's) putting the `Site` on the app."""

    async def site_context(app: web.Application) -> AsyncIterator[None]:
        shop = await open_web_shop(app[POOL], shop_authority) if shop_authority else None
        if shop is None:
            log.info("traveller site: no web shop (no authority to sell for)")
        app[SITE] = Site(config, shop)
        yield

    return site_context
