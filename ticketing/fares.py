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

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from ticketing.products import (
    Catalogue,
    DurationLimitType,
    FareLegJoinRule,
    FareLegRule,
    FareProduct,
    FareTransferRule,
    FareTransferType,
    NetworkFares,
    format_minor,
)

__all__ = [
    "FareIssue",
    "FareIssueCode",
    "FareLeg",
    "FareQuote",
    "LegFare",
    "QuotedProduct",
    "price_itinerary",
    "quote",
]


@dataclass(frozen=True)
class FareLeg:
    """One transit leg to price. Ids are namespaced (``tcl:C3``); times are timezone-aware.

    ``network_id`` may be left out: it is then looked up from the route. Areas are found from the
    stops (stop_areas.txt) unless given directly (``from_area_id``/``to_area_id``).
    """

    route_id: str
    departure: datetime
    arrival: datetime
    network_id: str | None = None
    from_stop_id: str | None = None
    to_stop_id: str | None = None
    from_area_id: str | None = None
    to_area_id: str | None = None


class FareIssueCode(enum.StrEnum):
    NO_FARE_FOR_LEG = "no_fare_for_leg"
    UNKNOWN_NETWORK = "unknown_network"
    NAIVE_DATETIME = "naive_datetime"
    MIXED_CURRENCY = "mixed_currency"


@dataclass(frozen=True)
class FareIssue:
    code: FareIssueCode
    leg_index: int | None = None
    detail: str = ""


class CoverKind(enum.StrEnum):
    SINGLE = "single"  # one leg, its own fare
    TRANSFER = "transfer"  # a product bought as the cost of a transfer
    PASS = "pass"  # a multi-use product covering several legs


@dataclass(frozen=True)
class QuotedProduct:
    """One product to buy, and the legs it pays for."""

    fare_product_id: str
    name: str
    price_minor: int
    currency: str
    network_ids: tuple[str, ...]
    leg_indices: tuple[int, ...]
    kind: CoverKind
    fare_media_id: str | None = None
    rider_category_id: str | None = None


@dataclass(frozen=True)
class LegFare:
    """Why one leg is covered: the products that pay for it and a sentence for humans."""

    leg_index: int
    network_id: str | None
    leg_group_ids: tuple[str, ...]
    fare_product_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class FareQuote:
    rider_category_id: str | None
    fare_media_id: str | None
    total_minor: int
    currency: str
    products: tuple[QuotedProduct, ...]
    legs: tuple[LegFare, ...]
    method: str  # "direct" | "cp-sat" | "none"
    issues: tuple[FareIssue, ...] = ()

    @property
    def is_complete(self) -> bool:
        """True when every leg is paid for (an incomplete quote is a lower bound)."""
        return bool(self.legs) and all(leg.fare_product_ids for leg in self.legs)

    def to_json(self) -> dict:
        """The quote as API JSON (what /v1/fares/quote returns and itineraries carry as ``fare``)."""
        return {
            "total_minor": self.total_minor,
            "currency": self.currency,
            "rider_category_id": self.rider_category_id,
            "fare_media_id": self.fare_media_id,
            "is_complete": self.is_complete,
            "method": self.method,
            "products": [asdict(p) for p in self.products],
            "legs": [asdict(leg) for leg in self.legs],
            "issues": [asdict(i) for i in self.issues],
        }


# -- leg matching -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _timeframes_at(rule_set: NetworkFares, instant: datetime, stop_timezone: str | None) -> frozenset[str]:
    """The timeframe groups ``instant`` falls in, in local time at the leg's stop: its
    ``stop_timezone`` (or its station's) when the feed gives one, else the rule set's zone."""
    if not rule_set.timeframes:
        return frozenset()
    local = instant.astimezone(_zone(stop_timezone or rule_set.timezone))
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    day = local.date()
    return frozenset(
        t.timeframe_group_id
        for t in rule_set.timeframes
        if day in t.service_dates and t.start_s <= seconds < t.end_s
    )


def _field_matches(rule_value: str | None, leg_values: frozenset[str], listed: frozenset[str], by_priority: bool) -> bool:
    """A network or area field: empty matches the values no rule lists (or anything, by priority)."""
    if rule_value is not None:
        return rule_value in leg_values
    if by_priority:
        return True
    return not (leg_values & listed)


def _timeframe_matches(rule_value: str | None, leg_timeframes: frozenset[str]) -> bool:
    """A timeframe field: empty means the time does not matter (no "except the listed" rule)."""
    return rule_value is None or rule_value in leg_timeframes


