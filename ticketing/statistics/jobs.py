"""The statistics background job: every ``every_s``, release the closed periods, then purge the
identifying data past its retention (days about to be purged are released first, so OD chaining
always sees their serials).

(to be written: see the issue 14 brief "retention")
"""

from __future__ import annotations

__all__: list[str] = []
