"""The authority registry: which authorities exist, their networks, and where their feeds live.

The registry is data (a TOML file shared with the demo generator, format in feeds/README.md), not
code: adding an authority never touches Python. It is parsed once into frozen dataclasses; every
problem found is reported at once in one `RegistryError`, with the TOML path of each problem, so
a maintainer fixes the file in one pass.

Relative paths (static feeds, regional fares) are resolved against the registry file's folder;
http(s) URLs are kept as they are.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Authority",
    "AuthorityKind",
    "Network",
    "RealtimeSources",
    "Registry",
    "RegistryError",
    "load_registry",
    "parse_registry",
    "is_url",
]

AuthorityKind = str  # "region" | "departement" | "urban"
AUTHORITY_KINDS = frozenset({"region", "departement", "urban"})
_ID = re.compile(r"^[a-z0-9_-]+$")
DEFAULT_STATIC_POLL_S = 3600
DEFAULT_REALTIME_POLL_S = 30


class RegistryError(ValueError):
    """The authority registry is malformed."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"authority registry {source} is invalid:\n{listing}")


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class RealtimeSources:
    trip_updates: str | None = None
    alerts: str | None = None
    vehicle_positions: str | None = None
    poll_s: int = DEFAULT_REALTIME_POLL_S


@dataclass(frozen=True, slots=True)
class Network:
    """One feed. Its id is the feed id and the namespace of every id downstream (`tcl:<id>`)."""

    id: str
    name: str
    authority_id: str
    timezone: str
    static: str  # absolute path or http(s) URL
    static_poll_s: int = DEFAULT_STATIC_POLL_S
    adapter: str | None = None
    realtime: RealtimeSources | None = None


@dataclass(frozen=True, slots=True)
class Authority:
    id: str
    name: str
    kind: AuthorityKind
    timezone: str
    networks: tuple[Network, ...] = ()


@dataclass(frozen=True)
class Registry:
    source: str
    region_name: str
    timezone: str
    authorities: tuple[Authority, ...] = ()
    regional_fares: Path | None = None

    def list_networks(self) -> list[Network]:
        return [network for authority in self.authorities for network in authority.networks]

    def find_authority(self, authority_id: str) -> Authority | None:
        return next((a for a in self.authorities if a.id == authority_id), None)

    def get_authority(self, authority_id: str) -> Authority:
        authority = self.find_authority(authority_id)
        if authority is None:
            known = ", ".join(a.id for a in self.authorities)
            raise KeyError(f"no authority {authority_id!r} in the registry (known: {known})")
        return authority

    def find_network(self, network_id: str) -> Network | None:
        return next((n for n in self.list_networks() if n.id == network_id), None)

    def select_networks(self, only: str | None = None) -> list[Network]:
        """Every network, or those of authority ``only`` (an authority id or a network id)."""
        if only is None:
            return self.list_networks()
        authority = self.find_authority(only)
        if authority is not None:
            return list(authority.networks)
        network = self.find_network(only)
        if network is not None:
            return [network]
        raise KeyError(f"{only!r} is neither an authority nor a network of the registry")

    def __iter__(self) -> Iterator[Authority]:
        return iter(self.authorities)


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RegistryError(str(path), [f"cannot read the file: {error}"]) from error
    return parse_registry(text, base_dir=path.resolve().parent, source=str(path))


def _tables_of(value: object, not_an_array: str, where: str, problems: list[str]) -> Iterator[tuple[int, str, dict]]:
    """Each table of an array of tables (``[[authorities]]``), with its index and where it stands
    (``where[i]``); an array that is not one, and an item that is not a table, are problems."""
    if not isinstance(value, list):
        problems.append(not_an_array)
        return
    for index, item in enumerate(value):
        item_where = f"{where}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{item_where} must be a table")
            continue
        yield index, item_where, item


