"""GTFS Fares v2 tables of every demo feed and of the regional combined products.

Each feed sells its own single ticket, 10-trip carnet, day pass and monthly pass for four rider
categories, on the region-wide fare media (the OùRA smartcard, the phone wallet, paper). Urban and
coach networks have a flat fare with free transfers within an hour (90 min for coaches); the rail
network prices by distance between stations, origin to destination, with one fare area per
station (its platforms are in it through parent_station), and its fare_leg_join_rules make a
change between two TER trains one fare leg: Lyon -> Chambéry is one Lyon - Chambéry ticket, via
Aix-les-Bains or via Grenoble alike. The regional folder
adds combined cross-network products (rail + urban monthly passes, a regional day pass) with the
apportionment keys clearing needs.

Region-wide ids (`oura-card`, `oura-wallet`, `paper`, `adult`, `youth`, `senior`, `reduced`) are
written verbatim in every feed; everything else is the feed's own id and gets namespaced by the
feeds package on import. Prices are in EUR, written as decimal strings (GTFS `amount`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oura.demo.geometry import haversine_km
from oura.demo.network import FeedPlan
from oura.demo.region import COACH_NETWORKS, RAIL_NETWORK_ID, REGIONAL_COACH_NETWORK_ID, URBAN_AREAS

__all__ = [
    "FareTable",
    "FARE_MEDIA",
    "RIDER_CATEGORIES",
    "list_feed_fare_tables",
    "list_regional_fare_tables",
    "split_permille",
]

CURRENCY = "EUR"

# (fare_media_id, name, fare_media_type)
FARE_MEDIA = (
    ("paper", "Ticket papier", 1),
    ("oura-card", "Carte OùRA", 2),
    ("oura-wallet", "OùRA sur mobile", 4),
)
# (rider_category_id, name, is_default_fare_category, eligibility_url)
RIDER_CATEGORIES = (
    ("adult", "Tout public", 1, ""),
    ("youth", "Moins de 26 ans", 0, "https://oura.example/tarifs/jeunes"),
    ("senior", "Plus de 65 ans", 0, "https://oura.example/tarifs/seniors"),
    ("reduced", "Tarif solidaire", 0, "https://oura.example/tarifs/solidaire"),
)

# product kind -> (name, fare media it is sold on, rider category -> price multiplier)
_PRODUCT_KINDS = {
    "single": ("Ticket 1 voyage", ("paper", "oura-card", "oura-wallet"),
               {"adult": 1.0, "youth": 1.0, "senior": 1.0, "reduced": 0.5}),
    "10-trips": ("Carnet 10 voyages", ("oura-card", "oura-wallet"),
                 {"adult": 1.0, "youth": 0.8, "senior": 0.8, "reduced": 0.5}),
    "day-pass": ("Pass 24 heures", ("paper", "oura-card", "oura-wallet"),
                 {"adult": 1.0, "youth": 0.75, "senior": 1.0, "reduced": 0.5}),
    "monthly-pass": ("Abonnement mensuel", ("oura-card", "oura-wallet"),
                     {"adult": 1.0, "youth": 0.5, "senior": 0.55, "reduced": 0.2}),
}
# Validity of each kind, in the extension columns duration_s and trips of fare_products.txt
# (Fares v2 has no column for them; the ticketing catalogue reads these when present).
_VALIDITY = {"single": ("", 1), "10-trips": ("", 10), "day-pass": (86_400, ""), "monthly-pass": (30 * 86_400, "")}
_PRODUCT_HEADER = ("fare_product_id", "fare_product_name", "rider_category_id", "fare_media_id", "amount", "currency",
                   "duration_s", "trips")
_PAPER_SURCHARGE = 0.20  # a paper single costs a little more than a dematerialised one

_URBAN_PRICES = {  # size -> kind -> adult price
    "large": {"single": 2.10, "10-trips": 19.50, "day-pass": 6.50, "monthly-pass": 68.00},
    "medium": {"single": 1.70, "10-trips": 14.50, "day-pass": 4.80, "monthly-pass": 45.00},
    "small": {"single": 1.40, "10-trips": 11.50, "day-pass": 3.80, "monthly-pass": 30.00},
}
_COACH_PRICES = {"single": 2.00, "10-trips": 16.00, "day-pass": 5.00, "monthly-pass": 40.00}
_REGIONAL_COACH_PRICES = {"single": 3.00, "10-trips": 25.00, "day-pass": 8.00, "monthly-pass": 60.00}
_RAIL_BANDS_KM = (0, 15, 25, 40, 60, 80, 110, 150, 200, 260, 330)  # band b covers [b, next)
_RAIL_DAY_PASS = 36.00
_RAIL_DETOUR = 1.25  # track km per straight-line km
# A TER -> TER change waiting at most this long is one journey (fare_leg_join_rules' extension
# column max_transfer_s); a longer stop, such as the way back in the evening, is a new journey.
_RAIL_JOIN_MAX_TRANSFER_S = 7200


@dataclass(frozen=True, slots=True)
class FareTable:
    """One CSV file: its name (``fare_products.txt``), header and rows of strings or numbers."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple, ...]


