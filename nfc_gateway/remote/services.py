"""The remote services the server runs over the Keyple Distributed JSON API: READ_CARD,
LOAD_CONTRACTS (every due load of the card: contracts and counter top-ups) and TOP_UP (the due
counter top-ups only).

Each session is a small server-side state machine (`ServiceRun`): it emits CMD messages carrying
the APDUs of the secure module's card transactions (`nfc_gateway.sim.transaction`: the server
owns the `SecureModule`, the terminal only relays APDUs), consumes each RESP, and ends with
END_REMOTE_SERVICE whose ``outputData`` is the card read (contracts and counters decoded by
`nfc_gateway.intercode`) and the loads done. A load takes three exchanges (Keyple's own demo needs 6 to 8):

    1. EXECUTE_REMOTE_SERVICE  -> CMD TRANSMIT_CARD_SELECTION_REQUESTS (select + read every file)
    2. RESP (selection, reads) -> CMD TRANSMIT_CARD_REQUEST (open session, record updates, close
                                  with the terminal MAC: one batch, OURA-SIM-1 lets the secure
                                  module sign the session before it runs, `nfc_gateway.sim.sam`)
    3. RESP (card MAC)         -> END_REMOTE_SERVICE (card MAC checked: jobs written and confirmed)

Exactly once (with `nfc_gateway.remote.loads`): after the read of step 2 the server reconciles
the card with its load jobs (a contract whose serial is on the card is confirmed, never written
again); a session cut before the card closed its secure session left the card unchanged (a
Calypso session is atomic), so the job is still owed and the next session writes it; one cut
after the close is confirmed by the next session's read. The card's closing MAC, checked by the
secure module, is the proof that the card holds the contract: the job is marked written and
confirmed (mirror updated) before END is sent.

Session state is in PostgreSQL (`nfc_gateway.remote.sessions`: reused session ids and replays are
refused there); the in-progress card transaction (its secure-session digest) lives in this
process only. A message for a session this process does not hold (the service restarted) is
refused with `RemoteSessionLost` and the terminal starts a new session: nothing is lost, see above.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from oura.clock import Clock
from oura.errors import OuraError
from oura.keys import CLOCK, CONFIG, POOL
from ticketing.errors import UnknownMedium
from ticketing.media import MEDIA_KINDS, get_medium_view

from ..errors import (
    KEYPLE_CARD_NOT_SELECTED,
    MalformedRemoteMessage,
    RemoteSessionLost,
    UnknownCard,
    UnknownRemoteService,
)
from . import loads
from .cardio import CardIo, CardRead, WritePlan
from .messages import (
    EXECUTE_REMOTE_SERVICE,
    TRANSMIT_CARD_REQUEST,
    TRANSMIT_CARD_SELECTION_REQUESTS,
    ApduRequest,
    Message,
    Response,
    card_request_cmd,
    card_selection_cmd,
    end_remote_service,
    parse_execute_remote_service,
    parse_message,
    parse_response,
)
from .model import CardContract, CardImage, LoadJob, LoadKind
from . import sessions

__all__ = ["SERVICES", "RemoteServices", "REMOTE_SERVICES", "remote_context", "card_serial_of_medium",
           "demo_master_key"]

log = logging.getLogger(__name__)

READ_CARD = "READ_CARD"
LOAD_CONTRACTS = "LOAD_CONTRACTS"
TOP_UP = "TOP_UP"
SERVICES = (READ_CARD, LOAD_CONTRACTS, TOP_UP)
_LOADABLE = {LOAD_CONTRACTS: {LoadKind.CONTRACT, LoadKind.TOP_UP}, TOP_UP: {LoadKind.TOP_UP}}  # what each writes
_CARD_KINDS = [kind for kind in MEDIA_KINDS if kind != "paper"]


def card_serial_of_medium(medium_serial: str) -> bytes:
    """The card's 8-byte application serial for a medium serial (kind prefix + 16 hex digits).

    The region personalises a card or phone wallet with the 8 bytes its serial names, so the server
    recognises the medium from what the card answers to SELECT APPLICATION."""
    return bytes.fromhex(medium_serial[1:])


def demo_master_key(data_dir: str) -> bytes:
    """The secure module's master key when none is configured: derived from the data folder, so a
    restarted service on the same data finds the same keys. A demo default, never a production key."""
    return hmac.new(b"OURA-SIM-1 demo master key", data_dir.encode(), hashlib.sha256).digest()[:16]


@dataclass
class ServiceRun:
    """One session's progress (in this process)."""

    start: Message
    service_id: str
    input_data: Mapping[str, Any]
    remote_reader_name: str
    step: str = "select"
    reader: Any = None                               # the read transaction (step 1 -> 2)
    card: CardRead | None = None                     # the card as read, then as each write left it
    medium_serial: str | None = None
    image: CardImage | None = None
    planned: WritePlan | None = None                 # the write session sent, awaiting the card's answers
    owed: list[LoadJob] = field(default_factory=list)  # due jobs not written yet
    confirmed: list[LoadJob] = field(default_factory=list)
    not_loaded: list[dict[str, Any]] = field(default_factory=list)
    exchanges: int = 1


