"""The fare engine: the cheapest set of fare products that covers a journey. Pure, no I/O.

Input: the legs of one journey (`FareLeg`: route, network, stops or areas, aware times), a rider
category and optionally a fare media. Output: a `FareQuote` with the total in minor units, the
products to buy and, for every leg, which product covers it and why.

How it works (GTFS Fares v2 vocabulary):

1. Consecutive legs that a fare_leg_join_rules row links (networks, the change stop or its
   station, within the extension ``max_transfer_s``) become one effective fare leg: the first
   leg's origin and departure, the last one's destination and arrival. Each fare leg is matched
   against the fare_leg_rules of every rule set that can price it (its own network's feed, and
   the regional combined products), field by field: network, from/to area, from/to timeframe.
   An empty network or area field matches only values not listed in that column of the file,
   unless the file has a ``rule_priority`` column (even with empty cells, read as 0), where empty
   matches anything and the highest priority wins; an empty timeframe always matches any time.
   Areas come from stop_areas (a station's cover its platforms), timeframes are local times of
   the stop's ``stop_timezone`` (else the feed's). A route in no network is priced by no rule.
   A leg gets its leg groups and candidate products from the matching rules.
2. Every way of paying becomes an *option*, a set of legs and a cost:
   - a single fare for one leg (the cheapest eligible row of the rule's product);
   - a transfer chain: consecutive legs linked by fare_transfer_rules (A+AB, A+AB+B or AB;
     AB replaces the chain's first fare, never one an earlier A+AB+B transfer charged), within
     ``duration_limit``; of several rows for one leg-group pair, the one with the smallest
     ``transfer_count`` at least the transfer's number applies. The duration is measured from
     the first leg of the chain, whatever the limit type's other end: a ticket's window opens
     when it is first validated, which is also how validators apply it;
   - a multi-use product (a pass with ``duration_s`` or a carnet with ``trips`` > 1, e.g. the
     regional combined products): one purchase covers every later leg it is valid on, within its
     duration and trip count.
3. Choose the options: when no option covers more than one fare leg the rules do not interact
   and the answer is the cheapest option of each fare leg (direct method). Otherwise it is a weighted set
   cover, solved exactly with OR-Tools CP-SAT (minimum total, then fewest products), where a
   leg is paid by at most one fare (a single or one transfer chain: two chains sharing a leg
   would re-use a transfer already spent) while passes may overlap anything. Dominated options
   are dropped first; journeys have a handful of legs, so the model is tiny.

A leg no rule prices is reported as an issue (`FareIssueCode.NO_FARE_FOR_LEG`) and the quote is
marked incomplete rather than failing: a journey planner still shows the rest of the price.

Callers: `ticketing.selling` (quotes and the price check of an order) and the journey planner
(`price_itinerary`, through its pricing extension point). Parallel implementation: none; the
validators do not price, they check contracts (`ticketing.validation`).
"""

from ticketing.fares.engine import price_itinerary, quote
from ticketing.fares.model import CoverKind, FareIssue, FareIssueCode, FareLeg, FareQuote, LegFare, QuotedProduct

__all__ = [
    "CoverKind",
    "FareIssue",
    "FareIssueCode",
    "FareLeg",
    "FareQuote",
    "LegFare",
    "QuotedProduct",
    "price_itinerary",
    "quote",
]
