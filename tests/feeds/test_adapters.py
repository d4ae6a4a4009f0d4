"""Per-authority adapters: named by the registry, applied before validation and on read-back."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.adapters import UnknownAdapter, get_adapter, read_network_feed
from feeds.authorities import RegistryError, parse_registry
from feeds.gtfs.issues import IssueCode
from feeds.validate import validate_path
from tests.feeds.conftest import edit_cell, real_feed_path, rewrite_feed
from tests.registry_toml import TestNetwork, registry_text

pytestmark = pytest.mark.realdata


def test_strip_ids_adapter_repairs_padded_ids(tmp_path: Path) -> None:
    stop_times = (real_feed_path("bullrunner"))
    padded = rewrite_feed(stop_times, tmp_path / "padded.zip", {
        "stop_times.txt": lambda text: edit_cell(text, row=0, column="stop_id",
                                                 value=" " + text.splitlines()[1].split(",")[3] + " ")})
    _, without = validate_path(padded, feed_id="usf")
    assert any(i.code is IssueCode.UNKNOWN_REFERENCE and i.fatal for i in without.issues)
    _, adapted = validate_path(padded, feed_id="usf", adapter="strip_ids")
    assert not adapted.fatal, adapted.summary()
    tables = read_network_feed(padded, "strip_ids", only=["stop_times"])
    assert not tables.get("stop_times")["stop_id"].str.startswith(" ").any()


def test_unknown_adapter_is_a_registry_problem_and_a_fatal_issue(tmp_path: Path) -> None:
    with pytest.raises(UnknownAdapter):
        get_adapter("no_such_adapter")
    with pytest.raises(RegistryError, match="no_such_adapter"):
        parse_registry(registry_text(TestNetwork("a", "n", "n.zip", extra='adapter = "no_such_adapter"')),
                       base_dir=tmp_path)
    _, report = validate_path(real_feed_path("bullrunner"), feed_id="usf", adapter="no_such_adapter")
    assert report.fatal and "adapter" in report.summary()