def _money(value: float) -> str:
    return f"{round(value, 2):.2f}"


def _product_rows(product_id: str, kind: str, adult_price: float, *, name: str | None = None) -> list[tuple]:
    label, media, categories = _PRODUCT_KINDS[kind]
    rows = []
    for category, factor in categories.items():
        for medium in media:
            price = adult_price * factor + (_PAPER_SURCHARGE if medium == "paper" and kind == "single" else 0.0)
            price = round(price * 10) / 10 if kind == "single" else price
            rows.append((product_id, name or label, category, medium, _money(price), CURRENCY, *_VALIDITY[kind]))
    return rows


def _common_tables(plan: FeedPlan) -> list[FareTable]:
    return [
        FareTable("networks.txt", ("network_id", "network_name"), ((plan.network_id, plan.network_name),)),
        FareTable("route_networks.txt", ("network_id", "route_id"),
                  tuple((plan.network_id, r.route_id) for r in plan.routes)),
        FareTable("fare_media.txt", ("fare_media_id", "fare_media_name", "fare_media_type"), FARE_MEDIA),
        FareTable("rider_categories.txt",
                  ("rider_category_id", "rider_category_name", "is_default_fare_category", "eligibility_url"),
                  RIDER_CATEGORIES),
    ]


def _flat_fare_tables(plan: FeedPlan, prices: dict[str, float], transfer_limit_s: int) -> list[FareTable]:
    products: list[tuple] = []
    for kind, price in prices.items():
        products += _product_rows(kind, kind, price)
    leg_group = "flat"
    return [
        FareTable("fare_products.txt",
                  _PRODUCT_HEADER,
                  tuple(products)),
        FareTable("fare_leg_rules.txt", ("leg_group_id", "network_id", "fare_product_id"),
                  tuple((leg_group, plan.network_id, kind) for kind in prices)),
        FareTable("fare_transfer_rules.txt",
                  ("from_leg_group_id", "to_leg_group_id", "transfer_count", "duration_limit",
                   "duration_limit_type", "fare_transfer_type", "fare_product_id"),
                  ((leg_group, leg_group, -1, transfer_limit_s, 1, 0, ""),)),
    ]


def _rail_band(distance_km: float) -> int:
    return int(np.searchsorted(_RAIL_BANDS_KM, distance_km, side="right")) - 1


def _rail_band_prices(band: int) -> dict[str, float]:
    low = _RAIL_BANDS_KM[band]
    high = _RAIL_BANDS_KM[band + 1] if band + 1 < len(_RAIL_BANDS_KM) else low + 100
    single = 1.60 + 0.115 * (low + high) / 2
    return {"single": single, "10-trips": single * 8.0, "monthly-pass": min(420.0, single * 14.0)}


def _rail_tables(plan: FeedPlan) -> list[FareTable]:
    stations = plan.rail_stations
    stop_lat = {s.stop_id: s.lat for s in plan.stops}
    stop_lon = {s.stop_id: s.lon for s in plan.stops}
    lat = np.array([stop_lat[key] for key, _, _ in stations])
    lon = np.array([stop_lon[key] for key, _, _ in stations])
    areas = tuple((key, name) for key, name, _ in stations)
    stop_areas = tuple((key, key) for key, _, _ in stations)  # a station's area covers its platforms
    products: list[tuple] = []
    bands_used: set[int] = set()
    leg_rules: list[tuple] = []
    for i, (a, _, _) in enumerate(stations):
        dist = haversine_km(lat[i], lon[i], lat, lon) * _RAIL_DETOUR
        for j, (b, _, _) in enumerate(stations):
            if i == j:
                continue
            band = _rail_band(float(dist[j]))
            bands_used.add(band)
            for kind in ("single", "10-trips", "monthly-pass"):
                leg_rules.append(("rail", RAIL_NETWORK_ID, a, b, f"{kind}-b{band:02d}", 0))
    for band in sorted(bands_used):
        low = _RAIL_BANDS_KM[band]
        for kind, price in _rail_band_prices(band).items():
            label = _PRODUCT_KINDS[kind][0]
            products += _product_rows(f"{kind}-b{band:02d}", kind, price, name=f"{label} TER {low} km et plus")
    products += _product_rows("day-pass", "day-pass", _RAIL_DAY_PASS, name="Pass journée TER")
    leg_rules.append(("rail", RAIL_NETWORK_ID, "", "", "day-pass", 0))
    return [
        FareTable("areas.txt", ("area_id", "area_name"), areas),
        FareTable("stop_areas.txt", ("area_id", "stop_id"), stop_areas),
        FareTable("fare_products.txt",
                  _PRODUCT_HEADER,
                  tuple(products)),
        FareTable("fare_leg_rules.txt",
                  ("leg_group_id", "network_id", "from_area_id", "to_area_id", "fare_product_id", "rule_priority"),
                  tuple(leg_rules)),
        FareTable("fare_leg_join_rules.txt",
                  ("from_network_id", "to_network_id", "from_stop_id", "to_stop_id", "max_transfer_s"),
                  ((RAIL_NETWORK_ID, RAIL_NETWORK_ID, "", "", _RAIL_JOIN_MAX_TRANSFER_S),)),
    ]


