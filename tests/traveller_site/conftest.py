"""A served generated region for the site's HTTP tests (the browser test starts its own, with realtime)."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.oura.conftest import REGION_START, serve_ready_region


@pytest.fixture(scope="session")
def site_region(tmp_path_factory):
    from oura.demo.generate import generate_region

    out = tmp_path_factory.mktemp("site-region")
    generate_region(out, seed=5, scale=0.1, start_date=REGION_START.date(), fmt="zip")
    return out / "registry.toml"


@pytest_asyncio.fixture
async def site_client(site_region, app_config, make_client):
    return await serve_ready_region(site_region, app_config, make_client)
