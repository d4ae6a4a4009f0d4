"""Readiness: components report whether they can serve (database, timetable, catalogue...)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Readiness"]


@dataclass
class Readiness:
    """Component name -> (ready, detail). `/readyz` answers 200 only when every one is ready."""

    components: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def expect(self, name: str, detail: str = "starting") -> None:
        self.components.setdefault(name, (False, detail))

    def set(self, name: str, ready: bool, detail: str = "") -> None:
        self.components[name] = (ready, detail)

    @property
    def ready(self) -> bool:
        return all(ok for ok, _ in self.components.values())