def list_feed_fare_tables(plan: FeedPlan) -> list[FareTable]:
    """The Fares v2 files of one feed."""
    tables = _common_tables(plan)
    if plan.kind == "rail":
        return tables + _rail_tables(plan)
    if plan.kind == "urban":
        return tables + _flat_fare_tables(plan, _URBAN_PRICES[plan.fare_size], 3600)
    if plan.kind == "regional-coach":
        return tables + _flat_fare_tables(plan, _REGIONAL_COACH_PRICES, 7200)
    return tables + _flat_fare_tables(plan, _COACH_PRICES, 5400)


def split_permille(weights: dict[str, float]) -> dict[str, int]:
    """Integer shares proportional to ``weights`` that sum to exactly 1000 (largest remainder)."""
    total = sum(weights.values())
    raw = {k: 1000.0 * w / total for k, w in weights.items()}
    shares = {k: int(v) for k, v in raw.items()}
    rest = 1000 - sum(shares.values())
    for k in sorted(raw, key=lambda k: (shares[k] - raw[k], k))[:rest]:
        shares[k] += 1
    return shares


def list_regional_fare_tables() -> list[FareTable]:
    """The regional combined products (files of the ``region.regional_fares`` folder)."""
    products: list[tuple] = []
    leg_rules: list[tuple] = []
    shares_rows: list[tuple] = []
    networks: dict[str, str] = {}
    rail_monthly = 95.0
    categories = {"adult": 1.0, "youth": 0.5, "reduced": 0.25}

    def add(product_id: str, name: str, adult_price: float, weights: dict[str, float], media: tuple[str, ...],
            duration_s: int = 30 * 86_400) -> None:
        for category, factor in categories.items():
            for medium in media:
                products.append((product_id, name, category, medium, _money(adult_price * factor), CURRENCY,
                                 duration_s, ""))
        for network_id, share in split_permille(weights).items():
            leg_rules.append((product_id, network_id, product_id))
            shares_rows.append((product_id, network_id, share))

    networks[RAIL_NETWORK_ID] = "TER Auvergne-Rhône-Alpes"
    networks[REGIONAL_COACH_NETWORK_ID] = "Cars Région Auvergne-Rhône-Alpes"
    for area in URBAN_AREAS:
        networks[area.network_id] = area.network_name
        urban_monthly = _URBAN_PRICES[
            "large" if area.population >= 300_000 else ("medium" if area.population >= 100_000 else "small")
        ]["monthly-pass"]
        if area.station:
            name = f"TER + {area.network_name} mensuel"
            weights = {RAIL_NETWORK_ID: rail_monthly, area.network_id: urban_monthly}
            add(f"rail-{area.network_id}-monthly", name, 0.85 * (rail_monthly + urban_monthly), weights,
                ("oura-card",))
        else:
            name = f"Cars Région + {area.network_name} mensuel"
            weights = {REGIONAL_COACH_NETWORK_ID: _REGIONAL_COACH_PRICES["monthly-pass"], area.network_id: urban_monthly}
            add(f"coach-{area.network_id}-monthly", name,
                0.85 * (_REGIONAL_COACH_PRICES["monthly-pass"] + urban_monthly), weights, ("oura-card",))
    for coach in COACH_NETWORKS:
        networks[coach.network_id] = coach.network_name
    day_weights = {RAIL_NETWORK_ID: 40.0, REGIONAL_COACH_NETWORK_ID: 8.0}
    day_weights.update({a.network_id: a.population / 100_000 for a in URBAN_AREAS})
    day_weights.update({c.network_id: 2.0 for c in COACH_NETWORKS})
    add("oura-day", "Pass OùRA journée (tous réseaux)", 39.00, day_weights, ("oura-card", "oura-wallet"),
        duration_s=86_400)
    return [
        FareTable("networks.txt", ("network_id", "network_name"), tuple(networks.items())),
        FareTable("fare_media.txt", ("fare_media_id", "fare_media_name", "fare_media_type"), FARE_MEDIA),
        FareTable("rider_categories.txt",
                  ("rider_category_id", "rider_category_name", "is_default_fare_category", "eligibility_url"),
                  RIDER_CATEGORIES),
        FareTable("fare_products.txt",
                  _PRODUCT_HEADER,
                  tuple(products)),
        FareTable("fare_leg_rules.txt", ("leg_group_id", "network_id", "fare_product_id"), tuple(leg_rules)),
        FareTable("fare_product_networks.txt", ("fare_product_id", "network_id", "share_permille"), tuple(shares_rows)),
    ]
