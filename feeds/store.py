"""Content-addressed storage of feed versions: ``<store folder>/<sha256>.zip`` (by default the
store folder is ``<data_dir>/feeds``, `FeedsConfig.store_dir`).

A version's file is named by the SHA-256 of its bytes, so any recorded version can be reloaded by
its hash, identical downloads are stored once, and a file is never overwritten with different
content. Folder feeds are zipped deterministically first (sorted names, fixed timestamps and
permissions), so the same folder always gets the same hash and "unchanged" detection works for
folders as well as for zips.

Sync (file I/O and hashing): call from an executor in async code.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FeedStore", "sha256_file", "zip_folder"]

_CHUNK_BYTES = 1 << 20
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def zip_folder(folder: Path, destination: Path) -> Path:
    """Zip every file under ``folder`` into ``destination``, byte-for-byte reproducibly."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w") as archive:
        for file in files:
            info = zipfile.ZipInfo(file.relative_to(folder).as_posix(), date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with file.open("rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, _CHUNK_BYTES)
    return destination


@dataclass(frozen=True)
class FeedStore:
    folder: Path

    @property
    def work_dir(self) -> Path:
        """Where downloads land before they are validated (same file system: cheap copies)."""
        return self.folder / ".incoming"

    def path_for(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.zip"

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, path: Path, sha256: str) -> Path:
        """Keep the zip at ``path`` under its hash (copied atomically; a no-op if already stored)."""
        target = self.path_for(sha256)
        if target.is_file():
            return target
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".incoming-", suffix=".zip")
        os.close(handle)
        try:
            shutil.copyfile(path, temporary)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return target

    def list_hashes(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.zip") if _SHA256.fullmatch(p.stem))

    def remove_leftovers(self, *, older_than_s: float = 3600.0, now_s: float | None = None) -> int:
        """Delete downloads and copies abandoned by a process killed mid-way; return how many.

        Only files untouched for ``older_than_s`` go: another process (``oura feeds ingest``
        beside the server) may be writing its own right now.
        """
        now_s = time.time() if now_s is None else now_s
        candidates = [*self.folder.glob(".incoming-*.zip")]
        if self.work_dir.is_dir():
            candidates += [p for p in self.work_dir.rglob("*") if p.is_file()]
        removed = 0
        for path in candidates:
            try:
                if now_s - path.stat().st_mtime >= older_than_s:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
