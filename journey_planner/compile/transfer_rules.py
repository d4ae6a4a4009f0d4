"""transfers.txt rows naming routes or trips -> the transfer rules checked when boarding.

Type 3 forbids that change, type 2 sets its minimum time, types 1 and 4 (in-seat, approximated
as a 0 s change that still counts as one) make it 0 s, types 0 and 5 keep the stop's change time
but still override a less specific row. A rule reads the arrival label of the stop: when the
earliest arrival there came with a forbidden trip, a later allowed arrival is not considered
(the OTP trade-off). Rules between two stops apply to walking transfers that exist. Rows with
unknown stops, routes or trips are counted as ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.model import GtfsTables

from ..core.timetable import SLACK_DEFAULT, SLACK_FORBIDDEN, build_rule_index
from .columns import column, int_cells
from .footpaths import StopGeometry, platforms

__all__ = ["TransferRules", "transfer_rules"]

ANY = -1  # a rule column left empty: the rule applies to every route / trip / stop
UNKNOWN = -2  # a named trip that is not in the network: the row is ignored
TRANSFER_MIN_TIME = 2
# transfer_type -> change time of the rule; type 2 takes the row's min_transfer_time
SLACK_OF_TYPE = {0: SLACK_DEFAULT, 1: 0, 3: SLACK_FORBIDDEN, 4: 0, 5: SLACK_DEFAULT}
RULE_COLUMNS = ("from_stop_id", "to_stop_id", "from_route_id", "to_route_id", "from_trip_id", "to_trip_id")


@dataclass(frozen=True)
class TransferRules:
    arrays: dict[str, np.ndarray]  # the Timetable's transfer_rule_* fields
    trip_rule_key: np.ndarray  # TripIdx -> key of its trip id in the rules, -1 when none
    ignored: int


@dataclass(frozen=True)
class TripStops:
    """What a rule needs of the compiled trips: ids, and each trip's first and last stop."""

    trip_ids: np.ndarray
    trip_pattern: np.ndarray
    pattern_stop_offsets: np.ndarray
    pattern_stops: np.ndarray

    def first_stop(self, trip: int) -> int:
        return int(self.pattern_stops[self.pattern_stop_offsets[self.trip_pattern[trip]]])

    def last_stop(self, trip: int) -> int:
        return int(self.pattern_stops[self.pattern_stop_offsets[self.trip_pattern[trip] + 1] - 1])


@dataclass
class _RuleBuilder:
    stops: StopGeometry
    route_index: pd.Index
    trips: TripStops
    trip_index: dict[str, int]
    keys: dict[str, int]
    rows: list[tuple[int, int, int, int, int, int, int]]  # board, from, f_route, f_key, t_route, t_key, slack
    ignored: int = 0

    def add_feed(self, feed_id: str, transfers: pd.DataFrame) -> None:
        cells = {c: [v.strip() for v in column(transfers, c).tolist()] for c in RULE_COLUMNS}
        kind = int_cells(column(transfers, "transfer_type"), 0)
        min_transfer_s = int_cells(column(transfers, "min_transfer_time"), -1)

        def lookup(index: pd.Index, name: str) -> np.ndarray:
            return index.get_indexer([f"{feed_id}:{v}" for v in cells[name]])

        found = {
            "from_route_id": lookup(self.route_index, "from_route_id"),
            "to_route_id": lookup(self.route_index, "to_route_id"),
            "from_stop_id": lookup(self.stops.index, "from_stop_id"),
            "to_stop_id": lookup(self.stops.index, "to_stop_id"),
        }
        for i in range(len(transfers)):
            row = {c: cells[c][i] for c in RULE_COLUMNS}
            if not (row["from_route_id"] or row["to_route_id"] or row["from_trip_id"] or row["to_trip_id"]):
                continue  # stop-level row, applied by footpaths
            slack = SLACK_OF_TYPE.get(int(kind[i]))
            if int(kind[i]) == TRANSFER_MIN_TIME and min_transfer_s[i] >= 0:
                slack = int(min_transfer_s[i])
            self._add_row(feed_id, row, {c: int(v[i]) for c, v in found.items()}, slack)

    def _trip(self, feed_id: str, trip_id: str) -> int:
        return self.trip_index.get(f"{feed_id}:{trip_id}", UNKNOWN) if trip_id else ANY

    def _add_row(self, feed_id: str, row: dict[str, str], found: dict[str, int], slack: int | None) -> None:
        f_route = found["from_route_id"] if row["from_route_id"] else ANY
        t_route = found["to_route_id"] if row["to_route_id"] else ANY
        f_trip = self._trip(feed_id, row["from_trip_id"])
        t_trip = self._trip(feed_id, row["to_trip_id"])
        from_stop = found["from_stop_id"] if row["from_stop_id"] else ANY
        to_stop = found["to_stop_id"] if row["to_stop_id"] else ANY
        # in-seat rows may omit stops: the last stop of the trip left, the first of the next one
        if from_stop < 0 and not row["from_stop_id"] and f_trip >= 0:
            from_stop = self.trips.last_stop(f_trip)
        if to_stop < 0 and not row["to_stop_id"] and t_trip >= 0:
            to_stop = self.trips.first_stop(t_trip)
        if (slack is None or from_stop < 0 or to_stop < 0
                or (row["from_route_id"] and f_route < 0) or (row["to_route_id"] and t_route < 0)
                or f_trip == UNKNOWN or t_trip == UNKNOWN):
            self.ignored += 1
            return
        f_key = self.keys.setdefault(f"{feed_id}:{row['from_trip_id']}", len(self.keys)) if row["from_trip_id"] else ANY
        t_key = self.keys.setdefault(f"{feed_id}:{row['to_trip_id']}", len(self.keys)) if row["to_trip_id"] else ANY
        for x in platforms(from_stop, self.stops.parent, self.stops.is_station):
            for y in platforms(to_stop, self.stops.parent, self.stops.is_station):
                self.rows.append((y, x, f_route, f_key, t_route, t_key, slack))


def transfer_rules(
    feeds: Sequence[tuple[str, GtfsTables]], stops: StopGeometry, route_index: pd.Index, trips: TripStops,
) -> TransferRules:
    """The rule CSR by boarded stop (most specific first), each trip's rule key, rows ignored."""
    trip_index: dict[str, int] = {}
    for i, trip_id in enumerate(trips.trip_ids.tolist()):
        trip_index.setdefault(trip_id, i)  # first TripIdx of that id (frequency runs share it)
    builder = _RuleBuilder(stops, route_index, trips, trip_index, keys={}, rows=[])
    for feed_id, tables in feeds:
        transfers = tables.find("transfers")
        if transfers is not None and len(transfers):
            builder.add_feed(feed_id, transfers)
    trip_rule_key = np.full(trips.trip_ids.size, ANY, dtype=np.int32)
    if builder.keys:
        named = pd.Index(list(builder.keys)).get_indexer(trips.trip_ids)
        trip_rule_key[named >= 0] = named[named >= 0]
    table = np.array(builder.rows, dtype=np.int64).reshape(-1, 7)
    arrays = build_rule_index(stops.parent.size, *(table[:, c] for c in range(7)))
    return TransferRules(arrays, trip_rule_key, builder.ignored)
