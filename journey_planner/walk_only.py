"""Walk-only journeys: when walking the whole way is as good as riding, say so.

Rules (`WalkingRules`), for a place-to-place walk of ``walk_m`` metres (straight line times the
detour factor) taking ``walk_s`` seconds:

1. No walk-only journey beyond ``max_walk_only_m`` (2 km by default): the answer is transit only.
2. A transit journey that takes at least as long as walking (``duration_s >= walk_s``) is dropped:
   walking, leaving when it leaves, arrives no later with no vehicle to catch. So is one arriving
   more than max(1 h, walk_s) after the walk (for arrive-by: leaving that much before it), as
   the core drops journeys that only save a change by arriving much later: the bus of the next
   morning is no alternative to a 12-minute walk tonight.
3. The walk-only journey is proposed when rule 2 dropped a journey (it takes its place), when
   no transit journey is left, or when it arrives no later than the earliest transit arrival
   plus ``walk_only_margin_s`` (5 min by default); for arrive-by, when it leaves no earlier than
   the latest transit departure minus the margin.
4. It leaves at the page's time (depart at; the start of a window) or arrives at it (arrive by),
   sits among the journeys in the answer's order (arrival, or departure latest first for
   arrive-by), counts towards ``num``, and is one `WalkLeg` from place to place (stops -1).
"""

from __future__ import annotations

from collections.abc import Sequence

from .core import Journey, WalkLeg
from .journey_pages import Page
from .places import WalkingRules

__all__ = ["LATER_BY_S", "walk_only_journey", "with_walk_only"]

LATER_BY_S = 3600  # as the core's rule for journeys that only save a change by arriving much later


def walk_only_journey(page: Page, straight_m: float, rules: WalkingRules) -> Journey | None:
    """The walk from place to place for this page, None beyond ``max_walk_only_m``."""
    walk_m = float(rules.walk_m(straight_m))
    if walk_m > rules.max_walk_only_m:
        return None
    walk_s = int(rules.walk_s(straight_m))
    departure = page.time_s - walk_s if page.arrive_by else page.time_s
    leg = WalkLeg(-1, -1, departure, departure + walk_s, walk_s, round(walk_m, 1))
    return Journey((leg,), departure, departure + walk_s)


def with_walk_only(transit: Sequence[Journey], walk: Journey | None, arrive_by: bool, rules: WalkingRules,
                   num: int) -> tuple[list[Journey], list[int]]:
    """The answer's journeys and, for each, its index in ``transit`` (-1: the walk-only journey)."""
    if walk is None:
        return list(transit), list(range(len(transit)))
    slack = max(LATER_BY_S, walk.duration_s)
    if arrive_by:
        kept = [i for i, j in enumerate(transit)
                if j.duration_s < walk.duration_s and j.departure_s >= walk.departure_s - slack]
    else:
        kept = [i for i, j in enumerate(transit)
                if j.duration_s < walk.duration_s and j.arrival_s <= walk.arrival_s + slack]
    replaces = len(kept) < len(transit)  # it beats a journey it drops: it takes its place
    if kept and not replaces and not _competitive(walk, [transit[i] for i in kept], arrive_by, rules.walk_only_margin_s):
        return [transit[i] for i in kept], kept
    position = len(kept)
    for n, i in enumerate(kept):
        if _key(walk, arrive_by) <= _key(transit[i], arrive_by):
            position = n
            break
    order = [*kept[:position], -1, *kept[position:]][:num]
    return [walk if i < 0 else transit[i] for i in order], order


def _competitive(walk: Journey, transit: list[Journey], arrive_by: bool, margin_s: int) -> bool:
    if arrive_by:
        return walk.departure_s >= max(j.departure_s for j in transit) - margin_s
    return walk.arrival_s <= min(j.arrival_s for j in transit) + margin_s


def _key(journey: Journey, arrive_by: bool) -> tuple[int, int]:
    if arrive_by:
        return -journey.departure_s, journey.transfers
    return journey.arrival_s, journey.transfers
