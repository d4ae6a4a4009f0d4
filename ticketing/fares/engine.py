"""`quote`: the cheapest set of products covering a journey; `price_itinerary`, the planner's
extension point."""

from __future__ import annotations

from collections.abc import Sequence

from ticketing.products import Catalogue
from ticketing.fares.legs import LegContext, match_fare_legs
from ticketing.fares.model import FareIssue, FareIssueCode, FareLeg, FareQuote, LegFare, QuotedProduct
from ticketing.fares.options import (
    Option,
    PricingRequest,
    best_per_group,
    option_key,
    pass_options,
    prune,
    single_options,
    solve_cp_sat,
    transfer_options,
)


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
    request = PricingRequest(catalogue, rider, fare_media_id)
    issues: list[FareIssue] = []
    contexts, leg_networks = match_fare_legs(catalogue, legs, issues)

    groups = [best_per_group(request, ctx) for ctx in contexts]
    options: list[Option] = []
    for ctx, leg_groups in zip(contexts, groups):
        options.extend(single_options(request, ctx, leg_groups))
    options.extend(transfer_options(request, contexts, groups))
    options.extend(pass_options(request, contexts))

    currency = catalogue.currency if any(o.currency == catalogue.currency for o in options) else (options[0].currency if options else catalogue.currency)
    if any(o.currency != currency for o in options):
        issues.append(FareIssue(FareIssueCode.MIXED_CURRENCY, None, f"options not in {currency} ignored"))
        options = [o for o in options if o.currency == currency]

    options = prune(options)
    coverable = sorted({i for o in options for i in o.legs})
    for ctx in contexts:
        for index in ctx.legs:
            if index not in coverable:
                issues.append(FareIssue(FareIssueCode.NO_FARE_FOR_LEG, index, f"no fare rule prices route {legs[index].route_id} for rider category {rider}"))

    method, chosen = _choose(options, [frozenset(ctx.legs) for ctx in contexts], coverable)
    products, leg_fares = _explain(chosen, contexts, leg_networks)
    return FareQuote(
        rider_category_id=rider,
        fare_media_id=fare_media_id,
        total_minor=sum(o.cost_minor for o in chosen),
        currency=currency,
        products=products,
        legs=leg_fares,
        method=method,
        issues=tuple(issues),
    )


def price_itinerary(catalogue: Catalogue, legs: Sequence[FareLeg], rider_category_id: str | None = None) -> FareQuote:
    """The journey planner's pricing extension point: the cheapest quote, any media."""
    return quote(catalogue, legs, rider_category_id)


def _choose(options: list[Option], fare_legs: list[frozenset[int]], coverable: list[int]) -> tuple[str, list[Option]]:
    """The options to buy, and the method that chose them."""
    if not options:
        return "none", []
    if all(o.legs in fare_legs for o in options):
        # No option spans two fare legs: the rules do not interact, the cheapest per fare leg wins.
        return "direct", [min((o for o in options if o.legs == unit), key=option_key)
                          for unit in fare_legs if any(o.legs == unit for o in options)]
    return "cp-sat", sorted(solve_cp_sat(options, coverable), key=lambda o: min(o.legs))


def _explain(chosen: list[Option], contexts: list[LegContext], leg_networks: list[str | None]
             ) -> tuple[tuple[QuotedProduct, ...], tuple[LegFare, ...]]:
    """The products to buy, and for every leg the products covering it and why."""
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
    return tuple(products), tuple(leg_fares)
