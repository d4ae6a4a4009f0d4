"""Small-cell suppression with complementary suppression, and months as post-processing of days.
Pure: no I/O.

(to be written: see the issue 14 brief "privacy")
"""

from __future__ import annotations

from collections.abc import Sequence

from ticketing.statistics.model import RawTable, ReleasedTable

__all__ = ["protect", "combine_days"]


def protect(table: RawTable, k: int) -> ReleasedTable:
    """The released form of ``table``: inner cells and margins, every cell under ``k`` suppressed,
    and enough others (complementary suppression) that no suppressed cell can be solved back from
    the released cells and margins."""
    raise NotImplementedError


def combine_days(days: Sequence[ReleasedTable]) -> ReleasedTable:
    """A month's table from its released days (same family and scope): each cell is the sum of
    the released day cells, ``parts_suppressed`` counting those left out; nothing that the days
    did not release enters it, so a month reveals nothing new."""
    raise NotImplementedError
