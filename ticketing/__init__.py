"""Mutualised ticketing: fare catalogue, fare engine, sales, media and contracts, validation, clearing.

The public API is what this module lists (see README.md); `repository` and `queries.sql` are private.
"""

from ticketing.catalogue import CatalogueIssue, build_catalogue, load_catalogue, load_regional_fares
from ticketing.coverage import Coverage
from ticketing.fares import FareLeg, FareQuote, price_itinerary, quote
from ticketing.payments import PaymentProvider, TestPaymentProvider
from ticketing.products import Catalogue, FareProduct
from ticketing.service import CatalogueHolder, TicketingService, network_authorities
from ticketing.validation import Decision, Reason

__all__ = [
    "Catalogue",
    "CatalogueHolder",
    "CatalogueIssue",
    "Coverage",
    "Decision",
    "FareLeg",
    "FareProduct",
    "FareQuote",
    "PaymentProvider",
    "Reason",
    "TestPaymentProvider",
    "TicketingService",
    "build_catalogue",
    "load_catalogue",
    "load_regional_fares",
    "network_authorities",
    "price_itinerary",
    "quote",
]
