"""The pure data of statistics: raw tables (exact counts of one family and scope), released
tables (what is stored and served), the families' layouts, and the settings.

A *family* is a table layout: its rows and columns are categories (a route and an hour, a stop,
an origin and a destination stop...). A *scope* is whose table it is: a network for validations
and OD flows, a selling authority and the networks owning the products for sales. Each (family,
scope) is protected as one table together with its margins: the row margins ``(row, ALL)``, the
column margins ``(ALL, col)`` and the total ``(ALL, ALL)``. A one-dimensional family has one
column, ``ONE_COLUMN``; its row margins are its cells, so only the total is added.

Families are chosen so that two families of the same scope are different partitions of the same
events, linked only through margins they share with the same value (the total, or the
product-kind margin of ``product`` and ``medium``): each can be protected on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ALL",
    "ONE_COLUMN",
    "Family",
    "FAMILIES",
    "RawTable",
    "Cell",
    "ReleasedTable",
    "NoiseRecord",
    "StatisticsSettings",
]

ALL = "*"  # the margin over a dimension
ONE_COLUMN = ""  # the column of a one-dimensional family


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # validations | sales | od
    rows: str  # the row dimension's name, as group_by says it
    cols: str | None  # the column dimension's name; None: one-dimensional
    money: bool = False  # cells carry amount_minor as well (sales)
    description: str = ""


FAMILIES: Mapping[str, Family] = {f.name: f for f in (
    Family("route_hour", "validations", "route", "hour",
           description="accepted validations by route and hour of the day (local time)"),
    Family("stop", "validations", "stop", None, description="accepted validations by stop"),
    Family("product", "validations", "product_kind", "rider_category",
           description="accepted validations by product kind (single, carnet, pass) and rider category"),
    Family("medium", "validations", "medium_kind", "product_kind",
           description="accepted validations by medium kind (smartcard, wallet, paper) and product kind"),
    Family("refusals", "validations", "reason", None, description="refused validations by reason"),
    Family("od", "od", "origin", "destination",
           description="chained boardings: boarding stop to the medium's next boarding stop the same service day"),
    Family("product_channel", "sales", "product", "channel", money=True,
           description="items sold by product and channel; scope: selling authority and owning networks"),
    Family("sales_point", "sales", "sales_point", "channel", money=True,
           description="items sold by sales point and channel; scope: selling authority"),
)}


@dataclass(frozen=True)
class RawTable:
    """Exact counts of one family and scope for one period: inner cells only (margins are sums).
    ``counts`` holds cells ≥ 1 (an absent cell is 0); ``amounts`` the money of the same cells."""

    family: str
    scope: str
    counts: Mapping[tuple[str, str], int]
    amounts: Mapping[tuple[str, str], int] | None = None
    authority_ids: tuple[str, ...] = ()  # who may read it
    network_ids: tuple[str, ...] = ()  # what it is about


@dataclass(frozen=True)
class Cell:
    row: str
    col: str
    count: int | None  # None: suppressed
    amount: int | None = None
    parts_suppressed: int = 0  # month cells: day cells left out (then count is a lower bound)

    @property
    def suppressed(self) -> bool:
        return self.count is None

    @property
    def is_margin(self) -> bool:
        return self.row == ALL or self.col == ALL


@dataclass(frozen=True)
class ReleasedTable:
    """What is stored and served: inner cells and margins, suppressed ones with count None."""

    family: str
    scope: str
    cells: tuple[Cell, ...]
    authority_ids: tuple[str, ...] = ()
    network_ids: tuple[str, ...] = ()

    def cell(self, row: str, col: str) -> Cell | None:
        return next((c for c in self.cells if c.row == row and c.col == col), None)


@dataclass(frozen=True)
class NoiseRecord:
    """How one table was noised: what the ledger records."""

    mechanism: str  # laplace | gaussian
    epsilon: float
    delta: float
    scale: float  # on counts (Laplace b, Gaussian sigma)
    sensitivity: float  # the contribution bound on counts
    amount_scale: float | None = None
    parameters: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class StatisticsSettings:
    """What the release, the purge and the job need (the assembly builds it from the
    ``[statistics]`` configuration, `oura.config.StatisticsConfig`)."""

    retention_s: float = 48 * 3600.0
    k: int = 10
    method: str = "suppression"  # suppression | laplace | gaussian
    epsilon_per_day: float = 1.0
    delta: float = 1e-7
    max_validations_per_medium_day: int = 8
    max_items_per_order: int = 10
    max_amount_per_order_minor: int = 20000
    release_grace_s: int = 3600
    every_s: float = 300.0
