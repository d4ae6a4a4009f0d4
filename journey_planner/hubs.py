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
        stops_by_hub: dict[str, np.ndarray] = {}
        names: dict[str, str] = {}
        members_by_hub: dict[str, np.ndarray] = {}
        hub_of_stop: dict[int, str] = {}
        for hub in hubs:
            found = [s for s in (network.find_stop(station) for station in hub.station_ids) if s is not None]
            parts = [network.list_station_stops(s) for s in found]
            stops = np.unique(np.concatenate(parts)).astype(np.int32) if parts else np.zeros(0, np.int32)
            if not stops.size:
                continue
            stops_by_hub[hub.hub_id] = stops
            names[hub.hub_id] = hub.name
            members_by_hub[hub.hub_id] = np.asarray(found, dtype=np.int32)
            for s in (*found, *stops.tolist()):
                hub_of_stop.setdefault(int(s), hub.hub_id)
        hub_ids = tuple(members_by_hub)
        members = [members_by_hub[h] for h in hub_ids]
        member_stop = np.concatenate(members).astype(np.int32) if members else np.zeros(0, np.int32)
        member_hub = np.repeat(np.arange(len(hub_ids), dtype=np.int32), [m.size for m in members])
        interchange = np.array([np.unique(network.stop_feed[m]).size > 1 for m in members], dtype=bool)
        return HubIndex(stops_by_hub, names, members_by_hub, hub_of_stop, hub_ids, interchange, member_hub, member_stop)

    def find(self, text: str) -> np.ndarray | None:
        """The boarding stops of the hub named by ``text``, or None when it names no hub."""
        return self.stops_by_hub.get(text.strip())
