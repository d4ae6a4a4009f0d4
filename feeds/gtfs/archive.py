"""Bounds on what a feed archive may inflate to: the defence against zip bombs.

A publisher's zip is untrusted input: 3 MB of deflated, repeated stop_times rows can inflate to
1 GiB and take the process down with it. `ArchiveLimits` bounds, per member and per feed, the
uncompressed bytes and the compression ratio, and the number of members. The limits are checked
twice, because the zip's central directory can lie:

1. before anything is decompressed, on the sizes the central directory declares (a cheap reject
   that reads nothing), together with the names: no nested archive, no path traversal;
2. while decompressing: `BoundedMember` counts the bytes actually produced and stops at the first
   byte over a limit, whatever the directory said.

A breach raises `ArchiveRejected` (a `GtfsReadError` with an issue code, the member and its
declared and actual sizes); validation turns it into one fatal issue, so the feed is rejected with
a report and the last good version keeps serving.

The defaults accept every real feed of ../shared/data and the demo region at scale 10 with
headroom (see feeds/README.md, "Archive limits"); `FeedsConfig` carries the configured values.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from typing import NoReturn

from feeds.gtfs.issues import IssueCode

__all__ = ["ArchiveLimits", "ArchiveRejected", "BoundedMember", "FeedBudget", "GtfsReadError", "check_declared",
           "check_member_name", "compressed_extents", "is_archive_name"]

GiB = 1 << 30
MiB = 1 << 20

# Members that are archives themselves: a GTFS feed holds CSV (and GeoJSON) files, never these.
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".zst", ".7z", ".rar", ".jar")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh",
                  b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How large a feed may be once decompressed (`FeedsConfig` holds the configured values).

    The ratio is uncompressed / compressed bytes. Real members stay under 51:1 (GTFS-Flex
    stop_times with empty time columns), deflate cannot exceed about 1032:1, and a zip bomb sits
    near that bound. Members smaller than ``ratio_min_bytes`` are not judged on their ratio (a
    10 kB file of repeated rows is harmless whatever it compresses to); the feed's total is.
    """

    max_member_uncompressed_bytes: int = 3 * GiB
    max_feed_uncompressed_bytes: int = 4 * GiB
    max_compression_ratio: float = 200.0
    max_members: int = 200
    ratio_min_bytes: int = 1 * MiB


class GtfsReadError(Exception):
    """The feed could not be opened or one of its files is not readable CSV.

    Public as `feeds.gtfs.reader.GtfsReadError`; defined here so that `ArchiveRejected` is one.
    """

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class ArchiveRejected(GtfsReadError):
    """The archive breaks one of its `ArchiveLimits` (or holds a nested archive or an unsafe name);
    ``code`` is the issue code of the report, sizes are in bytes (None when not known)."""

    def __init__(self, code: IssueCode, message: str, *, file: str | None = None,
                 declared_bytes: int | None = None, actual_bytes: int | None = None,
                 compressed_bytes: int | None = None) -> None:
        super().__init__(message, file=file)
        self.code = code
        self.declared_bytes = declared_bytes
        self.actual_bytes = actual_bytes
        self.compressed_bytes = compressed_bytes


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES)


def check_member_name(name: str) -> str | None:
    """Why a member name is unsafe (absolute, drive letter, backslash, ``..``, NUL), else None.

    Nothing in the project extracts a feed to disk, but a publisher's archive naming
    ``../../etc/passwd`` is hostile, not a feed: it is refused rather than read around.
    """
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or (len(name) > 1 and name[0].isalpha() and name[1] == ":"):
        return "is an absolute path"
    if ".." in name.split("/"):
        return "climbs out of the archive (..)"
    return None


def _ratio(uncompressed: int, compressed: int) -> float:
    return float("inf") if compressed <= 0 else uncompressed / compressed


def check_declared(members: list[tuple[str, int, int]], limits: ArchiveLimits, *,
                   archive_bytes: int | None = None) -> None:
    """Check the central directory's (name, uncompressed, compressed) sizes; raise at the first breach.

    The compressed sizes given must be what the data can really occupy (`compressed_extents`),
    and ``archive_bytes`` is the archive's size on disk: the feed's ratio is judged on it, so
    neither inflated compressed sizes nor members sharing their data (overlapping entries, the
    "non-recursive" zip bomb) make a bomb look harmless.
    """
    if len(members) > limits.max_members:
        raise ArchiveRejected(IssueCode.TOO_MANY_MEMBERS,
                              f"the archive holds {len(members):,} files, over the limit of {limits.max_members:,} "
                              "(feeds.max_members)")
    total = compressed_total = 0
    for name, size, compressed in members:
        reason = check_member_name(name)
        if reason is not None:
            raise ArchiveRejected(IssueCode.UNSAFE_MEMBER_NAME, f"the archive member name {name!r} {reason}",
                                  file=name)
        if is_archive_name(name):
            raise ArchiveRejected(IssueCode.NESTED_ARCHIVE,
                                  f"{name} is an archive inside the feed archive (nested archives are refused)",
                                  file=name, declared_bytes=size, compressed_bytes=compressed)
        if size > limits.max_member_uncompressed_bytes:
            raise ArchiveRejected(IssueCode.MEMBER_TOO_LARGE,
                                  f"{name} declares {size:,} bytes uncompressed, over the limit of "
                                  f"{limits.max_member_uncompressed_bytes:,} bytes per file "
                                  "(feeds.max_member_uncompressed_bytes)",
                                  file=name, declared_bytes=size, compressed_bytes=compressed)
        if size >= limits.ratio_min_bytes and _ratio(size, compressed) > limits.max_compression_ratio:
            raise ArchiveRejected(IssueCode.COMPRESSION_RATIO_EXCEEDED,
                                  f"{name} declares {size:,} bytes from {compressed:,} compressed bytes, a ratio of "
                                  f"{_ratio(size, compressed):,.0f}:1, over the limit of "
                                  f"{limits.max_compression_ratio:g}:1 (feeds.max_compression_ratio): a zip bomb",
                                  file=name, declared_bytes=size, compressed_bytes=compressed)
        total += size
        compressed_total += compressed
    if total > limits.max_feed_uncompressed_bytes:
        raise ArchiveRejected(IssueCode.FEED_TOO_LARGE,
                              f"the feed's files declare {total:,} bytes uncompressed in all, over the limit of "
                              f"{limits.max_feed_uncompressed_bytes:,} bytes (feeds.max_feed_uncompressed_bytes)",
                              declared_bytes=total, compressed_bytes=compressed_total)
    if archive_bytes is not None:
        compressed_total = archive_bytes
    if total >= limits.ratio_min_bytes and _ratio(total, compressed_total) > limits.max_compression_ratio:
        raise ArchiveRejected(IssueCode.COMPRESSION_RATIO_EXCEEDED,
                              f"the feed's files declare {total:,} bytes from {compressed_total:,} compressed bytes, "
                              f"a ratio of {_ratio(total, compressed_total):,.0f}:1, over the limit of "
                              f"{limits.max_compression_ratio:g}:1 (feeds.max_compression_ratio): a zip bomb",
                              declared_bytes=total, compressed_bytes=compressed_total)


