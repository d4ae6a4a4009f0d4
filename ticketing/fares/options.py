"""Options: every way of paying for some legs (single fares, transfer chains, multi-use
products), their pruning and the exact CP-SAT cover."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ticketing.products import (
    Catalogue,
    DurationLimitType,
    FareLegRule,
    FareProduct,
    FareTransferRule,
    FareTransferType,
    NetworkFares,
    format_minor,
)
from ticketing.fares.legs import LegContext
from ticketing.fares.model import CoverKind, FareLeg, QuotedProduct


@dataclass(frozen=True)
class Option:
    legs: frozenset[int]
    cost_minor: int
    currency: str
    items: tuple[QuotedProduct, ...]
    notes: tuple[tuple[int, str], ...]  # leg index -> explanation
    is_pass: bool = False  # a pass may overlap other options; fares (singles, chains) may not


@dataclass
class PricingRequest:
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


def best_per_group(request: PricingRequest, ctx: LegContext) -> dict[tuple[str, str | None], tuple[FareLegRule, FareProduct]]:
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


def single_options(request: PricingRequest, ctx: LegContext, groups) -> list[Option]:
    options = []
    for (_, group), (rule, offer) in groups.items():
        note = f"{offer.fare_product_id} ({format_price(offer)}), leg rule {group or 'without group'}"
        options.append(
            Option(frozenset(ctx.legs), offer.price_minor, offer.currency, (_item(offer, ctx.legs, CoverKind.SINGLE),),
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


def transfer_options(request: PricingRequest, contexts: list[LegContext], groups: list[dict]) -> list[Option]:
    """Every chain of consecutive fare legs joined by fare_transfer_rules, as one option each
    (positions below are fare legs, ``contexts[p].legs`` the journey legs they stand for)."""
    options: list[Option] = []
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
                        Option(
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


def pass_options(request: PricingRequest, contexts: list[LegContext]) -> list[Option]:
    """Each multi-use product, bought at a fare leg, covering the later ones it is valid on."""
    options: list[Option] = []
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
                Option(frozenset(covered), offer.price_minor, offer.currency,
                        (_item(offer, covered, CoverKind.PASS),), tuple((i, note) for i in covered), is_pass=True)
            )
    return options


# -- choice ---------------------------------------------------------------------------------------


def prune(options: list[Option]) -> list[Option]:
    """Drop dominated options, keeping the optimum and its tie-break. B dominates A when it costs
    no more, has no more products, and either is a pass covering A's legs (a pass may overlap
    anything, so it can always replace A) or covers exactly A's legs. Keeps the model small: a
    leg matches many passes of the region."""
    kept: list[Option] = []
    for option in sorted(options, key=lambda o: (o.cost_minor, len(o.items), -len(o.legs), option_key(o))):
        if not any((other.is_pass and option.legs <= other.legs) or option.legs == other.legs for other in kept):
            kept.append(option)
    return kept


def solve_cp_sat(options: list[Option], legs: Sequence[int]) -> list[Option]:
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


def option_key(option: Option) -> tuple:
    return (option.cost_minor, len(option.items), sorted(option.legs), [i.fare_product_id for i in option.items])
