"""The statistics job (issue 14): a round releases what is due while the serials still exist, then
purges; a release that fails never stops the purge (the 48 h bound wins)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.ticketing.statistics.factories import Boarding, add_medium, add_validations
from ticketing.statistics import jobs, release
from ticketing.statistics.model import StatisticsSettings

SETTINGS = StatisticsSettings(every_s=300.0)
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Paris, service day 2026-03-02


async def _riders(pool, n: int = 12) -> int:
    """n cards boarding at S1 then S2 the same morning (an OD flow of n when chained)."""
    boardings = []
    for i in range(n):
        serial = f"C{100 + i}"
        await add_medium(pool, serial, trips=10)
        boardings += [Boarding(serial, T0 + timedelta(seconds=i), "tcl:S1", "tcl:R1"),
                      Boarding(serial, T0 + timedelta(hours=1, seconds=i), "tcl:S2", "tcl:R2")]
    return await add_validations(pool, boardings)


async def _serials(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM ticketing_validations WHERE medium_serial IS NOT NULL")


async def test_a_round_releases_while_the_serials_exist_then_purges(db_pool, monkeypatch):
    written = await _riders(db_pool)
    now = T0 + timedelta(hours=49, minutes=1)
    seen: list[tuple[int, dict]] = []

    async def recording_release_due(pool, **kwargs):
        seen.append((await _serials(pool), kwargs))
        return release.ReleaseRun(released=(("od", "day", date(2026, 3, 2)),))

    monkeypatch.setattr(release, "release_due", recording_release_due)
    done = await jobs.run_once(db_pool, now, SETTINGS, {"tcl": "sytral"}, "Europe/Paris")
    assert [count for count, _ in seen] == [written]  # released first, with every serial still there
    kwargs = seen[0][1]
    assert kwargs["force_before"] == now - timedelta(hours=48) + timedelta(seconds=600)
    assert (kwargs["now"], kwargs["timezone"], kwargs["network_authority"]) == (now, "Europe/Paris", {"tcl": "sytral"})
    assert done.released is not None and done.purged.validations == written
    assert await _serials(db_pool) == 0


async def test_a_release_failure_still_purges(db_pool, monkeypatch):
    written = await _riders(db_pool)

    async def failing_release_due(pool, **kwargs):
        raise RuntimeError("release broken")

    monkeypatch.setattr(release, "release_due", failing_release_due)
    done = await jobs.run_once(db_pool, T0 + timedelta(hours=49, minutes=1), SETTINGS, {"tcl": "sytral"}, "Europe/Paris")
    assert done.released is None
    assert done.purged.validations == written
    assert await _serials(db_pool) == 0


async def test_run_once_with_the_real_release_stores_od_flows_before_the_purge(db_pool):
    await _riders(db_pool)
    now = T0 + timedelta(hours=49, minutes=1)
    done = await jobs.run_once(db_pool, now, SETTINGS, {"tcl": "sytral"}, "Europe/Paris")
    assert done.released is not None, "release_due failed (see the log)"
    assert ("od", "day", date(2026, 3, 2)) in done.released.released
    od_max = await db_pool.fetchval(
        "SELECT max(c.count) FROM stat_cells c JOIN stat_releases r USING (release_id) WHERE r.kind = 'od'")
    assert od_max is not None and od_max >= SETTINGS.k  # chained while the serials existed
    assert await _serials(db_pool) == 0
    leaked = await db_pool.fetchval(
        "SELECT count(*) FROM stat_cells WHERE row_key LIKE 'C1%' OR col_key LIKE 'C1%'")
    assert leaked == 0  # no serial became a category
    again = await jobs.run_once(db_pool, now, SETTINGS, {"tcl": "sytral"}, "Europe/Paris")
    assert again.released is not None and again.released.released == () and again.purged.validations == 0


async def test_the_wired_job_purges_on_its_own_with_the_injected_clock(app_config, make_client, monkeypatch):
    """The app's statistics job (oura/wiring.py) runs rounds every every_s with app[CLOCK]; here the
    release fails every time and the purge happens all the same, counted in the metrics."""
    import asyncio
    from dataclasses import replace

    from oura.app import create_app
    from oura.clock import FixedClock
    from oura.keys import METRICS, POOL

    async def failing_release_due(pool, **kwargs):
        raise RuntimeError("release broken")

    monkeypatch.setattr(release, "release_due", failing_release_due)
    config = replace(app_config, statistics=replace(app_config.statistics, every_s=0.05))
    app = create_app(config, clock=FixedClock(T0 + timedelta(hours=50)))  # every boarding past 48 h
    await make_client(app)
    written = await _riders(app[POOL])
    for _ in range(400):  # waits for the outcome (at most ~20 s), asserts no duration
        if await _serials(app[POOL]) == 0:
            break
        await asyncio.sleep(0.05)
    assert await _serials(app[POOL]) == 0
    for _ in range(400):  # the round that purged may still be counting (a loaded machine)
        counted = app[METRICS].registry.get_sample_value("oura_statistics_purged_total", {"what": "validations"})
        if counted == written:
            break
        await asyncio.sleep(0.05)
    assert counted == written
