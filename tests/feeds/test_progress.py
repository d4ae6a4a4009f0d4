"""The per-feed progress bar: redrawn in place on a terminal, one final line per feed otherwise."""

from __future__ import annotations

import io

from feeds.progress import TerminalProgress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_redirected_output_prints_one_final_line_per_feed() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(["tcl", "ter"], stream=stream)
    progress.callback("tcl")(512, 1024)
    progress.callback("tcl")(1024, 1024)
    progress.finish("tcl", "accepted")
    progress.finish("ter", "failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("tcl") and "#" * 28 in lines[0] and lines[0].endswith("accepted")
    assert lines[1].startswith("ter") and lines[1].endswith("failed")


def test_terminal_output_redraws_every_feed_line() -> None:
    stream = _Tty()
    progress = TerminalProgress(["tcl", "ter"], stream=stream)
    progress.callback("ter")(300, 1200)
    progress.callback("ter")(600, 1200)
    text = stream.getvalue()
    assert text.count("\x1b[2F") == 1  # second draw moves back up over the two lines
    assert "600 B/1.2 kB" in text and "-" * 14 in text
