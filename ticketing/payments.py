"""Payment providers behind one protocol, and a test provider that can fail in every way.

A provider must be idempotent on ``idempotency_key`` (every real acquirer API offers this): a
second `charge` with the same key returns the first charge instead of charging again, and
`find_charge` looks a key up without charging. Sales rely
on it to survive the hard case, a provider that took the money but never told us: the order stays
``pending`` and the retry asks the provider again with the same key, which returns the charge it
already made, so the order is paid exactly once.

`TestPaymentProvider` chooses its behaviour from the payment token (a sales point sends the token
its card reader produced):

- ``tok_approve`` (or anything else): approved;
- ``tok_decline``: declined, nothing charged;
- ``tok_timeout``: the first attempt times out *before* charging; retries are approved;
- ``tok_fail_after_charge``: the first attempt charges, then fails; retries return that charge;
- ``tok_timeout_always``: every attempt times out.

Restarts. A real acquirer outlives our process; the test provider, the default of ``oura serve``,
must behave the same or every restart breaks exactly-once selling. Two decisions:

- its references are *derived from the idempotency key* (``ch_`` + the first 24 hex digits of the
  key's SHA-256, ``re_`` likewise for a refund key), never from a counter: a restarted provider
  cannot hand out ``ch_1`` again and hit the unique payment reference of an order sold before the
  restart, and a retry after a restart gets the same reference as before it;
- given a ``journal`` file, it appends each charge and refund to it (one JSON line, written before
  the call returns) and reads it back when created, so after a restart (even a SIGKILL) it still
  knows what it charged: a retry returns that charge instead of charging again, and
  reconciliation's `find_charge` finds a charge made before the restart and refunds it. Without a
  journal (unit tests) it forgets everything with the process, as before.

A journal holds the charges of one database: keys are ``order-<id>``, so a journal kept while the
database is recreated would answer new orders with old charges; `oura serve` keeps it in the data
folder, next to the embedded database.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

__all__ = [
    "ChargeStatus",
    "PaymentResult",
    "PaymentProvider",
    "PaymentUnavailable",
    "TestPaymentProvider",
    "derive_reference",
]


class ChargeStatus(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class PaymentResult:
    status: ChargeStatus
    reference: str  # the provider's id of the charge or refund
    amount_minor: int
    currency: str


class PaymentUnavailable(Exception):
    """The provider did not answer (timeout, network error): the outcome is unknown."""


class PaymentProvider(Protocol):
    name: str

    async def charge(self, *, amount_minor: int, currency: str, token: str, idempotency_key: str) -> PaymentResult:
        """Charge once per idempotency key; raise PaymentUnavailable when the outcome is unknown."""
        ...

    async def refund(self, *, charge_reference: str, amount_minor: int, currency: str, idempotency_key: str) -> PaymentResult:
        ...

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        """The charge made with this key, None when there is none; charges nothing. Raise
        PaymentUnavailable when the provider does not answer. Reconciliation asks it about orders
        their client abandoned."""
        ...


def derive_reference(prefix: str, idempotency_key: str) -> str:
    """A provider reference that is a function of the idempotency key: the same after a restart,
    distinct for distinct keys."""
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


@dataclass
class TestPaymentProvider:
    """An acquirer simulated in process: records charges and refunds so tests can count them, and
    appends them to ``journal`` (when given) so that they survive a restart of the process."""

    __test__ = False  # not a pytest class
    name: str = "test"
    delay_s: float = 0.0
    charges: dict[str, PaymentResult] = field(default_factory=dict)  # idempotency key -> charge
    refunds: dict[str, PaymentResult] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    journal: Path | None = None  # JSON lines of the charges and refunds made, read back at creation

    def __post_init__(self) -> None:
        if self.journal is None:
            return
        self.journal = Path(self.journal)
        if not self.journal.exists():
            return
        for line in self.journal.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut by a kill while being written: that call never answered
                continue
            result = PaymentResult(ChargeStatus(entry["status"]), entry["reference"], entry["amount_minor"], entry["currency"])
            (self.charges if entry["kind"] == "charge" else self.refunds)[entry["key"]] = result

    def _record(self, kind: str, idempotency_key: str, result: PaymentResult) -> None:
        (self.charges if kind == "charge" else self.refunds)[idempotency_key] = result
        if self.journal is None:
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        entry = {"kind": kind, "key": idempotency_key, "status": result.status.value, "reference": result.reference,
                 "amount_minor": result.amount_minor, "currency": result.currency}
        with self.journal.open("a", encoding="utf-8") as file:  # one short line: cheaper than a thread hop
            file.write(json.dumps(entry) + "\n")

    @property
    def charged_minor(self) -> int:
        return sum(c.amount_minor for c in self.charges.values() if c.status is ChargeStatus.APPROVED)

    async def charge(self, *, amount_minor: int, currency: str, token: str, idempotency_key: str) -> PaymentResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        attempt = self.attempts.get(idempotency_key, 0) + 1
        self.attempts[idempotency_key] = attempt
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        if token == "tok_timeout_always" or (token == "tok_timeout" and attempt == 1):
            raise PaymentUnavailable("provider timed out")
        status = ChargeStatus.DECLINED if token == "tok_decline" else ChargeStatus.APPROVED
        result = PaymentResult(status, derive_reference("ch", idempotency_key), amount_minor, currency)
        self._record("charge", idempotency_key, result)
        if token == "tok_fail_after_charge" and attempt == 1:
            raise PaymentUnavailable("provider failed after charging")
        return result

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return self.charges.get(idempotency_key)

    async def refund(self, *, charge_reference: str, amount_minor: int, currency: str, idempotency_key: str) -> PaymentResult:
        if idempotency_key in self.refunds:
            return self.refunds[idempotency_key]
        result = PaymentResult(ChargeStatus.APPROVED, derive_reference("re", idempotency_key), amount_minor, currency)
        self._record("refund", idempotency_key, result)
        return result
