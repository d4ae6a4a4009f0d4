"""The fare catalogue as plain immutable values (GTFS Fares v2 vocabulary).

Everything the fare engine, sales and validation need to know about what can be sold and what a
ticket covers is here, as frozen dataclasses built once by `ticketing.catalogue` from the ingested
feeds. Nothing in this module does I/O.

Identifiers follow the region's contract:

- fare_product_id, leg_group_id, area_id, route_id and stop_id are namespaced ``<feed_id>:<id>``
  (the regional combined products keep the ids their file gives them, they are region-wide);
- fare_media_id and rider_category_id are region-wide and never namespaced (``oura-card``,
  ``adult``...), so one card or one rider category means the same thing on every network;
- a network whose id equals its feed id (``tcl`` in feed ``tcl``, the regional rule) keeps it;
  any other network id is namespaced like the rest (``ctran:LOCAL``).

Money is always integer minor units (``price_minor``) with an ISO 4217 currency code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

__all__ = [
    "Area",
    "Catalogue",
    "FareLegJoinRule",
    "FareLegRule",
    "FareMedia",
    "FareMediaType",
    "FareProduct",
    "FareTransferRule",
    "FareTransferType",
    "DurationLimitType",
    "NetworkFares",
    "RiderCategory",
    "Timeframe",
    "ValidityRules",
    "DEFAULT_TIMEZONE",
    "SERVICE_DAY_START",
    "get_calendar_days",
    "get_validity_end",
    "currency_exponent",
    "to_minor_units",
    "format_minor",
]

# ISO 4217 minor-unit exponents for currencies that are not 2 (the default).
_EXPONENT_NOT_TWO: Mapping[str, int] = {
    "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "XOF": 0, "XAF": 0, "XPF": 0, "VND": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3, "IQD": 3, "LYD": 3,
}


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (2 for EUR, 0 for JPY)."""
    return _EXPONENT_NOT_TWO.get(currency.upper(), 2)


