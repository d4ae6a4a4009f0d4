"""Ticketing's start-up: the service it puts on the app, and the reconciliation task.

`make_ticketing_context(catalogue, network_authority, provider)` returns the ``cleanup_ctx``
generator (register it after the database one) that puts the `TicketingService` on the app as
``app[TICKETING]`` and runs the reconciliation of abandoned orders every ``reconcile_every_s``
(a service option; 0 disables it), stopped on shutdown. The assembly swaps the service's
catalogue as feed versions are published.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from oura.concurrency import cancel_and_wait
from oura.keys import CLOCK, POOL
from ticketing.payments import PaymentProvider, TestPaymentProvider
from ticketing.products import Catalogue
from ticketing.service import CatalogueHolder, TicketingService

__all__ = ["TICKETING", "make_ticketing_context"]

TICKETING = web.AppKey("ticketing.service", TicketingService)
log = logging.getLogger(__name__)


def make_ticketing_context(
    catalogue: Catalogue | Callable[[web.Application], Catalogue | Awaitable[Catalogue]],
    network_authority: Mapping[str, str],
    provider: PaymentProvider | None = None,
    **service_options: Any,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx generator that puts the `TicketingService` on the app (register it after
    the database one). ``catalogue`` is a catalogue, or a function of the app returning one (or
    an awaitable of one, e.g. ``load_catalogue`` run with ``oura.concurrency.run_blocking``).
    It also runs the reconciliation of abandoned orders every ``reconcile_every_s`` (a service
    option; 0 disables it), stopped on shutdown."""

    async def ticketing_context(app: web.Application) -> AsyncIterator[None]:
        current = catalogue(app) if callable(catalogue) else catalogue
        if inspect.isawaitable(current):
            current = await current
        app[TICKETING] = TicketingService(
            pool=app[POOL],
            catalogues=CatalogueHolder(current),
            network_authority=dict(network_authority),
            provider=provider or TestPaymentProvider(),
            clock=app[CLOCK],
            **service_options,
        )
        service = app[TICKETING]
        task = asyncio.create_task(_reconcile_forever(service)) if service.reconcile_every_s > 0 else None
        try:
            yield
        finally:
            await cancel_and_wait(task)

    return ticketing_context


async def _reconcile_forever(service: TicketingService) -> None:
    """Close abandoned pending orders every ``reconcile_every_s``. A failed run is logged and the
    next one tries again: the orders it could not close stay pending, never half-closed."""
    while True:
        await asyncio.sleep(service.reconcile_every_s)
        try:
            result = await service.reconcile_pending()
        except Exception:  # a database or provider outage must not stop the next runs
            log.exception("reconciling pending orders failed")
            continue
        if result.abandoned or result.unanswered or result.failed:
            log.info("reconciled pending orders: %d abandoned (%d refunded), %d left pending (provider did not answer), "
                     "%d left pending after an error (logged above)",
                     result.abandoned, result.refunded, result.unanswered, result.failed)