@dataclass(frozen=True)
class _LegContext:
    """One fare leg: a journey leg, or several consecutive ones joined by fare_leg_join_rules."""

    legs: tuple[int, ...]  # the journey's leg indices it stands for, in order
    network_id: str | None
    leg: FareLeg  # the effective leg: first leg's origin and departure, last leg's destination and arrival
    rules: tuple[FareLegRule, ...]  # matched rules, every rule set


def _stop_and_station(catalogue: Catalogue, stop_id: str | None) -> tuple[str, ...]:
    if not stop_id:
        return ()
    station = catalogue.parent_stations.get(stop_id)
    return (stop_id, station) if station else (stop_id,)


def _find_join_rule(catalogue: Catalogue, before: FareLeg, before_network: str | None,
                    after: FareLeg, after_network: str | None) -> FareLegJoinRule | None:
    """The fare_leg_join_rules row joining two consecutive legs, if any: networks equal, the
    change at the rule's stops (a stop or its station) when it names them, and within the
    rule's ``max_transfer_s`` when it has one."""
    if before_network is None or after_network is None:
        return None
    arrived_at = _stop_and_station(catalogue, before.to_stop_id)
    leaving_from = _stop_and_station(catalogue, after.from_stop_id)
    wait_s = (after.departure - before.arrival).total_seconds()
    for rule_set in catalogue.rule_sets:
        for rule in rule_set.join_rules:
            if (
                rule.from_network_id == before_network
                and rule.to_network_id == after_network
                and (rule.from_stop_id is None or rule.from_stop_id in arrived_at)
                and (rule.to_stop_id is None or rule.to_stop_id in leaving_from)
                and (rule.max_transfer_s is None or wait_s <= rule.max_transfer_s)
            ):
                return rule
    return None


def _effective_leg(legs: Sequence[FareLeg]) -> FareLeg:
    first, last = legs[0], legs[-1]
    return FareLeg(
        route_id=first.route_id,
        departure=first.departure,
        arrival=last.arrival,
        network_id=first.network_id,
        from_stop_id=first.from_stop_id,
        to_stop_id=last.to_stop_id,
        from_area_id=first.from_area_id,
        to_area_id=last.to_area_id,
    )


def _match_leg(catalogue: Catalogue, legs: tuple[int, ...], leg: FareLeg, network_id: str | None,
               feed_ids: frozenset[str]) -> _LegContext:
    """The fare_leg_rules matching one (effective) leg. ``feed_ids``: the feeds of its networks,
    whose rules may price it; other rule sets only when they name ``network_id``."""
    from_areas = set(catalogue.stop_areas.get(leg.from_stop_id or "", ()))
    to_areas = set(catalogue.stop_areas.get(leg.to_stop_id or "", ()))
    if leg.from_area_id:
        from_areas.add(leg.from_area_id)
    if leg.to_area_id:
        to_areas.add(leg.to_area_id)
    networks = frozenset([network_id]) if network_id else frozenset()
    matched: list[FareLegRule] = []
    for rule_set in catalogue.rule_sets:
        if rule_set.feed_id not in feed_ids and (network_id is None or network_id not in rule_set.listed_network_ids):
            # Another feed's rules never price this network unless they name it (the regional
            # combined products name the networks they cover).
            continue
        by_priority = rule_set.uses_rule_priority
        from_tf = _timeframes_at(rule_set, leg.departure, catalogue.stop_timezones.get(leg.from_stop_id or ""))
        to_tf = _timeframes_at(rule_set, leg.arrival, catalogue.stop_timezones.get(leg.to_stop_id or ""))
        candidates = [
            r
            for r in rule_set.list_candidate_rules(network_id, frozenset(from_areas))
            if _field_matches(r.network_id, networks, rule_set.listed_network_ids, by_priority)
            and _field_matches(r.from_area_id, frozenset(from_areas), rule_set.listed_from_area_ids, by_priority)
            and _field_matches(r.to_area_id, frozenset(to_areas), rule_set.listed_to_area_ids, by_priority)
            and _timeframe_matches(r.from_timeframe_group_id, from_tf)
            and _timeframe_matches(r.to_timeframe_group_id, to_tf)
        ]
        if by_priority and candidates:
            top = max(r.rule_priority or 0 for r in candidates)
            candidates = [r for r in candidates if (r.rule_priority or 0) == top]
        matched.extend(candidates)
    return _LegContext(legs, network_id, leg, tuple(matched))


