"""Read a GTFS feed (zip file or folder) into string-typed tables.

This is the one GTFS reader of the project: validation, ingestion, the planner compiler and the
fare catalogue all start from `read_gtfs`. It does no interpretation beyond what every consumer
needs: header names are trimmed (real feeds carry leading spaces and UTF-8 BOMs), every value is
kept as the exact string the publisher wrote (empty string for an empty cell), and files inside a
sub-folder of a zip are found by their base name. Typed parsing (times, dates, coordinates) is done
by the consumers, vectorised, with the helpers below.

Members are parsed as they are decompressed (a stream into pandas, never the member's bytes
whole in memory). Given `ArchiveLimits` (ingestion always gives them: the publisher's bytes are
untrusted), the archive is checked before anything is decompressed and counted while it is, so a
zip bomb stops at its first byte over a limit with `ArchiveRejected` (see `feeds.gtfs.archive`).
Without limits nothing is bounded: that is for versions already accepted, which passed the
limits in force when they were ingested (raising or lowering the limits later changes nothing for
them), and for the project's own files.

Sync and CPU-bound: call it from an executor in async code.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from feeds.gtfs.archive import (
    ArchiveLimits,
    ArchiveRejected,
    BoundedMember,
    FeedBudget,
    GtfsReadError,
    check_declared,
    compressed_extents,
)

__all__ = [
    "ArchiveLimits",
    "ArchiveRejected",
    "GtfsReadError",
    "GtfsTables",
    "read_gtfs",
    "parse_gtfs_times",
    "parse_factorized_gtfs_times",
    "parse_gtfs_dates",
    "parse_gtfs_integers",
    "parse_gtfs_numbers",
]


@dataclass(frozen=True)
class GtfsTables:
    """The files of one feed: file stem (``stop_times``) -> table of strings."""

    source: str
    tables: Mapping[str, pd.DataFrame] = field(repr=False)
    extra_files: tuple[str, ...] = ()  # non-.txt members (e.g. locations.geojson), by name

    def has(self, name: str) -> bool:
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame:
        """The table, or KeyError when the feed has no such file."""
        return self.tables[name]

    def find(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def column(self, name: str, column: str) -> pd.Series | None:
        """One column of one file, or None when either is absent."""
        table = self.tables.get(name)
        if table is None or column not in table.columns:
            return None
        return table[column]


_READ_CHUNK_BYTES = 1 << 20


def _read_csv(source: BinaryIO, file: str) -> pd.DataFrame:
    """Parse one member as it streams (pandas reads ``source`` in chunks); a blank file is empty."""
    try:
        frame = pd.read_csv(
            source,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise GtfsReadError(f"{file}: not readable as CSV ({error})", file=file) from error
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame


def _stream(raw: BinaryIO, *, name: str, budget: FeedBudget | None, compressed_bytes: int | None = None,
            declared_bytes: int | None = None) -> BinaryIO:
    if budget is None:
        return raw
    bounded = BoundedMember(raw, name=name, budget=budget, compressed_bytes=compressed_bytes,
                            declared_bytes=declared_bytes)
    return io.BufferedReader(bounded, _READ_CHUNK_BYTES)  # type: ignore[return-value]


def read_gtfs(path: str | Path, *, only: Iterable[str] | None = None,
              limits: ArchiveLimits | None = None) -> GtfsTables:
    """Read every ``.txt`` file of the feed at ``path`` (zip or folder).

    ``only`` restricts reading to the named file stems (others are skipped, which makes loading
    just ``stops`` of a large feed cheap). ``limits`` bounds what the feed may inflate to (see the
    module docstring): the whole archive's declared sizes and names are checked first, then every
    member read is counted; a breach raises `ArchiveRejected`.
    """
    path = Path(path)
    wanted = set(only) if only is not None else None
    budget = FeedBudget(limits) if limits is not None else None
    tables: dict[str, pd.DataFrame] = {}
    extras: list[str] = []
    if path.is_dir():
        members = sorted(p for p in path.iterdir() if p.is_file())
        if limits is not None:
            check_declared([(p.name, p.stat().st_size, p.stat().st_size) for p in members],
                           _without_ratio(limits))
        for member in members:
            if member.suffix != ".txt":
                extras.append(member.name)
                continue
            if wanted is None or member.stem in wanted:
                with member.open("rb") as handle:
                    tables[member.stem] = _read_csv(_stream(handle, name=member.name, budget=budget,
                                                            declared_bytes=member.stat().st_size), member.name)
    elif path.is_file():
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise GtfsReadError(f"{path.name}: not a zip archive or folder ({error})") from error
        with archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            compressed = [info.compress_size for info in infos]
            if limits is not None:
                archive_bytes = path.stat().st_size
                compressed = compressed_extents([i.header_offset for i in infos], compressed,
                                                getattr(archive, "start_dir", archive_bytes))
                check_declared([(i.filename, i.file_size, c) for i, c in zip(infos, compressed, strict=True)],
                               limits, archive_bytes=archive_bytes)
            for info, compressed_bytes in zip(infos, compressed, strict=True):
                name = info.filename.rsplit("/", 1)[-1]
                if name.startswith(".") or "__MACOSX" in info.filename:
                    continue
                if not name.endswith(".txt"):
                    extras.append(name)
                    continue
                stem = name[:-4]
                if wanted is not None and stem not in wanted:
                    continue
                try:
                    with archive.open(info) as raw:
                        tables[stem] = _read_csv(_stream(raw, name=name, budget=budget,
                                                         compressed_bytes=compressed_bytes,
                                                         declared_bytes=info.file_size), name)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                    raise GtfsReadError(f"{name}: cannot be extracted ({error})", file=name) from error
    else:
        raise GtfsReadError(f"{path}: no such file or folder")
    return GtfsTables(source=str(path), tables=tables, extra_files=tuple(extras))


def _without_ratio(limits: ArchiveLimits) -> ArchiveLimits:
    """A folder's files are not compressed: only sizes, count and names apply."""
    return replace(limits, max_compression_ratio=float("inf"))


