"""Fault injection: loads through the reference terminal with the connection cut at a random
message, and in some the service restarted, each resumed by a new session. After every load the
card (read straight from it) and the server's mirror agree, every contract sold is on the card
exactly once: none lost, none loaded twice. Half the loads are counter top-ups (a second carnet
or single on a card holding one): the counter has every trip sold once, none twice.

1,000 loads run at the service level (the terminal calls `RemoteServices.handle` in process; a
restart is a new `RemoteServices` on the same database and secure module key, what a new process
is); 50 run over HTTP, where a restart is a new app on the same database.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from nfc_gateway.remote import loads
from nfc_gateway.remote.cardio import CardIo, CardRead
from nfc_gateway.remote.services import RemoteServices, demo_master_key
from nfc_gateway.remote.terminal import ConnectionDropped, DirectTransport, Drop, HttpTransport, RemoteRefused, Terminal
from nfc_gateway.sim.sam import SecureModule
from nfc_gateway.sim.transaction import ReadCard
from nfc_gateway.remote.model import LoadJob, LoadKind, LoadStatus
from tests.nfc_gateway.remote_support import START, make_remote_harness
from tests.ticketing.conftest import demo_catalogue, demo_region  # noqa: F401  (fixtures)

CARNETS_PER_CARD = 4          # loads per card
# what each card's riders buy, in order: two contract loads, then a top-up of each (a second carnet
# adds its 10 trips to the first one's counter, a second single its trip to the first single's)
PRODUCTS = ("tcl:10-trips", "tcl:single", "tcl:10-trips", "tcl:single")
RESTART_RATE = 0.15


async def _jobs_of(pool, serial: str) -> dict[int, LoadJob]:  # noqa: ANN001
    """The load jobs of a medium, by contract id (trips: as written, nothing was used)."""
    rows = await pool.fetch("SELECT contract_id, kind, status, card_contract_serial, trips, top_up_of, top_up_seq "
                            "FROM nfc_load_jobs WHERE medium_serial = $1", serial)
    return {r["contract_id"]: LoadJob(
        job_id=0, medium_serial=serial, contract_id=r["contract_id"], kind=LoadKind(r["kind"]),
        status=LoadStatus(r["status"]), card_contract_serial=r["card_contract_serial"], tariff=0, network_id=0,
        provider=0, valid_from=START, valid_until=None, trips=r["trips"], deadline=START, created_at=START,
        top_up_of=r["top_up_of"], top_up_seq=r["top_up_seq"]) for r in rows}


def _read_card(sam: SecureModule, card) -> CardRead:  # noqa: ANN001
    reader = ReadCard(sam)
    return CardRead(reader.result([card.transmit(c) for c in reader.commands()]))


async def _run_loads(h, loads_wanted: int, seed: int, transport_for: Callable[[Any], Any],  # noqa: ANN001
                     restart: Callable[[], Any], sam: SecureModule) -> Counter:
    """``loads_wanted`` carnets sold and loaded, each through a cut session and a resumed one."""
    rng = random.Random(seed)
    tally: Counter = Counter()
    desk = await h.key("sales_point", h.authorities["tcl"])
    device_key_headers = await h.key("device", h.authorities["tcl"])
    wallets = (loads_wanted + CARNETS_PER_CARD - 1) // CARNETS_PER_CARD
    done = 0
    for _ in range(wallets):
        serial = await h.wallet(desk)
        card = h.card(serial)
        sold: set[int] = set()
        for number in range(min(CARNETS_PER_CARD, loads_wanted - done)):
            await h.buy(desk, serial, PRODUCTS[number], key=f"{serial}-{number}")
            view = await (await h.client.get(f"/v1/media/{serial}", headers=desk)).json()
            sold = {c["contract_id"] for c in view["contracts"]}
            drop = Drop(rng.randint(1, 3), rng.choice(("before", "after")))
            try:
                await Terminal(card, await transport_for(device_key_headers)).run("LOAD_CONTRACTS", drop_at=drop)
                tally["not_cut"] += 1            # the cut message did not exist (nothing to write)
            except ConnectionDropped:
                tally[f"cut at {drop.message} {drop.when}"] += 1
            if rng.random() < RESTART_RATE:
                await restart()
                tally["restarts"] += 1
            outcome = await Terminal(card, await transport_for(device_key_headers)).run("LOAD_CONTRACTS")
            tally["round_trips_resume"] += outcome.exchanges
            assert outcome.output["successful"], outcome.output
            written_now = [job for job in outcome.output["loads"] if job["written_by_this_session"]]
            tally["resumed_by_write"] += bool(written_now)
            tally["resumed_by_read"] += not written_now

            image = _read_card(sam, card).image(serial)
            serials = [c.fields["ContractSerialNumber"] for c in image.contracts]
            jobs = await _jobs_of(h.pool, serial)
            duplicates = len(serials) - len(set(serials))
            lost = {c for c in sold if c not in jobs or not image.holds(jobs[c])}
            tally["duplicates"] += duplicates
            tally["lost"] += len(lost)
            assert not duplicates and not lost, (serial, sold, serials)
            tally["top_ups"] += jobs[max(sold)].kind is LoadKind.TOP_UP
            # each contract's counter has its own trips and those of its top-ups, and the rank of the last
            for contract in image.contracts:
                (host,) = [j for j in jobs.values() if j.kind is LoadKind.CONTRACT
                           and j.card_contract_serial == contract.fields["ContractSerialNumber"]]
                top_ups = [j for j in jobs.values() if j.top_up_of == host.card_contract_serial]
                assert contract.counter == host.trips + sum(j.trips for j in top_ups), (contract, host, top_ups)
                assert image.top_up_rank(host.card_contract_serial) == len(top_ups)
            mirror = await loads.mirror(h.pool, serial)
            assert mirror is not None and mirror.to_json() == image.to_json()
            open_jobs = await h.pool.fetchval(
                "SELECT count(*) FROM nfc_load_jobs WHERE medium_serial = $1 AND status <> 'confirmed'", serial)
            assert open_jobs == 0
            done += 1
    tally["loads"] = done
    return tally


def _report(label: str, tally: Counter) -> None:
    loads_done = tally["loads"]
    print(f"\n{label}: {loads_done} loads ({tally['top_ups']} top-ups), {tally['lost']} lost, {tally['duplicates']} loaded twice, "
          f"{tally['restarts']} restarts; resumed by a write {tally['resumed_by_write']}, by a read "
          f"{tally['resumed_by_read']}; round trips per resuming load {tally['round_trips_resume'] / max(loads_done, 1):.2f}")
    print("  cuts: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items()) if k.startswith("cut") or k == "not_cut"))


@pytest.mark.slow
async def test_a_thousand_loads_cut_at_random_messages_at_the_service_level(app_config, make_client, demo_catalogue):  # noqa: F811
    h = await make_remote_harness(app_config, make_client, demo_catalogue)
    key = demo_master_key(str(app_config.data_dir.resolve()))
    current = {"services": h.services}

    async def transport_for(headers: dict[str, str]) -> DirectTransport:
        principal_key = current.setdefault("key_id", await h.pool.fetchval(
            "SELECT key_id FROM api_keys WHERE role = 'device' ORDER BY created_at DESC LIMIT 1"))
        return DirectTransport(lambda raw, key_id: current["services"].handle(raw, key_id), principal_key)

    async def restart() -> None:  # a new process: nothing in memory, the same database and key
        current["services"] = RemoteServices(h.pool, h.clock, CardIo(SecureModule(key)))

    tally = await _run_loads(h, 1000, seed=15, transport_for=transport_for, restart=restart, sam=SecureModule(key))
    _report("service level", tally)
    assert tally["loads"] == 1000 and tally["lost"] == 0 and tally["duplicates"] == 0 and tally["top_ups"] == 500
    assert tally["resumed_by_read"] > 0 and tally["resumed_by_write"] > 0 and tally["restarts"] > 0
    assert tally["cut at 3 before"] > 0  # the card committed, the server never heard: confirmed by the next read


async def test_fifty_loads_cut_at_random_messages_over_http_with_restarted_apps(app_config, make_client, demo_catalogue):  # noqa: F811
    from oura.app import create_app
    from ticketing.startup import make_ticketing_context

    h = await make_remote_harness(app_config, make_client, demo_catalogue)
    (catalogue, _), _ = demo_catalogue
    key = demo_master_key(str(app_config.data_dir.resolve()))

    async def transport_for(headers: dict[str, str]) -> HttpTransport:
        return HttpTransport(h.client, "/v1/nfc/remote", headers)

    async def restart() -> None:  # a new app on the same database (the old one stops taking requests)
        app = create_app(app_config, clock=h.clock,
                         extra_contexts=[make_ticketing_context(catalogue, h.authorities, h.provider)])
        h.client = await make_client(app)

    tally = await _run_loads(h, 50, seed=16, transport_for=transport_for, restart=restart, sam=SecureModule(key))
    _report("HTTP", tally)
    assert tally["loads"] == 50 and tally["lost"] == 0 and tally["duplicates"] == 0 and tally["top_ups"] == 24


async def test_a_session_cut_then_continued_on_a_restarted_service_is_lost_not_replayed(app_config, make_client, demo_catalogue):  # noqa: F811
    h = await make_remote_harness(app_config, make_client, demo_catalogue)
    desk = await h.key("sales_point", h.authorities["tcl"])
    await h.key("device", h.authorities["tcl"])
    key_id = await h.pool.fetchval("SELECT key_id FROM api_keys WHERE role = 'device'")
    serial = await h.wallet(desk)
    await h.buy(desk, serial)
    card = h.card(serial)
    first = RemoteServices(h.pool, h.clock, CardIo(SecureModule(demo_master_key(str(app_config.data_dir.resolve())))))
    sent: list[dict] = []

    class Recording(DirectTransport):
        async def send(self, message: dict) -> list[dict]:
            sent.append(message)
            return await super().send(message)

    with pytest.raises(ConnectionDropped):
        await Terminal(card, Recording(first.handle, key_id)).run("LOAD_CONTRACTS", drop_at=Drop(2, "after"))
    restarted = RemoteServices(h.pool, h.clock, CardIo(SecureModule(demo_master_key(str(app_config.data_dir.resolve())))))
    # the session now waits for the RESP to its write command; the new process does not hold it
    # and says so (409): it never guesses what the old one planned
    import json

    resp = {**sent[1], "body": json.dumps({"coreApiLevel": 2, "service": "TRANSMIT_CARD_REQUEST", "result": {
        "apduResponses": [{"apdu": "6982", "statusWord": "6982"}], "isLogicalChannelOpen": True}})}
    with pytest.raises(RemoteRefused) as refused:
        await DirectTransport(restarted.handle, key_id).send(resp)
    assert refused.value.status == 409 and refused.value.code == "remote_session_lost"
    with pytest.raises(RemoteRefused) as again:
        await DirectTransport(restarted.handle, key_id).send(resp)
    assert again.value.code == "remote_message_replayed"
    outcome = await Terminal(card, DirectTransport(restarted.handle, key_id)).run("LOAD_CONTRACTS")
    assert [job["written_by_this_session"] for job in outcome.output["loads"]] == [True]
