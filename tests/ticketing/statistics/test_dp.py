"""Differential privacy: the noise has the declared scale (statistical test), the privacy map
meets the budget, noisy output is integer and non-negative, and a public domain noises zeros too.

OpenDP's samplers cannot be seeded: the data are fixed, the bounds wide but discriminating. With
n = 50 000 cells the sample variance's standard deviation is about σ²·√((κ−1)/n) ≤ 1.1 % of σ² (κ ≤ 6:
the kurtosis of a Laplace); the ±10 % bounds are ≥ 9 standard deviations (failure probability far
below 1e-9), while a scale off by 30 % moves the variance by −51 % or +69 %."""

from __future__ import annotations

import math

import numpy as np
import opendp.prelude as dp
import pytest

from ticketing.statistics.dp import add_noise, laplace_threshold, split_budget
from ticketing.statistics.model import ONE_COLUMN, RawTable

N = 50_000
BIG = 10_000  # far from 0: clamping never bites


def big_table() -> RawTable:
    return RawTable("stop", "s", {(f"s{i}", ONE_COLUMN): BIG for i in range(N)})


def laplace_variance(b: float) -> float:
    q = math.exp(-1 / b)
    return 2 * q / (1 - q) ** 2


def sample_variance(noisy: RawTable) -> float:
    values = np.array([noisy.counts.get((f"s{i}", ONE_COLUMN), 0) for i in range(N)], dtype=float)
    return float(np.var(values - BIG, ddof=1))


@pytest.mark.slow
def test_laplace_noise_has_the_declared_scale():
    noisy, record = add_noise(big_table(), mechanism="laplace", epsilon=0.5, delta=0, sensitivity=2)
    assert record.scale == pytest.approx(4.0)
    var = sample_variance(noisy)
    expected = laplace_variance(record.scale)
    assert 0.9 * expected <= var <= 1.1 * expected
    assert not (0.9 * laplace_variance(1.3 * record.scale) <= var <= 1.1 * laplace_variance(1.3 * record.scale))
    assert not (0.9 * laplace_variance(0.7 * record.scale) <= var <= 1.1 * laplace_variance(0.7 * record.scale))


@pytest.mark.slow
def test_gaussian_noise_has_the_declared_scale_and_meets_epsilon_delta():
    noisy, record = add_noise(big_table(), mechanism="gaussian", epsilon=1.0, delta=1e-7, sensitivity=1)
    var = sample_variance(noisy)
    assert 0.9 * record.scale ** 2 <= var <= 1.1 * record.scale ** 2
    meas = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64"), record.scale)), 1e-7)
    eps, delta = meas.map(1)
    assert eps <= 1.0 and delta <= 1e-7
    assert eps > 0.9  # the smallest scale: not a needlessly large one


@pytest.mark.parametrize("sensitivity,epsilon", [(1, 1.0), (3, 0.3), (8, 0.7)])
def test_the_laplace_privacy_map_meets_epsilon(sensitivity, epsilon):
    _, record = add_noise(RawTable("stop", "s", {("a", ""): 5}), mechanism="laplace", epsilon=epsilon,
                          delta=0, sensitivity=sensitivity)
    meas = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"), record.scale)
    assert meas.map(sensitivity) <= epsilon
    assert record.epsilon == epsilon and record.sensitivity == sensitivity


def test_noisy_output_is_integer_non_negative_and_zeros_of_the_domain_can_appear():
    table = RawTable("route_hour", "s", {("R1", "08"): 3, ("R2", "17"): 1},
                     {("R1", "08"): 570, ("R2", "17"): 190})
    hours = [f"{h:02d}" for h in range(24)]
    appeared = set()
    for _ in range(20):
        noisy, record = add_noise(table, mechanism="laplace", epsilon=0.5, delta=0, sensitivity=2,
                                  amount_sensitivity=400, rows=["R1", "R2", "R3"], cols=hours)
        for key, v in noisy.counts.items():
            assert isinstance(v, int) and v > 0
            assert key[0] in {"R1", "R2", "R3"} and key[1] in hours
        assert set(noisy.amounts) == set(noisy.counts)
        assert all(isinstance(a, int) and a >= 0 for a in noisy.amounts.values())
        appeared |= set(noisy.counts) - set(table.counts)
        assert record.amount_scale == pytest.approx(400 / 0.25)
        assert record.parameters["cells_noised"] == 72
    assert appeared  # 70 zero cells noised at scale 8, 20 times: some come out ≥ 1


