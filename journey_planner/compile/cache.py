"""The on-disk cache of compiled networks: one ``.npz`` per set of feeds, keyed by the feeds'
content hashes and the compile options, so a restart loads without parsing GTFS.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from feeds.gtfs.model import read_gtfs

from ..core.timetable import Timetable
from .build import compile_network
from .network import CompileOptions, CompileReport, FeedSource, Network

__all__ = ["COMPILE_VERSION", "GTFS_FILES", "feed_content_hash", "load_network"]

COMPILE_VERSION = "jp-compile-12"  # 12: footpaths to the k nearest and each line's nearest; 11: repeated strings as codes; 10: platform_code; 9: shapes, zones
GTFS_FILES = (
    "agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates",
    "frequencies", "transfers", "feed_info", "shapes",
)
READ_CHUNK_BYTES = 1 << 20


def feed_content_hash(path: Path) -> str:
    """sha256 of the feed's bytes (the zip, or the folder's files by name)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(path.iterdir()):
            if member.is_file() and member.suffix == ".txt":
                digest.update(member.name.encode())
                digest.update(member.read_bytes())
    else:
        with path.open("rb") as handle:
            for chunk in iter(partial(handle.read, READ_CHUNK_BYTES), b""):
                digest.update(chunk)
    return digest.hexdigest()[:24]


def _cache_key(hashes: Sequence[str], feed_ids: Sequence[str], options: CompileOptions) -> str:
    text = json.dumps([COMPILE_VERSION, list(feed_ids), list(hashes), options.__dict__], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_STRING_FIELDS = (
    "stop_ids", "stop_names", "stop_platform_codes", "route_ids", "route_short_names", "route_long_names", "route_colors",
    "route_text_colors", "trip_ids", "trip_headsigns", "trip_shape_ids", "shape_ids",
)
# string fields with few distinct values over many rows, stored as the distinct values and one code
# per row (Kaunas: headsigns and shape ids of 9,618 trips, 2.9 MB -> 0.1 MB; the cache loads faster)
_REPEATED_STRING_FIELDS = ("trip_headsigns", "trip_shape_ids")
_NUMERIC_FIELDS = (
    "stop_feed", "stop_is_station", "route_types", "trip_routes", "shape_point_offsets", "shape_lat", "shape_lon",
)


def _save_cache(network: Network, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {f"tt__{k}": v for k, v in network.timetable.arrays().items()}
    for name in _STRING_FIELDS:
        values = getattr(network, name)
        if name in _REPEATED_STRING_FIELDS:
            codes, values = pd.factorize(values, use_na_sentinel=False)
            arrays[f"codes__{name}"] = codes.astype(np.int32)
        arrays[f"net__{name}"] = np.asarray(values, dtype=str)
    for name in _NUMERIC_FIELDS:
        arrays[f"net__{name}"] = getattr(network, name)
    meta = {
        "feed_ids": network.feed_ids, "feed_paths": network.feed_paths,
        "feed_hashes": network.feed_hashes, "timezones": network.timezones,
        "feed_tz": network.feed_tz, "first_day_ordinal": network.timetable.first_day_ordinal,
        "max_stop_time_s": network.timetable.max_stop_time_s,
        "report": {k: v for k, v in network.report.__dict__.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load_cache(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        tt_fields = {k[4:]: data[k] for k in data.files if k.startswith("tt__")}
        net = {k[5:]: data[k] for k in data.files if k.startswith("net__")}
        codes = {k[7:]: data[k] for k in data.files if k.startswith("codes__")}
    timetable = Timetable(
        first_day_ordinal=int(meta["first_day_ordinal"]),
        max_stop_time_s=int(meta["max_stop_time_s"]),
        **tt_fields,
    )
    report = CompileReport(**{**meta["report"], "from_cache": True})
    return Network(
        timetable=timetable,
        feed_ids=tuple(meta["feed_ids"]),
        feed_paths=tuple(meta["feed_paths"]),
        feed_hashes=tuple(meta["feed_hashes"]),
        timezones=tuple(meta["timezones"]),
        feed_tz=tuple(meta["feed_tz"]),
        report=report,
        **{k: _loaded_field(k, v, codes.get(k)) for k, v in net.items()},
    )


def _loaded_field(name: str, values: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    if name not in _STRING_FIELDS:
        return values
    strings = values.astype(object)
    return strings[codes] if codes is not None else strings


def _source_key(source: FeedSource) -> str:
    """What names a feed in the cache key besides its content: its id, adapter and registry zone."""
    key = f"{source.feed_id}|{source.adapter_name}" if source.adapter_name else source.feed_id
    return f"{key}|tz={source.timezone}" if source.timezone else key


def load_network(
    sources: Sequence[FeedSource],
    *,
    cache_dir: Path | None = None,
    options: CompileOptions = CompileOptions(),
) -> Network:
    """The compiled network of these feeds, from the cache when it holds the same feed versions."""
    started = time.perf_counter()
    hashes = [feed_content_hash(Path(s.path)) for s in sources]
    cache_path = None
    if cache_dir is not None:
        key = _cache_key(hashes, [_source_key(s) for s in sources], options)
        cache_path = Path(cache_dir) / f"timetable-{key}.npz"
        if cache_path.exists():
            try:
                return _load_cache(cache_path)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable or from an older layout: compile again
    feeds = []
    for s in sources:
        tables = read_gtfs(s.path, only=GTFS_FILES)
        feeds.append((s.feed_id, s.adapt(tables) if s.adapt is not None else tables))
    network = compile_network(feeds, options=options, hashes=hashes, paths=[str(s.path) for s in sources],
                              registry_zones=[s.timezone for s in sources])
    network = network.with_timetable(
        network.timetable,
        report=CompileReport(**{**network.report.__dict__, "seconds": time.perf_counter() - started}),
    )
    if cache_path is not None:
        _save_cache(network, cache_path)
    return network