# -- options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    legs: frozenset[int]
    cost_minor: int
    currency: str
    items: tuple[QuotedProduct, ...]
    notes: tuple[tuple[int, str], ...]  # leg index -> explanation
    is_pass: bool = False  # a pass may overlap other options; fares (singles, chains) may not


@dataclass
class _Request:
    catalogue: Catalogue
    rider_category_id: str | None
    fare_media_id: str | None
    offers: dict[str, FareProduct | None] = field(default_factory=dict)

    def offer(self, fare_product_id: str) -> FareProduct | None:
        if fare_product_id not in self.offers:
            self.offers[fare_product_id] = self.catalogue.find_offer(
                fare_product_id, self.rider_category_id, self.fare_media_id
            )
        return self.offers[fare_product_id]


def _item(offer: FareProduct, legs: Sequence[int], kind: CoverKind) -> QuotedProduct:
    return QuotedProduct(
        fare_product_id=offer.fare_product_id,
        name=offer.name,
        price_minor=offer.price_minor,
        currency=offer.currency,
        network_ids=offer.network_ids,
        leg_indices=tuple(legs),
        kind=kind,
        fare_media_id=offer.fare_media_id,
        rider_category_id=offer.rider_category_id,
    )


def _is_multi_use(offer: FareProduct) -> bool:
    return offer.validity.duration_s is not None or (offer.validity.trips or 1) > 1


def _best_per_group(request: _Request, ctx: _LegContext) -> dict[tuple[str, str | None], tuple[FareLegRule, FareProduct]]:
    """(feed_id, leg_group_id) -> the cheapest eligible (rule, offer) of that group for the leg."""
    best: dict[tuple[str, str | None], tuple[FareLegRule, FareProduct]] = {}
    for rule in ctx.rules:
        offer = request.offer(rule.fare_product_id)
        if offer is None:
            continue
        key = (rule.feed_id, rule.leg_group_id)
        if key not in best or offer.price_minor < best[key][1].price_minor:
            best[key] = (rule, offer)
    return best


def _single_options(request: _Request, ctx: _LegContext, groups) -> list[_Option]:
    options = []
    for (_, group), (rule, offer) in groups.items():
        note = f"{offer.fare_product_id} ({format_price(offer)}), leg rule {group or 'without group'}"
        options.append(
            _Option(frozenset(ctx.legs), offer.price_minor, offer.currency, (_item(offer, ctx.legs, CoverKind.SINGLE),),
                    tuple((i, note) for i in ctx.legs))
        )
    return options


def format_price(offer: FareProduct) -> str:
    return f"{format_minor(offer.price_minor, offer.currency)} {offer.currency}"


def _find_transfer_rule(rule_set: NetworkFares, from_group: str | None, to_group: str | None) -> list[FareTransferRule]:
    """The transfer rules for from_group -> to_group: exact matches first, else the empty ones."""
    rules = rule_set.transfer_rules
    exact = [r for r in rules if r.from_leg_group_id == from_group and r.to_leg_group_id == to_group and from_group is not None and to_group is not None]
    if exact:
        return exact

    def side(value: str | None, wanted: str | None, listed: frozenset[str]) -> bool:
        if value is not None:
            return value == wanted
        return wanted not in listed

    return [
        r
        for r in rules
        if side(r.from_leg_group_id, from_group, rule_set.listed_transfer_from_groups)
        and side(r.to_leg_group_id, to_group, rule_set.listed_transfer_to_groups)
    ]


def _count_limit(rule: FareTransferRule) -> float:
    return float("inf") if rule.transfer_count in (None, -1) else rule.transfer_count


def _select_by_transfer_count(rules: list[FareTransferRule], transfer_number: int) -> list[FareTransferRule]:
    """Among the rules of one leg-group pair that carry a transfer_count, the spec's choice: the
    smallest count that is at least ``transfer_number`` (the transfer being made, 1 for the
    first), -1 being unlimited. Rules without a count (groups that differ) are kept as they are."""
    counted = [r for r in rules if r.transfer_count is not None and r.from_leg_group_id == r.to_leg_group_id]
    kept = [r for r in rules if r not in counted]
    eligible = [r for r in counted if _count_limit(r) >= transfer_number]
    if eligible:
        smallest = min(_count_limit(r) for r in eligible)
        kept.extend(r for r in eligible if _count_limit(r) == smallest)
    return kept


