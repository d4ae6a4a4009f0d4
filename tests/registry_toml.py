"""Test registries (registry.toml) written from a few values, so every test (and bench script) that
needs a region of one or two networks says only what differs (the network ids, the static feed,
realtime URLs). The registry parser's own tests keep their TOML as written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TestNetwork", "registry_text", "write_registry"]


@dataclass(frozen=True)
class TestNetwork:
    """One network of a test registry and the authority that runs it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    authority_id: str
    network_id: str
    static: str | Path
    authority_name: str = ""  # default: the id in capitals
    network_name: str = ""  # default: the id in capitals
    kind: str = "urban"
    realtime: Mapping[str, str | int] = field(default_factory=dict)  # trip_updates = "...", poll_s = 1
    extra: str = ""  # more network keys, as TOML lines


def _value(value: str | int | Path) -> str:
    return str(value) if isinstance(value, int) else json.dumps(str(value))  # a TOML basic string


def registry_text(*networks: TestNetwork, region: str = "r", timezone: str = "America/New_York") -> str:
    """The TOML of a region whose authorities run these networks, in this order (an authority's
    networks next to each other)."""
    lines = ["[region]", f"name = {_value(region)}", f"timezone = {_value(timezone)}"]
    seen: set[str] = set()
    for network in networks:
        if network.authority_id not in seen:
            seen.add(network.authority_id)
            lines += ["[[authorities]]", f"id = {_value(network.authority_id)}",
                      f"name = {_value(network.authority_name or network.authority_id.upper())}",
                      f"kind = {_value(network.kind)}"]
        lines += ["  [[authorities.networks]]", f"  id = {_value(network.network_id)}",
                  f"  name = {_value(network.network_name or network.network_id.upper())}",
                  f"  static = {_value(network.static)}"]
        lines += [f"  {line.strip()}" for line in network.extra.splitlines() if line.strip()]
        if network.realtime:
            lines.append("    [authorities.networks.realtime]")
            lines += [f"    {key} = {_value(value)}" for key, value in network.realtime.items()]
    return "\n".join(lines) + "\n"


def write_registry(path: Path, *networks: TestNetwork, region: str = "r", timezone: str = "America/New_York") -> Path:
    path.write_text(registry_text(*networks, region=region, timezone=timezone), encoding="utf-8")
    return path
