"""Content-addressed storage: one file per content hash, folders zipped reproducibly."""

from __future__ import annotations

from pathlib import Path

from feeds.gtfs.reader import read_gtfs
from feeds.store import FeedStore, sha256_file, zip_folder
from tests.feeds.conftest import real_feed_path


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = FeedStore(tmp_path / "data" / "feeds")
    source = real_feed_path("bullrunner")
    digest = sha256_file(source)
    stored = store.put(source, digest)
    assert stored == tmp_path / "data" / "feeds" / f"{digest}.zip"
    assert sha256_file(stored) == digest
    assert store.put(source, digest) == stored
    assert store.list_hashes() == [digest]


def test_folder_zip_is_reproducible_and_readable(tmp_path: Path) -> None:
    folder = real_feed_path("perigueux")
    one = zip_folder(folder, tmp_path / "one.zip")
    two = zip_folder(folder, tmp_path / "two.zip")
    assert sha256_file(one) == sha256_file(two)
    tables = read_gtfs(one, only=["routes"])
    assert len(tables.get("routes")) == len(read_gtfs(folder, only=["routes"]).get("routes"))


def test_abandoned_downloads_are_removed_and_never_listed(tmp_path):
    import os

    from feeds.store import FeedStore

    store = FeedStore(tmp_path / "store")
    store.work_dir.mkdir(parents=True)
    kept = store.folder / ("a" * 64 + ".zip")
    kept.write_bytes(b"zip")
    old_copy = store.folder / ".incoming-x1.zip"
    old_download = store.work_dir / "dl-1" / "feed.zip"
    old_download.parent.mkdir()
    fresh_download = store.work_dir / "dl-2.zip"
    for path in (old_copy, old_download, fresh_download):
        path.write_bytes(b"partial")
    for path in (old_copy, old_download):
        os.utime(path, (1_000_000, 1_000_000))
    assert store.list_hashes() == ["a" * 64]
    assert store.remove_leftovers(now_s=1_000_000 + 7200) == 2
    assert not old_copy.exists() and not old_download.exists()
    assert fresh_download.exists() and kept.exists(), "a download in progress elsewhere is left alone"
