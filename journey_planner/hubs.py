"""Interchange hubs as journey places: ``hub:...`` ids (as ``GET /v1/hubs`` lists them) -> stops.

The hubs are computed by feeds from the served versions; the assembly hands them to the planner
as plain `HubPlace` values (`PlannerService.set_hubs`, whenever feeds replace its `HubSet`), and
`HubIndex.of` resolves their station ids against one compiled network. Stop search lists the
hubs too (`journey_planner.stop_search`), from the same index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .compile import Network

__all__ = ["HubPlace", "HubIndex"]


@dataclass(frozen=True)
class HubPlace:
    hub_id: str  # "hub:..." as GET /v1/hubs lists it
    name: str
    station_ids: tuple[str, ...]  # namespaced stop or station ids


@dataclass(frozen=True, eq=False)
class HubIndex:
    """Hub id -> (name, member stations, boarding StopIdx of all its stations) for one network.

    Only hubs with at least one member in the network are kept; member ids the network does not
    know (a feed not compiled) are left out. ``hub_ids`` orders the hubs for the flat arrays.
    """

    stops_by_hub: dict[str, np.ndarray]  # hub id -> boarding StopIdx (int32, sorted, unique)
    names: dict[str, str]  # hub id -> name
    members_by_hub: dict[str, np.ndarray]  # hub id -> member StopIdx (stations or lone stops), in hub order
    hub_of_stop: dict[int, str]  # member StopIdx and its platforms -> hub id
    hub_ids: tuple[str, ...] = ()  # hub position -> hub id
    hub_interchange: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # position -> members in 2+ networks
    member_hub: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # member row -> hub position
    member_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # member row -> StopIdx

    @staticmethod
    def of(network: Network, hubs: Sequence[HubPlace]) -> HubIndex:
        """Resolved with flat arrays: thousands of hubs (the demo region has 8,900) in a few ms."""
        kept: list[HubPlace] = []
        rows: list[int] = []  # member row -> position in kept
        found: list[int] = []  # member row -> StopIdx
        for hub in hubs:
            members = [s for s in (network.find_stop(station) for station in hub.station_ids) if s is not None]
            if members:
                rows.extend([len(kept)] * len(members))
                found.extend(members)
                kept.append(hub)
        member_hub, member_stop = np.array(rows, dtype=np.int64), np.array(found, dtype=np.int64)
        # boarding stops: a member station's platforms, or the member stop itself
        parent = network.timetable.stop_parent
        child = np.flatnonzero(parent >= 0)
        child_offsets = np.zeros(parent.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(parent[child], minlength=parent.size), out=child_offsets[1:])
        child = child[np.argsort(parent[child], kind="stable")]
        station = network.stop_is_station[member_stop].astype(bool)
        lengths = child_offsets[member_stop + 1] - child_offsets[member_stop]
        lengths = np.where(station, lengths, 1)
        row = np.repeat(np.arange(member_stop.size), lengths)
        inner = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        board = member_stop[row]
        platform = station[row]
        board[platform] = child[child_offsets[board[platform]] + inner[platform]]
        n = max(parent.size, 1)
        pairs = np.unique(member_hub[row] * n + board)
        board_hub, board_stop = pairs // n, (pairs % n).astype(np.int32)
        counts = np.bincount(board_hub, minlength=len(kept))
        keep = np.flatnonzero(counts > 0)  # hubs whose stations have no boarding stop: no place
        renumber = np.full(len(kept), -1, dtype=np.int64)
        renumber[keep] = np.arange(keep.size)
        in_kept = renumber[member_hub] >= 0
        member_hub, member_stop = renumber[member_hub[in_kept]], member_stop[in_kept].astype(np.int32)
        board_hub = renumber[board_hub]
        hub_ids = tuple(kept[h].hub_id for h in keep.tolist())
        stops_split = np.split(board_stop, np.cumsum(counts[keep])[:-1]) if keep.size else []
        members_split = np.split(member_stop, np.cumsum(np.bincount(member_hub, minlength=keep.size))[:-1]) if keep.size else []
        feeds = np.unique(member_hub * max(len(network.feed_ids), 1) + network.stop_feed[member_stop])
        interchange = np.bincount(feeds // max(len(network.feed_ids), 1), minlength=keep.size) > 1
        # a stop in several hubs (rare) belongs to the first: reversed, the first one is written last
        owner_hub = np.concatenate([member_hub, board_hub])
        owner_stop = np.concatenate([member_stop, board_stop])
        order = np.argsort(owner_hub, kind="stable")[::-1]
        hub_of_stop = dict(zip(owner_stop[order].tolist(), (hub_ids[h] for h in owner_hub[order].tolist()), strict=True))
        return HubIndex(
            dict(zip(hub_ids, stops_split, strict=True)), {kept[h].hub_id: kept[h].name for h in keep.tolist()},
            dict(zip(hub_ids, members_split, strict=True)), hub_of_stop, hub_ids, interchange,
            member_hub.astype(np.int32), member_stop,
        )

    def find(self, text: str) -> np.ndarray | None:
        """The boarding stops of the hub named by ``text``, or None when it names no hub."""
        return self.stops_by_hub.get(text.strip())
