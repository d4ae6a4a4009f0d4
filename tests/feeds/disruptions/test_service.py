"""The disruptions service on PostgreSQL: scoping, audit rows, idempotency, hand-over to the sink."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.disruptions.repository import DisruptionRepository
from feeds.disruptions.service import DisruptionService
from feeds.errors import DisruptionEnded, DisruptionKeyReused, StaticFeedNotReady, UnknownDisruption, \
    UnknownDisruptionReference
from oura.clock import FixedClock
from oura.errors import OtherAuthority
from tests.feeds.disruptions.conftest import ADMIN, AUTH_A, AUTH_B, NOW, period

CLOSE_C = {"kind": "close_stop", "stop_id": "net:C", "period": period(), "header": {"fr": "Arrêt fermé"},
           "cause": "CONSTRUCTION"}


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[list, list, dt.datetime]] = []

    async def __call__(self, alerts, updates, received_at) -> None:  # noqa: ANN001
        self.calls.append((list(alerts), list(updates), received_at))


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def service(db_pool, registry, indexes, sink) -> DisruptionService:
    return DisruptionService(DisruptionRepository(db_pool), registry, indexes.get, FixedClock(NOW), sink=sink)


async def test_a_declared_closure_is_stored_audited_and_handed_to_the_sink(service, sink):
    disruption, created = await service.create(AUTH_A, CLOSE_C)
    assert created and disruption.authority_id == "auth-a" and disruption.network_id == "net"
    alerts, updates, _ = sink.calls[-1]
    assert [(a.entity_id, a.effect, a.informed_entities[0].stop_id) for a in alerts] == [
        (disruption.alert_id, "NO_SERVICE", "net:C")]
    assert updates == []
    (entry,) = await service.list_audit(AUTH_A, disruption.id)
    assert (entry.action, entry.key_id, entry.authority_id, entry.before) == ("create", "key-a", "auth-a", None)
    assert entry.after["stop_id"] == "net:C" and entry.after["status"] == "active"
    assert [d.id for d in await service.list(AUTH_A)] == [disruption.id]
    assert await service.list(AUTH_B) == []


async def test_another_authoritys_network_is_forbidden_and_nothing_is_written(service, sink):
    with pytest.raises(OtherAuthority):
        await service.create(AUTH_B, CLOSE_C)
    assert sink.calls == [] and await service.list(ADMIN, include_ended=True) == []
    mine, _ = await service.create(AUTH_A, CLOSE_C)
    with pytest.raises(OtherAuthority):
        await service.end(AUTH_B, mine.id)
    with pytest.raises(OtherAuthority):
        await service.update(AUTH_B, mine.id, {"header": {"fr": "x"}})
    assert (await service.get(AUTH_A, mine.id)).ended_at is None


async def test_an_admin_acts_for_the_networks_authority(service):
    disruption, _ = await service.create(ADMIN, {**CLOSE_C, "stop_id": "other:X"})
    assert disruption.authority_id == "auth-b"
    (entry,) = await service.list_audit(AUTH_B, disruption.id)
    assert (entry.key_id, entry.authority_id) == ("key-admin", None)


async def test_unknown_ids_and_unindexed_feeds_are_refused(service, registry, db_pool):
    with pytest.raises(UnknownDisruptionReference) as caught:
        await service.create(AUTH_A, {**CLOSE_C, "stop_id": "net:Nowhere"})
    assert caught.value.field == "stop_id"
    with pytest.raises(UnknownDisruptionReference) as caught:
        await service.create(AUTH_A, {**CLOSE_C, "stop_id": "nonet:A"})
    assert "no network" in caught.value.detail
    blind = DisruptionService(DisruptionRepository(db_pool), registry, lambda _feed: None, FixedClock(NOW))
    with pytest.raises(StaticFeedNotReady):
        await blind.create(AUTH_A, CLOSE_C)


async def test_a_patch_is_audited_with_before_and_after(service, sink):
    disruption, _ = await service.create(AUTH_A, CLOSE_C)
    changed = await service.update(AUTH_A, disruption.id, {"period": period(1, 5), "header": {"en": "Closed"}})
    assert changed.header_text == {"en": "Closed"} and changed.period.end == NOW + dt.timedelta(hours=5)
    entries = await service.list_audit(AUTH_A, disruption.id)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["header"] == {"fr": "Arrêt fermé"} and entries[1].after["header"] == {"en": "Closed"}
    assert entries[1].after["status"] == "upcoming"
    alert = sink.calls[-1][0][0]
    assert alert.active_periods[0].end == int((NOW + dt.timedelta(hours=5)).timestamp())


async def test_ending_keeps_the_row_and_empties_the_planners_set(service, sink):
    disruption, _ = await service.create(AUTH_A, CLOSE_C)
    ended = await service.end(AUTH_A, disruption.id)
    assert ended.ended_at == NOW and sink.calls[-1][0] == []
    again = await service.end(AUTH_A, disruption.id)
    assert again.ended_at == NOW
    assert [e.action for e in await service.list_audit(AUTH_A, disruption.id)] == ["create", "end"]
    assert await service.list(AUTH_A) == []
    assert [d.id for d in await service.list(AUTH_A, include_ended=True)] == [disruption.id]
    with pytest.raises(DisruptionEnded):
        await service.update(AUTH_A, disruption.id, {"header": {"fr": "x"}})
    with pytest.raises(UnknownDisruption):
        await service.get(AUTH_A, disruption.id + 1000)


async def test_a_retry_with_the_same_idempotency_key_returns_the_first(service, sink):
    first, created = await service.create(AUTH_A, CLOSE_C, "k-1")
    calls = len(sink.calls)
    again, created_again = await service.create(AUTH_A, CLOSE_C, "k-1")
    assert created and not created_again and again.id == first.id and len(sink.calls) == calls
    with pytest.raises(DisruptionKeyReused):
        await service.create(AUTH_A, {**CLOSE_C, "stop_id": "net:D"}, "k-1")
    assert len(await service.list(AUTH_A)) == 1


async def test_cancellations_and_a_replacement_bus_reach_the_sink_as_updates(service, sink):
    await service.create(AUTH_A, {"kind": "cancel_trips", "trip_ids": ["net:T1"], "period": period(0, 24),
                                  "header": "T1 supprimé"})
    await service.create(AUTH_A, {"kind": "replacement_bus", "route_id": "net:R1", "header": "Bus",
                                  "period": period(0, 24), "service_dates": ["20250305"],
                                  "stop_times": [{"stop_id": "net:A", "departure": "08:05:00"},
                                                 {"stop_id": "net:E", "arrival": "08:50:00"}]})
    alerts, updates, _ = sink.calls[-1]
    assert len(alerts) == 2
    assert sorted((u.trip_id, u.service_date, u.canceled, u.added) for u in updates) == [
        ("net:T1", "20250305", True, False), (updates[-1].trip_id, "20250305", False, True)]
    assert service.current.updates == tuple(updates)


async def test_a_new_feed_version_is_followed(service, sink, indexes):
    disruption, _ = await service.create(AUTH_A, CLOSE_C)
    calls = len(sink.calls)
    assert service.signature() == service._signature  # nothing changed: the loop would not convert
    swapped = dict(indexes)
    service.find_index = lambda feed: swapped.get(feed)
    del swapped["net"]  # the feed is gone (a new version not indexed yet)
    assert service.signature() != service._signature
    converted = await service.apply()
    assert converted.alerts == () and [s[0] for s in converted.skipped] == [disruption.id]
    assert len(sink.calls) == calls + 1


async def test_a_restarted_service_hands_the_stored_disruptions_over(service, db_pool, registry, indexes):
    disruption, _ = await service.create(AUTH_A, CLOSE_C)
    restarted_sink = RecordingSink()
    restarted = DisruptionService(DisruptionRepository(db_pool), registry, indexes.get, FixedClock(NOW),
                                  sink=restarted_sink)
    await restarted.apply()
    assert [a.entity_id for a in restarted_sink.calls[-1][0]] == [disruption.alert_id]
    later = DisruptionService(DisruptionRepository(db_pool), registry, indexes.get,
                              FixedClock(NOW + dt.timedelta(hours=49)), sink=restarted_sink)
    assert (await later.apply()).alerts == ()  # its period is over: nothing to apply
