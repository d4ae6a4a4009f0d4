"""Hypothesis: random sessions of writes, closed, torn, dropped or refused, give the card the same
state as a reference model in which a session is all or nothing -- through APDU bytes, both with a
terminal signing after the fact and with `WriteSession`'s pre-signed batches."""

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from nfc_gateway.errors import CardCommandFailed, CardSessionPlanInvalid
from nfc_gateway.sim.card import (
    FILE_LAYOUT, MAX_SESSION_MODIFICATIONS, SFI_CONTRACT_LIST, SFI_CONTRACTS, SFI_COUNTER, SFI_ENVIRONMENT,
    SFI_EVENT_LOG, SoftwareCard,
)
from nfc_gateway.sim.sam import KEY_INDEXES, SecureModule
from nfc_gateway.sim.transaction import (
    ReadCard, WriteSession, append_record, close_session, decrease, increase, open_session, select_application,
    transmit_all, update_record,
)

SAM = SecureModule(bytes.fromhex("603DEB1015CA71BE2B73AEF0857D7781"))
SERIAL = bytes.fromhex("0000000001020304")
OK = b"\x90\x00"

records = st.binary(min_size=1, max_size=29)
amounts = st.integers(0, 20) | st.integers(0, 0xFFFFFF)
ops = st.one_of(
    st.tuples(st.just("update"), st.sampled_from([(SFI_CONTRACTS, r) for r in (1, 2, 3, 4)]
                                                  + [(SFI_CONTRACT_LIST, 1), (SFI_ENVIRONMENT, 1)]), records),
    st.tuples(st.just("increase"), st.integers(1, 9), amounts),
    st.tuples(st.just("decrease"), st.integers(1, 9), amounts),
    st.tuples(st.just("append"), st.just(SFI_EVENT_LOG), records),
)
ENDINGS = ["close", "close ratified", "tear", "select", "crash", "wrong mac", "no mac", "cut"]
sessions = st.lists(st.tuples(st.sampled_from(KEY_INDEXES), st.lists(ops, max_size=10), st.sampled_from(ENDINGS),
                              st.booleans(), st.integers(0, 12)),
                    max_size=8)


@dataclass
class Model:
    """The reference: files as lists of records, a session applied whole or not at all."""

    files: dict[int, list[bytes]]

    @classmethod
    def blank(cls) -> "Model":
        return cls({sfi: [bytes(29)] * n for sfi, (_, n, _) in FILE_LAYOUT.items()})

    def apply(self, key: int, operations) -> tuple[dict[int, list[bytes]] | None, list[bool]]:
        """The files after the session (None: the card loses the session), and which command succeeded."""
        files = {sfi: list(rs) for sfi, rs in self.files.items()}
        answers = []
        lost = False
        for n, (kind, target, value) in enumerate(operations):
            ok = not lost and n < MAX_SESSION_MODIFICATIONS
            if ok and kind == "update":
                sfi, record = target
                ok = key in FILE_LAYOUT[sfi][2]
                if ok:
                    files[sfi][record - 1] = value + bytes(29 - len(value))
            elif ok and kind == "append":
                files[SFI_EVENT_LOG] = [value + bytes(29 - len(value))] + files[SFI_EVENT_LOG][:-1]
            elif ok:
                current = int.from_bytes(files[SFI_COUNTER][0][3 * target - 3:3 * target], "big")
                new = current + value if kind == "increase" else current - value
                ok = 0 <= new <= 0xFFFFFF and (kind == "decrease" or key in FILE_LAYOUT[SFI_COUNTER][2])
                if ok:
                    record = bytearray(files[SFI_COUNTER][0])
                    record[3 * target - 3:3 * target] = new.to_bytes(3, "big")
                    files[SFI_COUNTER][0] = bytes(record)
            lost = lost or not ok
            answers.append(ok)
        return (None if lost else files), answers


