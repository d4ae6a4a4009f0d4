"""Fixtures of the ticketing tests: tiny hand-written feeds and the real Fares v2 feeds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from feeds.gtfs.reader import GtfsTables, read_gtfs
from tests.conftest import require_shared_data
from ticketing.catalogue import FARE_FILES


def write_feed(folder: Path, files: dict[str, str]) -> Path:
    """Write an inline feed (file stem -> CSV text, dedented) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in files.items():
        (folder / f"{stem}.txt").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def read_fares(path: Path) -> GtfsTables:
    """Only the files the catalogue reads (stop_times of a real feed are not needed)."""
    return read_gtfs(path, only=FARE_FILES + ("stops",))


@pytest.fixture(scope="session")
def transcollines() -> GtfsTables:
    return read_fares(require_shared_data("transcollines-faresv2"))


@pytest.fixture(scope="session")
def ctran() -> GtfsTables:
    return read_fares(require_shared_data("ctran-flex-faresv2", "ctran-flex.zip"))


def write_region(root: Path) -> dict[str, Path]:
    """A hand-written region that follows the demo-region fares contract. Fares:

    - ``tcl`` (urban, authority sytral): single 1.90 on the card, 2.10 on paper, youth 1.00;
      free transfers within 3600 s (departure to departure);
    - ``ter`` (rail, authority region): Lyon(A)-Villefranche(B) 8.00, Lyon(A)-Mâcon(C) 12.00;
    - ``stas`` (urban, authority saint-etienne): single 1.60;
    - ``tag`` (urban, authority grenoble): single 1.70;
    - regional combined products: ``ter-tcl-day`` 15.00 (24 h, ter 700 / tcl 300) and
      ``ter-tcl-10`` 60.00 (10 trips, ter 800 / tcl 200), both on the ``oura-card``.
    """
    media = "fare_media_id,fare_media_name,fare_media_type\noura-card,OùRA card,2\noura-wallet,OùRA wallet,4\npaper,Paper,1"
    riders = "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\nyouth,Youth,0"

    def urban(feed: str, route: str, price: str) -> dict[str, str]:
        return {
            "agency": f"agency_id,agency_name,agency_url,agency_timezone\n{feed},{feed.upper()},https://{feed}.example,Europe/Paris",
            "routes": f"route_id,agency_id,route_short_name,route_type\n{route},{feed},{route},3",
            "networks": f"network_id,network_name\n{feed},{feed.upper()}",
            "route_networks": f"network_id,route_id\n{feed},{route}",
            "fare_media": media,
            "rider_categories": riders,
            "fare_products": f"fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency\nsingle,Ticket,,,{price},EUR",
            "fare_leg_rules": f"leg_group_id,network_id,fare_product_id\nurban,{feed},single",
        }

    paths = {
        "tcl": write_feed(root / "tcl", {
            **urban("tcl", "C3", "1.90"),
            "routes": "route_id,agency_id,route_short_name,route_type\nC3,tcl,C3,3\nT1,tcl,T1,0",
            "route_networks": "network_id,route_id\ntcl,C3\ntcl,T1",
            "fare_products": """
                fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency
                single,Ticket 1h,adult,oura-card,1.90,EUR
                single,Ticket 1h,adult,paper,2.10,EUR
                single_youth,Ticket 1h youth,youth,,1.00,EUR
            """,
            "fare_leg_rules": "leg_group_id,network_id,fare_product_id\nurban,tcl,single\nurban,tcl,single_youth",
            "fare_transfer_rules": "from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type\nurban,urban,-1,3600,1,0",
        }),
        "ter": write_feed(root / "ter", {
            "agency": "agency_id,agency_name,agency_url,agency_timezone\nter,TER,https://ter.example,Europe/Paris",
            "routes": "route_id,agency_id,route_short_name,route_type\nL1,ter,L1,2",
            "networks": "network_id,network_name\nter,TER AURA",
            "route_networks": "network_id,route_id\nter,L1",
            "fare_media": media,
            "areas": "area_id,area_name\nA,Lyon\nB,Villefranche\nC,Mâcon",
            "stop_areas": "area_id,stop_id\nA,lyon\nB,villefranche\nC,macon",
            "fare_products": """
                fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency
                ab,Lyon-Villefranche,,,8.00,EUR
                ac,Lyon-Mâcon,,,12.00,EUR
            """,
            "fare_leg_rules": """
                leg_group_id,network_id,from_area_id,to_area_id,fare_product_id
                ab,ter,A,B,ab
                ab,ter,B,A,ab
                ac,ter,A,C,ac
                ac,ter,C,A,ac
            """,
        }),
        "stas": write_feed(root / "stas", urban("stas", "M1", "1.60")),
        "tag": write_feed(root / "tag", urban("tag", "A", "1.70")),
        "regional": write_feed(root / "regional", {
            "networks": "network_id,network_name\nter,TER AURA\ntcl,TCL",
            "fare_products": """
                fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency,duration_s,trips
                ter-tcl-day,TER+TCL day,,oura-card,15.00,EUR,86400,
                ter-tcl-10,TER+TCL 10 trips,,oura-card,60.00,EUR,,10
            """,
            "fare_leg_rules": "leg_group_id,network_id,fare_product_id\nday,ter,ter-tcl-day\nday,tcl,ter-tcl-day\nten,ter,ter-tcl-10\nten,tcl,ter-tcl-10",
            "fare_product_networks": "fare_product_id,network_id,share_permille\nter-tcl-day,ter,700\nter-tcl-day,tcl,300\nter-tcl-10,ter,800\nter-tcl-10,tcl,200",
        }),
    }
    return paths


