"""Cross-network merge on real feeds: HART (Tampa buses) and the USF Bull Runner share the USF
campus, so their stops must be linked by walking transfers and clustered into interchange hubs;
Caltrain's transfers.txt must be honoured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feeds.gtfs.reader import GtfsTables, read_gtfs
from feeds.hubs import HUB_INPUT_FILES, collect_stops, list_hubs, list_walking_transfers
from tests.feeds.conftest import real_feed_path

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def tampa() -> dict[str, GtfsTables]:
    return {"hart": read_gtfs(real_feed_path("hart"), only=HUB_INPUT_FILES),
            "usf": read_gtfs(real_feed_path("bullrunner"), only=HUB_INPUT_FILES)}


def test_walking_transfers_link_the_two_networks_with_realistic_durations(tampa) -> None:
    transfers = list_walking_transfers(tampa, max_walk_m=400, walk_speed_mps=1.2)
    cross = np.array([a.split(":")[0] != b.split(":")[0]
                      for a, b in zip(transfers.from_stop_id, transfers.to_stop_id, strict=True)])
    assert cross.sum() > 0
    assert (transfers.distance_m <= 400 + 1e-6).all()
    expected = np.ceil(transfers.distance_m / 1.2)
    assert (transfers.duration_s >= expected - 1).all()  # no level data here: duration is the walk
    # every link exists in both directions
    pairs = set(zip(transfers.from_stop_id, transfers.to_stop_id, strict=True))
    assert all((b, a) in pairs for a, b in pairs)


def test_interchange_hubs_join_hart_and_usf_stops(tampa) -> None:
    hubs = list_hubs(tampa)
    interchanges = [hub for hub in hubs if hub.interchange]
    assert interchanges and all(hub.feed_ids == ("hart", "usf") for hub in interchanges)
    stops = collect_stops(tampa)
    known = set(stops.stop_id)
    assert all(s in known for hub in hubs for s in hub.station_ids)
    assert len({s for hub in hubs for s in hub.station_ids}) == sum(len(h.station_ids) for h in hubs)


def test_transfers_txt_forbidden_and_minimum_times_are_honoured() -> None:
    caltrain = read_gtfs(real_feed_path("caltrain"), only=HUB_INPUT_FILES)
    rules = caltrain.get("transfers")
    transfers = list_walking_transfers({"ct": caltrain})
    table = pd.DataFrame({"from": transfers.from_stop_id, "to": transfers.to_stop_id,
                          "duration_s": transfers.duration_s})
    for row in rules.itertuples():
        pair = table[(table["from"] == f"ct:{row.from_stop_id}") & (table["to"] == f"ct:{row.to_stop_id}")]
        kind = int(row.transfer_type or 0)
        if kind == 3:
            assert pair.empty
        elif kind == 2 and row.from_stop_id != row.to_stop_id:
            assert len(pair) == 1 and pair["duration_s"].iloc[0] >= int(row.min_transfer_time)


def _inline_feed(files: dict[str, str]) -> GtfsTables:
    import io

    return GtfsTables(source="inline", tables={
        stem: pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False) for stem, text in files.items()})


def test_inline_transfer_rules_levels_and_stations() -> None:
    """FEATURE UNDER TEST: type 3 removes a pair, type 2 imposes its minimum even beyond walking
    range, level changes add their penalty, a station rule applies to its platforms."""
    feed = _inline_feed({
        "stops": """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,level_id
S,Gare,45.0000,4.0000,1,,
A,Gare quai A,45.0000,4.0000,0,S,L0
B,Gare quai B,45.0004,4.0000,0,S,L1
C,Far away,45.0100,4.0000,0,,
D,Bus,45.0000,4.0005,0,,
""",
        "levels": """level_id,level_index
L0,0
L1,-2
""",
        "transfers": """from_stop_id,to_stop_id,transfer_type,min_transfer_time
A,B,3,
A,C,2,600
D,S,2,240
""",
    })
    transfers = list_walking_transfers({"x": feed}, max_walk_m=400, walk_speed_mps=1.2, level_change_s=30)
    got = {(a, b): int(d) for a, b, d in zip(transfers.from_stop_id, transfers.to_stop_id, transfers.duration_s,
                                             strict=True)}
    assert ("x:A", "x:B") not in got  # forbidden
    walk_ab = int(np.ceil(44.48 / 1.2))
    assert abs(got[("x:B", "x:A")] - (walk_ab + 2 * 30)) <= 1  # two levels of stairs
    assert got[("x:A", "x:C")] == 600  # declared, beyond walking range
    assert got[("x:D", "x:A")] >= 240 and got[("x:D", "x:B")] >= 240  # station rule -> its platforms
    hubs = list_hubs({"x": feed}, same_place_m=100)
    # D is 40 m from the station; C is 1.1 km away but joined by a declared transfer
    assert [hub.station_ids for hub in hubs] == [("x:C", "x:D", "x:S")]
    assert hubs[0].name == "Gare"
