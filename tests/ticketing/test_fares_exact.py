"""Exact Fares v2 (issue 10): the spec's matching and cost rules, one small inline feed per rule.

Each feed is written to ``tmp_path`` and read like a real one; every expected price is worked out
in the test's comment from the rows it writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.gtfs.reader import read_gtfs
from tests.ticketing.conftest import write_feed
from ticketing.catalogue import CatalogueIssueCode, build_catalogue
from ticketing.fares import FareIssueCode, FareLeg, quote

PARIS = ZoneInfo("Europe/Paris")
AGENCY = "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,Europe/Paris"
TRANSFER_HEADER = ("from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,"
                   "fare_transfer_type,fare_product_id")


def at(text: str, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def leg(route: str, start: datetime, minutes: int, **kw) -> FareLeg:
    return FareLeg(route_id=route, departure=start, arrival=start + timedelta(minutes=minutes), **kw)


def catalogue_of(tmp_path, feed_id: str, files: dict[str, str]):
    catalogue, issues = build_catalogue({feed_id: read_gtfs(write_feed(tmp_path / feed_id, {"agency": AGENCY, **files}))})
    # A product of a rule without network_id spans the feed's networks: its clearing key is the
    # default (equal shares), the only issue these feeds may raise.
    assert {i.code for i in issues} <= {CatalogueIssueCode.DEFAULT_SHARES}
    return catalogue


def test_a_route_in_no_network_gets_no_fare(tmp_path):
    # The feed declares network "bus" (route B is in it, 2.00); route X is in no network: the
    # bus fare must not price it (it used to be priced as the feed's first network).
    catalogue = catalogue_of(tmp_path, "f", {
        "routes": "route_id,agency_id,route_short_name,route_type,network_id\nB,a,B,3,bus\nX,a,X,3,",
        "networks": "network_id,network_name\nbus,Bus",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nbus_single,Bus,2.00,EUR",
        "fare_leg_rules": "leg_group_id,network_id,fare_product_id\nbus,bus,bus_single",
    })
    start = at("2026-03-02T08:00:00")
    assert quote(catalogue, [leg("f:B", start, 10)]).total_minor == 200
    other = quote(catalogue, [leg("f:X", start, 10)])
    assert other.products == () and not other.is_complete
    assert FareIssueCode.UNKNOWN_NETWORK in {i.code for i in other.issues}


def test_an_empty_timeframe_matches_any_time(tmp_path):
    # Rail has a weekday timeframe rule (5.00); the bus rule names no timeframe (2.00). An empty
    # timeframe is "any time", not "every timeframe except the listed ones": a bus leg on a
    # weekday morning (inside the rail timeframe) costs 2.00, and so does one on Sunday.
    catalogue = catalogue_of(tmp_path, "f", {
        "routes": "route_id,agency_id,route_short_name,route_type,network_id\nB,a,B,3,bus\nR,a,R,2,rail",
        "calendar": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                     "WK,1,1,1,1,1,0,0,20260101,20261231"),
        "timeframes": "timeframe_group_id,start_time,end_time,service_id\nweekday,00:00:00,24:00:00,WK",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nbus_single,Bus,2.00,EUR\nrail_single,Rail,5.00,EUR",
        "fare_leg_rules": ("leg_group_id,network_id,from_timeframe_group_id,fare_product_id\n"
                           "bus,bus,,bus_single\nrail,rail,weekday,rail_single"),
    })
    monday, sunday = at("2026-03-02T08:00:00"), at("2026-03-08T08:00:00")
    assert quote(catalogue, [leg("f:B", monday, 10)]).total_minor == 200
    assert quote(catalogue, [leg("f:B", sunday, 10)]).total_minor == 200
    assert quote(catalogue, [leg("f:R", monday, 10)]).total_minor == 500
    assert not quote(catalogue, [leg("f:R", sunday, 10)]).is_complete


def test_the_transfer_rule_with_the_smallest_count_at_least_the_current_one_applies(tmp_path):
    # g -> g: the first transfer costs the 0.50 transfer product (transfer_count 1), later ones
    # are free (transfer_count -1); type 0 (A + AB), single 1.00. Two legs: 1.00 + 0.50 = 1.50
    # (the free rule is for transfers 2 and more, it must not apply to the first). Three legs:
    # 1.00 + 0.50 + 0.00 = 1.50.
    catalogue = catalogue_of(tmp_path, "f", {
        "routes": "route_id,agency_id,route_short_name,route_type\n1,a,1,3",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nsingle,Single,1.00,EUR\nfirst,First transfer,0.50,EUR",
        "fare_leg_rules": "leg_group_id,fare_product_id\ng,single",
        "fare_transfer_rules": f"{TRANSFER_HEADER}\ng,g,-1,7200,1,0,\ng,g,1,7200,1,0,first",
    })
    start = at("2026-03-02T08:00:00")
    two = [leg("f:1", start, 10), leg("f:1", start + timedelta(minutes=15), 10)]
    result = quote(catalogue, two)
    assert result.total_minor == 150
    assert sorted(p.fare_product_id for p in result.products) == ["f:first", "f:single"]
    three = two + [leg("f:1", start + timedelta(minutes=30), 10)]
    assert quote(catalogue, three).total_minor == 150


def test_a_type_1_transfer_then_a_type_2_one_keeps_the_middle_legs_fare(tmp_path):
    # Single 1.00. First transfer (transfer_count 1): type 1, A + AB + B with AB = 0.20; second
    # transfer (transfer_count 2): type 2, the 0.10 product replaces the *next* fares only. The
    # chain over three legs is 1.00 + 0.20 + 1.00 + 0.10 = 2.30; dropping the middle leg's fare
    # (already charged by the type-1 transfer) would give 1.30. Other ways cost more: three
    # singles 3.00, a two-leg chain + a single 3.20.
    catalogue = catalogue_of(tmp_path, "f", {
        "routes": "route_id,agency_id,route_short_name,route_type\n1,a,1,3",
        "fare_products": ("fare_product_id,fare_product_name,amount,currency\nsingle,Single,1.00,EUR\n"
                          "t1,Type 1 transfer,0.20,EUR\nt2,Type 2 transfer,0.10,EUR"),
        "fare_leg_rules": "leg_group_id,fare_product_id\ng,single",
        "fare_transfer_rules": f"{TRANSFER_HEADER}\ng,g,1,7200,1,1,t1\ng,g,2,7200,1,2,t2",
    })
    start = at("2026-03-02T08:00:00")
    legs = [leg("f:1", start + timedelta(minutes=15 * i), 10) for i in range(3)]
    result = quote(catalogue, legs)
    assert result.total_minor == 230
    assert sorted(p.fare_product_id for p in result.products) == ["f:single", "f:single", "f:t1", "f:t2"]


def test_a_rule_priority_column_with_empty_cells_switches_on_priority_matching(tmp_path):
    # The rule_priority column exists but every cell is empty (0). The spec then reads an empty
    # network_id as "any network": the 1.00 rule without a network prices the local network too,
    # so a local leg costs 1.00 rather than the 1.50 of its own rule. Without the column, the
    # empty network only prices networks no rule names (express).
    rows = "l,local,local_fare,\ne,,other_fare,"
    files = {
        "routes": "route_id,agency_id,route_short_name,route_type,network_id\nL,a,L,3,local\nX,a,X,3,express",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nlocal_fare,Local,1.50,EUR\nother_fare,Other,1.00,EUR",
        "fare_leg_rules": f"leg_group_id,network_id,fare_product_id,rule_priority\n{rows}",
    }
    start = at("2026-03-02T08:00:00")
    with_column = catalogue_of(tmp_path / "with", "f", files)
    assert with_column.rule_sets[0].uses_rule_priority
    assert quote(with_column, [leg("f:L", start, 10)]).total_minor == 100
    without = catalogue_of(tmp_path / "without", "f", {
        **files, "fare_leg_rules": "leg_group_id,network_id,fare_product_id\nl,local,local_fare\ne,,other_fare",
    })
    assert quote(without, [leg("f:L", start, 10)]).total_minor == 150
    assert quote(without, [leg("f:X", start, 10)]).total_minor == 100


STATIONS = """
    stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,stop_timezone
    A,Alpha,45.0,5.0,1,,
    A1,Alpha quai 1,45.0,5.0,0,A,
    B,Bravo,45.1,5.1,1,,
    B1,Bravo quai 1,45.1,5.1,0,B,
    B2,Bravo quai 2,45.1,5.1,0,B,
    C,Charlie,45.2,5.2,1,,
    C1,Charlie quai 1,45.2,5.2,0,C,
