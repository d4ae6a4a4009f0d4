"""A progress bar per feed on the terminal, for `oura feeds ingest`.

On a TTY the lines are redrawn in place (one line per feed); elsewhere (logs, CI) only each
feed's final line is printed, so output stays readable when redirected.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

__all__ = ["TerminalProgress"]

_BAR_WIDTH = 28


class TerminalProgress:
    def __init__(self, names: list[str], stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._names = names
        self._width = max((len(n) for n in names), default=4)
        self._lines = {name: self._render(name, 0, None, "waiting") for name in names}
        self._interactive = self._stream.isatty()
        self._drawn = False

    @staticmethod
    def _size(n: int) -> str:
        for unit in ("B", "kB", "MB", "GB"):
            if n < 1024 or unit == "GB":
                return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
            n /= 1024
        return f"{n} B"

    def _render(self, name: str, done: int, total: int | None, state: str) -> str:
        if total:
            filled = int(_BAR_WIDTH * min(done / total, 1))
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            amount = f"{self._size(done)}/{self._size(total)}"
        else:
            bar = ("#" * _BAR_WIDTH) if done else ("-" * _BAR_WIDTH)
            amount = self._size(done) if done else ""
        return f"{name:<{self._width}} [{bar}] {amount:>19} {state}"

    def _draw(self) -> None:
        if not self._interactive:
            return
        if self._drawn:
            self._stream.write(f"\x1b[{len(self._names)}F")
        for name in self._names:
            self._stream.write("\x1b[2K" + self._lines[name] + "\n")
        self._stream.flush()
        self._drawn = True

    def callback(self, name: str) -> Callable[[int, int | None], None]:
        def update(done: int, total: int | None) -> None:
            self._lines[name] = self._render(name, done, total, "fetching")
            self._draw()

        return update

    def finish(self, name: str, state: str) -> None:
        line = self._lines[name]
        self._lines[name] = line[: line.rfind("]") + 21] + " " + state
        if self._interactive:
            self._draw()
        else:
            self._stream.write(self._lines[name] + "\n")
            self._stream.flush()