def _duration_ok(rule: FareTransferRule, first: FareLeg, nxt: FareLeg) -> bool:
    if rule.duration_limit_s is None:
        return True
    kind = rule.duration_limit_type or DurationLimitType.DEPARTURE_TO_ARRIVAL
    start = first.departure if kind in (DurationLimitType.DEPARTURE_TO_ARRIVAL, DurationLimitType.DEPARTURE_TO_DEPARTURE) else first.arrival
    end = nxt.arrival if kind in (DurationLimitType.DEPARTURE_TO_ARRIVAL, DurationLimitType.ARRIVAL_TO_ARRIVAL) else nxt.departure
    return (end - start).total_seconds() <= rule.duration_limit_s


def _transfer_options(request: _Request, contexts: list[_LegContext], groups: list[dict]) -> list[_Option]:
    """Every chain of consecutive fare legs joined by fare_transfer_rules, as one option each
    (positions below are fare legs, ``contexts[p].legs`` the journey legs they stand for)."""
    options: list[_Option] = []
    rule_sets = {rs.feed_id: rs for rs in request.catalogue.rule_sets}

    def extend(start: int, last: int, feed_id: str, group: str | None, transfers: int,
               charges: list[tuple[str, int, QuotedProduct]], notes: list[tuple[int, str]]) -> None:
        nxt = last + 1
        if nxt >= len(contexts):
            return
        rule_set = rule_sets[feed_id]
        for (next_feed, next_group), (_, next_offer) in groups[nxt].items():
            if next_feed != feed_id or not rule_set.transfer_rules:
                continue
            for rule in _select_by_transfer_count(_find_transfer_rule(rule_set, group, next_group), transfers + 1):
                if not _duration_ok(rule, contexts[start].leg, contexts[nxt].leg):
                    continue
                new_charges = list(charges)
                transfer_note = ""
                if rule.fare_product_id is not None:
                    transfer_offer = request.offer(rule.fare_product_id)
                    if transfer_offer is None:
                        continue
                    if rule.fare_transfer_type == FareTransferType.AB and last == start and new_charges[-1][0] == f"leg{last}":
                        # AB replaces the first leg's fare; a fare an earlier transfer (A + AB + B)
                        # already charged stays charged.
                        new_charges.pop()
                    new_charges.append(("transfer", transfer_offer.price_minor,
                                        _item(transfer_offer, contexts[last].legs + contexts[nxt].legs, CoverKind.TRANSFER)))
                    transfer_note = f", transfer product {transfer_offer.fare_product_id} ({format_price(transfer_offer)})"
                if rule.fare_transfer_type == FareTransferType.A_PLUS_AB_PLUS_B:
                    new_charges.append((f"leg{nxt}", next_offer.price_minor, _item(next_offer, contexts[nxt].legs, CoverKind.SINGLE)))
                window = f" within {rule.duration_limit_s} s" if rule.duration_limit_s is not None else ""
                note = f"transfer{window} (fare_transfer_type {int(rule.fare_transfer_type)}){transfer_note}"
                new_notes = notes + [(i, note) for i in contexts[nxt].legs]
                currencies = {c[2].currency for c in new_charges}
                if len(currencies) == 1:
                    options.append(
                        _Option(
                            frozenset(i for p in range(start, nxt + 1) for i in contexts[p].legs),
                            sum(c[1] for c in new_charges),
                            currencies.pop(),
                            tuple(c[2] for c in new_charges),
                            tuple(new_notes),
                        )
                    )
                extend(start, nxt, feed_id, next_group, transfers + 1, new_charges, new_notes)

    for start, ctx in enumerate(contexts):
        for (feed_id, group), (_, offer) in groups[start].items():
            if rule_sets[feed_id].transfer_rules:
                first_note = f"{offer.fare_product_id} ({format_price(offer)}), leg rule {group or 'without group'}"
                extend(start, start, feed_id, group, 0,
                       [(f"leg{start}", offer.price_minor, _item(offer, ctx.legs, CoverKind.SINGLE))],
                       [(i, first_note) for i in ctx.legs])
    return options