"""


def test_a_station_in_stop_areas_covers_its_platforms(tmp_path):
    # stop_areas lists the stations only; a leg between platforms is priced by the stations'
    # areas: Alpha -> Bravo 3.00. A platform listed itself keeps its own area (the override):
    # B2 is put in area c, so A1 -> B2 is Alpha -> Charlie, 5.00.
    catalogue = catalogue_of(tmp_path, "r", {
        "routes": "route_id,agency_id,route_short_name,route_type\nR,a,R,2",
        "stops": STATIONS,
        "areas": "area_id,area_name\na,Alpha\nb,Bravo\nc,Charlie",
        "stop_areas": "area_id,stop_id\na,A\nb,B\nc,C\nc,B2",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nab,AB,3.00,EUR\nac,AC,5.00,EUR",
        "fare_leg_rules": "leg_group_id,from_area_id,to_area_id,fare_product_id\nab,a,b,ab\nac,a,c,ac",
    })
    assert catalogue.stop_areas["r:A1"] == frozenset({"r:a"})
    assert catalogue.stop_areas["r:B2"] == frozenset({"r:c"})
    start = at("2026-03-02T08:00:00")
    result = quote(catalogue, [leg("r:R", start, 20, from_stop_id="r:A1", to_stop_id="r:B1")])
    assert (result.total_minor, [p.fare_product_id for p in result.products]) == (300, ["r:ab"])
    assert quote(catalogue, [leg("r:R", start, 20, from_stop_id="r:A1", to_stop_id="r:B2")]).total_minor == 500


def test_timeframes_are_local_times_of_the_stops_timezone(tmp_path):
    # The agency is in Paris, but station N (and so its platform N1) has stop_timezone
    # America/New_York. The "morning" timeframe is 07:00-09:00: a leg leaving N1 at 07:30 New York
    # time (13:30 in Paris) is in it (2.00); one leaving at 13:30 New York time is not.
    new_york = ZoneInfo("America/New_York")
    catalogue = catalogue_of(tmp_path, "f", {
        "routes": "route_id,agency_id,route_short_name,route_type\n1,a,1,3",
        "stops": ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,stop_timezone\n"
                  "N,North,40.7,-74.0,1,,America/New_York\nN1,North 1,40.7,-74.0,0,N,"),
        "calendar": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                     "ALL,1,1,1,1,1,1,1,20260101,20261231"),
        "timeframes": "timeframe_group_id,start_time,end_time,service_id\nmorning,07:00:00,09:00:00,ALL",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nmorning,Morning,2.00,EUR",
        "fare_leg_rules": "leg_group_id,from_timeframe_group_id,fare_product_id\ng,morning,morning",
    })
    assert catalogue.stop_timezones["f:N1"] == "America/New_York"
    morning = quote(catalogue, [leg("f:1", at("2026-03-02T07:30:00", new_york), 20, from_stop_id="f:N1")])
    assert morning.total_minor == 200 and morning.is_complete
    afternoon = quote(catalogue, [leg("f:1", at("2026-03-02T13:30:00", new_york), 20, from_stop_id="f:N1")])
    assert not afternoon.is_complete


def rail_with_join_rules(tmp_path, join_rules: str):
    # Origin-destination fares between the stations' areas: Alpha -> Bravo 5.00, Bravo ->
    # Charlie 4.00, Alpha -> Charlie 7.00; R1 runs Alpha - Bravo, R2 Bravo - Charlie.
    return catalogue_of(tmp_path, "r", {
        "routes": "route_id,agency_id,route_short_name,route_type\nR1,a,R1,2\nR2,a,R2,2",
        "networks": "network_id,network_name\nrail,Rail",
        "route_networks": "network_id,route_id\nrail,R1\nrail,R2",
        "stops": STATIONS,
        "areas": "area_id,area_name\na,Alpha\nb,Bravo\nc,Charlie",
        "stop_areas": "area_id,stop_id\na,A\nb,B\nc,C",
        "fare_products": ("fare_product_id,fare_product_name,amount,currency\n"
                          "ab,Alpha-Bravo,5.00,EUR\nbc,Bravo-Charlie,4.00,EUR\nac,Alpha-Charlie,7.00,EUR"),
        "fare_leg_rules": ("leg_group_id,network_id,from_area_id,to_area_id,fare_product_id\n"
                           "ab,rail,a,b,ab\nbc,rail,b,c,bc\nac,rail,a,c,ac"),
        "fare_leg_join_rules": join_rules,
    })


def change_at_bravo(wait_min: int) -> list[FareLeg]:
    start = at("2026-03-02T08:00:00")
    return [
        leg("r:R1", start, 30, from_stop_id="r:A1", to_stop_id="r:B1"),
        leg("r:R2", start + timedelta(minutes=30 + wait_min), 30, from_stop_id="r:B2", to_stop_id="r:C1"),
    ]


def test_legs_joined_by_fare_leg_join_rules_are_one_effective_fare_leg(tmp_path):
    # Join rule: rail -> rail changing at station Bravo (the legs end and start at its
    # platforms B1 and B2). The two legs are one Alpha -> Charlie leg: 7.00, one product for
    # both, instead of 5.00 + 4.00.
    catalogue = rail_with_join_rules(tmp_path, "from_network_id,to_network_id,from_stop_id,to_stop_id\nrail,rail,B,B")
    result = quote(catalogue, change_at_bravo(15))
    assert (result.total_minor, result.is_complete) == (700, True)
    (product,) = result.products
    assert (product.fare_product_id, product.leg_indices) == ("r:ac", (0, 1))
    assert [lf.fare_product_ids for lf in result.legs] == [("r:ac",), ("r:ac",)]
    assert "fare_leg_join_rules" in result.legs[1].explanation
    # A change at another station than the rule's is not joined.
    elsewhere = rail_with_join_rules(tmp_path / "elsewhere", "from_network_id,to_network_id,from_stop_id,to_stop_id\nrail,rail,C,C")
    assert quote(elsewhere, change_at_bravo(15)).total_minor == 500 + 400


def test_a_join_rule_max_transfer_s_keeps_a_later_journey_apart(tmp_path):
    # Extension column max_transfer_s = 1800: a 15-minute change is joined (7.00), a 2-hour
    # stop at Bravo is two journeys (5.00 + 4.00).
    catalogue = rail_with_join_rules(tmp_path, "from_network_id,to_network_id,max_transfer_s\nrail,rail,1800")
    assert quote(catalogue, change_at_bravo(15)).total_minor == 700
    assert quote(catalogue, change_at_bravo(120)).total_minor == 900


def test_demo_ter_lyon_to_chambery_costs_one_ticket_whatever_the_route(demo_catalogue):
    # TER fares are origin-destination and the demo's join rules make a TER -> TER change one
    # fare leg: via Aix-les-Bains (L7 then L8) or via Grenoble (L1 then L8), Lyon Part-Dieu ->
    # Chambéry is the one Lyon -> Chambéry ticket (the same as a direct train would cost).
    (catalogue, _), _ = demo_catalogue
    start = at("2026-03-03T08:00:00")

    def trip(first_route: str, change: str) -> list[FareLeg]:
        return [
            leg(first_route, start, 80, from_stop_id="ter:lyon-part-dieu-q1", to_stop_id=f"ter:{change}-q1"),
            leg("ter:L8", start + timedelta(minutes=95), 40, from_stop_id=f"ter:{change}-q2", to_stop_id="ter:chambery-q1"),
        ]

    direct = quote(catalogue, [leg("ter:L7", start, 120, from_stop_id="ter:lyon-part-dieu-q1", to_stop_id="ter:chambery-q1")],
                   "adult", "oura-card")
    via_aix = quote(catalogue, trip("ter:L7", "aix-les-bains"), "adult", "oura-card")
    via_grenoble = quote(catalogue, trip("ter:L1", "grenoble"), "adult", "oura-card")
    assert direct.is_complete and via_aix.is_complete and via_grenoble.is_complete
    assert via_aix.total_minor == via_grenoble.total_minor == direct.total_minor
    for result in (via_aix, via_grenoble):
        (product,) = result.products
        assert product.fare_product_id == direct.products[0].fare_product_id and product.leg_indices == (0, 1)
