"""Build the region's fare `Catalogue` from the ingested feeds and the regional products folder.

Input is what `feeds.gtfs.model.read_gtfs` returns for each network's feed (the assembly passes
the feed versions currently served) plus, optionally, the regional combined products
folder named by the registry's ``region.regional_fares``. Output is one immutable `Catalogue` and
the list of data problems met on the way, as values: a bad row is reported and skipped, it never
stops the region's other 29 networks from being sold.

Decisions taken here (they matter to sales and clearing):

- Ids are namespaced ``<feed_id>:<id>`` except region-wide ones (fare media, rider categories,
  a network whose id is its feed id, and everything in the regional folder), see
  `ticketing.products`.
- Validity rules are data. Fares v2 has no column for "valid 30 days" or "10 trips", so two
  optional extension columns of fare_products.txt carry them: ``duration_s`` (empty: one journey)
  and ``trips`` (empty: unlimited when a duration is set, else 1). Without them a product is a
  single journey whose free-transfer window is the longest ``duration_limit`` of the feed's
  transfer rules that start from a leg group the product prices.
- Validity is read from the fare files only (the demo region's carry both columns): the catalogue
  knows no product naming convention.
- A route in none of the networks its feed declares belongs to no network (no fare); a feed
  that declares none is one network named after the feed. A station in stop_areas.txt covers its
  platforms (unless a platform is listed itself), and a platform takes its station's
  ``stop_timezone``. ``fare_leg_join_rules.txt`` is read per rule set, with an optional extension
  column ``max_transfer_s`` (the longest change that still joins two legs).
- A combined product's clearing key comes from ``fare_product_networks.txt``; when a product has
  no row there its networks share equally (remainder to the first), and an issue says so.

Sync and cheap (the Fares v2 files are small); reading the feeds is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from feeds.gtfs.model import GtfsTables, read_gtfs
from feeds.gtfs.service_days import FeedTimezoneError, read_service_days, resolve_timezone
from ticketing.fare_files import (
    FARE_FILES,
    REGIONAL_FEED_ID,
    CatalogueIssue,
    CatalogueIssueCode,
    load_regional_fares,
    namespace_network,
)
from ticketing.products import (
    Area,
    Catalogue,
    DurationLimitType,
    FareLegJoinRule,
    FareLegRule,
    FareMedia,
    FareMediaType,
    FareProduct,
    FareTransferRule,
    FareTransferType,
    NetworkFares,
    RiderCategory,
    Timeframe,
    ValidityRules,
    to_minor_units,
)

__all__ = [
    "FARE_FILES",
    "CatalogueIssue",
    "CatalogueIssueCode",
    "REGIONAL_FEED_ID",
    "build_catalogue",
    "load_regional_fares",
    "load_catalogue",
    "namespace_network",
]


def _rows(tables: GtfsTables, name: str) -> list[dict[str, str]]:
    table = tables.find(name)
    if table is None or table.empty:
        return []
    return table.to_dict("records")


def _cell(row: Mapping[str, str], column: str) -> str:
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(text: str) -> int | None:
    if text == "":
        return None
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(text) from None


def _gtfs_time_s(text: str, default: int) -> int:
    if not text:
        return default
    parts = text.split(":")
    if len(parts) != 3:
        return default
    hours, minutes, seconds = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds


def _service_dates(tables: GtfsTables, service_ids: set[str]) -> dict[str, set[date]]:
    """Active dates of the few service ids timeframes reference (`feeds.gtfs.service_days`, the
    reading the planner and realtime matching use too)."""
    service_days = read_service_days(tables)
    return {service_id: set(service_days.list_active_dates(service_id)) for service_id in service_ids}



@dataclass
class _RuleScope:
    """What a feed's fare leg rules say of each product: its networks, its areas (a rule without
    both areas makes the product unzoned) and its leg groups."""

    networks_of: dict[str, set[str]] = field(default_factory=dict)
    areas_of: dict[str, set[str]] = field(default_factory=dict)
    unzoned: set[str] = field(default_factory=set)
    groups_of: dict[str, set[str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, leg: list[FareLegRule], feed_networks: tuple[str, ...]) -> _RuleScope:
        scope = cls()
        for rule in leg:
            product = rule.fare_product_id
            scope.networks_of.setdefault(product, set()).update([rule.network_id] if rule.network_id else feed_networks)
            scope.groups_of.setdefault(product, set()).add(rule.leg_group_id)
            if rule.from_area_id and rule.to_area_id:
                scope.areas_of.setdefault(product, set()).update((rule.from_area_id, rule.to_area_id))
            else:
                scope.unzoned.add(product)
        return scope

class _FeedBuilder:
    """Reads one rule set (a feed or the regional folder) into catalogue parts."""

    def __init__(
        self, feed_id: str, tables: GtfsTables, timezone: str, issues: list[CatalogueIssue],
    ) -> None:
        self.feed_id = feed_id
        self.tables = tables
        self.timezone = timezone
        self.issues = issues
        self.regional = feed_id == REGIONAL_FEED_ID

    def ns(self, raw: str) -> str:
        return raw if self.regional else f"{self.feed_id}:{raw}"

    def opt_ns(self, raw: str) -> str | None:
        return self.ns(raw) if raw else None

    def net(self, raw: str) -> str:
        return namespace_network(self.feed_id, raw)

    def issue(self, code: CatalogueIssueCode, file: str, row: int | None, value: str, message: str) -> None:
        self.issues.append(CatalogueIssue(code, self.feed_id, file, row, value, message))

    # -- networks and routes ---------------------------------------------------------------
    def route_networks(self) -> tuple[dict[str, str], dict[str, str]]:
        """(namespaced route_id -> network_id, network_id -> name)."""
        names: dict[str, str] = {}
        for row in _rows(self.tables, "networks"):
            network_id = _cell(row, "network_id")
            if network_id:
                names[self.net(network_id)] = _cell(row, "network_name")
        route_network: dict[str, str] = {}
        if self.regional:
            return route_network, names
        for row in _rows(self.tables, "routes"):
            network_id = _cell(row, "network_id")
            if network_id:
                route_network[self.ns(_cell(row, "route_id"))] = self.net(network_id)
                names.setdefault(self.net(network_id), "")
        for row in _rows(self.tables, "route_networks"):
            network_id = _cell(row, "network_id")
            if network_id:
                route_network[self.ns(_cell(row, "route_id"))] = self.net(network_id)
                names.setdefault(self.net(network_id), "")
        if not names:
            # A feed without any network declaration is one network named after the feed. Once a
            # feed declares networks, a route it puts in none of them belongs to no network (and
            # gets no fare), never to the first one.
            names[self.feed_id] = ""
            for row in _rows(self.tables, "routes"):
                route_network[self.ns(_cell(row, "route_id"))] = self.feed_id
        return route_network, names

    def stops(self) -> tuple[dict[str, str], dict[str, str]]:
        """(namespaced stop_id -> its parent station, stop_id -> stop_timezone, a platform's
        falling back on its station's)."""
        parents: dict[str, str] = {}
        zones: dict[str, str] = {}
        rows = _rows(self.tables, "stops")
        for row in rows:
            stop_id = self.ns(_cell(row, "stop_id"))
            if _cell(row, "parent_station"):
                parents[stop_id] = self.ns(_cell(row, "parent_station"))
            if _cell(row, "stop_timezone"):
                zones[stop_id] = _cell(row, "stop_timezone")
        for stop_id, station in parents.items():
            if stop_id not in zones and station in zones:
                zones[stop_id] = zones[station]
        return parents, zones

    def stop_areas(self, parents: Mapping[str, str]) -> tuple[dict[str, set[str]], dict[str, Area]]:
        """(stop_id -> area ids, area_id -> Area). A station listed in stop_areas.txt puts its
        platforms (stops whose parent_station it is) in its areas, unless a platform is listed
        itself (the spec's override)."""
        areas = {
            self.ns(_cell(r, "area_id")): Area(self.ns(_cell(r, "area_id")), _cell(r, "area_name"))
            for r in _rows(self.tables, "areas")
            if _cell(r, "area_id")
        }
        by_stop: dict[str, set[str]] = {}
        for row in _rows(self.tables, "stop_areas"):
            by_stop.setdefault(self.ns(_cell(row, "stop_id")), set()).add(self.ns(_cell(row, "area_id")))
        for stop_id, station in parents.items():
            if stop_id not in by_stop and station in by_stop:
                by_stop[stop_id] = set(by_stop[station])
        return by_stop, areas

    # -- rules ---------------------------------------------------------------------------
    def uses_rule_priority(self) -> bool:
        """The spec's switch: the *column* exists in fare_leg_rules.txt (empty cells are 0)."""
        table = self.tables.find("fare_leg_rules")
        return table is not None and "rule_priority" in table.columns

    def leg_rules(self) -> list[FareLegRule]:
        rules: list[FareLegRule] = []
        for index, row in enumerate(_rows(self.tables, "fare_leg_rules"), start=2):
            product = _cell(row, "fare_product_id")
            try:
                priority = _int_or_none(_cell(row, "rule_priority"))
            except ValueError as error:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_leg_rules.txt", index, str(error), "rule_priority is not a number")
                continue
            network = _cell(row, "network_id")
            rules.append(
                FareLegRule(
                    feed_id=self.feed_id,
                    leg_group_id=self.opt_ns(_cell(row, "leg_group_id")),
                    network_id=self.net(network) if network else None,
                    from_area_id=self.opt_ns(_cell(row, "from_area_id")),
                    to_area_id=self.opt_ns(_cell(row, "to_area_id")),
                    from_timeframe_group_id=self.opt_ns(_cell(row, "from_timeframe_group_id")),
                    to_timeframe_group_id=self.opt_ns(_cell(row, "to_timeframe_group_id")),
                    fare_product_id=self.ns(product),
                    rule_priority=priority,
                )
            )
        return rules

    def transfer_rules(self) -> list[FareTransferRule]:
        rules: list[FareTransferRule] = []
        for index, row in enumerate(_rows(self.tables, "fare_transfer_rules"), start=2):
            try:
                count = _int_or_none(_cell(row, "transfer_count"))
                limit = _int_or_none(_cell(row, "duration_limit"))
                limit_type = _int_or_none(_cell(row, "duration_limit_type"))
                transfer_type = _int_or_none(_cell(row, "fare_transfer_type"))
            except ValueError as error:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_transfer_rules.txt", index, str(error), "not a number")
                continue
            if transfer_type not in (0, 1, 2):
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_transfer_rules.txt", index, str(transfer_type), "fare_transfer_type must be 0, 1 or 2")
                continue
            rules.append(
                FareTransferRule(
                    feed_id=self.feed_id,
                    from_leg_group_id=self.opt_ns(_cell(row, "from_leg_group_id")),
                    to_leg_group_id=self.opt_ns(_cell(row, "to_leg_group_id")),
                    transfer_count=count,
                    duration_limit_s=limit,
                    duration_limit_type=DurationLimitType(limit_type) if limit is not None and limit_type in (0, 1, 2, 3) else (DurationLimitType.DEPARTURE_TO_ARRIVAL if limit is not None else None),
                    fare_transfer_type=FareTransferType(transfer_type),
                    fare_product_id=self.opt_ns(_cell(row, "fare_product_id")),
                )
            )
        return rules

    def join_rules(self) -> list[FareLegJoinRule]:
        rules: list[FareLegJoinRule] = []
        for index, row in enumerate(_rows(self.tables, "fare_leg_join_rules"), start=2):
            from_network, to_network = _cell(row, "from_network_id"), _cell(row, "to_network_id")
            if not from_network or not to_network:
                self.issue(CatalogueIssueCode.MISSING_COLUMN, "fare_leg_join_rules.txt", index, "",
                           "from_network_id and to_network_id are required")
                continue
            try:
                max_transfer_s = _int_or_none(_cell(row, "max_transfer_s"))
            except ValueError as error:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_leg_join_rules.txt", index, str(error), "max_transfer_s is not a number")
                continue
            rules.append(
                FareLegJoinRule(
                    feed_id=self.feed_id,
                    from_network_id=self.net(from_network),
                    to_network_id=self.net(to_network),
                    from_stop_id=self.opt_ns(_cell(row, "from_stop_id")),
                    to_stop_id=self.opt_ns(_cell(row, "to_stop_id")),
                    max_transfer_s=max_transfer_s,
                )
            )
        return rules

    def timeframes(self) -> list[Timeframe]:
        rows = _rows(self.tables, "timeframes")
        if not rows:
            return []
        dates = _service_dates(self.tables, {_cell(r, "service_id") for r in rows})
        return [
            Timeframe(
                timeframe_group_id=self.ns(_cell(r, "timeframe_group_id")),
                start_s=_gtfs_time_s(_cell(r, "start_time"), 0),
                end_s=_gtfs_time_s(_cell(r, "end_time"), 86400),
                service_dates=frozenset(dates.get(_cell(r, "service_id"), ())),
            )
            for r in rows
        ]

    def rule_set(self, leg: list[FareLegRule], transfer: list[FareTransferRule], timeframes: list[Timeframe]) -> NetworkFares:
        return NetworkFares(
            feed_id=self.feed_id,
            timezone=self.timezone,
            leg_rules=tuple(leg),
            transfer_rules=tuple(transfer),
            timeframes=tuple(timeframes),
            join_rules=tuple(self.join_rules()),
            uses_rule_priority=self.uses_rule_priority(),
            listed_network_ids=frozenset(r.network_id for r in leg if r.network_id),
            listed_from_area_ids=frozenset(r.from_area_id for r in leg if r.from_area_id),
            listed_to_area_ids=frozenset(r.to_area_id for r in leg if r.to_area_id),
            listed_from_timeframe_ids=frozenset(r.from_timeframe_group_id for r in leg if r.from_timeframe_group_id),
            listed_to_timeframe_ids=frozenset(r.to_timeframe_group_id for r in leg if r.to_timeframe_group_id),
            listed_transfer_from_groups=frozenset(r.from_leg_group_id for r in transfer if r.from_leg_group_id),
            listed_transfer_to_groups=frozenset(r.to_leg_group_id for r in transfer if r.to_leg_group_id),
        )

    # -- products ------------------------------------------------------------------------
    def products(
        self,
        leg: list[FareLegRule],
        transfer: list[FareTransferRule],
        feed_networks: Iterable[str],
        shares: Mapping[str, tuple[tuple[str, int], ...]],
    ) -> list[FareProduct]:
        feed_networks = tuple(sorted(feed_networks))
        scope = _RuleScope.of(leg, feed_networks)
        networks_of, areas_of, unzoned, groups_of = scope.networks_of, scope.areas_of, scope.unzoned, scope.groups_of
        out: list[FareProduct] = []
        known: set[str] = set()
        for index, row in enumerate(_rows(self.tables, "fare_products"), start=2):
            raw_id = _cell(row, "fare_product_id")
            currency = _cell(row, "currency").upper()
            price = to_minor_units(_cell(row, "amount"), currency)
            if not raw_id or not currency or price is None:
                self.issue(CatalogueIssueCode.BAD_AMOUNT, "fare_products.txt", index, _cell(row, "amount"), "amount or currency missing or not exact")
                continue
            product_id = self.ns(raw_id)
            known.add(product_id)
            try:
                duration_s = _int_or_none(_cell(row, "duration_s"))
                trips = _int_or_none(_cell(row, "trips"))
            except ValueError as error:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_products.txt", index, str(error), "duration_s/trips not a number")
                continue
            if trips is None and duration_s is None:
                trips = 1
            groups = groups_of.get(product_id, set())
            window = max((t.duration_limit_s or 0 for t in transfer if t.from_leg_group_id is None or t.from_leg_group_id in groups),
                         default=0)
            networks = tuple(sorted(networks_of.get(product_id) or feed_networks))
            rider = _cell(row, "rider_category_id") or None
            media = _cell(row, "fare_media_id") or None
            product_shares = shares.get(product_id)
            if product_shares is None:
                product_shares = _equal_shares(networks)
                if len(networks) > 1:
                    self.issue(CatalogueIssueCode.DEFAULT_SHARES, "fare_product_networks.txt", None, product_id, "no clearing key: equal shares")
            out.append(
                FareProduct(
                    fare_product_id=product_id,
                    name=_cell(row, "fare_product_name"),
                    price_minor=price,
                    currency=currency,
                    network_ids=networks,
                    validity=ValidityRules(
                        network_ids=frozenset(networks),
                        duration_s=duration_s,
                        trips=trips,
                        area_ids=frozenset() if product_id in unzoned else frozenset(areas_of.get(product_id, ())),
                        rider_category_id=rider,
                        fare_media_ids=frozenset([media]) if media else frozenset(),
                        transfer_window_s=window,
                    ),
                    rider_category_id=rider,
                    fare_media_id=media,
                    shares_permille=product_shares,
                    is_combined=len(networks) > 1,
                    feed_id=self.feed_id,
                )
            )
        for rule in leg:
            if rule.fare_product_id not in known:
                self.issue(CatalogueIssueCode.UNKNOWN_PRODUCT, "fare_leg_rules.txt", None, rule.fare_product_id, "rule names a product absent from fare_products.txt")
        return out

    def shares(self) -> dict[str, tuple[tuple[str, int], ...]]:
        grouped: dict[str, list[tuple[str, int]]] = {}
        for index, row in enumerate(_rows(self.tables, "fare_product_networks"), start=2):
            try:
                permille = int(_cell(row, "share_permille"))
            except ValueError:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_product_networks.txt", index, _cell(row, "share_permille"), "share_permille not an integer")
                continue
            grouped.setdefault(self.ns(_cell(row, "fare_product_id")), []).append((self.net(_cell(row, "network_id")), permille))
        out: dict[str, tuple[tuple[str, int], ...]] = {}
        for product_id, shares in grouped.items():
            if sum(s for _, s in shares) != 1000 or any(s < 0 for _, s in shares):
                self.issue(CatalogueIssueCode.BAD_SHARES, "fare_product_networks.txt", None, product_id, "shares must be >= 0 and sum to 1000")
                continue
            out[product_id] = tuple(sorted(shares))
        return out

    def media(self) -> list[FareMedia]:
        out = []
        for index, row in enumerate(_rows(self.tables, "fare_media"), start=2):
            try:
                kind = FareMediaType(int(_cell(row, "fare_media_type") or "0"))
            except ValueError:
                self.issue(CatalogueIssueCode.BAD_NUMBER, "fare_media.txt", index, _cell(row, "fare_media_type"), "unknown fare_media_type")
                continue
            out.append(FareMedia(_cell(row, "fare_media_id"), _cell(row, "fare_media_name"), kind))
        return out

    def rider_categories(self) -> list[RiderCategory]:
        return [
            RiderCategory(
                _cell(row, "rider_category_id"),
                _cell(row, "rider_category_name"),
                _cell(row, "is_default_fare_category") == "1",
                _cell(row, "eligibility_url"),
            )
            for row in _rows(self.tables, "rider_categories")
        ]


def _equal_shares(networks: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    if not networks:
        return ()
    base, remainder = divmod(1000, len(networks))
    return tuple((n, base + (remainder if i == 0 else 0)) for i, n in enumerate(networks))


def _find_feed_timezone(
    feed_id: str, tables: GtfsTables, timezones: Mapping[str, str] | None, issues: list[CatalogueIssue]
) -> str | None:
    """The feed's zone (`feeds.gtfs.service_days.resolve_timezone`), or None with a ``no_timezone`` issue."""
    try:
        return resolve_timezone(tables, (timezones or {}).get(feed_id))
    except FeedTimezoneError as error:
        issues.append(CatalogueIssue(CatalogueIssueCode.NO_TIMEZONE, feed_id, "agency.txt", None, "", str(error)))
        return None


def build_catalogue(
    feeds: Mapping[str, GtfsTables],
    *,
    regional: GtfsTables | None = None,
    timezones: Mapping[str, str] | None = None,
    region_timezone: str = "Europe/Paris",
) -> tuple[Catalogue, tuple[CatalogueIssue, ...]]:
    """One catalogue for the whole region: each network's Fares v2 files + the combined products.

    ``feeds`` maps feed id (== registry network id) to its tables; ``timezones`` (feed id ->
    IANA name, from the registry) overrides agency.txt (`feeds.gtfs.service_days.resolve_timezone`);
    a feed with neither is skipped with a ``no_timezone`` issue. ``region_timezone`` is the
    regional folder's zone.
    """
    issues: list[CatalogueIssue] = []
    products: list[FareProduct] = []
    media: dict[str, FareMedia] = {}
    categories: dict[str, RiderCategory] = {}
    rule_sets: list[NetworkFares] = []
    network_feed: dict[str, str] = {}
    route_network: dict[str, str] = {}
    stop_areas: dict[str, frozenset[str]] = {}
    areas: dict[str, Area] = {}
    network_names: dict[str, str] = {}
    parent_stations: dict[str, str] = {}
    stop_timezones: dict[str, str] = {}
    for feed_id in sorted(feeds):
        tables = feeds[feed_id]
        timezone = _find_feed_timezone(feed_id, tables, timezones, issues)
        if timezone is None:  # its times cannot be read: none of its products is sold
            continue
        builder = _FeedBuilder(feed_id, tables, timezone, issues)
        routes, names = builder.route_networks()
        route_network.update(routes)
        network_names.update({k: v for k, v in names.items() if v or k not in network_names})
        for network_id in names:
            network_feed[network_id] = feed_id
        parents, zones = builder.stops()
        parent_stations.update(parents)
        stop_timezones.update(zones)
        by_stop, feed_areas = builder.stop_areas(parents)
        stop_areas.update({k: frozenset(v) for k, v in by_stop.items()})
        areas.update(feed_areas)
        leg, transfer = builder.leg_rules(), builder.transfer_rules()
        rule_sets.append(builder.rule_set(leg, transfer, builder.timeframes()))
        products.extend(builder.products(leg, transfer, names.keys(), builder.shares()))
        _collect_media_and_categories(builder, media, categories)
    if regional is not None:
        builder = _FeedBuilder(REGIONAL_FEED_ID, regional, region_timezone, issues)
        _, names = builder.route_networks()
        for network_id, name in names.items():
            network_names.setdefault(network_id, name)
        leg, transfer = builder.leg_rules(), builder.transfer_rules()
        rule_sets.append(builder.rule_set(leg, transfer, builder.timeframes()))
        regional_networks = set(names) | {r.network_id for r in leg if r.network_id}
        regional_products = builder.products(leg, transfer, regional_networks, builder.shares())
        products.extend(replace(p, is_combined=True) for p in regional_products)
        _collect_media_and_categories(builder, media, categories)
    currencies = [p.currency for p in products]
    currency = max(set(currencies), key=currencies.count) if currencies else "EUR"
    return Catalogue(
        products=tuple(products),
        fare_media=media,
        rider_categories=categories,
        rule_sets=tuple(rule_sets),
        network_feed=network_feed,
        route_network=route_network,
        stop_areas=stop_areas,
        areas=areas,
        network_names=network_names,
        currency=currency,
        timezone=region_timezone,
        parent_stations=parent_stations,
        stop_timezones=stop_timezones,
    ), tuple(issues)


def _collect_media_and_categories(
    builder: _FeedBuilder, media: dict[str, FareMedia], categories: dict[str, RiderCategory]
) -> None:
    """The feed's fare media and rider categories, the first feed to declare an id keeping it."""
    for item in builder.media():
        media.setdefault(item.fare_media_id, item)
    for category in builder.rider_categories():
        categories.setdefault(category.rider_category_id, category)


def load_catalogue(
    registry,  # feeds.authorities.Registry (duck-typed: authorities -> networks with id, static, timezone)
    *,
    feeds: Mapping[str, GtfsTables] | None = None,
) -> tuple[Catalogue, tuple[CatalogueIssue, ...]]:
    """The catalogue of a registry's region. ``feeds`` (network id -> tables already read, e.g.
    the ingested ones) is used where given; other networks' local static files are read (fare
    files only). Networks whose static is a URL and that are not in ``feeds`` are skipped with an
    issue. Sync and disk-bound: run it in an executor."""
    tables: dict[str, GtfsTables] = {}
    issues: list[CatalogueIssue] = []
    timezones: dict[str, str] = {}
    for authority in registry.authorities:
        for network in authority.networks:
            timezones[network.id] = network.timezone
            if feeds is not None and network.id in feeds:
                tables[network.id] = feeds[network.id]
            elif "://" not in network.static:
                tables[network.id] = read_gtfs(network.static, only=FARE_FILES)
            else:
                issues.append(CatalogueIssue(CatalogueIssueCode.FEED_NOT_AVAILABLE, network.id, "", None, network.static,
                                             "remote static feed not ingested yet: its products are not sold"))
    regional = load_regional_fares(registry.regional_fares) if registry.regional_fares else None
    catalogue, more = build_catalogue(tables, regional=regional, timezones=timezones,
                                      region_timezone=registry.timezone)
    return catalogue, tuple(issues) + more
