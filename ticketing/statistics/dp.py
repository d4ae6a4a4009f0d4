"""Differentially private noise on raw tables (OpenDP). Pure: no I/O.

Integer noise from OpenDP's vetted samplers: the discrete Laplace (pure ε) or the discrete Gaussian
(zCDP, converted to (ε, δ)). With a public domain (``rows`` × ``cols``: the network's routes, stops,
the 24 hours), every domain cell is noised, zeros included, so the release does not reveal which
cells are non-zero; without one only present cells are noised (weaker: presence leaks). Present
cells outside the domain are noised too (nothing is dropped), which leaks their presence: the
domain should cover them. Noisy values are clamped at 0 and zeros dropped (post-processing);
margins are then sums of noisy cells (``privacy.protect``), consistent and non-negative.

When amounts are noised too (``amount_sensitivity``), ε is split in half between counts and
amounts (basic composition); the record's ε is the total.
"""

from __future__ import annotations

import opendp.prelude as dp

from ticketing.statistics.model import ONE_COLUMN, NoiseRecord, RawTable

__all__ = ["add_noise", "split_budget"]

dp.enable_features("contrib")


def split_budget(epsilon: float, delta: float, n: int) -> tuple[float, float]:
    """Each of ``n`` releases' share of (ε, δ) under basic composition."""
    if n < 1:
        raise ValueError("split_budget: n must be ≥ 1")
    return epsilon / n, delta / n


def _domain() -> object:
    return dp.vector_domain(dp.atom_domain(T="i64"))


def _laplace(sensitivity: float, epsilon: float) -> tuple[object, float]:
    scale = sensitivity / epsilon
    for _ in range(60):
        meas = dp.m.make_laplace(_domain(), dp.l1_distance(T="i64"), scale)
        if meas.map(int(sensitivity)) <= epsilon:
            return meas, scale
        scale *= 1 + 1e-12
    raise ValueError("laplace: no scale meets epsilon")


def _gaussian(sensitivity: float, epsilon: float, delta: float) -> tuple[object, float]:
    def make(scale: float) -> object:
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(
            dp.m.make_gaussian(_domain(), dp.l2_distance(T="i64"), scale)), delta)
    scale = dp.binary_search_param(make, d_in=int(sensitivity), d_out=(epsilon, delta))
    meas = make(scale)
    eps, dl = meas.map(int(sensitivity))
    if eps > epsilon or dl > delta:
        raise ValueError("gaussian: the scale found does not meet (epsilon, delta)")
    return meas, scale


def add_noise(table: RawTable, *, mechanism: str, epsilon: float, delta: float, sensitivity: int,
              amount_sensitivity: int | None = None, rows=None, cols=None) -> tuple[RawTable, NoiseRecord]:
    """``table`` with integer, non-negative noise on each inner cell (and on amounts when given),
    calibrated to ``epsilon`` (and ``delta`` for gaussian) for one contributor changing counts by at
    most ``sensitivity`` in L1 (laplace) / L2 (gaussian)."""
    if epsilon <= 0 or sensitivity < 1:
        raise ValueError("add_noise: epsilon must be > 0 and sensitivity ≥ 1")
    eps_counts = epsilon / 2 if amount_sensitivity else epsilon
    if mechanism == "laplace":
        meas, scale = _laplace(sensitivity, eps_counts)
        delta_used = 0.0
    elif mechanism == "gaussian":
        meas, scale = _gaussian(sensitivity, eps_counts, delta)
        delta_used = delta
    else:
        raise ValueError(f"add_noise: unknown mechanism {mechanism!r}")
    keys = set(table.counts)
    if rows is not None or cols is not None:
        one_dim = all(c == ONE_COLUMN for _, c in table.counts) if table.counts else cols is None
        dom_rows = list(rows) if rows is not None else sorted({r for r, _ in table.counts})
        dom_cols = (list(cols) if cols is not None
                    else [ONE_COLUMN] if one_dim else sorted({c for _, c in table.counts}))
        domain = {(r, c) for r in dom_rows for c in dom_cols}
        outside = len(keys - domain)
        keys |= domain
    else:
        outside = None
    order = sorted(keys)
    noisy = meas([int(table.counts.get(key, 0)) for key in order]) if order else []
    counts = {key: int(v) for key, v in zip(order, noisy) if v > 0}
    amounts = None
    amount_scale = None
    if amount_sensitivity and table.amounts is not None:
        ameas, amount_scale = _laplace(amount_sensitivity, epsilon - eps_counts)
        anoisy = ameas([int(table.amounts.get(key, 0)) for key in order]) if order else []
        amounts = {key: max(0, int(v)) for key, v in zip(order, anoisy) if key in counts}
    elif table.amounts is not None:
        amounts = None  # amounts are not released without their own noise
    record = NoiseRecord(
        mechanism=mechanism, epsilon=epsilon, delta=delta_used, scale=scale, sensitivity=float(sensitivity),
        amount_scale=amount_scale,
        parameters={"epsilon_counts": eps_counts, "epsilon_amounts": (epsilon - eps_counts) if amount_scale else None,
                    "amount_sensitivity": amount_sensitivity, "domain": outside is not None,
                    "cells_noised": len(order), "outside_domain": outside})
    return (RawTable(table.family, table.scope, counts, amounts, table.authority_ids, table.network_ids), record)
