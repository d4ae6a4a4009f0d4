"""The registry TOML (contract with the demo generator) parses into frozen dataclasses; every
problem of a malformed registry is reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.authorities import RegistryError, load_registry, parse_registry

REGISTRY = """
[region]
name = "Auvergne-Rhône-Alpes (demo)"
timezone = "Europe/Paris"
regional_fares = "fares/regional"

[[authorities]]
id = "sytral"
name = "SYTRAL Mobilités (Lyon)"
kind = "urban"
timezone = "Europe/Paris"
  [[authorities.networks]]
  id = "tcl"
  name = "TCL"
  static = "gtfs/tcl.zip"
  static_poll_s = 3600
  adapter = ""
    [authorities.networks.realtime]
    trip_updates = "http://127.0.0.1:8090/rt/tcl/trip-updates.pb"
    alerts = "http://127.0.0.1:8090/rt/tcl/alerts.pb"
    poll_s = 30

[[authorities]]
id = "region-aura"
name = "Région"
kind = "region"
  [[authorities.networks]]
  id = "ter"
  name = "TER"
  static = "https://example.org/ter.zip"
"""


def test_registry_parses_authorities_networks_and_resolves_paths(tmp_path: Path) -> None:
    registry_file = tmp_path / "registry.toml"
    registry_file.write_text(REGISTRY, encoding="utf-8")
    registry = load_registry(registry_file)
    assert [a.id for a in registry.authorities] == ["sytral", "region-aura"]
    tcl = registry.find_network("tcl")
    assert tcl is not None and tcl.authority_id == "sytral"
    assert tcl.static == str(tmp_path / "gtfs" / "tcl.zip")
    assert tcl.adapter is None
    assert tcl.realtime is not None and tcl.realtime.vehicle_positions is None and tcl.realtime.poll_s == 30
    ter = registry.find_network("ter")
    assert ter is not None and ter.static == "https://example.org/ter.zip"
    assert ter.timezone == "Europe/Paris"  # inherited from the region
    assert ter.static_poll_s == 3600 and ter.realtime is None
    assert registry.regional_fares == tmp_path / "fares" / "regional"
    assert [n.id for n in registry.select_networks("sytral")] == ["tcl"]
    assert [n.id for n in registry.select_networks("ter")] == ["ter"]
    with pytest.raises(KeyError):
        registry.select_networks("nobody")


def test_malformed_registry_lists_every_problem() -> None:
    text = """
[region]
name = "x"
timezone = "Mars/Olympus"
[[authorities]]
id = "Bad Id"
name = "A"
kind = "galactic"
  [[authorities.networks]]
  id = "n1"
  static_poll_s = -5
  [[authorities.networks]]
  id = "n1"
  static = "n1.zip"
"""
    with pytest.raises(RegistryError) as raised:
        parse_registry(text, base_dir=Path("/tmp"))
    problems = "\n".join(raised.value.problems)
    assert "Mars/Olympus" in problems
    assert "must match" in problems
    assert "galactic" in problems
    assert "static is required" in problems
    assert "static_poll_s" in problems
    assert "duplicate network id" in problems


def test_registry_that_is_not_toml_is_a_registry_error() -> None:
    with pytest.raises(RegistryError, match="not valid TOML"):
        parse_registry("[region\nname=", base_dir=Path("/tmp"))
