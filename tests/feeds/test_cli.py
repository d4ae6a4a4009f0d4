"""`oura feeds ingest|list|report|hubs` against a real database and real feeds (local paths)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.feeds.conftest import edit_cell, real_feed_path, rewrite_feed, run_feeds_cli
from tests.registry_toml import TestNetwork, write_registry

pytestmark = pytest.mark.realdata


_run = run_feeds_cli


def test_ingest_list_report_and_hubs(app_config, tmp_path: Path, capsys) -> None:
    broken = rewrite_feed(real_feed_path("bullrunner"), tmp_path / "broken.zip", {
        "stop_times.txt": lambda t: edit_cell(t, row=0, column="trip_id", value="no-such-trip")})
    registry = write_registry(
        tmp_path / "registry.toml",
        TestNetwork("hart", "hart", real_feed_path("hart")),
        TestNetwork("usf", "bullrunner", real_feed_path("bullrunner"), network_name="Bull Runner"),
        TestNetwork("broken", "broken", broken, authority_name="Broken", network_name="Broken copy"),
        region="Tampa (test)",
    )
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry))

    assert _run(["feeds", "ingest", "--only", "usf"], config) == 0
    out = capsys.readouterr().out
    assert "bullrunner" in out and "accepted" in out

    assert _run(["feeds", "ingest"], config) == 1  # the broken copy is rejected
    out = capsys.readouterr().out
    assert "hart" in out and "unchanged" in out and "rejected" in out

    assert _run(["feeds", "list"], config) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()[1:]}
    # the real clock is years past these feeds' calendars: accepted, serving, but stale
    assert "stale" in lines["hart"].split() and "2021-04-24" in lines["hart"]
    assert "missing" in lines["broken"].split()

    assert _run(["feeds", "report", "broken"], config) == 0
    out = capsys.readouterr().out
    assert "REJECTED" in out and "no-such-trip" in out

    assert _run(["feeds", "hubs", "--interchanges-only", "--limit", "5"], config) == 0
    out = capsys.readouterr().out
    assert "joining several networks" in out and "networks=bullrunner,hart" in out