@pytest.mark.slow
def test_without_a_domain_only_present_cells_are_noised():
    table = RawTable("stop", "s", {("a", ""): 50, ("b", ""): 2})
    for _ in range(10):
        noisy, _ = add_noise(table, mechanism="gaussian", epsilon=1.0, delta=1e-7, sensitivity=1)
        assert set(noisy.counts) <= {("a", ""), ("b", "")}


def test_split_budget_is_basic_composition():
    assert split_budget(1.0, 1e-6, 4) == (0.25, 2.5e-7)
    with pytest.raises(ValueError):
        split_budget(1.0, 0, 0)


# ---------------------------------------------------------------- large domains: thresholded Laplace


def _threshold_map(scale: float, threshold: int, sensitivity: int) -> tuple[float, float]:
    meas = dp.m.make_laplace_threshold(dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T="i64")),
                                       dp.l01inf_distance(dp.absolute_distance(T="i64")), scale, threshold)
    return meas.map((sensitivity, sensitivity, sensitivity))


@pytest.mark.parametrize("sensitivity,epsilon,delta", [(1, 1.0, 1e-7), (8, 0.125, 1e-8), (3, 0.4, 1e-6)])
def test_the_threshold_is_the_smallest_that_meets_epsilon_and_delta(sensitivity, epsilon, delta):
    _, scale, threshold = laplace_threshold(sensitivity, epsilon, delta)
    eps, dl = _threshold_map(scale, threshold, sensitivity)
    assert eps <= epsilon and dl <= delta
    assert _threshold_map(scale, threshold - 1, sensitivity)[1] > delta  # one lower leaks more than delta
    assert scale == pytest.approx(sensitivity / epsilon)


def test_a_large_domain_is_thresholded_present_cells_only_zeros_never_drawn():
    """A 3,000 x 3,000 OD-like domain, 2,200 cells present: 2,000 large flows, 200 of one traveller."""
    stops = [f"s{i}" for i in range(3000)]
    counts = {(stops[i], stops[i + 1]): 5_000 for i in range(2000)}
    counts |= {(stops[i], stops[i + 2]): 1 for i in range(2000, 2200)}
    table = RawTable("od", "tcl", counts)
    noisy, record = add_noise(table, mechanism="laplace", epsilon=0.125, delta=1e-8, sensitivity=8,
                              rows=stops, cols=stops)
    threshold = record.parameters["threshold"]
    assert threshold is not None and record.delta == 1e-8 and record.epsilon == 0.125
    assert set(noisy.counts) == {key for key, v in counts.items() if v == 5_000}  # the large flows, nothing else
    assert all(v >= threshold for v in noisy.counts.values())
    errors = np.array([noisy.counts[key] - 5_000 for key in noisy.counts], dtype=float)
    # 2,000 draws at scale 64: the sample variance's sd is √(5/2000) = 5 % of 2q/(1-q)^2, the bounds ±25 % are
    # 5 sd, while a scale off by 30 % moves it by -51 % or +69 %
    var = float(np.var(errors, ddof=1))
    assert 0.75 * laplace_variance(record.scale) <= var <= 1.25 * laplace_variance(record.scale)


def test_without_delta_or_below_the_size_the_whole_domain_is_noised():
    table = RawTable("od", "tcl", {("a", "b"): 3})
    rows = [f"s{i}" for i in range(30)]
    for kwargs in ({"delta": 0.0}, {"delta": 1e-7, "threshold_from": 10_000}):
        _, record = add_noise(table, mechanism="laplace", epsilon=0.5, sensitivity=2, rows=rows, cols=rows, **kwargs)
        assert record.parameters["threshold"] is None and record.parameters["cells_noised"] == 901
    _, record = add_noise(table, mechanism="laplace", epsilon=0.5, delta=1e-7, sensitivity=2, rows=rows, cols=rows,
                          threshold_from=100)
    assert record.parameters["threshold"] is not None and record.delta == 1e-7
