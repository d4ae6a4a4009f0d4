"""journey_planner.journey_pages: cursors round-trip, are bound to their places, and pages tile time."""

import pytest

from journey_planner.core import Journey, WalkLeg
from journey_planner.errors import InvalidCursor
from journey_planner.journey_pages import EMPTY_STEP_S, Page, decode_cursor, encode_cursor, neighbours

T = 1_741_158_000  # 2025-03-05 08:00 in Paris


def journey(departure: int, arrival: int) -> Journey:
    return Journey((WalkLeg(0, 1, departure, arrival, arrival - departure),), departure, arrival)


def test_a_cursor_round_trips_and_is_opaque_url_safe_text():
    page = Page(T, True, 1800)
    cursor = encode_cursor(page, "synchro:gare", "45.56,5.91")
    assert decode_cursor(cursor, "synchro:gare", "45.56,5.91") == page
    assert decode_cursor(cursor, " synchro:gare", "45.56,5.91 ") == page  # as the places are read
    assert cursor == encode_cursor(page, "synchro:gare", "45.56,5.91")  # stable
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "synchro:gare", "synchro:centre")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor[:-3], "synchro:gare", "45.56,5.91")
    with pytest.raises(InvalidCursor):
        decode_cursor("", "synchro:gare", "45.56,5.91")


def test_window_pages_tile_the_time_line_both_ways():
    after, before = neighbours(Page(T, False, 600), [journey(T + 10, T + 900)])
    assert (after, before) == (Page(T + 601, False, 600), Page(T - 601, False, 600))
    after, before = neighbours(Page(T, True, 600), [])
    assert (after, before) == (Page(T + 601, True, 600), Page(T - 601, True, 600))


def test_pages_without_a_window_start_after_the_latest_departure_and_end_before_the_earliest_arrival():
    after, before = neighbours(Page(T, False, 0), [journey(T + 60, T + 1200), journey(T + 300, T + 1500)])
    assert (after, before) == (Page(T + 301, False, 0), Page(T + 1199, True, 0))
    # arrive-by pages have the same neighbours: later departures, earlier arrivals
    assert neighbours(Page(T + 3000, True, 0), [journey(T + 60, T + 1200)]) == (
        Page(T + 61, False, 0), Page(T + 1199, True, 0))


def test_empty_pages_move_on():
    assert neighbours(Page(T, False, 0), []) == (Page(T + EMPTY_STEP_S, False, 0), Page(T - 1, True, 0))
    assert neighbours(Page(T, True, 0), []) == (Page(T + 1, False, 0), Page(T - EMPTY_STEP_S, True, 0))