REGION_AUTHORITIES = {"tcl": "sytral", "ter": "region", "stas": "saint-etienne", "tag": "grenoble"}


def build_region(root: Path):
    from ticketing.catalogue import build_catalogue, load_regional_fares

    paths = write_region(root)
    feeds = {name: read_gtfs(path) for name, path in paths.items() if name != "regional"}
    return build_catalogue(feeds, regional=load_regional_fares(paths["regional"]))


# --- the ticketing app on a real PostgreSQL -------------------------------------------------------

from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import pytest_asyncio  # noqa: E402


@pytest.fixture(scope="session")
def region_catalogue(tmp_path_factory):
    catalogue, issues = build_region(tmp_path_factory.mktemp("region"))
    assert issues == ()
    return catalogue


@dataclass
class TicketingHarness:
    client: object
    provider: object
    clock: object
    service: object

    async def key(self, role: str, authority_id: str | None) -> dict[str, str]:
        from oura.auth import create_key

        _, token = await create_key(self.service.pool, role, authority_id, label="test")
        return {"Authorization": f"Bearer {token}"}

    async def card_with_carnet(self) -> str:
        """A new card with a 10-trip TER+TCL carnet, sold over HTTP; returns its serial."""
        machine = await self.key("sales_point", "sytral")
        response = await self.client.post("/v1/media", json={"kind": "smartcard", "holder": {"display_name": "A. Rider"}},
                                          headers=machine)
        card = (await response.json())["serial"]
        order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6000,
                 "items": [{"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "medium": card}]}
        response = await self.client.post("/v1/orders", json=order, headers={**machine, "Idempotency-Key": card})
        assert response.status == 201
        return card

    async def count(self, table: str) -> int:
        assert table.isidentifier()
        return await self.service.pool.fetchval(f"SELECT count(*) FROM {table}")  # table name, not a value


def validation_event(event_id: str, serial: str, when: datetime, route: str = "tcl:C3") -> dict:
    """One event of a POST /v1/validations body."""
    return {"event_id": event_id, "medium": serial, "time": when.isoformat(), "stop_id": "tcl:stop", "route_id": route}


@pytest_asyncio.fixture
async def make_harness(app_config, make_client, region_catalogue):
    """Build the app with the ticketing routes on this test's database: ``await make_harness()``."""
    from oura.app import create_app
    from oura.clock import FixedClock
    from ticketing.http import routes
    from ticketing.startup import TICKETING, make_ticketing_context
    from ticketing.payments import TestPaymentProvider

    async def make(**service_options) -> TicketingHarness:
        provider = TestPaymentProvider()
        clock = FixedClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
        app = create_app(
            app_config,
            clock=clock,
            extra_routes=[routes],
            extra_contexts=[make_ticketing_context(region_catalogue, REGION_AUTHORITIES, provider, **service_options)],
        )
        client = await make_client(app)
        return TicketingHarness(client, provider, clock, app[TICKETING])

    return make


@pytest.fixture(scope="session")
def demo_region(tmp_path_factory) -> Path:
    """A small demo region (oura.demo), generated once per session; only its fares are read."""
    from datetime import date

    generate = pytest.importorskip("oura.demo.generate")
    out = tmp_path_factory.mktemp("demo")
    generate.generate_region(out, seed=1, scale=0.02, start_date=date(2026, 3, 2), fmt="dir", days=7)
    return out


@pytest.fixture(scope="session")
def demo_catalogue(demo_region):
    from feeds.authorities import load_registry
    from ticketing.catalogue import build_catalogue, load_regional_fares

    registry = load_registry(demo_region / "registry.toml")
    feeds = {n.id: read_fares(Path(n.static)) for a in registry.authorities for n in a.networks}
    return build_catalogue(
        feeds,
        regional=load_regional_fares(registry.regional_fares),
        timezones={n.id: n.timezone for a in registry.authorities for n in a.networks},
        region_timezone=registry.timezone,
    ), registry
