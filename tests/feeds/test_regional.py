"""Regional combined fare products: checked against the registry and for clearing shares.

The demo generator writes the region (registry, feeds, regional fares) at test time, small."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.authorities import load_registry
from feeds.gtfs.issues import IssueCode
from feeds.regional import validate_regional_fares

pytest.importorskip("oura.demo")


@pytest.fixture(scope="module")
def demo_region(tmp_path_factory) -> Path:
    from oura.demo import generate_region

    out = tmp_path_factory.mktemp("demo")
    summary = generate_region(out, seed=3, scale=0.05, start_date=dt.date(2026, 11, 30), realtime_base_url=None)
    return Path(summary.registry)


def test_demo_regional_fares_are_valid(demo_region: Path) -> None:
    registry = load_registry(demo_region)
    report = validate_regional_fares(registry.regional_fares, registry)
    assert not report.fatal, report.summary()
    assert report.counts["fare_products"] > 0


def test_unknown_network_and_broken_shares_are_fatal(demo_region: Path, tmp_path: Path) -> None:
    registry = load_registry(demo_region)
    folder = tmp_path / "regional"
    folder.mkdir()
    for file in registry.regional_fares.iterdir():
        text = file.read_text(encoding="utf-8")
        if file.name == "fare_product_networks.txt":
            lines = text.splitlines()
            cells = lines[1].split(",")
            cells[2] = str(int(cells[2]) + 1)  # shares of the first product now sum to 1001
            lines[1] = ",".join(cells)
            text = "\n".join(lines) + "\n"
        if file.name == "fare_leg_rules.txt":
            text = text.rstrip("\n") + "\nghost-group,atlantis,ghost-product\n"
        (folder / file.name).write_text(text, encoding="utf-8")
    report = validate_regional_fares(folder, registry)
    assert report.fatal
    messages = " | ".join(i.message for i in report.issues if i.fatal)
    assert "atlantis" in messages and "not in the registry" in messages
    assert "1001" in messages
    assert any(i.code is IssueCode.UNKNOWN_REFERENCE and i.value == "ghost-product" for i in report.issues)
