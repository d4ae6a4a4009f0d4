"""The catalogue's zone per feed: the registry's, else agency_timezone, else the feed is skipped."""

from __future__ import annotations

import pandas as pd

from feeds.gtfs.model import GtfsTables
from ticketing.catalogue import CatalogueIssueCode, build_catalogue


def _feed(agency_timezone: str | None) -> GtfsTables:
    tables = {"routes": pd.DataFrame([{"route_id": "R1", "route_type": "3"}], dtype=str)}
    if agency_timezone is not None:
        tables["agency"] = pd.DataFrame([{"agency_id": "a", "agency_timezone": agency_timezone}], dtype=str)
    return GtfsTables("inline", tables)


def test_the_registry_zone_overrides_agency_timezone() -> None:
    catalogue, _ = build_catalogue({"bus": _feed("America/Montreal")}, timezones={"bus": "Europe/Paris"})
    assert [rule_set.timezone for rule_set in catalogue.rule_sets] == ["Europe/Paris"]
    catalogue, _ = build_catalogue({"bus": _feed("America/Montreal")})
    assert [rule_set.timezone for rule_set in catalogue.rule_sets] == ["America/Montreal"]


def test_a_feed_without_a_zone_is_skipped_with_an_issue_not_given_the_region_zone() -> None:
    catalogue, issues = build_catalogue({"bus": _feed(None), "tram": _feed("Europe/Paris")})
    assert [rule_set.feed_id for rule_set in catalogue.rule_sets] == ["tram"]
    assert [(i.code, i.feed_id) for i in issues] == [(CatalogueIssueCode.NO_TIMEZONE, "bus")]
