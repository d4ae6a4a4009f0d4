"""The configuration tree: loaded once from the environment and an optional TOML file.

`load_config` is the only place that reads ``os.environ`` (besides `oura.secrets`). The result is
a frozen tree passed down explicitly. Precedence: environment variable > TOML file > default.

Environment variables:
  DATABASE_URL      PostgreSQL DSN; when absent an embedded server (pgserver) is started
  OURA_CONFIG       path of a TOML file with sections [database] [http] [feeds] [planner] [log] [statistics]
  OURA_DATA_DIR     folder for local state (default ./var): embedded pgdata, feed store, caches
  OURA_PGDATA       embedded PostgreSQL data folder (default $OURA_DATA_DIR/pgdata)
  OURA_HOST, OURA_PORT   where `oura serve` listens (default 127.0.0.1:8080)
  OURA_REGISTRY     authority registry TOML (default: the generated demo region)
  OURA_LOG_LEVEL    DEBUG | INFO | WARNING | ERROR (default INFO)
  OURA_LOG_FORMAT   json | text (default json)
  OURA_NFC_MASTER_KEY_FILE  file holding the NFC secure module's master key ([nfc] master_key_file)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "FeedsConfig",
    "SiteConfig",
    "HttpConfig",
    "LogConfig",
    "NfcConfig",
    "PlannerConfig",
    "StatisticsConfig",
    "load_config",
]


class ConfigError(Exception):
    """The configuration is invalid."""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str | None = None  # None: start the embedded server in `embedded_pgdata`
    embedded_pgdata: Path = Path("var/pgdata")
    pool_min_size: int = 2
    pool_max_size: int = 20
    command_timeout_s: float = 30.0
    migrate_on_start: bool = True


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout_s: float = 10.0
    # Hostile clients (see oura/http/server.py). An idle connection, or one still sending its
    # request line and headers, is closed after keepalive_timeout_s (aiohttp's idle timer runs
    # until a whole request head has arrived, so this also bounds a slowloris); a body must
    # arrive within body_timeout_s (408, connection closed).
    keepalive_timeout_s: float = 15.0
    body_timeout_s: float = 30.0
    lingering_s: float = 2.0  # after an answer sent before the whole body was read, read the rest this long, then close
    max_line_size: int = 8190  # bytes of the request line (method, path, query): over it, 414
    max_field_size: int = 8190  # bytes of one header field (name and value): over it, 431
    max_headers: int = 100  # header fields per request: over it, 431


@dataclass(frozen=True)
class FeedsConfig:
    registry: Path | None = None
    store_dir: Path = Path("var/feeds")
    ingest_on_start: bool = True
    realtime: bool = True
    # What one fetched feed may inflate to (zip bombs are rejected with a report before they are
    # read whole; see feeds/README.md "Archive limits"). Largest measured: a 1.18 GB stop_times
    # (1.22 GB feed) in the demo region at scale 10, a 51:1 member ratio (GTFS-Flex), 21 files.
    max_member_uncompressed_bytes: int = 3 << 30
    max_feed_uncompressed_bytes: int = 4 << 30
    max_compression_ratio: float = 200.0
    max_members: int = 200
    max_download_bytes: int = 512 << 20  # a download larger than this is refused before it is stored


@dataclass(frozen=True)
class PlannerConfig:
    cache_dir: Path = Path("var/cache/planner")
    max_window_s: int = 6 * 3600
    walk_radius_m: float = 800.0  # nearest stops of /v1/stops?near= (twice this radius)
    # Walking to and from a coordinate, and walk-only journeys (journey_planner.places.WalkingRules):
    # access/egress stops are searched within 400 m, 800 m, 1.6 km ... up to max_access_radius_m;
    # walking distance is the straight line times walk_detour_factor, walked at walk_speed_mps.
    max_access_radius_m: float = 2000.0
    walk_detour_factor: float = 1.3
    walk_speed_mps: float = 1.2
    max_walk_only_m: float = 2000.0  # a walk-only journey is proposed up to this walking distance
    walk_only_margin_s: int = 300  # ... when it arrives at most this much after the best transit journey


@dataclass(frozen=True)
class StatisticsConfig:
    """Anonymised statistics (ticketing.statistics). Identifying validation data (the medium's
    serial, the contract it used) lives ``retention_h`` hours (CNIL AU-015: at most 48 h, for fraud
    detection and trip chaining); more needs ``allow_retention_over_48h`` set as well."""

    retention_h: float = 48.0
    allow_retention_over_48h: bool = False
    k: int = 10  # cells counting fewer than k are suppressed
    method: str = "suppression"  # suppression | laplace | gaussian (differential privacy, then suppression)
    epsilon_per_day: float = 1.0  # privacy budget of one authority for one service day, all its families
    delta: float = 1e-7  # gaussian only
    max_validations_per_medium_day: int = 8  # DP contribution bound: a medium's validations counted per day
    max_items_per_order: int = 10  # DP contribution bound of one order (sales)
    max_amount_per_order_minor: int = 20000  # DP bound on one order's revenue
    release_grace_s: int = 3600  # a service day is released this long after it ends (04:00 the next day)
    every_s: float = 300.0  # how often the background job releases closed periods and purges (0: never)


@dataclass(frozen=True)
class NfcConfig:
    """The NFC gateway's load jobs (nfc_gateway.remote.jobs): a paid contract for a card or wallet
    not written onto it within ``load_deadline_s`` is refunded; the job runs every ``every_s`` (0: never).

    ``master_key_file``: the file holding the secure module's master key (16 or 32 bytes, raw or as
    32 or 64 hex digits). The config keeps the file's name, never the key: `read_master_key` reads
    it (`load_config` once, to refuse a bad file before anything starts; the NFC gateway at start-up).
    Unset, the gateway uses a demo key derived from the data folder (and says so in its log)."""

    load_deadline_s: float = 7 * 86400.0
    every_s: float = 60.0
    master_key_file: str | None = None

    def read_master_key(self) -> bytes | None:
        """The master key in ``master_key_file`` (None when unset); `ConfigError` naming the file
        and what is wrong when it cannot be read or is not a 16- or 32-byte key."""
        if not self.master_key_file:
            return None
        where = f"nfc.master_key_file {self.master_key_file}"
        try:
            raw = Path(self.master_key_file).read_bytes()
        except OSError as error:
            raise ConfigError(f"{where}: cannot read it ({error.strerror or error})") from None
        text = raw.strip()
        if text and len(text) in (32, 64) and all(c in b"0123456789abcdefABCDEF" for c in text):
            return bytes.fromhex(text.decode("ascii"))
        if len(raw) in (16, 32) and not all(32 <= c < 127 or c in b"\t\r\n" for c in raw):
            return raw  # raw key bytes (text that is not hex is refused: a typo in a hex key, not a key)
        raise ConfigError(f"{where}: holds {len(raw)} bytes; a master key is 16 or 32 raw bytes, "
                          "or 32 or 64 hex digits (an AES-128 or AES-256 key)")


@dataclass(frozen=True)
class SiteConfig:
    """The traveller site at ``/`` (traveller_site)."""

    enabled: bool = True
    tile_url: str = ""  # a raster tile URL template ({z}/{x}/{y}) for production; "" draws the offline basemap only
    tile_attribution: str = ""
    web_shop_authority: str = ""  # the authority whose web shop sells on the site; "" the registry's region


@dataclass(frozen=True)
class LogConfig:
    level: str = "INFO"
    format: str = "json"


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("var")
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    log: LogConfig = field(default_factory=LogConfig)
    statistics: StatisticsConfig = field(default_factory=StatisticsConfig)
    nfc: NfcConfig = field(default_factory=NfcConfig)
    site: SiteConfig = field(default_factory=SiteConfig)

    def with_database_url(self, url: str | None) -> Config:
        return replace(self, database=replace(self.database, url=url))


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _typed(section: str, key: str, value: Any, kind: type) -> Any:
    if kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{section}.{key} must be a path string")
        return Path(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{section}.{key} must be a boolean")
    if kind in (int, float):
        try:
            number = kind(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{section}.{key} must be a number, got {value!r}") from error
        if number < 0:
            raise ConfigError(f"{section}.{key} must not be negative")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{section}.{key} must be a string")
    return value


def _build(cls: type, section: str, values: Mapping[str, Any], **overrides: Any) -> Any:
    fields = {f.name: f for f in cls.__dataclass_fields__.values()}  # type: ignore[attr-defined]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown setting {section}.{key}")
        default = fields[key].default
        kind = type(default) if default is not None else str
        if isinstance(default, Path) or key in {"registry", "embedded_pgdata", "store_dir", "cache_dir"}:
            kind = Path
        kwargs[key] = _typed(section, key, value, kind)
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**kwargs)


def load_config(
    environ: Mapping[str, str] | None = None, *, file: Path | None = None
) -> Config:
    """Read the environment (and the TOML file it names) into a validated `Config`."""
    env = os.environ if environ is None else environ
    path = file or (Path(env["OURA_CONFIG"]) if env.get("OURA_CONFIG") else None)
    data: Mapping[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read config file {path}: {error}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from error
    unknown = set(data) - {"data_dir", "database", "http", "feeds", "planner", "log", "statistics", "nfc", "site"}
    if unknown:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")

    data_dir = Path(env.get("OURA_DATA_DIR") or data.get("data_dir") or "var")
    port = env.get("OURA_PORT")
    if port is not None and not port.isdigit():
        raise ConfigError(f"OURA_PORT must be a port number, got {port!r}")
    database = _build(
        DatabaseConfig,
        "database",
        {"embedded_pgdata": str(data_dir / "pgdata"), **_section(data, "database")},
        url=env.get("DATABASE_URL") or None,
        embedded_pgdata=Path(env["OURA_PGDATA"]) if env.get("OURA_PGDATA") else None,
    )
    http = _build(
        HttpConfig,
        "http",
        _section(data, "http"),
        host=env.get("OURA_HOST") or None,
        port=int(port) if port else None,
    )
    if not 0 <= http.port <= 65535:
        raise ConfigError(f"http.port out of range: {http.port}")
    for name in ("keepalive_timeout_s", "body_timeout_s", "lingering_s", "max_line_size", "max_field_size", "max_headers"):
        if not getattr(http, name) > 0:  # 0 would mean "no limit" to aiohttp: idle connections kept forever
            raise ConfigError(f"http.{name} must be positive")
    feeds = _build(
        FeedsConfig,
        "feeds",
        {"store_dir": str(data_dir / "feeds"), **_section(data, "feeds")},
        registry=Path(env["OURA_REGISTRY"]) if env.get("OURA_REGISTRY") else None,
    )
    planner = _build(
        PlannerConfig, "planner", {"cache_dir": str(data_dir / "cache" / "planner"), **_section(data, "planner")}
    )
    log = _build(
        LogConfig,
        "log",
        _section(data, "log"),
        level=env.get("OURA_LOG_LEVEL") or None,
        format=env.get("OURA_LOG_FORMAT") or None,
    )
    if log.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"log.level must be DEBUG, INFO, WARNING or ERROR, got {log.level!r}")
    if log.format not in {"json", "text"}:
        raise ConfigError(f"log.format must be json or text, got {log.format!r}")
    statistics = _build(StatisticsConfig, "statistics", _section(data, "statistics"))
    if not 0 < statistics.retention_h <= 48 and not (statistics.retention_h > 0 and statistics.allow_retention_over_48h):
        raise ConfigError(f"statistics.retention_h must be in (0, 48] (CNIL AU-015), got {statistics.retention_h}; "
                          "set statistics.allow_retention_over_48h = true as well to keep identifying data longer")
    if statistics.k < 1:
        raise ConfigError(f"statistics.k must be at least 1, got {statistics.k}")
    if statistics.method not in {"suppression", "laplace", "gaussian"}:
        raise ConfigError(f"statistics.method must be suppression, laplace or gaussian, got {statistics.method!r}")
    if not statistics.epsilon_per_day > 0 or not 0 <= statistics.delta < 1:
        raise ConfigError("statistics.epsilon_per_day must be positive and statistics.delta in [0, 1)")
    nfc = _build(NfcConfig, "nfc", _section(data, "nfc"), master_key_file=env.get("OURA_NFC_MASTER_KEY_FILE") or None)
    if not nfc.load_deadline_s > 0:
        raise ConfigError(f"nfc.load_deadline_s must be positive, got {nfc.load_deadline_s}")
    nfc.read_master_key()  # a missing or malformed key file is refused now, not at the first card
    site = _build(SiteConfig, "site", _section(data, "site"), tile_url=env.get("OURA_SITE_TILE_URL") or None)
    if site.tile_url and not (site.tile_url.startswith("https://") and "{z}" in site.tile_url):
        raise ConfigError(f"site.tile_url must be an https:// template with {{z}}, {{x}}, {{y}}, got {site.tile_url!r}")
    return Config(data_dir=data_dir, database=database, http=http, feeds=feeds, planner=planner, log=log,
                  statistics=statistics, nfc=nfc, site=site)
