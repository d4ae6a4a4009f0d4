"""Differentially private noise on raw tables (OpenDP). Pure: no I/O.

(to be written: see the issue 14 brief "privacy")
"""

from __future__ import annotations

from ticketing.statistics.model import NoiseRecord, RawTable

__all__ = ["add_noise"]


def add_noise(table: RawTable, *, mechanism: str, epsilon: float, delta: float, sensitivity: int,
              amount_sensitivity: int | None = None) -> tuple[RawTable, NoiseRecord]:
    """``table`` with integer, non-negative noise on each inner cell (and on amounts when given),
    calibrated to ``epsilon`` (and ``delta`` for gaussian) for one contributor changing counts by at
    most ``sensitivity`` in L1 (laplace) / L2 (gaussian)."""
    raise NotImplementedError
