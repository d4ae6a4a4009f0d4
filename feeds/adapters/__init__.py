"""Per-authority adapters: the only place where one publisher's quirks are handled in code.

An adapter is a module ``feeds/adapters/<name>.py`` exposing ``adapt(tables: GtfsTables) ->
GtfsTables``, named by the registry (``adapter = "<name>"`` on a network). It runs after reading
and before validation, and again whenever a stored version is read back (`read_network_feed`), so
the stored zip stays the publisher's bytes (its hash is the publisher's content) while every
consumer sees the adapted tables. Adapters are pure and must not drop data silently: fix what is
provably a quirk, leave the rest to validation.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path

from feeds.gtfs.reader import ArchiveLimits, GtfsTables, read_gtfs

__all__ = ["Adapter", "get_adapter", "read_network_feed", "UnknownAdapter"]

Adapter = Callable[[GtfsTables], GtfsTables]
_NAME = re.compile(r"^[a-z0-9_]+$")


class UnknownAdapter(LookupError):
    """The registry names an adapter that does not exist."""


def get_adapter(name: str) -> Adapter:
    module_name = name.replace("-", "_")
    if not _NAME.match(module_name):
        raise UnknownAdapter(f"adapter {name!r} is not a valid module name")
    try:
        module = importlib.import_module(f"feeds.adapters.{module_name}")
    except ModuleNotFoundError as error:
        raise UnknownAdapter(f"no adapter feeds/adapters/{module_name}.py") from error
    adapt = getattr(module, "adapt", None)
    if not callable(adapt):
        raise UnknownAdapter(f"feeds/adapters/{module_name}.py has no adapt(tables) function")
    return adapt


def read_network_feed(path: Path, adapter: str | None = None, *, only: list[str] | None = None,
                      limits: ArchiveLimits | None = None) -> GtfsTables:
    """Read a feed version as consumers must see it: `read_gtfs` (bounded by ``limits`` when
    given: ingestion gives them) then the network's adapter."""
    tables = read_gtfs(path, only=only, limits=limits)
    return get_adapter(adapter)(tables) if adapter else tables
