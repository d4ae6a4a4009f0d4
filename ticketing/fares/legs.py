"""Fare legs: joining consecutive legs (fare_leg_join_rules) and matching each against the leg
rules of the rule sets that can price it (networks, areas, timeframes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ticketing.products import Catalogue, FareLegJoinRule, FareLegRule, NetworkFares
from ticketing.fares.model import FareIssue, FareIssueCode, FareLeg


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
class LegContext:
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
               feed_ids: frozenset[str]) -> LegContext:
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
    return LegContext(legs, network_id, leg, tuple(matched))


# -- options ------------------------------------------------------------------------------------


def match_fare_legs(catalogue: Catalogue, legs: Sequence[FareLeg], issues: list[FareIssue]) -> tuple[list[LegContext], list[str | None]]:
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
            contexts.append(LegContext(tuple(run), networks[run[0]], legs[run[0]], ()))
            continue
        run_networks = {networks[i] for i in run}
        # Joined legs of one network are a leg of that network; across networks, only rules
        # that name no network (in the feeds of those networks) can price the effective leg.
        network_id = networks[run[0]] if len(run_networks) == 1 else None
        feed_ids = frozenset(catalogue.network_feed[n] for n in run_networks if n in catalogue.network_feed)
        effective = legs[run[0]] if len(run) == 1 else _effective_leg([legs[i] for i in run])
        contexts.append(_match_leg(catalogue, tuple(run), effective, network_id, feed_ids))
    return contexts, networks