class RemoteServices:
    """The remote services of one app: its secure module, its sessions in progress."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, card_io: CardIo, *, server_node_id: str | None = None) -> None:
        self.pool = pool
        self.clock = clock
        self.card_io = card_io
        self.server_node_id = server_node_id or str(uuid.uuid4())
        self._runs: dict[str, ServiceRun] = {}
        self.round_trips: list[int] = []             # exchanges of every session that ended (bench, tests)

    @property
    def sam(self) -> Any:
        return self.card_io.sam

    # --- entry point -------------------------------------------------------------------------------

    async def handle(self, raw: Any, key_id: str) -> list[dict[str, Any]]:
        """A terminal's message (parsed JSON) -> the server's answer (a single-element array)."""
        message = parse_message(raw)
        now = self.clock.now()
        if message.action == EXECUTE_REMOTE_SERVICE:
            start = parse_execute_remote_service(message)
            if start.service_id not in SERVICES:
                raise UnknownRemoteService(f"serviceId '{start.service_id}' is not one of {', '.join(SERVICES)}")
            await sessions.open_session(self.pool, message, start.service_id, key_id, now)
            run = ServiceRun(message, start.service_id, start.input_data, str(uuid.uuid4()))
            self._runs[message.session_id] = run
            return await self._step(run, None)
        response = parse_response(message)
        await sessions.claim_message(self.pool, message, response.service, key_id, now)
        run = self._runs.get(message.session_id)
        if run is None:
            await sessions.end_session(self.pool, message.session_id, "lost", now)
            raise RemoteSessionLost(f"session '{message.session_id}' is not held by this server (it restarted): start a new one")
        run.exchanges += 1
        return await self._step(run, response)

    async def _step(self, run: ServiceRun, response: Response | None) -> list[dict[str, Any]]:
        try:
            answer, expected = await self._advance(run, response)
        except BaseException as error:
            self._runs.pop(run.start.session_id, None)
            await sessions.end_session(self.pool, run.start.session_id, "failed", self.clock.now(),
                                       medium_serial=run.medium_serial)
            if not isinstance(error, OuraError):
                log.exception("remote service failed", extra={"session": run.start.session_id})
            raise
        if expected is None:
            self._runs.pop(run.start.session_id, None)
            self.round_trips.append(run.exchanges)
            await sessions.end_session(self.pool, run.start.session_id, "done", self.clock.now(), medium_serial=run.medium_serial)
        else:
            await sessions.await_response(self.pool, run.start.session_id, expected, self.clock.now(),
                                          medium_serial=run.medium_serial)
        return answer

    # --- the state machine -------------------------------------------------------------------------

    def _ids(self, run: ServiceRun) -> dict[str, str]:
        return {"server_node_id": self.server_node_id, "remote_reader_name": run.remote_reader_name}

    def _cmd(self, run: ServiceRun, apdus: Sequence[bytes]) -> tuple[list[dict[str, Any]], str]:
        requests = [ApduRequest(a) for a in apdus]
        return card_request_cmd(run.start, apdus=requests, **self._ids(run)), TRANSMIT_CARD_REQUEST

    def _end(self, run: ServiceRun, output: dict[str, Any]) -> tuple[list[dict[str, Any]], None]:
        output["exchanges"] = run.exchanges
        return end_remote_service(run.start, output, **self._ids(run)), None

    async def _advance(self, run: ServiceRun, response: Response | None) -> tuple[list[dict[str, Any]], str | None]:
        if response is not None and response.error is not None:
            return self._end(run, {"successful": False, "error": {"code": response.error.code, "message": response.error.message},
                                   "step": run.step})
        if run.step == "select":
            aid, apdus, run.reader = self.card_io.read_plan()
            run.step = "read"
            return (card_selection_cmd(run.start, aid=aid, apdus=[ApduRequest(a) for a in apdus], **self._ids(run)),
                    TRANSMIT_CARD_SELECTION_REQUESTS)
        assert response is not None
        if run.step == "read":
            return await self._after_read(run, response)
        if run.step == "write":
            return await self._after_write(run, response)
        raise MalformedRemoteMessage(f"session in step {run.step} takes no more messages")

    async def _after_read(self, run: ServiceRun, response: Response) -> tuple[list[dict[str, Any]], str | None]:
        if response.selection is None:
            raise MalformedRemoteMessage("body.result: the RESP to the card selection carries the selection result")
        selected = response.selection[0]
        if not selected.has_matched or selected.select_application_response is None:
            return self._end(run, {"successful": False, "error": {"code": KEYPLE_CARD_NOT_SELECTED,
                                                                  "message": "the card has no OùRA application"}})
        answers = [selected.select_application_response.apdu]
        if selected.card_response is not None:
            answers += [r.apdu for r in selected.card_response.apdu_responses]
        run.card = self.card_io.read_result(run.reader, answers)
        run.medium_serial = await self._medium_of(run.card.serial)
        run.image = run.card.image(run.medium_serial)
        if run.service_id == READ_CARD:
            return self._end(run, self._output(run))
        reconciliation = await loads.reconcile(self.pool, run.medium_serial, run.image, self.clock.now())
        run.confirmed.extend(reconciliation.confirmed)
        run.owed = [job for job in reconciliation.to_write if job.kind in _LOADABLE[run.service_id]]
        return self._next_write(run)

    def _next_write(self, run: ServiceRun) -> tuple[list[dict[str, Any]], str | None]:
        """The next write session for the jobs still owed, or the end of the service."""
        assert run.card is not None
        plan = self.card_io.write_plan(run.card, run.owed, self.clock.now())
        run.not_loaded.extend({"job_id": job.job_id, "contract_id": job.contract_id,
                               "reason": "contract_not_on_card" if job.kind is LoadKind.TOP_UP else "card_full"}
                              for job in plan.left_out)
        run.owed = list(plan.later)
        if plan.session is None:
            return self._end(run, self._output(run))
        run.planned = plan
        run.step = "write"
        return self._cmd(run, plan.apdus)

    async def _after_write(self, run: ServiceRun, response: Response) -> tuple[list[dict[str, Any]], str | None]:
        assert run.card is not None and run.planned is not None and run.medium_serial is not None
        plan, run.planned = run.planned, None
        run.card = self.card_io.check_write(plan, _card_answers(response), run.card)  # raises CardMacInvalid
        run.image = run.card.image(run.medium_serial)
        now = self.clock.now()
        for job in plan.jobs:
            await loads.mark_written(self.pool, job.job_id, run.start.session_id, plan.records[job.job_id], run.image, now)
            run.confirmed.append(await loads.confirm(self.pool, job.job_id, run.image, now))
        return self._next_write(run)

    def _output(self, run: ServiceRun) -> dict[str, Any]:
        assert run.image is not None
        return {
            "successful": True,
            "service": run.service_id,
            "card": run.image.to_json(),
            "loads": [{"job_id": j.job_id, "contract_id": j.contract_id, "kind": j.kind.value,
                       "card_contract_serial": j.card_contract_serial, "status": j.status.value,
                       "record": j.card_record, "top_up_of": j.top_up_of, "top_up_rank": j.top_up_seq,
                       "written_by_this_session": j.session_id == run.start.session_id}
                      for j in run.confirmed],
            "not_loaded": run.not_loaded,
        }

    async def _medium_of(self, card_serial: bytes) -> str:
        """The medium serial of a card's application serial (`card_serial_of_medium` read backwards)."""
        now = self.clock.now()
        for kind in _CARD_KINDS:
            serial = MEDIA_KINDS[kind][1] + card_serial.hex().upper()
            try:
                await get_medium_view(self.pool, serial, now)
            except UnknownMedium:
                continue
            return serial
        raise UnknownCard(f"no card or wallet has the application serial {card_serial.hex().upper()}")


