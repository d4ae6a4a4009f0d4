"""Interchange hubs as journey places: ``hub:...`` ids (as ``GET /v1/hubs`` lists them) -> stops.

The hubs are computed by feeds from the served versions; the assembly hands them to the planner
as plain `HubPlace` values (`PlannerService.set_hubs`), and `HubIndex.of` resolves their station
ids against one compiled network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """Hub id -> (name, boarding StopIdx of all its stations) for one network."""

    stops_by_hub: dict[str, np.ndarray]
    names: dict[str, str]

    @staticmethod
    def of(network: Network, hubs: Sequence[HubPlace]) -> HubIndex:
        stops_by_hub: dict[str, np.ndarray] = {}
        names: dict[str, str] = {}
        for hub in hubs:
            found = [network.find_stop(station) for station in hub.station_ids]
            parts = [network.list_station_stops(s) for s in found if s is not None]
            stops = np.unique(np.concatenate(parts)).astype(np.int32) if parts else np.zeros(0, np.int32)
            if stops.size:
                stops_by_hub[hub.hub_id] = stops
                names[hub.hub_id] = hub.name
        return HubIndex(stops_by_hub, names)

    def find(self, text: str) -> np.ndarray | None:
        """The boarding stops of the hub named by ``text``, or None when it names no hub."""
        return self.stops_by_hub.get(text.strip())