def to_minor_units(amount: str, currency: str) -> int | None:
    """A Fares v2 decimal ``amount`` string -> integer minor units, None when not a number.

    Exact decimal arithmetic: ``"2.10" EUR`` is 210, never 209.99999. Amounts with more decimals
    than the currency has are rejected (None) rather than rounded, since rounding money silently
    is worse than refusing a malformed row.
    """
    try:
        value = Decimal(amount.strip())
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite():
        return None
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def format_minor(price_minor: int, currency: str) -> str:
    """Minor units -> a plain decimal string (``210, EUR`` -> ``"2.10"``), for display only."""
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(price_minor)
    sign = "-" if price_minor < 0 else ""
    whole, part = divmod(abs(price_minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}"


class FareMediaType(enum.IntEnum):
    """fare_media.fare_media_type."""

    NONE = 0  # cash or nothing physical
    PAPER = 1
    TRANSIT_CARD = 2
    CEMV = 3  # contactless bank card
    MOBILE_APP = 4


class FareTransferType(enum.IntEnum):
    """fare_transfer_rules.fare_transfer_type: how the cost of a transfer is processed."""

    A_PLUS_AB = 0  # first leg's fare + the transfer product
    A_PLUS_AB_PLUS_B = 1  # both legs' fares + the transfer product
    AB = 2  # the transfer product alone


class DurationLimitType(enum.IntEnum):
    """fare_transfer_rules.duration_limit_type: which instants bound the duration."""

    DEPARTURE_TO_ARRIVAL = 0
    DEPARTURE_TO_DEPARTURE = 1
    ARRIVAL_TO_DEPARTURE = 2
    ARRIVAL_TO_ARRIVAL = 3


@dataclass(frozen=True)
class FareMedia:
    fare_media_id: str
    name: str
    fare_media_type: FareMediaType


@dataclass(frozen=True)
class RiderCategory:
    rider_category_id: str
    name: str
    is_default: bool = False
    eligibility_url: str = ""


DEFAULT_TIMEZONE = "Europe/Paris"  # the region's zone when the registry names none
DAY_S = 86_400
# A service day runs from 04:00 local time to 04:00 the next day: a boarding at 01:30 belongs to
# the previous day's service (night buses), and a pass "for N days" ends at 04:00 after its last day.
SERVICE_DAY_START = time(4, 0)


def get_calendar_days(duration_s: int | None) -> int | None:
    """The number of calendar days a validity lasts, or None when it is a plain duration.

    Fare systems sell "2 days", "7 days" or "30 days" in the network's local calendar, but a
    "24-hour" pass for exactly 24 hours. The catalogue has one field for both (``duration_s``), so
    the rule is read from the data: a whole number of days, two or more, is calendar days; one day
    (86,400 s) or anything else is an exact duration.
    """
    if duration_s is None or duration_s < 2 * DAY_S or duration_s % DAY_S:
        return None
    return duration_s // DAY_S


def get_validity_end(first_used_at: datetime, duration_s: int, timezone: tzinfo | str) -> datetime:
    """When a pass first used at ``first_used_at`` stops being valid (exclusive).

    Calendar passes (see `get_calendar_days`) run to the end of the service day D+N-1, D being
    the local service day of the first use: ``SERVICE_DAY_START`` (04:00) local time on D+N, so a
    30-day pass first used on 15 March at 23:30 ends on 14 April at 04:00, across a DST change as
    on any other day. Other durations are exact: first use + ``duration_s`` seconds.
    """
    days = get_calendar_days(duration_s)
    if days is None:
        return first_used_at + timedelta(seconds=duration_s)
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    local = first_used_at.astimezone(zone)
    service_day = local.date() if local.time() >= SERVICE_DAY_START else local.date() - timedelta(days=1)
    return datetime.combine(service_day + timedelta(days=days), SERVICE_DAY_START, tzinfo=zone)


@dataclass(frozen=True)
class ValidityRules:
    """What a sold product entitles its holder to, as data (checked at validation).

    ``duration_s`` None means the product is valid for one journey (its transfers included, see
    ``transfer_window_s``); ``trips`` None means unlimited boardings within the duration. Empty
    ``area_ids`` means every area of its networks. ``transfer_window_s`` is how long after a
    counted boarding another boarding is a free transfer instead of a new trip (0: none).

    A ``duration_s`` of two whole days or more is counted in calendar days of the region's zone
    (a 30-day pass first used on day D is valid until the end of service day D+29, 04:00 local on
    D+30); 86,400 s (a 24-hour pass) and any other value is an exact duration from the first use.
    See `get_validity_end`.
    """

    network_ids: frozenset[str]
    duration_s: int | None = None
    trips: int | None = 1
    area_ids: frozenset[str] = frozenset()
    rider_category_id: str | None = None
    fare_media_ids: frozenset[str] = frozenset()
    transfer_window_s: int = 0


@dataclass(frozen=True)
class FareProduct:
    """One sellable offer: a fare_products.txt row (a product id has one row per media/category).

    ``shares_permille`` is the clearing key of a combined product (network_id -> share, summing to
    1000); a single-network product has its one network at 1000.
    """

    fare_product_id: str
    name: str
    price_minor: int
    currency: str
    network_ids: tuple[str, ...]
    validity: ValidityRules
    rider_category_id: str | None = None
    fare_media_id: str | None = None
    shares_permille: tuple[tuple[str, int], ...] = ()
    is_combined: bool = False
    feed_id: str = ""

    def is_for(self, rider_category_id: str | None, fare_media_id: str | None) -> bool:
        """True when this offer may be sold to that rider category on that media.

        An empty rider category or media on the product means any (the Fares v2 reading);
        ``None`` on the request side means "do not filter".
        """
        if rider_category_id is not None and self.rider_category_id not in (None, rider_category_id):
            return False
        if fare_media_id is not None and self.fare_media_id not in (None, fare_media_id):
            return False
        return True


@dataclass(frozen=True)
class FareLegRule:
    """A fare_leg_rules.txt row. Empty fields are ``None`` and match as the spec says."""

    feed_id: str
    leg_group_id: str | None
    network_id: str | None
    from_area_id: str | None
    to_area_id: str | None
    from_timeframe_group_id: str | None
    to_timeframe_group_id: str | None
    fare_product_id: str
    rule_priority: int | None = None


@dataclass(frozen=True)
class FareLegJoinRule:
    """A fare_leg_join_rules.txt row: two consecutive legs it matches are one effective fare leg.

    ``from_stop_id`` (a stop or a station) is where the pre-transfer leg ends, ``to_stop_id`` where
    the post-transfer leg starts; None matches any stop. ``max_transfer_s`` is an extension column
    of this project (empty: no limit, the spec's reading): the longest wait, from the first leg's
    arrival to the next leg's departure, that still counts as a change rather than a new journey.
    """

    feed_id: str
    from_network_id: str
    to_network_id: str
    from_stop_id: str | None = None
    to_stop_id: str | None = None
    max_transfer_s: int | None = None


@dataclass(frozen=True)
class FareTransferRule:
    feed_id: str
    from_leg_group_id: str | None
    to_leg_group_id: str | None
    transfer_count: int | None  # -1 unlimited; None when from and to groups differ
    duration_limit_s: int | None
    duration_limit_type: DurationLimitType | None
    fare_transfer_type: FareTransferType
    fare_product_id: str | None  # None: the transfer itself is free


@dataclass(frozen=True)
class Area:
    area_id: str
    name: str


@dataclass(frozen=True)
class Timeframe:
    """A timeframes.txt row: local times of day [start_s, end_s) on the dates of its service."""

    timeframe_group_id: str
    start_s: int
    end_s: int
    service_dates: frozenset[date]


@dataclass(frozen=True)
class NetworkFares:
    """The fare rules of one rule set (one feed, or the regional combined products).

    ``listed_*`` hold the values that appear in the rule file's columns: an empty network or area
    cell in a rule matches only values *not* listed there (the Fares v2 "exact match first"
    reading), unless fare_leg_rules.txt has a ``rule_priority`` column (even with empty cells),
    in which case an empty cell matches anything. An empty timeframe cell always matches any time.
    """

    feed_id: str
    timezone: str
    leg_rules: tuple[FareLegRule, ...]
    transfer_rules: tuple[FareTransferRule, ...]
    timeframes: tuple[Timeframe, ...] = ()
    join_rules: tuple[FareLegJoinRule, ...] = ()
    uses_rule_priority: bool = False
    listed_network_ids: frozenset[str] = frozenset()
    listed_from_area_ids: frozenset[str] = frozenset()
    listed_to_area_ids: frozenset[str] = frozenset()
    listed_from_timeframe_ids: frozenset[str] = frozenset()
    listed_to_timeframe_ids: frozenset[str] = frozenset()
    listed_transfer_from_groups: frozenset[str] = frozenset()
    listed_transfer_to_groups: frozenset[str] = frozenset()
    # (network_id or None, from_area_id or None) -> (position in leg_rules, rule) with those values
    _by_network_area: Mapping[tuple[str | None, str | None], tuple[tuple[int, FareLegRule], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str | None, str | None], list[tuple[int, FareLegRule]]] = {}
        for position, rule in enumerate(self.leg_rules):
            index.setdefault((rule.network_id, rule.from_area_id), []).append((position, rule))
        object.__setattr__(self, "_by_network_area", {k: tuple(v) for k, v in index.items()})

    def list_candidate_rules(self, network_id: str | None, from_area_ids: frozenset[str]) -> list[FareLegRule]:
        """The leg rules that can match a leg of this network from these areas, in file order: a
        superset of the matching ones (rules naming the network or none, from one of the areas or
        from none). Field-by-field matching is the engine's job."""
        found: list[tuple[int, FareLegRule]] = []
        for network in {network_id, None}:
            for area in (*from_area_ids, None):
                found.extend(self._by_network_area.get((network, area), ()))
        found.sort(key=lambda pair: pair[0])
        return [rule for _, rule in found]


@dataclass(frozen=True)
class Catalogue:
    """Everything sellable in the region and the rules that price journeys. Immutable.

    Built once per feed set by `ticketing.catalogue.build_catalogue` and swapped whole on reload
    (one reference), so a request sees one consistent catalogue from start to end.
    """

    products: tuple[FareProduct, ...]
    fare_media: Mapping[str, FareMedia]
    rider_categories: Mapping[str, RiderCategory]
    rule_sets: tuple[NetworkFares, ...]
    network_feed: Mapping[str, str]  # network_id -> feed_id of the rules that price it
    route_network: Mapping[str, str]  # namespaced route_id -> network_id
    stop_areas: Mapping[str, frozenset[str]]  # namespaced stop_id -> area ids (platforms inherit their station's)
    areas: Mapping[str, Area] = field(default_factory=dict)
    network_names: Mapping[str, str] = field(default_factory=dict)
    currency: str = "EUR"
    timezone: str = DEFAULT_TIMEZONE  # the region's zone: calendar passes and clearing periods
    parent_stations: Mapping[str, str] = field(default_factory=dict)  # namespaced stop_id -> its station
    stop_timezones: Mapping[str, str] = field(default_factory=dict)  # namespaced stop_id -> stop_timezone (or its station's)
    _by_id: Mapping[str, tuple[FareProduct, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            index: dict[str, list[FareProduct]] = {}
            for product in self.products:
                index.setdefault(product.fare_product_id, []).append(product)
            object.__setattr__(self, "_by_id", {k: tuple(v) for k, v in index.items()})

    @property
    def default_rider_category_id(self) -> str | None:
        for category in self.rider_categories.values():
            if category.is_default:
                return category.rider_category_id
        return None

    def list_offers(self, fare_product_id: str) -> tuple[FareProduct, ...]:
        """Every row (media x rider category) of one product id; empty when unknown."""
        return self._by_id.get(fare_product_id, ())

    def find_offer(
        self, fare_product_id: str, rider_category_id: str | None, fare_media_id: str | None
    ) -> FareProduct | None:
        """The cheapest row of the product sellable to that rider category on that media."""
        offers = [p for p in self.list_offers(fare_product_id) if p.is_for(rider_category_id, fare_media_id)]
        if not offers:
            return None
        return min(offers, key=lambda p: (p.price_minor, p.fare_media_id or "", p.rider_category_id or ""))

    def list_products(
        self,
        *,
        network_id: str | None = None,
        rider_category_id: str | None = None,
        fare_media_id: str | None = None,
    ) -> tuple[FareProduct, ...]:
        """The offers matching every given filter, in a stable order (id, category, media)."""
        chosen = [
            p
            for p in self.products
            if (network_id is None or network_id in p.network_ids) and p.is_for(rider_category_id, fare_media_id)
        ]
        return tuple(sorted(chosen, key=lambda p: (p.fare_product_id, p.rider_category_id or "", p.fare_media_id or "")))

    def find_network_of_route(self, route_id: str) -> str | None:
        return self.route_network.get(route_id)

    def find_rule_set(self, feed_id: str) -> NetworkFares | None:
        for rule_set in self.rule_sets:
            if rule_set.feed_id == feed_id:
                return rule_set
        return None
