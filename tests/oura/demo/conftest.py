"""A small generated region shared by the demo tests (scale 0.1, folders, fixed dates)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as rt

from oura.demo.generate import RegionSummary, generate_region

# Wednesday: the window runs Monday 2025-03-03 to 2025-05-31 and holds spring school holidays,
# Easter Monday (2025-04-21), 1 and 8 May and Ascension Day.
TODAY = date(2025, 3, 5)
SEED = 7


@pytest.fixture(scope="session")
def small_region(tmp_path_factory: pytest.TempPathFactory) -> RegionSummary:
    out = tmp_path_factory.mktemp("demo-region")
    return generate_region(out, seed=SEED, scale=0.1, start_date=TODAY, fmt="dir")


@pytest.fixture(scope="session")
def small_region_dir(small_region: RegionSummary) -> Path:
    return Path(small_region.out_dir)


class SettableClock:
    """The live server's clock, set by the test (``clock.now = ...``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def parse_feed(body: bytes) -> rt.FeedMessage:
    message = rt.FeedMessage()
    message.ParseFromString(body)
    return message
