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
"""

from __future__ import annotations

import asyncio
import enum
import itertools
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "ChargeStatus",
    "PaymentResult",
    "PaymentProvider",
    "PaymentUnavailable",
    "TestPaymentProvider",
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


@dataclass
class TestPaymentProvider:
    """An in-memory acquirer: records charges and refunds so tests can count them."""

    __test__ = False  # not a pytest class
    name: str = "test"
    delay_s: float = 0.0
    charges: dict[str, PaymentResult] = field(default_factory=dict)  # idempotency key -> charge
    refunds: dict[str, PaymentResult] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

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
        result = PaymentResult(status, f"ch_{next(self._ids)}", amount_minor, currency)
        self.charges[idempotency_key] = result
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
        result = PaymentResult(ChargeStatus.APPROVED, f"re_{next(self._ids)}", amount_minor, currency)
        self.refunds[idempotency_key] = result
        return result
