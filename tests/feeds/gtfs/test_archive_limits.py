"""Zip bombs and hostile archives, built at test time: each is rejected with one fatal issue that
names the member and its sizes, before the feed is inflated (or at the first byte over a limit
while it is). Bombs stay small in absolute terms: the limits are lowered where a test needs it."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from feeds.gtfs.archive import ArchiveLimits, ArchiveRejected, BoundedMember, FeedBudget
from feeds.gtfs.issues import IssueCode, Severity
from feeds.gtfs.reader import read_gtfs
from feeds.ingest import archive_limits
from feeds.validate import validate_path
from oura.config import FeedsConfig, load_config

STOP_TIMES_HEADER = b"trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"


def _repeated_stop_times(size_bytes: int) -> bytes:
    """One row over and over: deflate packs it about 1000:1, the shape of a stop_times zip bomb."""
    row = b"trip-1,08:00:00,08:00:00,stop-1,1\n"
    return STOP_TIMES_HEADER + row * (size_bytes // len(row))


def _varied_stop_times(size_bytes: int) -> bytes:
    """Rows that differ like a real timetable's (about 4:1 deflated)."""
    rows, total, index = [STOP_TIMES_HEADER], len(STOP_TIMES_HEADER), 0
    while total < size_bytes:
        row = f"trip-{index // 20},{8 + index % 14:02d}:{index % 60:02d}:00,{8 + index % 14:02d}:{index % 60:02d}:30," \
              f"stop-{index * 7919 % 5003},{index % 20 + 1}\n".encode()
        rows.append(row)
        total += len(row)
        index += 1
    return b"".join(rows)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _only_fatal(report):
    [issue] = report.issues
    assert issue.severity is Severity.FATAL and report.status == "rejected"
    return issue


def test_a_stop_times_bomb_is_refused_on_its_declared_ratio(tmp_path: Path) -> None:
    bomb = _repeated_stop_times(4 << 20)
    path = _zip(tmp_path / "bomb.zip", {"agency.txt": b"agency_id,agency_name\na,A\n", "stop_times.txt": bomb})
    with zipfile.ZipFile(path) as archive:
        compressed = archive.getinfo("stop_times.txt").compress_size
    assert len(bomb) / compressed > 200  # a real bomb's ratio, far past any real feed's

    tables, report = validate_path(path, feed_id="bomb")  # the default limits

    issue = _only_fatal(report)
    assert tables is None
    assert issue.code is IssueCode.COMPRESSION_RATIO_EXCEEDED
    assert issue.file == "stop_times.txt"
    assert issue.value == f"declared {len(bomb)}, compressed {compressed}"
    assert f"{len(bomb):,} bytes" in issue.message and "200:1" in issue.message
    assert "REJECTED" in report.summary() and "compression_ratio_exceeded" in report.summary()


