"""The carpool operators OùRA asks for offers, as configured in the registry file.

The authority registry (TOML, ``OURA_REGISTRY``) may hold ``[[carpool_operators]]`` tables; feeds
reads the rest of the file and ignores them. An API key is never written in the file: the table
names the environment variable that holds it (``api_key_env``)::

    [[carpool_operators]]
    id = "covoit.example"                       # the operator's domain name, as its answers spell it
    base_url = "https://api.covoit.example/v1"  # the standard's routes are under it
    timeout_ms = 300                            # default 300: a slow operator never slows journeys
    api_key_env = "COVOIT_API_KEY"              # optional; header X-API-KEY unless api_key_header says
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .client import OperatorConfig

__all__ = ["OperatorsConfigError", "parse_operators", "load_operators"]

_KNOWN = {"id", "base_url", "timeout_ms", "cache_ttl_s", "cache_entries", "breaker_failures",
          "breaker_cooldown_s", "api_key_env", "api_key_header"}


class OperatorsConfigError(ValueError):
    """A ``[[carpool_operators]]`` table that cannot be used."""


def parse_operators(document: Mapping, env: Mapping[str, str] | None = None) -> list[OperatorConfig]:
    env = os.environ if env is None else env
    tables = document.get("carpool_operators", [])
    if not isinstance(tables, list):
        raise OperatorsConfigError("carpool_operators must be an array of tables ([[carpool_operators]])")
    operators: list[OperatorConfig] = []
    for index, table in enumerate(tables):
        where = f"carpool_operators[{index}]"
        if not isinstance(table, dict):
            raise OperatorsConfigError(f"{where} must be a table")
        unknown = set(table) - _KNOWN
        if unknown:
            raise OperatorsConfigError(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(table.get("id"), str) or not isinstance(table.get("base_url"), str):
            raise OperatorsConfigError(f"{where}: id and base_url (strings) are required")
        if not table["base_url"].startswith(("http://", "https://")):
            raise OperatorsConfigError(f"{where}: base_url must be http(s)")
        key = None
        if "api_key_env" in table:
            key = env.get(table["api_key_env"])
            if not key:
                raise OperatorsConfigError(f"{where}: the environment variable {table['api_key_env']} is not set")
        try:
            operators.append(OperatorConfig(
                id=table["id"], base_url=table["base_url"].rstrip("/"), api_key=key,
                api_key_header=table.get("api_key_header", "X-API-KEY"),
                timeout_s=float(table.get("timeout_ms", 300)) / 1000.0,
                cache_ttl_s=float(table.get("cache_ttl_s", 60.0)),
                cache_entries=int(table.get("cache_entries", 256)),
                breaker_failures=int(table.get("breaker_failures", 3)),
                breaker_cooldown_s=float(table.get("breaker_cooldown_s", 30.0)),
            ))
        except (TypeError, ValueError) as error:
            raise OperatorsConfigError(f"{where}: {error}") from None
    if len({o.id for o in operators}) != len(operators):
        raise OperatorsConfigError("two carpool operators share an id")
    return operators


def load_operators(registry: Path | None) -> list[OperatorConfig]:
    """The operators of the registry file (none without a registry)."""
    if registry is None:
        return []
    with open(registry, "rb") as handle:
        return parse_operators(tomllib.load(handle))