def _parse_time_text(text: object) -> int:
    """One ``H:MM:SS`` cell -> seconds, or -1 (same grammar as ``^\\d{1,3}:[0-5]\\d:[0-5]\\d$``)."""
    if not isinstance(text, str):
        return -1
    parts = text.strip().split(":")
    if len(parts) != 3:
        return -1
    hours, minutes, seconds = parts
    if not (
        1 <= len(hours) <= 3
        and len(minutes) == 2
        and len(seconds) == 2
        and hours.isascii()
        and hours.isdigit()
        and minutes.isascii()
        and minutes.isdigit()
        and seconds.isascii()
        and seconds.isdigit()
        and minutes[0] <= "5"
        and seconds[0] <= "5"
    ):
        return -1
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def parse_gtfs_times(values: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """GTFS ``H:MM:SS`` / ``HH:MM:SS`` strings -> seconds since noon minus 12h (int32).

    Times past 24:00 stay as they are (``25:10:00`` -> 90600). Empty or malformed cells give -1;
    callers decide whether that is an error (validation) or expected (GTFS-Flex, interpolation).

    A timetable repeats the same few thousand clock times over hundreds of thousands of rows, so
    the distinct strings are parsed once and mapped back (about 20x faster than a regex over
    every row of a large stop_times.txt).
    """
    array = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    return parse_factorized_gtfs_times(codes, uniques)


def parse_factorized_gtfs_times(codes: np.ndarray, uniques: np.ndarray | pd.Index) -> np.ndarray:
    """`parse_gtfs_times` for a column already factorized (``pd.factorize``): shares the work."""
    if len(uniques) == 0:
        return np.full(len(codes), -1, dtype=np.int32)
    parsed = _parse_distinct_times(np.asarray(uniques, dtype=object))
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)], -1).astype(np.int32)


