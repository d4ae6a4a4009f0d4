"""Number cells of a GTFS table: the vectorised parsers give what ``pd.to_numeric`` gives cell by
cell (empty or malformed -> the default or NaN), on the fast path and on the fallback alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feeds.gtfs.model import parse_gtfs_integers, parse_gtfs_numbers


def _cell_by_cell(cells: list[object]) -> np.ndarray:
    return np.array([pd.to_numeric(pd.Series([cell], dtype=object), errors="coerce").iloc[0] for cell in cells],
                    dtype=float)


@pytest.mark.parametrize("cells", [
    ["45.75", "-4.8", "0", "1e3"],  # plain numbers: the C parser's path
    ["45.75", "", " 4.5 ", "NaN"],  # blanks, padding, NaN
    ["1", "abc", "2"],  # a word: the column falls back to cell by cell
    ["1", "2,5", "3"],  # a comma would make two fields
    ['"1"', "2"],  # a quote is a character, not quoting
    ["1\n2", "3"],  # a newline would make an extra row
    ["1", "0x10"],
    ["", ""],  # only blanks
    [],
])
def test_numbers_agree_with_to_numeric_cell_by_cell(cells):
    np.testing.assert_array_equal(parse_gtfs_numbers(np.array(cells, dtype=object)), _cell_by_cell(cells))


def test_numbers_keep_every_digit_of_real_coordinates():
    rng = np.random.default_rng(7)
    values = rng.uniform(-180, 180, 5000)
    cells = [repr(float(v)) for v in values] + [f"{v:.6f}" for v in values]
    expected = np.array([float(c) for c in cells])
    np.testing.assert_array_equal(parse_gtfs_numbers(pd.Series(cells, dtype=str)), expected)


def test_numbers_of_cells_that_are_not_strings():
    np.testing.assert_array_equal(parse_gtfs_numbers(np.array(["1.5", None, 2.0], dtype=object)), [1.5, np.nan, 2.0])


@pytest.mark.parametrize(("cells", "default", "expected"), [
    (["3", "1", "2", "1", "3"], -1, [3, 1, 2, 1, 3]),
    ([" 7 ", "", "x", "2.0"], -1, [7, -1, -1, 2]),
    (["", ""], 0, [0, 0]),
    ([], 5, []),
    (["9007199254740993", "1"], 0, [9007199254740993, 1]),  # past 2**53: exact, not through a float
])
def test_integers_take_the_default_for_empty_or_malformed_cells(cells, default, expected):
    got = parse_gtfs_integers(np.array(cells, dtype=object), default)
    assert got.dtype == np.int64
    assert got.tolist() == expected


def test_integers_of_a_long_repeating_column():
    cells = np.array([str(i % 37) for i in range(10_000)], dtype=object)
    cells[::101] = ""
    expected = np.array([i % 37 for i in range(10_000)])
    expected[::101] = -1
    np.testing.assert_array_equal(parse_gtfs_integers(cells, -1), expected)
