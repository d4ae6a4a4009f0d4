"""Small-cell suppression: no released cell under k, and an independent attacker (its own LP with
ortools GLOP, written here, not the module's graph audit) never pins a suppressed cell down, in one
table, through its margins, and through months built from days."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.linear_solver import pywraplp

from ticketing.statistics.model import ALL, ONE_COLUMN, RawTable, ReleasedTable
from ticketing.statistics.privacy import combine_days, protect

K = 10


def attack(tables: list[tuple[RawTable, ReleasedTable]], links: list[tuple[ReleasedTable, list[int]]] = ()):
    """Feasible [min, max] of every suppressed inner cell of every released table, for an attacker
    knowing all released values, which inner cells exist (≥ 1), and that margins are sums; ``links``
    adds month tables whose cells are sums of the same cells of the given day tables."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    inner = {}  # (t, row, col) -> var or value
    cons = []
    for t, (raw, rel) in enumerate(tables):
        one_dim = all(c == ONE_COLUMN for _, c in raw.counts)
        for cell in rel.cells:
            if cell.is_margin:
                continue
            if cell.count is None:
                inner[(t, cell.row, cell.col)] = solver.NumVar(1, 1e7, f"x{t}{cell.row}{cell.col}")
            else:
                inner[(t, cell.row, cell.col)] = cell.count
        for cell in rel.cells:
            if not cell.is_margin or cell.count is None:
                continue
            members = [v for (tt, r, c), v in inner.items() if tt == t
                       and (cell.row == ALL or r == cell.row) and (cell.col == ALL or c == cell.col)]
            assert not one_dim or (cell.row, cell.col) == (ALL, ALL)
            cons.append((members, cell.count))
    for month, parts in links:
        for cell in month.cells:
            if cell.count is None:
                continue
            # a month cell sums the day cells whose day value was released
            members = []
            value = cell.count
            for t in parts:
                day = tables[t][1].cell(cell.row, cell.col)
                if day is None or day.count is None:
                    continue
                members.extend(inner[(t, c.row, c.col)] for c in tables[t][1].cells if not c.is_margin
                               and (cell.row == ALL or c.row == cell.row) and (cell.col == ALL or c.col == cell.col))
            cons.append((members, value))
    for members, value in cons:
        known = sum(m for m in members if isinstance(m, int))
        vars_ = [m for m in members if not isinstance(m, int)]
        if vars_:
            solver.Add(sum(vars_) == value - known)
        else:
            assert known == value
    bounds = {}
    for key, var in inner.items():
        if isinstance(var, int):
            continue
        solver.Minimize(var)
        assert solver.Solve() == pywraplp.Solver.OPTIMAL
        low = var.solution_value()
        solver.Maximize(var)
        status = solver.Solve()
        assert status == pywraplp.Solver.OPTIMAL
        high = var.solution_value()
        bounds[key] = (low, high)
    return bounds


def check(raw: RawTable, rel: ReleasedTable) -> None:
    by_key = {(c.row, c.col): c for c in rel.cells}
    assert {key for key in by_key if ALL not in key} == set(raw.counts)
    for cell in rel.cells:
        if cell.count is not None:
            assert cell.count >= K or cell.count == 0
            members = [v for (r, c), v in raw.counts.items()
                       if (cell.row == ALL or r == cell.row) and (cell.col == ALL or c == cell.col)]
            assert cell.count == sum(members)
    for key, (low, high) in attack([(raw, rel)]).items():
        assert high - low >= 1 - 1e-6, (key, low, high)


def skewed(draw, one_dim: bool) -> RawTable:
    n_rows = draw(st.integers(1, 7))
    n_cols = 1 if one_dim else draw(st.integers(1, 6))
    counts = {}
    for r in range(n_rows):
        for c in range(n_cols):
            v = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3, 5, 9, 10, 12, 40, 200]))
            if v:
                counts[(f"r{r}", ONE_COLUMN if one_dim else f"c{c}")] = v
    return RawTable("t", "s", counts)


@st.composite
def table_1d(draw):
    return skewed(draw, True)


@st.composite
def table_2d(draw):
    return skewed(draw, False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_1d())
def test_one_dimensional_tables_hide_small_cells_from_the_total(raw):
    check(raw, protect(raw, K))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_2d())
def test_two_dimensional_tables_resist_solving_margins_and_cells_together(raw):
    check(raw, protect(raw, K))


def test_bound_traps_two_ones_and_a_rectangle_of_ones():
    one = RawTable("t", "s", {("a", ""): 1, ("b", ""): 1, ("c", ""): 30})
    rel = protect(one, K)
    check(one, rel)
    assert rel.cell("c", "").count is None  # the 1s alone would be determined by total − 30
    rect = {("a", "x"): 1, ("a", "y"): 1, ("b", "x"): 1, ("b", "y"): 1}
    rect.update({("a", "z"): 20, ("b", "z"): 20, ("c", "x"): 20, ("c", "y"): 20, ("c", "z"): 50})
    raw = RawTable("t", "s", rect)
    check(raw, protect(raw, K))


