"""The fare engine's values: the legs it prices (`FareLeg`) and the quote it answers (`FareQuote`)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass(frozen=True)
class FareLeg:
    """One transit leg to price. Ids are namespaced (``tcl:C3``); times are timezone-aware.

    ``network_id`` may be left out: it is then looked up from the route. Areas are found from the
    stops (stop_areas.txt) unless given directly (``from_area_id``/``to_area_id``).
    """

    route_id: str
    departure: datetime
    arrival: datetime
    network_id: str | None = None
    from_stop_id: str | None = None
    to_stop_id: str | None = None
    from_area_id: str | None = None
    to_area_id: str | None = None


class FareIssueCode(enum.StrEnum):
    NO_FARE_FOR_LEG = "no_fare_for_leg"
    UNKNOWN_NETWORK = "unknown_network"
    NAIVE_DATETIME = "naive_datetime"
    MIXED_CURRENCY = "mixed_currency"


@dataclass(frozen=True)
class FareIssue:
    code: FareIssueCode
    leg_index: int | None = None
    detail: str = ""


class CoverKind(enum.StrEnum):
    SINGLE = "single"  # one leg, its own fare
    TRANSFER = "transfer"  # a product bought as the cost of a transfer
    PASS = "pass"  # a multi-use product covering several legs


@dataclass(frozen=True)
class QuotedProduct:
    """One product to buy, and the legs it pays for."""

    fare_product_id: str
    name: str
    price_minor: int
    currency: str
    network_ids: tuple[str, ...]
    leg_indices: tuple[int, ...]
    kind: CoverKind
    fare_media_id: str | None = None
    rider_category_id: str | None = None


@dataclass(frozen=True)
class LegFare:
    """Why one leg is covered: the products that pay for it and a sentence for humans."""

    leg_index: int
    network_id: str | None
    leg_group_ids: tuple[str, ...]
    fare_product_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class FareQuote:
    rider_category_id: str | None
    fare_media_id: str | None
    total_minor: int
    currency: str
    products: tuple[QuotedProduct, ...]
    legs: tuple[LegFare, ...]
    method: str  # "direct" | "cp-sat" | "none"
    issues: tuple[FareIssue, ...] = ()

    @property
    def is_complete(self) -> bool:
        """True when every leg is paid for (an incomplete quote is a lower bound)."""
        return bool(self.legs) and all(leg.fare_product_ids for leg in self.legs)

    def to_json(self) -> dict:
        """The quote as API JSON (what /v1/fares/quote returns and itineraries carry as ``fare``)."""
        return {
            "total_minor": self.total_minor,
            "currency": self.currency,
            "rider_category_id": self.rider_category_id,
            "fare_media_id": self.fare_media_id,
            "is_complete": self.is_complete,
            "method": self.method,
            "products": [asdict(p) for p in self.products],
            "legs": [asdict(leg) for leg in self.legs],
            "issues": [asdict(i) for i in self.issues],
        }


# -- leg matching -------------------------------------------------------------------------------