def _card_answers(response: Response) -> list[bytes]:
    if response.card is None:
        raise MalformedRemoteMessage("body.result: the RESP to a card request carries a CardResponse")
    return [r.apdu for r in response.card.apdu_responses]


REMOTE_SERVICES = web.AppKey("nfc_gateway.remote_services", RemoteServices)


def remote_context(master_key: bytes | None = None) -> Callable[[web.Application], AsyncIterator[None]]:
    """The app's remote services (after the database): the secure module keyed by ``master_key``,
    else by the key in ``[nfc] master_key_file`` (`oura.config.NfcConfig.read_master_key`: a
    missing or malformed file stops the start-up with a `ConfigError` naming it), else by
    `demo_master_key` of the data folder, which the log says is a demo key."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        from ..sim.sam import SecureModule

        settings = app[CONFIG].nfc
        key = master_key or settings.read_master_key()
        if key is not None:
            log.info("the NFC secure module's master key is %s",
                     "given by the app" if master_key else f"read from {settings.master_key_file}")
        else:
            key = demo_master_key(str(app[CONFIG].data_dir.resolve()))
            log.warning("no [nfc] master_key_file (OURA_NFC_MASTER_KEY_FILE): the NFC secure module uses the DEMO "
                        "master key derived from the data folder; anyone with the data folder's path has the "
                        "card keys: never use it for real cards")
        app[REMOTE_SERVICES] = RemoteServices(app[POOL], app[CLOCK], CardIo(SecureModule(key)))
        yield

    context.__name__ = context.__qualname__ = "remote_context"
    return context