def command(kind, target, value) -> bytes:
    if kind == "update":
        return update_record(target[0], target[1], value)
    if kind == "append":
        return append_record(target, value)
    return (increase if kind == "increase" else decrease)(target, value)


def card_files(card: SoftwareCard) -> dict[int, list[bytes]]:
    plan = ReadCard(None)
    result = plan.result(transmit_all(card.transmit, plan.commands()))
    return {sfi: list(rs) for sfi, rs in result.records.items()}


def end(card: SoftwareCard, ending: str) -> SoftwareCard:
    if ending == "tear":
        card.remove()
    elif ending == "select":
        card.transmit(select_application())
    elif ending == "crash":
        card = SoftwareCard.from_json(card.to_json())
    return card


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_sessions_by_hand_are_all_or_nothing(plan):
    card = SoftwareCard.blank(SERIAL, SAM.personalise(SERIAL))
    model = Model.blank()
    for opened, (key, operations, ending, _, _) in enumerate(plan, 1):
        card.transmit(select_application())
        challenge = SAM.challenge()
        open_command = open_session(key, challenge)
        opening = card.transmit(open_command)
        assert opening[-2:] == OK
        after, expected = model.apply(key, operations)
        exchanges = []
        for operation, ok in zip(operations, expected):
            raw = command(*operation)
            answer = card.transmit(raw)
            assert (answer[-2:] == OK) == ok, (operation, answer.hex())
            exchanges.append((raw, answer))
        session = SAM.session(SERIAL, key, challenge, opening[:3], open_command)
        closed = False
        if ending in ("close", "close ratified", "wrong mac", "no mac", "cut"):
            mac = session.terminal_mac(exchanges)
            if ending == "wrong mac":
                mac = bytes((mac[0] ^ 0x40,)) + mac[1:]
            if ending == "no mac":
                mac = b""
            answer = card.transmit(close_session(mac, ratify_now=ending == "close ratified"))
            writes = any(expected)
            closed = answer[-2:] == OK
            assert closed == (after is not None and ending not in ("wrong mac",) and not (ending == "no mac" and writes))
            if closed:
                session.verify_card_mac(exchanges, mac, answer[:-2])
        else:
            card = end(card, ending)
        if closed:
            model.files = after
        assert card_files(card) == model.files
        assert card.transaction_counter == opened


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions)
def test_presigned_sessions_are_all_or_nothing(plan):
    card = SoftwareCard.blank(SERIAL, SAM.personalise(SERIAL))
    model = Model.blank()
    for key, operations, ending, authenticated_read, cut in plan:
        reader = ReadCard(SAM if authenticated_read else None)
        seen = reader.result(transmit_all(card.transmit, reader.commands()))
        assert {sfi: list(rs) for sfi, rs in seen.records.items()} == model.files
        write = WriteSession.after(SAM, seen, key_index=key, ratify_now=ending == "close ratified")
        planned = []
        for operation in operations:
            try:
                getattr(write, {"update": "update_record", "append": "append_record"}.get(operation[0], operation[0]))(
                    *((operation[1] + (operation[2],)) if operation[0] == "update" else operation[1:]))
            except CardSessionPlanInvalid:
                continue                                     # refused before anything is sent
            planned.append(operation)
        after, expected = model.apply(key, planned)
        assert after is not None and all(expected)           # whatever WriteSession accepts, the card accepts
        batch = write.close()
        if ending in ("close", "close ratified", "no mac"):
            write.check(transmit_all(card.transmit, batch))
            model.files = after
        else:
            kept = min(cut, len(batch) - 1)                  # the connection drops before the close
            responses = transmit_all(card.transmit, batch[:kept])
            card = end(card, ending if ending in ("tear", "select", "crash") else "tear")
            try:
                write.check(responses)
            except CardCommandFailed:
                pass
            else:
                raise AssertionError("a batch cut short was taken for a write")
        assert card_files(card) == model.files
