"""feeds.realtime.indexes: the one builder of realtime trip indexes (adapters, zones, versions)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from feeds.authorities import parse_registry
from feeds.realtime.indexes import StaticFeedSource, TripIndexes, local_static_sources


def test_indexes_are_built_with_the_network_adapter_and_rebuilt_per_version(
    demo_feed_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    indexes = TripIndexes()
    source = StaticFeedSource("demo", demo_feed_dir, "strip_ids", "Europe/Paris", version="v1")
    assert indexes.refresh([source]) == 1
    first = indexes.find("demo")
    assert first is not None and first.version == "v1" and str(first.timezone) == "Europe/Paris"
    assert indexes.refresh([source]) == 0, "same version: nothing rebuilt"
    assert indexes.refresh([StaticFeedSource("demo", demo_feed_dir, None, None, version="v2")]) == 1
    assert indexes.find("demo").version == "v2"  # type: ignore[union-attr]
    # the adapter is really applied: an unknown one makes the version unreadable (logged, skipped)
    with caplog.at_level(logging.ERROR, logger="feeds.realtime.indexes"):
        assert indexes.refresh([StaticFeedSource("other", demo_feed_dir, "no_such_adapter", None, "v1")]) == 0
    assert indexes.find("other") is None
    assert "cannot index feed other" in caplog.text
    assert indexes.find("demo").version == "v2"  # type: ignore[union-attr]


def test_local_sources_are_the_registry_local_paths_with_adapter_and_zone(demo_feed_dir: Path, tmp_path: Path) -> None:
    registry = parse_registry(
        '[region]\nname = "Demo"\ntimezone = "Europe/Paris"\n'
        '[[authorities]]\nid = "demo"\nname = "Demo"\nkind = "urban"\ntimezone = "Europe/Vilnius"\n'
        f'  [[authorities.networks]]\n  id = "demo"\n  name = "Demo"\n  static = "{demo_feed_dir}"\n'
        '  adapter = "strip_ids"\n'
        '  [[authorities.networks]]\n  id = "remote"\n  name = "Remote"\n  static = "https://example.org/g.zip"\n'
        f'  [[authorities.networks]]\n  id = "gone"\n  name = "Gone"\n  static = "{tmp_path / "absent.zip"}"\n',
        base_dir=tmp_path,
    )
    sources = local_static_sources(registry.list_networks())
    assert sources == [StaticFeedSource("demo", demo_feed_dir, "strip_ids", "Europe/Vilnius")]
