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

**Large domains: Laplace with a threshold.** An OD table's domain is stops × stops (25 M cells for
5,000 stops, nearly all zero). Noising every cell at a day's ε share (scale 64 for 8 validations a
medium and ε 1/8) gives ≈ 11 M cells of pure noise above k, minutes to draw and store, and nothing
an authority can use. Past ``THRESHOLD_FROM`` zero cells, a laplace table is released with
OpenDP's ``make_laplace_threshold`` instead: the present cells are noised and only those whose
noisy count reaches a threshold τ are released, τ being the smallest for which a contributor
changing at most ``sensitivity`` cells by ``sensitivity`` in all stays within (ε, δ): an absent
cell cannot be told from a zero. This spends the table's δ share (approximate DP); the record
says so (``threshold``, ``delta``). Gaussian tables keep the whole domain.
"""

from __future__ import annotations

import opendp.prelude as dp

from ticketing.statistics.model import ONE_COLUMN, NoiseRecord, RawTable

__all__ = ["add_noise", "laplace_threshold", "split_budget", "THRESHOLD_FROM"]

THRESHOLD_FROM = 100_000  # zero cells of a laplace table's domain from which it is thresholded

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


def _threshold_domain() -> object:
    return dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T="i64"))


def laplace_threshold(sensitivity: int, epsilon: float, delta: float) -> tuple[object, float, int]:
    """OpenDP's thresholded Laplace on a map of counts, its scale and the smallest threshold for
    which one contributor (≤ ``sensitivity`` cells, ≤ ``sensitivity`` in L1 and L∞) stays within
    (``epsilon``, ``delta``)."""
    scale = sensitivity / epsilon
    metric = dp.l01inf_distance(dp.absolute_distance(T="i64"))
    d_in = (sensitivity, sensitivity, sensitivity)

    def make(threshold: int) -> object:
        return dp.m.make_laplace_threshold(_threshold_domain(), metric, scale, threshold)

    def meets(threshold: int) -> bool:
        eps, dl = make(threshold).map(d_in)
        return eps <= epsilon and dl <= delta

    for _ in range(60):  # the scale first (as `_laplace`: float rounding in the map)
        if make(sensitivity + 1).map(d_in)[0] <= epsilon:
            break
        scale *= 1 + 1e-12
    low, high = sensitivity, sensitivity + 1
    while not meets(high):
        low, high = high, high * 2
        if high > 2 ** 40:
            raise ValueError("laplace_threshold: no threshold meets delta")
    while high - low > 1:  # meets(high), not meets(low)
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return make(high), scale, high


def _thresholded(table: RawTable, sensitivity: int, epsilon: float, delta: float
                 ) -> tuple[dict[tuple[str, str], int], float, int]:
    meas, scale, threshold = laplace_threshold(sensitivity, epsilon, delta)
    names = {f"{r}\x1f{c}": (r, c) for r, c in table.counts}
    noisy = meas({name: int(table.counts[key]) for name, key in names.items()})
    return {names[name]: int(v) for name, v in noisy.items() if v > 0}, scale, threshold


def add_noise(table: RawTable, *, mechanism: str, epsilon: float, delta: float, sensitivity: int,
              amount_sensitivity: int | None = None, rows=None, cols=None,
              threshold_from: int = THRESHOLD_FROM) -> tuple[RawTable, NoiseRecord]:
    """``table`` with integer, non-negative noise on each inner cell (and on amounts when given),
    calibrated to ``epsilon`` (and ``delta`` for gaussian) for one contributor changing counts by at
    most ``sensitivity`` in L1 (laplace) / L2 (gaussian). A laplace table whose domain has
    ``threshold_from`` zero cells or more, given a ``delta`` > 0, is thresholded instead."""
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
    threshold = None
    if rows is not None or cols is not None:
        one_dim = all(c == ONE_COLUMN for _, c in table.counts) if table.counts else cols is None
        dom_rows = set(rows) if rows is not None else {r for r, _ in table.counts}
        dom_cols = (set(cols) if cols is not None
                    else {ONE_COLUMN} if one_dim else {c for _, c in table.counts})
        inside = sum(1 for r, c in keys if r in dom_rows and c in dom_cols)
        outside = len(keys) - inside
        if mechanism == "laplace" and delta > 0 and len(dom_rows) * len(dom_cols) - inside >= threshold_from:
            counts, scale, threshold = _thresholded(table, sensitivity, eps_counts, delta)
            delta_used = delta
        else:
            keys |= {(r, c) for r in dom_rows for c in dom_cols}
    else:
        outside = None
    order = sorted(keys)
    if threshold is None:
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
                    "cells_noised": len(order), "outside_domain": outside, "threshold": threshold})
    return (RawTable(table.family, table.scope, counts, amounts, table.authority_ids, table.network_ids), record)