def _parse_distinct_times(texts: np.ndarray) -> np.ndarray:
    """Distinct time strings -> seconds; ``HH:MM:SS`` and ``H:MM:SS`` are parsed on arrays of code
    points (no Python call per value), anything else (spaces, 3-digit hours) one by one."""
    parsed = np.full(len(texts), -1, dtype=np.int32)
    try:
        points = texts.astype("U9").view(np.uint32).reshape(-1, 9).astype(np.int64)
    except (TypeError, ValueError):  # not strings: leave it to the slow path
        points = None
    if points is not None:
        lengths = (points != 0).sum(axis=1)
        for width in (8, 7):  # HH:MM:SS and H:MM:SS
            rows = np.flatnonzero(lengths == width)
            if len(rows) == 0:
                continue
            block = points[rows, :width]
            hour_digits = width - 6
            digit_columns = [*range(hour_digits), hour_digits + 1, hour_digits + 2, hour_digits + 4, hour_digits + 5]
            digits = block[:, digit_columns] - 48
            minutes_tens, seconds_tens = digits[:, hour_digits], digits[:, hour_digits + 2]
            ok = (
                ((digits >= 0) & (digits <= 9)).all(axis=1)
                & (block[:, hour_digits] == 58)
                & (block[:, hour_digits + 3] == 58)
                & (minutes_tens <= 5)
                & (seconds_tens <= 5)
            )
            hours = digits[:, 0] * 10 + digits[:, 1] if hour_digits == 2 else digits[:, 0]
            minutes = minutes_tens * 10 + digits[:, hour_digits + 1]
            seconds = seconds_tens * 10 + digits[:, hour_digits + 3]
            parsed[rows[ok]] = (hours * 3600 + minutes * 60 + seconds)[ok]
    for index in np.flatnonzero(parsed < 0):
        parsed[index] = _parse_time_text(texts[index])
    return parsed


def parse_gtfs_dates(values: pd.Series | list[str]) -> pd.Series:
    """GTFS ``YYYYMMDD`` strings -> pandas datetime64 (NaT when malformed)."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    return pd.to_datetime(series.astype(str).str.strip(), format="%Y%m%d", errors="coerce")


def _cells(values: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    return values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)


def parse_gtfs_integers(values: pd.Series | np.ndarray | list[str], default: int) -> np.ndarray:
    """Integer cells (``stop_sequence``, ``pickup_type``...) -> int64; empty or malformed -> ``default``.

    Cells are read as ``pd.to_numeric`` reads them (surrounding spaces allowed, ``2.0`` is 2), but
    the distinct strings are parsed once and mapped back: such a column repeats a few hundred
    values over every row (Kaunas stop_times.txt: 70 ms -> 10 ms a column).
    """
    codes, uniques = pd.factorize(_cells(values), use_na_sentinel=True)
    if len(uniques) == 0:
        return np.full(len(codes), default, dtype=np.int64)
    parsed = pd.to_numeric(pd.Series(np.asarray(uniques, dtype=object), dtype=object), errors="coerce")
    distinct = parsed.fillna(default).to_numpy(dtype=np.int64)
    return np.where(codes >= 0, distinct[np.maximum(codes, 0)], default).astype(np.int64)


def parse_gtfs_numbers(values: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Decimal cells (coordinates, distances) -> float64; empty or malformed -> NaN.

    Coordinates are nearly all distinct, so the cells are joined into one column of text for
    pandas' C number parser, a third of the time of ``float()`` per cell (Kaunas shapes.txt, 111k
    points: 20 ms -> 6 ms a column). When that parser refuses a cell, or a cell does not come back
    as one row (it holds a newline, a comma), the column is parsed cell by cell instead.
    """
    cells = _cells(values)
    text = ""
    try:
        text = "\n".join(cells.tolist())
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=np.float64, skip_blank_lines=False,
                            quoting=csv.QUOTE_NONE)
    except pd.errors.EmptyDataError:  # every cell blank
        if not text.strip():
            return np.full(len(cells), np.nan)
    except (ValueError, TypeError):  # a cell that is not a number or not a string (ParserError is a ValueError)
        pass
    else:
        if frame.shape == (len(cells), 1):
            return frame.to_numpy(dtype=np.float64)[:, 0]
    return pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