def _pass_options(request: _Request, contexts: list[_LegContext]) -> list[_Option]:
    """Each multi-use product, bought at a fare leg, covering the later ones it is valid on."""
    options: list[_Option] = []
    for start, ctx in enumerate(contexts):
        seen: set[str] = set()
        for rule in ctx.rules:
            offer = request.offer(rule.fare_product_id)
            if offer is None or offer.fare_product_id in seen or not _is_multi_use(offer):
                continue
            seen.add(offer.fare_product_id)
            validity = offer.validity
            covered = list(ctx.legs)
            counted_at = ctx.leg.departure
            trips_used = 1
            for later in contexts[start + 1:]:
                if offer.fare_product_id not in {r.fare_product_id for r in later.rules}:
                    continue
                elapsed = (later.leg.departure - ctx.leg.departure).total_seconds()
                if validity.duration_s is not None and elapsed > validity.duration_s:
                    break
                is_transfer = (later.leg.departure - counted_at).total_seconds() <= validity.transfer_window_s
                if not is_transfer:
                    if validity.trips is not None and trips_used >= validity.trips:
                        break
                    trips_used += 1
                    counted_at = later.leg.departure
                covered.extend(later.legs)
            if len(covered) < 2:
                continue
            note = f"{offer.fare_product_id} ({format_price(offer)}) covers legs {', '.join(map(str, covered))}"
            options.append(
                _Option(frozenset(covered), offer.price_minor, offer.currency,
                        (_item(offer, covered, CoverKind.PASS),), tuple((i, note) for i in covered), is_pass=True)
            )
    return options


# -- choice ---------------------------------------------------------------------------------------


def _prune(options: list[_Option]) -> list[_Option]:
    """Drop dominated options, keeping the optimum and its tie-break. B dominates A when it costs
    no more, has no more products, and either is a pass covering A's legs (a pass may overlap
    anything, so it can always replace A) or covers exactly A's legs. Keeps the model small: a
    leg matches many passes of the region."""
    kept: list[_Option] = []
    for option in sorted(options, key=lambda o: (o.cost_minor, len(o.items), -len(o.legs), _option_key(o))):
        if not any((other.is_pass and option.legs <= other.legs) or option.legs == other.legs for other in kept):
            kept.append(option)
    return kept