def compressed_extents(header_offsets: list[int], compressed_sizes: list[int], end_offset: int) -> list[int]:
    """Each member's compressed size, capped by the bytes between its header and the next one.

    A zip member's data lies between its local header and the next header (or the central
    directory at ``end_offset``); a declared compressed size beyond that is a lie that would make
    the ratio look sane, so the smaller of the two is what the member is judged on.
    """
    boundaries = sorted({*header_offsets, end_offset})
    extents = []
    for offset, declared in zip(header_offsets, compressed_sizes, strict=True):
        following = boundaries[bisect.bisect_right(boundaries, offset)] if offset < boundaries[-1] else offset
        extents.append(max(0, min(declared, following - offset)))
    return extents


class FeedBudget:
    """The uncompressed bytes one feed may still produce, shared by the members read from it."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.used_bytes = 0


class BoundedMember(io.RawIOBase):
    """A member's decompressed stream that counts what it yields and stops at the first byte over
    a limit (per member, per feed, ratio), whatever the central directory declared.

    ``compressed_bytes`` is the member's compressed size (None for a plain file: no ratio), and
    ``declared_bytes`` what the directory claims, only to word the report. The first bytes are
    also checked for an archive signature: a nested zip named ``stops.txt`` is still a nested zip.
    Wrap it in `io.BufferedReader` for parsers.
    """

    def __init__(self, raw: io.RawIOBase | io.BufferedIOBase, *, name: str, budget: FeedBudget,
                 compressed_bytes: int | None = None, declared_bytes: int | None = None) -> None:
        super().__init__()
        self._raw = raw
        self.name = name
        self._budget = budget
        self._compressed = compressed_bytes
        self._declared = declared_bytes
        self.read_bytes = 0
        self._head_checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        if not data:
            return 0
        if not self._head_checked:
            self._head_checked = True
            if data.startswith(_ARCHIVE_MAGIC):
                raise ArchiveRejected(IssueCode.NESTED_ARCHIVE,
                                      f"{self.name} is an archive, not a CSV file (nested archives are refused)",
                                      file=self.name, declared_bytes=self._declared,
                                      compressed_bytes=self._compressed)
        self._count(len(data))
        buffer[: len(data)] = data
        return len(data)

    def _count(self, size: int) -> None:
        limits = self._budget.limits
        self.read_bytes += size
        self._budget.used_bytes += size
        declared = "" if self._declared is None else f" (the archive declared {self._declared:,})"
        if self.read_bytes > limits.max_member_uncompressed_bytes:
            self._reject(IssueCode.MEMBER_TOO_LARGE,
                         f"{self.name} inflates past {limits.max_member_uncompressed_bytes:,} bytes, the "
                         f"limit per file (feeds.max_member_uncompressed_bytes){declared}; reading stopped "
                         f"at {self.read_bytes:,} bytes")
        if self._budget.used_bytes > limits.max_feed_uncompressed_bytes:
            self._reject(IssueCode.FEED_TOO_LARGE,
                         f"the feed inflates past {limits.max_feed_uncompressed_bytes:,} bytes in all, the "
                         f"limit per feed (feeds.max_feed_uncompressed_bytes); reading stopped in "
                         f"{self.name} at {self.read_bytes:,} bytes{declared}")
        if (self._compressed is not None and self.read_bytes >= limits.ratio_min_bytes
                and _ratio(self.read_bytes, self._compressed) > limits.max_compression_ratio):
            self._reject(IssueCode.COMPRESSION_RATIO_EXCEEDED,
                         f"{self.name} inflates {self._compressed:,} compressed bytes past "
                         f"{self.read_bytes:,} bytes, a ratio over the limit of "
                         f"{limits.max_compression_ratio:g}:1 (feeds.max_compression_ratio){declared}: "
                         "a zip bomb")

    def _reject(self, code: IssueCode, message: str) -> NoReturn:
        """Stop reading this member: ``message`` says which limit, with the member's sizes so far."""
        raise ArchiveRejected(code, message, file=self.name, declared_bytes=self._declared,
                              actual_bytes=self.read_bytes, compressed_bytes=self._compressed)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