def parse_registry(text: str, *, base_dir: Path, source: str = "<registry>") -> Registry:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(source, [f"not valid TOML: {error}"]) from error
    problems: list[str] = []
    region = document.get("region")
    if not isinstance(region, dict):
        problems.append("[region] table is missing")
        region = {}
    region_tz = _text(region, "timezone", "region", problems)
    region_name = _text(region, "name", "region", problems)
    if region_tz:
        _check_timezone(region_tz, "region.timezone", problems)
    regional_fares = None
    if isinstance(region.get("regional_fares"), str) and region["regional_fares"]:
        regional_fares = _resolve(region["regional_fares"], base_dir)
        regional_fares = Path(regional_fares)

    authorities: list[Authority] = []
    seen_authorities: set[str] = set()
    seen_networks: set[str] = set()
    for a_index, where, raw in _tables_of(document.get("authorities", []), "[[authorities]] must be an array of tables",
                                          "authorities", problems):
        authority_id = _identifier(raw, where, problems)
        where = f"authority {authority_id or a_index}"
        if authority_id in seen_authorities:
            problems.append(f"{where}: duplicate authority id")
        seen_authorities.add(authority_id)
        kind = _text(raw, "kind", where, problems)
        if kind and kind not in AUTHORITY_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {sorted(AUTHORITY_KINDS)}")
        timezone = raw.get("timezone") or region_tz
        if timezone:
            _check_timezone(timezone, f"{where}.timezone", problems)
        networks: list[Network] = []
        for _, n_where, raw_network in _tables_of(raw.get("networks", []), f"{where}: networks must be an array of tables",
                                                  f"{where} networks", problems):
            network = _parse_network(raw_network, n_where, authority_id, timezone, base_dir, problems)
            raw_id = raw_network.get("id")
            if isinstance(raw_id, str) and raw_id:
                if raw_id in seen_networks:
                    problems.append(f"{n_where}: duplicate network id {raw_id!r} (network ids are feed ids)")
                seen_networks.add(raw_id)
            if network is not None:
                networks.append(network)
        authorities.append(
            Authority(id=authority_id, name=_text(raw, "name", where, problems), kind=kind, timezone=timezone,
                      networks=tuple(networks))
        )
    if problems:
        raise RegistryError(source, problems)
    return Registry(source=source, region_name=region_name, timezone=region_tz, authorities=tuple(authorities),
                    regional_fares=regional_fares)


def _parse_network(
    raw: dict[str, Any], where: str, authority_id: str, timezone: str, base_dir: Path, problems: list[str]
) -> Network | None:
    network_id = _identifier(raw, where, problems)
    static = _text(raw, "static", where, problems)
    static_poll_s = _positive_int(raw, "static_poll_s", DEFAULT_STATIC_POLL_S, where, problems)
    realtime = None
    raw_rt = raw.get("realtime")
    if raw_rt is not None:
        if not isinstance(raw_rt, dict):
            problems.append(f"{where}.realtime must be a table")
        else:
            urls = {}
            for kind in ("trip_updates", "alerts", "vehicle_positions"):
                value = raw_rt.get(kind)
                if value is not None and (not isinstance(value, str) or not value):
                    problems.append(f"{where}.realtime.{kind} must be a URL or path string")
                    value = None
                urls[kind] = _resolve(value, base_dir) if value else None
            realtime = RealtimeSources(
                **urls, poll_s=_positive_int(raw_rt, "poll_s", DEFAULT_REALTIME_POLL_S, f"{where}.realtime", problems)
            )
    adapter = raw.get("adapter") or None
    if adapter is not None:
        from feeds.adapters import UnknownAdapter, get_adapter

        try:
            get_adapter(str(adapter))
        except UnknownAdapter as error:
            problems.append(f"{where}: {error}")
    if not network_id or not static:
        return None
    return Network(id=network_id, name=str(raw.get("name") or network_id), authority_id=authority_id,
                   timezone=str(raw.get("timezone") or timezone), static=_resolve(static, base_dir),
                   static_poll_s=static_poll_s, adapter=adapter, realtime=realtime)


def _resolve(location: str, base_dir: Path) -> str:
    if is_url(location):
        return location
    path = Path(location)
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def _text(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key} is required (a non-empty string)")
        return ""
    return value.strip()


def _identifier(raw: dict[str, Any], where: str, problems: list[str]) -> str:
    value = _text(raw, "id", where, problems)
    if value and not _ID.match(value):
        problems.append(f"{where}: id {value!r} must match [a-z0-9_-]+")
    return value


def _positive_int(raw: dict[str, Any], key: str, default: int, where: str, problems: list[str]) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"{where}: {key} must be a positive integer (seconds), got {value!r}")
        return default
    return value


def _check_timezone(name: str, where: str, problems: list[str]) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: {name!r} is not an IANA time zone")
