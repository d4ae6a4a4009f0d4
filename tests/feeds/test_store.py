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
