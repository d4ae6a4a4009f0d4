"""Walk-only journeys: when walking the whole way is as good as riding, say so.

Rules (`WalkingRules`), for a place-to-place walk of ``walk_m`` metres (straight line times the
detour factor) taking ``walk_s`` seconds:

1. No walk-only journey beyond ``max_walk_only_m`` (2 km by default): the answer is transit only.
   The core's journeys that ride nothing (a walk to a stop, a footpath, a walk from a stop,
   chained) are always dropped: the direct walk below is the one walk-only journey.
2. A transit journey that takes at least as long as walking is dropped: walking, leaving when
   it leaves, arrives no later with no vehicle to catch. Its duration is counted from leaving
   as late as its first ride allows to arriving with its last (`tight_duration_s`: no wait at
   either end). So is one arriving
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

from .core import Journey, TransitLeg, WalkLeg
from .journey_pages import Page
from .places import WalkingRules

__all__ = ["LATER_BY_S", "has_ride", "walk_only_journey", "with_walk_only"]

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
    rides = [i for i, j in enumerate(transit) if has_ride(j)]
    if walk is None:
        return [transit[i] for i in rides], rides
    slack = max(LATER_BY_S, walk.duration_s)
    if arrive_by:
        kept = [i for i in rides
                if tight_duration_s(transit[i]) < walk.duration_s and transit[i].departure_s >= walk.departure_s - slack]
    else:
        kept = [i for i in rides
                if tight_duration_s(transit[i]) < walk.duration_s and transit[i].arrival_s <= walk.arrival_s + slack]
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


def tight_duration_s(journey: Journey) -> int:
    """From leaving as late as the first ride allows to arriving as early as the last one does
    (the journey's own times may include a wait before the first ride or after the last)."""
    legs = journey.legs
    first = next(n for n, leg in enumerate(legs) if isinstance(leg, TransitLeg))
    last = max(n for n, leg in enumerate(legs) if isinstance(leg, TransitLeg))
    before = sum(leg.duration_s for leg in legs[:first])
    after = sum(leg.duration_s for leg in legs[last + 1:])
    return (legs[last].arrival_s + after) - (legs[first].departure_s - before)


def has_ride(journey: Journey) -> bool:
    """The journey rides something (the core may chain access, footpath and egress walks into none)."""
    return any(isinstance(leg, TransitLeg) for leg in journey.legs)


def _competitive(walk: Journey, transit: list[Journey], arrive_by: bool, margin_s: int) -> bool:
    if arrive_by:
        return walk.departure_s >= max(j.departure_s for j in transit) - margin_s
    return walk.arrival_s <= min(j.arrival_s for j in transit) + margin_s


def _key(journey: Journey, arrive_by: bool) -> tuple[int, int]:
    if arrive_by:
        return -journey.departure_s, journey.transfers
    return journey.arrival_s, journey.transfers