def _solve_cp_sat(options: list[_Option], legs: Sequence[int]) -> list[_Option]:
    """Weighted set cover, exact: minimum total cost, then fewest products, then stable order."""
    from ortools.sat.python import cp_model  # imported here: only journeys with interacting rules need it

    model = cp_model.CpModel()
    chosen = [model.NewBoolVar(f"o{i}") for i in range(len(options))]
    for leg in legs:
        model.AddBoolOr([chosen[i] for i, o in enumerate(options) if leg in o.legs])
        # A leg is paid by one fare at most (a single or one transfer chain); passes may overlap.
        fares = [chosen[i] for i, o in enumerate(options) if leg in o.legs and not o.is_pass]
        if len(fares) > 1:
            model.Add(sum(fares) <= 1)
    weight = len(options) + 1
    model.Minimize(sum((o.cost_minor * weight + len(o.items)) * chosen[i] for i, o in enumerate(options)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic, and the machine is shared
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = 5.0
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
    return [o for i, o in enumerate(options) if solver.Value(chosen[i])]


def _option_key(option: _Option) -> tuple:
    return (option.cost_minor, len(option.items), sorted(option.legs), [i.fare_product_id for i in option.items])


def _fare_legs(catalogue: Catalogue, legs: Sequence[FareLeg], issues: list[FareIssue]) -> tuple[list[_LegContext], list[str | None]]:
    """The journey's fare legs, matched (consecutive legs a join rule links become one), and
    each journey leg's network."""
    networks: list[str | None] = []
    valid: list[bool] = []
    for index, leg in enumerate(legs):
        network_id = leg.network_id or catalogue.find_network_of_route(leg.route_id)
        networks.append(network_id)
        valid.append(leg.departure.tzinfo is not None and leg.arrival.tzinfo is not None)
        if not valid[-1]:
            issues.append(FareIssue(FareIssueCode.NAIVE_DATETIME, index, "leg times must be timezone-aware"))
        elif network_id is None or network_id not in catalogue.network_feed and not any(
            network_id in rs.listed_network_ids for rs in catalogue.rule_sets
        ):
            issues.append(FareIssue(FareIssueCode.UNKNOWN_NETWORK, index, f"no network known for route {leg.route_id}"))
    runs: list[list[int]] = []
    for index, leg in enumerate(legs):
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None and valid[previous] and valid[index]
            and _find_join_rule(catalogue, legs[previous], networks[previous], leg, networks[index]) is not None
        ):
            runs[-1].append(index)
        else:
            runs.append([index])
    contexts = []
    for run in runs:
        if not valid[run[0]]:
            contexts.append(_LegContext(tuple(run), networks[run[0]], legs[run[0]], ()))
            continue
        run_networks = {networks[i] for i in run}
        # Joined legs of one network are a leg of that network; across networks, only rules
        # that name no network (in the feeds of those networks) can price the effective leg.
        network_id = networks[run[0]] if len(run_networks) == 1 else None
        feed_ids = frozenset(catalogue.network_feed[n] for n in run_networks if n in catalogue.network_feed)
        effective = legs[run[0]] if len(run) == 1 else _effective_leg([legs[i] for i in run])
        contexts.append(_match_leg(catalogue, tuple(run), effective, network_id, feed_ids))
    return contexts, networks


def quote(
    catalogue: Catalogue,
    legs: Sequence[FareLeg],
    rider_category_id: str | None = None,
    fare_media_id: str | None = None,
) -> FareQuote:
    """The cheapest set of products covering every leg, with an explanation per leg.

    ``rider_category_id`` None means the catalogue's default category; ``fare_media_id`` None
    means any media (the cheapest wins).
    """
    rider = rider_category_id or catalogue.default_rider_category_id
    request = _Request(catalogue, rider, fare_media_id)
    issues: list[FareIssue] = []
    contexts, leg_networks = _fare_legs(catalogue, legs, issues)

    groups = [_best_per_group(request, ctx) for ctx in contexts]
    options: list[_Option] = []
    for ctx, leg_groups in zip(contexts, groups):
        options.extend(_single_options(request, ctx, leg_groups))
    options.extend(_transfer_options(request, contexts, groups))
    options.extend(_pass_options(request, contexts))

    currency = catalogue.currency if any(o.currency == catalogue.currency for o in options) else (options[0].currency if options else catalogue.currency)
    if any(o.currency != currency for o in options):
        issues.append(FareIssue(FareIssueCode.MIXED_CURRENCY, None, f"options not in {currency} ignored"))
        options = [o for o in options if o.currency == currency]

    options = _prune(options)
    coverable = sorted({i for o in options for i in o.legs})
    for ctx in contexts:
        for index in ctx.legs:
            if index not in coverable:
                issues.append(FareIssue(FareIssueCode.NO_FARE_FOR_LEG, index, f"no fare rule prices route {legs[index].route_id} for rider category {rider}"))

    fare_legs = [frozenset(ctx.legs) for ctx in contexts]
    if not options:
        method, chosen = "none", []
    elif all(o.legs in fare_legs for o in options):
        # No option spans two fare legs: the rules do not interact, the cheapest per fare leg wins.
        method = "direct"
        chosen = [min((o for o in options if o.legs == unit), key=_option_key)
                  for unit in fare_legs if any(o.legs == unit for o in options)]
    else:
        method = "cp-sat"
        chosen = sorted(_solve_cp_sat(options, coverable), key=lambda o: min(o.legs))

    notes: dict[int, list[str]] = {}
    covering: dict[int, list[str]] = {}
    products: list[QuotedProduct] = []
    for option in chosen:
        products.extend(option.items)
        for leg_index, note in option.notes:
            notes.setdefault(leg_index, []).append(note)
        for leg_index in option.legs:  # in a chain, every product of the chain pays for every leg
            for item in option.items:
                if item.fare_product_id not in covering.setdefault(leg_index, []):
                    covering[leg_index].append(item.fare_product_id)
    leg_fares = []
    for ctx in contexts:
        joined = f"one fare leg with legs {', '.join(map(str, ctx.legs))} (fare_leg_join_rules); " if len(ctx.legs) > 1 else ""
        leg_fares.extend(
            LegFare(
                leg_index=index,
                network_id=leg_networks[index],
                leg_group_ids=tuple(sorted({r.leg_group_id for r in ctx.rules if r.leg_group_id})),
                fare_product_ids=tuple(covering.get(index, ())),
                explanation=joined + ("; ".join(notes.get(index, [])) or "no fare found"),
            )
            for index in ctx.legs
        )
    return FareQuote(
        rider_category_id=rider,
        fare_media_id=fare_media_id,
        total_minor=sum(o.cost_minor for o in chosen),
        currency=currency,
        products=tuple(products),
        legs=tuple(leg_fares),
        method=method,
        issues=tuple(issues),
    )


def price_itinerary(catalogue: Catalogue, legs: Sequence[FareLeg], rider_category_id: str | None = None) -> FareQuote:
    """The journey planner's pricing extension point: the cheapest quote, any media."""
    return quote(catalogue, legs, rider_category_id)
