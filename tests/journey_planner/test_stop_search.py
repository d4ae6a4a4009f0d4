"""Stop search (journey_planner.stop_search) on an inline two-network region: typos, abbreviations,
ranking by departures per day, same-name places told apart, lines served, hubs first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.gtfs.reader import read_gtfs
from journey_planner.compile import compile_network
from journey_planner.hubs import HubIndex, HubPlace
from journey_planner.service import PlannerService
from journey_planner.stop_names import canonical_words, fold_many
from journey_planner.stop_search import StopSearchIndex, find_stops, search_stops
from oura.clock import FixedClock
from tests.journey_planner._data import write_feed

CALENDAR = """
calendar.txt
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
S,1,1,1,1,1,1,1,20240101,20241231
WK,1,1,1,1,1,0,0,20240101,20241231
"""

RAIL = CALENDAR + """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
SE,St-Étienne Châteaucreux,45.4434,4.3995,1,
SE1,St-Étienne Châteaucreux,45.4434,4.3995,0,SE
SE2,St-Étienne Châteaucreux,45.4435,4.3996,0,SE
LYO,Lyon Part-Dieu,45.7606,4.8594,1,
LYO1,Lyon Part-Dieu,45.7606,4.8594,0,LYO
GRE,Grenoble,45.1913,5.7147,1,
GRE1,Grenoble,45.1913,5.7147,0,GRE
PLR,Le Plateau,45.3000,4.9000,0,
routes.txt
route_id,route_short_name,route_long_name,route_type,route_color
L1,L1,Saint-Étienne - Grenoble,2,0055A4
L2,,Grenoble - Le Plateau,2,
trips.txt
route_id,service_id,trip_id
L1,S,T1
L1,S,T2
L1,S,T3
L1,S,T4
L2,S,T5
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,06:00:00,06:00:00,SE1,1
T1,06:50:00,06:55:00,LYO1,2
T1,08:10:00,08:10:00,GRE1,3
T2,07:00:00,07:00:00,SE2,1
T2,07:50:00,07:55:00,LYO1,2
T2,09:10:00,09:10:00,GRE1,3
T3,08:00:00,08:00:00,SE1,1
T3,08:50:00,08:55:00,LYO1,2
T3,10:10:00,10:10:00,GRE1,3
T4,09:00:00,09:00:00,SE1,1
T4,09:50:00,09:55:00,LYO1,2
T4,11:10:00,11:10:00,GRE1,3
T5,12:00:00,12:00:00,GRE1,1
T5,12:40:00,12:40:00,PLR,2
"""

BUS = CALENDAR + """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
PB,Pl. Bellecour,45.7578,4.8320
AJ,Av. Jean Jaurès,45.7500,4.8400
P1,Le Plateau,45.1000,5.7000
P2,Le Plateau,45.2000,5.8000
SEB,Saint-Étienne Bellevue,45.4300,4.3900
SEG,Gare de St-Étienne,45.4433,4.3997
GS,Grenoble Station,45.1912,5.7150
routes.txt
route_id,route_short_name,route_type,route_color,route_text_color
12,12,3,E2001A,FFFFFF
37,37,3,,
trips.txt
route_id,service_id,trip_id
12,S,B1
37,S,B2
37,WK,B3
37,S,B4
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
B1,08:00:00,08:00:00,PB,1
B1,08:05:00,08:05:00,AJ,2
B1,08:10:00,08:10:00,P1,3
B2,09:00:00,09:00:00,SEG,1
B2,09:30:00,09:30:00,P2,2
B3,10:00:00,10:00:00,SEB,1
B3,10:20:00,10:20:00,P2,2
B4,11:00:00,11:00:00,SEG,1
B4,11:30:00,11:30:00,GS,2
B4,11:40:00,11:40:00,P2,3
"""

HUBS = (
    HubPlace("hub:bus:SEG", "Saint-Étienne Châteaucreux", ("bus:SEG", "rail:SE")),  # two networks
    HubPlace("hub:bus:P1", "Le Plateau", ("bus:P1", "bus:P2")),  # one network: a place, not listed
)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stop-search")
    feeds = [(name, read_gtfs(write_feed(folder / name, text))) for name, text in (("rail", RAIL), ("bus", BUS))]
    return compile_network(feeds)


@pytest.fixture(scope="module")
def index(region):
    return StopSearchIndex.of(region)


def ids(network, stops) -> list[str]:
    return [str(network.stop_ids[s]) for s in stops]


def search(network, q, limit=10, near=None, hubs=HUBS) -> list[dict]:
    service = PlannerService.of_network(network, FixedClock(datetime(2024, 3, 4, 7, tzinfo=UTC)))
    service.set_hubs(hubs)
    return search_stops(service, service.get_snapshot(), q, near, limit)


def test_names_and_queries_spell_abbreviations_out():
    assert canonical_words("St-Étienne Châteaucreux") == ["saint", "etienne", "chateaucreux"]
    assert canonical_words("Pl. Bellecour") == ["place", "bellecour"]
    assert canonical_words("Av. Jean Jaurès") == ["avenue", "jean", "jaures"]
    assert canonical_words("Grenoble Station") == ["grenoble", "gare"]
    assert canonical_words("Bd des Belges") == ["boulevard", "des", "belges"]
    assert canonical_words("Œuvre\nSaint-Martin-d'Hères") == ["oeuvre", "saint", "martin", "d", "heres"]
    assert fold_many(["Gare\nSNCF", "", "Ça"]) == ["gare sncf", "", "ca"]  # one folded text per text


@pytest.mark.parametrize("query,first", [
    ("grenobel", "rail:GRE"),  # two letters swapped
    ("grenble", "rail:GRE"),  # one left out
    ("chateaucruex", "rail:SE"),
    ("bellcour", "bus:PB"),
    ("grenob", "rail:GRE"),  # still typing
    ("chatae", "rail:SE"),  # still typing, with a typo
    ("saintetienne", "rail:SE"),  # words run together
    ("chateau creux", "rail:SE"),  # a word split apart
    ("grenoble gare sncf", "bus:GS"),  # a word no name has: the others still find it
])
def test_typos_and_unfinished_words_find_the_stop(region, index, query, first):
    assert find_stops(region, query, index)[0] == region.find_stop(first)


@pytest.mark.parametrize("query,expected", [
    ("st etienne chateaucreux", "rail:SE"),
    ("saint etienne chateaucreux", "rail:SE"),
    ("ST-ETIENNE châteaucreux", "rail:SE"),
    ("place bellecour", "bus:PB"),
    ("pl bellecour", "bus:PB"),
    ("avenue jean jaures", "bus:AJ"),
    ("gare grenoble", "bus:GS"),  # "Grenoble Station"
])
def test_abbreviations_match_both_ways(region, index, query, expected):
    assert ids(region, find_stops(region, query, index))[0] == expected


def test_an_unknown_word_matches_nothing(region, index):
    assert find_stops(region, "zzyzx", index) == []
    assert find_stops(region, "   ", index) == []


def test_departures_per_day_counts_every_call_but_the_last(region, index):
    dpd = {sid: index.departures_per_day[region.find_stop(sid)] for sid in
           ("rail:SE1", "rail:SE2", "rail:SE", "rail:LYO", "rail:GRE", "rail:PLR", "bus:SEG", "bus:SEB", "bus:P2")}
    weekdays = 262 / 366  # WK runs Monday-Friday of 2024 (262 days) in a 366-day timetable
    assert region.timetable.day_count == 366
    assert dpd == pytest.approx({"rail:SE1": 3, "rail:SE2": 1, "rail:SE": 4, "rail:LYO": 4, "rail:GRE": 1,
                                 "rail:PLR": 0, "bus:SEG": 2, "bus:SEB": weekdays, "bus:P2": 0})


def test_equal_matches_are_ranked_by_departures_and_platforms_give_way_to_their_station(region, index):
    # three names with both words; the station (4 a day) before Bellevue (under 1 a day), then the
    # name that does not start with them; the platforms SE1/SE2 are the station's, not listed
    assert ids(region, find_stops(region, "st etienne", index)) == ["rail:SE", "bus:SEB", "bus:SEG"]
    busier_first = search(region, "le plateau", hubs=())
    assert [s["departures_per_day"] for s in busier_first] == sorted((s["departures_per_day"] for s in busier_first),
                                                                     reverse=True)


def test_places_with_the_same_name_are_told_apart(region):
    found = {s["id"]: s for s in search(region, "le plateau")}
    assert set(found) == {"rail:PLR", "bus:P1", "bus:P2"}
    assert {i: s["label"] for i, s in found.items()} == {
        "rail:PLR": "Le Plateau (rail)",  # the only one of its network
        "bus:P1": "Le Plateau (bus, line 12)",  # two in the bus network: their lines tell them apart
        "bus:P2": "Le Plateau (bus, line 37)",
    }
    assert search(region, "bellecour")[0]["disambiguation"] is None  # one place of that name


def test_results_show_the_network_and_the_lines(region):
    se = next(s for s in search(region, "chateaucreux", hubs=()) if s["id"] == "rail:SE")
    assert (se["network"], se["networks"], se["location_type"]) == ("rail", ["rail"], "station")
    assert se["lines"] == [{"id": "rail:L1", "short_name": "L1", "mode": "rail", "color": "#0055A4", "text_color": None}]
    plr = search(region, "le plateau")
    assert next(s for s in plr if s["id"] == "rail:PLR")["lines"][0]["short_name"] == "Grenoble - Le Plateau"
    p1 = next(s for s in plr if s["id"] == "bus:P1")
    assert p1["lines"] == [{"id": "bus:12", "short_name": "12", "mode": "bus", "color": "#E2001A",
                            "text_color": "#FFFFFF"}]


def test_interchange_hubs_come_first_with_their_members(region):
    found = search(region, "st etienne")
    hub = found[0]
    assert (hub["id"], hub["location_type"], hub["name"]) == ("hub:bus:SEG", "hub", "Saint-Étienne Châteaucreux")
    assert [m["id"] for m in hub["members"]] == ["bus:SEG", "rail:SE"]
    assert hub["networks"] == ["bus", "rail"] and hub["departures_per_day"] == 6.0
    assert [s["id"] for s in found[1:]] == ["rail:SE", "bus:SEB", "bus:SEG"]
    assert found[1]["hub"] == "hub:bus:SEG" and found[2]["hub"] is None
    # a hub of one network's stops is a journey place, but is not listed
    assert all(s["location_type"] != "hub" for s in search(region, "le plateau"))
    # no hub matches: stops only
    assert all(s["location_type"] != "hub" for s in search(region, "grenoble"))


def test_near_orders_the_matches_by_distance(region):
    found = search(region, "st etienne", near=(45.4300, 4.3900))
    assert [s["id"] for s in found] == ["hub:bus:SEG", "bus:SEB", "bus:SEG", "rail:SE"]
    assert all("distance_m" in s for s in found) and found[1]["distance_m"] < 1.0


def test_hub_index_resolves_members_in_the_network(region):
    hubs = HubIndex.of(region, [*HUBS, HubPlace("hub:x:none", "Nowhere", ("x:none",))])
    assert hubs.hub_ids == ("hub:bus:SEG", "hub:bus:P1")  # a hub with no stop in the network is left out
    assert ids(region, hubs.find("hub:bus:SEG")) == ["rail:SE1", "rail:SE2", "bus:SEG"]
    assert hubs.hub_interchange.tolist() == [True, False]
    assert hubs.find("bus:SEG") is None