def test_a_line_of_ones_summing_to_k_frees_its_margin_as_a_last_resort():
    raw = RawTable("t", "s", {(f"r{i}", ""): 1 for i in range(12)})
    rel = protect(raw, K)
    check(raw, rel)
    assert rel.cell(ALL, ALL).count is None


def test_margins_are_decided_by_their_own_value():
    raw = RawTable("t", "s", {("a", "x"): 3, ("a", "y"): 40, ("b", "x"): 30, ("b", "y"): 2, ("c", "x"): 4, ("c", "y"): 3})
    rel = protect(raw, K)
    check(raw, rel)
    assert rel.cell("c", ALL).count is None  # 7 < k
    assert rel.cell("a", ALL).count == 43 and rel.cell(ALL, "x").count == 37 and rel.cell(ALL, ALL).count == 82


def test_a_small_row_derivable_from_the_margins_costs_a_margin():
    """Row c (4 < k) is total − rows a and b: its one cell is known unless a margin goes."""
    raw = RawTable("t", "s", {("a", "x"): 3, ("a", "y"): 40, ("b", "x"): 30, ("b", "y"): 2, ("c", "x"): 4})
    rel = protect(raw, K)
    check(raw, rel)
    assert rel.cell("c", "x").count is None


def test_noisy_tables_leave_out_small_cells_without_complements():
    """A table of DP counts: cells and margins under k are left out, nothing else (solving one back
    from the margins gives a noisy value, which the noise protects)."""
    raw = RawTable("t", "s", {("a", "x"): 3, ("a", "y"): 40, ("b", "x"): 30, ("b", "y"): 2, ("c", "x"): 4})
    rel = protect(raw, K, complementary=False)
    hidden = {(c.row, c.col) for c in rel.cells if c.count is None}
    assert hidden == {("a", "x"), ("b", "y"), ("c", "x"), ("c", ALL)}
    assert rel.cell(ALL, ALL).count == 79 and rel.cell(ALL, "x").count == 37  # sums of every noisy cell
    with_complements = protect(raw, K)
    assert {(c.row, c.col) for c in with_complements.cells if c.count is None} > hidden


def test_amounts_follow_their_counts():
    counts = {("p", "web"): 3, ("p", "shop"): 30, ("q", "web"): 25, ("q", "shop"): 40}
    raw = RawTable("t", "s", counts, {key: v * 190 for key, v in counts.items()})
    rel = protect(raw, K)
    for cell in rel.cells:
        assert (cell.count is None) == (cell.amount is None)
        if cell.count is not None:
            assert cell.amount == cell.count * 190


def test_months_reveal_nothing_the_days_did_not():
    rng = random.Random(7)
    days = []
    for d in range(3):
        counts = {}
        for r in range(4):
            for c in range(3):
                v = rng.choice([0, 1, 2, 4, 11, 15, 30])
                if v:
                    counts[(f"r{r}", f"c{c}")] = v
        counts[("r0", "c0")] = 1 if d == 1 else 0  # a traveller seen on one day only, in a small cell
        counts = {k: v for k, v in counts.items() if v}
        raw = RawTable("t", "s", counts)
        days.append((raw, protect(raw, K)))
    month = combine_days([rel for _, rel in days])
    for cell in month.cells:
        parts = [rel.cell(cell.row, cell.col) for _, rel in days]
        shown = [p.count for p in parts if p is not None and p.count is not None]
        assert cell.count == (sum(shown) if shown else None)
        assert cell.parts_suppressed == sum(1 for p in parts if p is not None and p.count is None)
    bounds = attack(days, [(month, [0, 1, 2])])
    for key, (low, high) in bounds.items():
        assert high - low >= 1 - 1e-6, key
    assert days[1][1].cell("r0", "c0").count is None


@st.composite
def od_like(draw):
    """An origin-destination day as the release sees it: many stops, most pairs absent, most present
    pairs at 1, a few busy ones (the shape where the repair rounds contract components and the
    audit meets bridge cells)."""
    n = draw(st.integers(6, 16))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    counts = {}
    for o in range(n):
        for d in range(n):
            if o != d and rng.random() < 0.3:
                counts[(f"s{o}", f"s{d}")] = rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 9, 11, 15, 60])
    return RawTable("od", "net", counts or {("s0", "s1"): 1})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(od_like())
def test_sparse_origin_destination_tables_resist_the_attacker(raw):
    check(raw, protect(raw, K))