def test_a_lying_compressed_size_does_not_hide_the_ratio(tmp_path: Path) -> None:
    # The central directory claims 10x more compressed bytes than the member really occupies,
    # which would make the bomb's ratio look like a real feed's.
    bomb = _repeated_stop_times(4 << 20)
    path = _zip(tmp_path / "bomb.zip", {"stop_times.txt": bomb})
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the only central directory entry
    real_compressed = struct.unpack_from("<I", data, entry + 20)[0]
    struct.pack_into("<I", data, entry + 20, len(bomb) // 10)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("stop_times.txt").compress_size == len(bomb) // 10

    _, report = validate_path(path, feed_id="bomb")

    issue = _only_fatal(report)
    assert issue.code is IssueCode.COMPRESSION_RATIO_EXCEEDED and issue.file == "stop_times.txt"
    compressed = int(issue.value.rsplit(" ", 1)[1])
    assert real_compressed <= compressed < len(bomb) // 200


def test_a_member_over_the_size_limit(tmp_path: Path) -> None:
    stop_times = _varied_stop_times(300_000)
    path = _zip(tmp_path / "big.zip", {"stop_times.txt": stop_times})

    _, report = validate_path(path, feed_id="big", limits=ArchiveLimits(max_member_uncompressed_bytes=100_000))

    issue = _only_fatal(report)
    assert issue.code is IssueCode.MEMBER_TOO_LARGE and issue.file == "stop_times.txt"
    assert issue.value.startswith(f"declared {len(stop_times)}, compressed ")
    assert "100,000 bytes per file" in issue.message


def test_a_feed_over_the_total_limit(tmp_path: Path) -> None:
    members = {f"{name}.txt": _varied_stop_times(60_000) for name in ("stop_times", "trips", "stops")}
    path = _zip(tmp_path / "big.zip", members)
    limits = ArchiveLimits(max_member_uncompressed_bytes=100_000, max_feed_uncompressed_bytes=150_000)

    _, report = validate_path(path, feed_id="big", limits=limits)

    issue = _only_fatal(report)
    assert issue.code is IssueCode.FEED_TOO_LARGE and issue.file is None
    total = sum(len(data) for data in members.values())
    assert issue.value.startswith(f"declared {total}, compressed ")


def test_many_small_members_are_judged_together(tmp_path: Path) -> None:
    # Each member is under the size from which ratios are judged; the archive as a whole is a bomb.
    members = {f"part_{index}.txt": _repeated_stop_times(500_000) for index in range(12)}
    path = _zip(tmp_path / "spread.zip", members)

    _, report = validate_path(path, feed_id="spread")

    issue = _only_fatal(report)
    assert issue.code is IssueCode.COMPRESSION_RATIO_EXCEEDED and issue.file is None
    total = sum(len(data) for data in members.values())
    assert issue.value == f"declared {total}, compressed {path.stat().st_size}"


def test_too_many_members(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"file_{index}.txt": b"a,b\n1,2\n" for index in range(6)})

    _, report = validate_path(path, feed_id="many", limits=ArchiveLimits(max_members=5))

    issue = _only_fatal(report)
    assert issue.code is IssueCode.TOO_MANY_MEMBERS and "6 files" in issue.message


def test_a_nested_archive_by_name(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "inner.zip", {"stop_times.txt": _repeated_stop_times(100_000)}).read_bytes()
    path = _zip(tmp_path / "outer.zip", {"agency.txt": b"agency_id,agency_name\na,A\n", "gtfs/feed.zip": inner})

    _, report = validate_path(path, feed_id="nested")

    issue = _only_fatal(report)
    assert issue.code is IssueCode.NESTED_ARCHIVE and issue.file == "gtfs/feed.zip"


def test_a_nested_archive_named_like_a_csv_file(tmp_path: Path) -> None:
    inner = _zip(tmp_path / "inner.zip", {"stops.txt": b"stop_id\ns1\n"}).read_bytes()
    path = _zip(tmp_path / "outer.zip", {"stops.txt": inner})

    _, report = validate_path(path, feed_id="nested")

    issue = _only_fatal(report)
    assert issue.code is IssueCode.NESTED_ARCHIVE and issue.file == "stops.txt"


@pytest.mark.parametrize("name", ["../stops.txt", "gtfs/../../stops.txt", "/etc/stops.txt", "C:/stops.txt",
                                  "gtfs\\..\\stops.txt"])
def test_a_member_name_that_leaves_the_archive(tmp_path: Path, name: str) -> None:
    path = _zip(tmp_path / "traversal.zip", {"agency.txt": b"agency_id,agency_name\na,A\n", name: b"stop_id\ns1\n"})

    _, report = validate_path(path, feed_id="traversal")

    issue = _only_fatal(report)
    assert issue.code is IssueCode.UNSAFE_MEMBER_NAME and issue.file == name


def test_a_folder_feed_is_bounded_too(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "stop_times.txt").write_bytes(_varied_stop_times(300_000))

    with pytest.raises(ArchiveRejected) as raised:
        read_gtfs(folder, limits=ArchiveLimits(max_member_uncompressed_bytes=100_000))

    assert raised.value.code is IssueCode.MEMBER_TOO_LARGE and raised.value.file == "stop_times.txt"


def _drain(stream: io.BufferedReader) -> None:
    while stream.read(1 << 16):
        pass


