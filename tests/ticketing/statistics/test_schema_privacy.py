"""The schema test of issue 14: no statistics table has a column holding a serial, an account, a
device key or any identifier that leads back to a medium or a person.

Read from information_schema on a database with every migration applied. Two lists guard it:
- a deny-list of identifying names, that no stat_* column may match;
- an allow-list of the expected columns (and tables): a new column or a new stat_* table fails
  here until someone has reviewed it and added it, with the reason it identifies nobody.
A statistics table may not reference any other table than the statistics ones either (a foreign
key into ticketing would link a released number to an order, a medium or a key).
"""

from __future__ import annotations

import re

import pytest

# Parts of a column name that say it identifies a medium, a person, a device or an order.
DENIED = re.compile("|".join((
    r"serial", r"account", r"e_?mail", r"phone", r"holder", r"person", r"birth", r"address", r"iban",
    r"(^|_)card", r"uid", r"(^|_)ip($|_)", r"device", r"medium_id", r"contract", r"order_id", r"event_id",
    r"line_no", r"(^|_)key_id", r"api_key", r"token", r"secret", r"password", r"nonce", r"idempotency",
    r"hash", r"watch", r"webhook", r"display_name", r"entitlement", r"payment", r"charge", r"sales_point_key",
)))

ALLOWED: dict[str, set[str]] = {
    # one row per released period and kind: how it was protected
    "stat_releases": {"release_id", "kind", "period_kind", "period_start", "method", "parameters", "created_at"},
    # the released numbers: categories (a stop, a route, an hour, a product kind, a reason) and counts
    "stat_cells": {"release_id", "family", "scope", "row_key", "col_key", "count", "amount_minor", "parts_suppressed",
                   "authority_ids", "network_ids"},
    # the privacy budget spent per authority and period
    "stat_privacy_ledger": {"entry_id", "authority_id", "period_kind", "period_start", "release_id", "family",
                            "mechanism", "epsilon", "delta", "scale", "sensitivity", "created_at"},
}


async def _stat_columns(pool) -> dict[str, set[str]]:
    rows = await pool.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name LIKE 'stat\\_%' ORDER BY table_name, ordinal_position")
    columns: dict[str, set[str]] = {}
    for r in rows:
        columns.setdefault(r["table_name"], set()).add(r["column_name"])
    return columns


@pytest.mark.parametrize("name", ["medium_serial", "account_id", "holder_email", "device_key_id", "medium_id",
                                  "contract_id", "order_id", "event_id", "api_key", "token_hash", "client_secret",
                                  "card_uid", "ip_address", "sales_point_key_id", "watch_id"])
def test_the_deny_list_catches_identifying_names(name):
    assert DENIED.search(name)


@pytest.mark.parametrize("name", ["row_key", "col_key", "count", "network_ids", "authority_ids", "period_start", "scope"])
def test_the_deny_list_lets_categories_and_counts_through(name):
    assert not DENIED.search(name)


async def test_no_statistics_column_identifies_a_medium_or_a_person(db_pool):
    columns = await _stat_columns(db_pool)
    assert set(ALLOWED) <= set(columns), "a statistics table of the allow-list is missing from the migrations"
    identifying = sorted(f"{table}.{column}" for table, names in columns.items() for column in names
                         if DENIED.search(column))
    assert identifying == []


async def test_every_statistics_column_was_reviewed(db_pool):
    columns = await _stat_columns(db_pool)
    unreviewed = sorted(f"{table}.{column}" for table, names in columns.items()
                        for column in names - ALLOWED.get(table, set()))
    assert unreviewed == [], "review the new statistics columns (do they lead back to a person?) and add them to ALLOWED"


async def test_statistics_tables_reference_only_statistics_tables(db_pool):
    rows = await db_pool.fetch(
        "SELECT c.conrelid::regclass::text AS source, c.confrelid::regclass::text AS target "
        "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text LIKE 'stat\\_%'")
    assert rows, "the statistics tables reference their release"
    assert sorted({r["target"] for r in rows if not r["target"].startswith("stat_")}) == []
