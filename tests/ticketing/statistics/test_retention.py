"""Identifying data has a short life (issue 14): validations written through the real validation
service over HTTP keep the card's serial and contract link for the retention (48 h), then the purge
(with an injected ``now``) removes them; a retried upload of a purged event replays its first
decision and consumes nothing; late uploads past the retention are stored without serial; expired
watches lose their serial; more than 48 h needs an explicit setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.ticketing.conftest import validation_event
from oura.config import ConfigError, load_config
from tests.ticketing.statistics.factories import Boarding, add_medium, add_validations
from ticketing.statistics.purge import purge_identifiers

RETENTION_S = 48 * 3600.0


async def _post(h, headers, events) -> dict:
    response = await h.client.post("/v1/validations", json={"events": events}, headers=headers)
    assert response.status == 200
    return await response.json()


async def _remaining_trips(pool, serial: str) -> int:
    return await pool.fetchval(
        "SELECT c.remaining_trips FROM ticketing_contracts c JOIN ticketing_media m USING (medium_id) WHERE m.serial = $1",
        serial)


async def _identifying(pool) -> tuple[int, int, int]:
    """(rows with a serial, rows with a contract link, rows with remaining trips) in ticketing_validations."""
    row = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE medium_serial IS NOT NULL) AS serials, "
        "count(*) FILTER (WHERE contract_id IS NOT NULL) AS contracts, "
        "count(*) FILTER (WHERE remaining_trips IS NOT NULL) AS trips FROM ticketing_validations")
    return row["serials"], row["contracts"], row["trips"]


async def test_serials_live_48_hours_and_a_retry_after_the_purge_replays_without_applying_twice(make_harness):
    h = await make_harness(retention_s=RETENTION_S)
    pool = h.service.pool
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    t0 = h.clock.now()
    events = [validation_event("a", card, t0), validation_event("b", card, t0 + timedelta(minutes=1), "tcl:T1")]
    first = await _post(h, validator, events)
    decided = [(d["event_id"], d["accepted"], d["reason"], d["remaining_trips"]) for d in first["decisions"]]
    assert decided == [("a", True, "valid", 9), ("b", True, "valid", 8)]
    assert await _identifying(pool) == (2, 2, 2)

    kept = await purge_identifiers(pool, now=t0 + timedelta(hours=47, minutes=59), retention_s=RETENTION_S)
    assert kept.validations == 0
    assert await _identifying(pool) == (2, 2, 2)

    later = t0 + timedelta(hours=48, minutes=2)  # both events are more than 48 h old
    purged = await purge_identifiers(pool, now=later, retention_s=RETENTION_S)
    assert purged.validations == 2
    assert await _identifying(pool) == (0, 0, 0)
    assert await pool.fetchval("SELECT count(*) FROM ticketing_validations WHERE purged_at = $1", later) == 2
    again = await purge_identifiers(pool, now=later, retention_s=RETENTION_S)
    assert again.validations == 0  # idempotent

    h.clock.advance(later - t0)
    retry = await _post(h, validator, events)
    assert (retry["new_events"], retry["replayed_events"]) == (0, 2)
    assert [(d["event_id"], d["accepted"], d["reason"], d["replayed"], d["contract_id"], d["remaining_trips"])
            for d in retry["decisions"]] == [("a", True, "valid", True, None, None), ("b", True, "valid", True, None, None)]
    assert await _remaining_trips(pool, card) == 8  # not applied twice
    assert await _identifying(pool) == (0, 0, 0)  # the replay wrote nothing back


async def test_a_late_upload_past_the_retention_is_decided_but_stored_without_serial(make_harness):
    h = await make_harness(retention_s=RETENTION_S)
    pool = h.service.pool
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    now = h.clock.advance(timedelta(hours=50))  # an offline validator uploads two days of boardings
    old, recent = now - timedelta(hours=49), now - timedelta(hours=1)
    body = await _post(h, validator, [validation_event("old", card, old), validation_event("recent", card, recent)])
    # decided in memory with the serial: the old boarding counted a trip like any other
    assert [(d["event_id"], d["reason"], d["remaining_trips"]) for d in body["decisions"]] == [
        ("old", "valid", 9), ("recent", "valid", 8)]
    assert await _remaining_trips(pool, card) == 8
    rows = {r["event_id"]: r for r in await pool.fetch(
        "SELECT event_id, medium_serial, contract_id, remaining_trips, purged_at, reason FROM ticketing_validations")}
    assert (rows["old"]["medium_serial"], rows["old"]["contract_id"], rows["old"]["remaining_trips"]) == (None, None, None)
    assert rows["old"]["purged_at"] == now and rows["old"]["reason"] == "valid"
    assert rows["recent"]["medium_serial"] == card and rows["recent"]["contract_id"] is not None
    assert rows["recent"]["purged_at"] is None

    retry = await _post(h, validator, [validation_event("old", card, old)])
    assert [(d["reason"], d["replayed"], d["contract_id"]) for d in retry["decisions"]] == [("valid", True, None)]
    assert await _remaining_trips(pool, card) == 8


async def test_without_a_retention_setting_late_uploads_keep_their_serial_until_the_purge(make_harness):
    h = await make_harness()
    pool = h.service.pool
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    now = h.clock.advance(timedelta(hours=50))
    await _post(h, validator, [validation_event("old", card, now - timedelta(hours=49))])
    assert await _identifying(pool) == (1, 1, 1)
    assert (await purge_identifiers(pool, now=now, retention_s=RETENTION_S)).validations == 1
    assert await _identifying(pool) == (0, 0, 0)


async def test_the_purge_goes_in_batches_and_since_bounds_the_scan(db_pool):
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await add_medium(db_pool, "C100", trips=10)
    await add_validations(db_pool, [Boarding("C100", t0 + timedelta(minutes=10 * i), "tcl:S1", "tcl:R1") for i in range(7)])
    now = t0 + timedelta(hours=49)  # the cutoff is t0 + 1 h: the boardings at +0 ... +50 min are due
    # rows that occurred before `since` are taken as purged already: only the later ones are read
    bounded = await purge_identifiers(db_pool, now=now, retention_s=RETENTION_S, since=t0 + timedelta(minutes=25),
                                      batch_rows=2)
    assert bounded.validations == 3  # +30, +40, +50 (two batches)
    assert bounded.cutoff == now - timedelta(seconds=RETENTION_S)
    rest = await purge_identifiers(db_pool, now=now, retention_s=RETENTION_S, batch_rows=2)
    assert rest.validations == 3  # +0, +10, +20
    kept = await db_pool.fetch("SELECT occurred_at FROM ticketing_validations WHERE medium_serial IS NOT NULL")
    assert [r["occurred_at"] for r in kept] == [t0 + timedelta(hours=1)]  # exactly 48 h old: not yet


async def test_expired_watches_lose_their_serial(db_pool):
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    rows = [("live", "ok", now + timedelta(hours=1)), ("past", "ok", now - timedelta(minutes=1)),
            ("expired", "expired", now + timedelta(hours=1)), ("broken-past", "broken", now - timedelta(hours=3))]
    await db_pool.executemany(
        "INSERT INTO watches (watch_id, itinerary_id, medium_serial, created_at, expires_at, status) "
        "VALUES ($1, 'it-1', $2, $3, $4, $5)",
        [(watch_id, f"C-{watch_id}", now - timedelta(hours=4), expires, status) for watch_id, status, expires in rows])
    result = await purge_identifiers(db_pool, now=now, retention_s=RETENTION_S)
    assert result.watches == 3
    serials = {r["watch_id"]: r["medium_serial"] for r in await db_pool.fetch("SELECT watch_id, medium_serial FROM watches")}
    assert serials == {"live": "C-live", "past": None, "expired": None, "broken-past": None}


async def test_the_purge_refuses_a_naive_time(db_pool):
    with pytest.raises(ValueError):
        await purge_identifiers(db_pool, now=datetime(2026, 3, 2, 8, 0), retention_s=RETENTION_S)


# -- the configured retention --------------------------------------------------------------------------


def _config(tmp_path, text: str):
    path = tmp_path / "oura.toml"
    path.write_text(text, encoding="utf-8")
    return load_config({}, file=path)


def test_retention_defaults_to_48_hours(tmp_path):
    assert _config(tmp_path, "").statistics.retention_h == 48.0
    assert _config(tmp_path, "[statistics]\nretention_h = 24\n").statistics.retention_h == 24.0


@pytest.mark.parametrize("text", [
    "[statistics]\nretention_h = 49\n",
    "[statistics]\nretention_h = 72\nallow_retention_over_48h = false\n",
    "[statistics]\nretention_h = 0\n",
    "[statistics]\nretention_h = -1\nallow_retention_over_48h = true\n",
])
def test_a_retention_over_48_hours_needs_the_explicit_setting(tmp_path, text):
    with pytest.raises(ConfigError, match="retention_h"):
        _config(tmp_path, text)


def test_a_retention_over_48_hours_is_accepted_with_the_explicit_setting(tmp_path):
    config = _config(tmp_path, "[statistics]\nretention_h = 72\nallow_retention_over_48h = true\n")
    assert config.statistics.retention_h == 72.0


def test_the_assembly_gives_the_job_and_the_validation_service_the_retention_in_seconds(tmp_path):
    from oura.wiring import statistics_settings

    settings = statistics_settings(_config(tmp_path, "[statistics]\nretention_h = 24\nevery_s = 60\nk = 5\n"))
    assert (settings.retention_s, settings.every_s, settings.k) == (24 * 3600.0, 60.0, 5)