def test_the_stream_stops_at_the_member_limit_whatever_the_directory_declares() -> None:
    # What a lying central directory would let through: a member declared at 1,000 bytes that
    # inflates to 10 MB. The counter stops within one read of the limit.
    raw = io.BytesIO(b"x" * 10_000_000)
    limits = ArchiveLimits(max_member_uncompressed_bytes=1_000_000)
    member = BoundedMember(raw, name="stop_times.txt", budget=FeedBudget(limits), declared_bytes=1_000)

    with pytest.raises(ArchiveRejected) as raised:
        _drain(io.BufferedReader(member, 1 << 16))

    error = raised.value
    assert error.code is IssueCode.MEMBER_TOO_LARGE and error.file == "stop_times.txt"
    assert error.declared_bytes == 1_000
    assert 1_000_000 < error.actual_bytes <= 1_000_000 + (1 << 16)
    assert raw.tell() == error.actual_bytes  # nothing read past the breach


def test_the_stream_counts_the_feed_across_members() -> None:
    limits = ArchiveLimits(max_member_uncompressed_bytes=1_000_000, max_feed_uncompressed_bytes=1_500_000)
    budget = FeedBudget(limits)
    _drain(io.BufferedReader(BoundedMember(io.BytesIO(b"x" * 900_000), name="trips.txt", budget=budget)))

    with pytest.raises(ArchiveRejected) as raised:
        _drain(io.BufferedReader(BoundedMember(io.BytesIO(b"x" * 900_000), name="stop_times.txt", budget=budget)))

    assert raised.value.code is IssueCode.FEED_TOO_LARGE and raised.value.file == "stop_times.txt"
    assert raised.value.actual_bytes < 900_000


def test_the_stream_judges_the_ratio_on_the_bytes_produced() -> None:
    limits = ArchiveLimits(max_compression_ratio=100.0, ratio_min_bytes=1 << 20)
    member = BoundedMember(io.BytesIO(b"x" * 5_000_000), name="stop_times.txt", budget=FeedBudget(limits),
                           compressed_bytes=20_000, declared_bytes=20_000)

    with pytest.raises(ArchiveRejected) as raised:
        _drain(io.BufferedReader(member, 1 << 16))

    assert raised.value.code is IssueCode.COMPRESSION_RATIO_EXCEEDED
    assert 1 << 20 <= raised.value.actual_bytes < 2_100_000


def test_members_are_read_within_the_limits_and_unbounded_without_them(tmp_path: Path) -> None:
    stop_times = _varied_stop_times(300_000)
    path = _zip(tmp_path / "feed.zip", {"stop_times.txt": stop_times, "stops.txt": b"\xef\xbb\xbf stop_id\ns1\n",
                                        "shapes.txt": b""})
    limits = ArchiveLimits(max_member_uncompressed_bytes=len(stop_times),
                           max_feed_uncompressed_bytes=len(stop_times) + 50)

    bounded = read_gtfs(path, limits=limits)
    unbounded = read_gtfs(path)

    for tables in (bounded, unbounded):
        assert len(tables.get("stop_times")) == stop_times.count(b"\n") - 1
        assert list(tables.get("stops").columns) == ["stop_id"]
        assert tables.get("shapes").empty


def test_the_configured_limits_reach_the_reader(tmp_path: Path) -> None:
    assert archive_limits(FeedsConfig()) == ArchiveLimits()  # one set of defaults
    config_file = tmp_path / "oura.toml"
    config_file.write_text("[feeds]\nmax_member_uncompressed_bytes = 100000\nmax_feed_uncompressed_bytes = 200000\n"
                           "max_compression_ratio = 50\nmax_members = 40\n", encoding="utf-8")

    limits = archive_limits(load_config({}, file=config_file).feeds)

    assert limits == ArchiveLimits(max_member_uncompressed_bytes=100_000, max_feed_uncompressed_bytes=200_000,
                                   max_compression_ratio=50.0, max_members=40)


def test_running_out_of_memory_while_reading_is_a_report_not_a_crash(tmp_path: Path, monkeypatch) -> None:
    # Limits set above what the machine holds: the last resort turns the MemoryError into a rejection.
    import feeds.adapters

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(feeds.adapters, "read_network_feed", exhausted)
    path = _zip(tmp_path / "feed.zip", {"stop_times.txt": _varied_stop_times(10_000)})

    tables, report = validate_path(path, feed_id="huge")

    issue = _only_fatal(report)
    assert tables is None and issue.code is IssueCode.FEED_TOO_LARGE
    assert "max_member_uncompressed_bytes" in issue.message
