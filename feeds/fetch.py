"""Fetch a static feed (http(s) URL, local zip or local folder) into a local zip file.

HTTP fetches are conditional (If-None-Match / If-Modified-Since from the previous fetch), bounded
(total timeout, size limit checked on Content-Length and while streaming) and retried with
exponential backoff on transient failures only (timeouts, connection errors, 5xx, 429). A 4xx
answer is the publisher's definitive "no" and is not retried. The body is hashed while it streams,
so unchanged content is recognised without reading the file again.

Failures are values (`FetchResult.status == "failed"` with a plain-words `error`), never exceptions:
one broken publisher must not stop the ingestion of the 29 others.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from feeds.authorities import is_url
from feeds.store import sha256_file, zip_folder

__all__ = ["FetchLimits", "FetchResult", "FetchStatus", "ProgressCallback", "fetch_feed"]

ProgressCallback = Callable[[int, int | None], None]  # (bytes received, total bytes if known)

_CHUNK_BYTES = 1 << 16


class FetchStatus(enum.StrEnum):
    FETCHED = "fetched"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 512 * 1024 * 1024
    total_timeout_s: float = 300.0
    connect_timeout_s: float = 15.0
    retries: int = 3  # attempts after the first one
    backoff_s: float = 1.0  # first wait; doubles each retry
    backoff_max_s: float = 60.0


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: FetchStatus
    source: str
    path: Path | None = None  # the zip to read; temporary unless `owned` is False
    sha256: str | None = None
    size_bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    attempts: int = 1
    error: str | None = None
    owned: bool = True  # True when `path` is a temporary file the caller must delete

    def discard(self) -> None:
        """Delete the temporary file, if this result owns one."""
        if self.owned and self.path is not None and self.path.exists():
            self.path.unlink()


class _Transient(Exception):
    """A failure worth retrying."""


class _Definitive(Exception):
    """A failure retrying cannot fix."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


async def fetch_feed(
    source: str,
    *,
    session: aiohttp.ClientSession | None,
    dest_dir: Path,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = FetchLimits(),
    progress: ProgressCallback | None = None,
) -> FetchResult:
    """Bring the feed at ``source`` to a local zip under ``dest_dir`` (or point at a local zip)."""
    if is_url(source):
        if session is None:
            raise ValueError("an aiohttp session is required to fetch over HTTP")
        return await _fetch_http(source, session, dest_dir, etag, last_modified, limits, progress)
    return await asyncio.to_thread(_fetch_local, source, dest_dir, progress)


def _fetch_local(source: str, dest_dir: Path, progress: ProgressCallback | None) -> FetchResult:
    path = Path(source)
    if path.is_dir():
        dest_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=dest_dir, prefix="folder-", suffix=".zip")
        os.close(handle)
        zipped = zip_folder(path, Path(name))
        size = zipped.stat().st_size
        if progress:
            progress(size, size)
        return FetchResult(FetchStatus.FETCHED, source, zipped, sha256_file(zipped), size)
    if path.is_file():
        size = path.stat().st_size
        if progress:
            progress(size, size)
        return FetchResult(FetchStatus.FETCHED, source, path, sha256_file(path), size, owned=False)
    return FetchResult(FetchStatus.FAILED, source, error=f"{source}: no such file or folder")


async def _fetch_http(
    url: str,
    session: aiohttp.ClientSession,
    dest_dir: Path,
    etag: str | None,
    last_modified: str | None,
    limits: FetchLimits,
    progress: ProgressCallback | None,
) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = aiohttp.ClientTimeout(total=limits.total_timeout_s, sock_connect=limits.connect_timeout_s)
    last_error = ""
    attempts = 0
    for attempt in range(limits.retries + 1):
        attempts = attempt + 1
        if attempt:
            await asyncio.sleep(min(limits.backoff_s * 2 ** (attempt - 1), limits.backoff_max_s))
        try:
            return await _download_once(url, session, dest_dir, headers, timeout, limits, progress, attempts)
        except _Definitive as error:
            return FetchResult(FetchStatus.FAILED, url, http_status=error.http_status, attempts=attempts,
                               error=str(error))
        except _Transient as error:
            last_error = str(error)
        except (aiohttp.ClientError, OSError) as error:
            last_error = f"connection failed ({type(error).__name__}: {error})"
        except TimeoutError:
            last_error = f"no complete answer within {limits.total_timeout_s:g} s"
    return FetchResult(FetchStatus.FAILED, url, attempts=attempts,
                       error=f"{last_error}; gave up after {attempts} attempts")


async def _download_once(
    url: str,
    session: aiohttp.ClientSession,
    dest_dir: Path,
    headers: dict[str, str],
    timeout: aiohttp.ClientTimeout,
    limits: FetchLimits,
    progress: ProgressCallback | None,
    attempts: int,
) -> FetchResult:
    async with session.get(url, headers=headers, timeout=timeout) as response:
        if response.status == 304:
            return FetchResult(FetchStatus.NOT_MODIFIED, url, http_status=304, attempts=attempts,
                               etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                               last_modified=response.headers.get("Last-Modified")
                               or headers.get("If-Modified-Since"))
        if response.status == 429 or response.status >= 500:
            raise _Transient(f"the server answered HTTP {response.status}")
        if response.status != 200:
            raise _Definitive(f"the server answered HTTP {response.status} {response.reason or ''}".strip(),
                              response.status)
        total = response.content_length
        if total is not None and total > limits.max_bytes:
            raise _Definitive(f"the feed is {total} bytes, over the {limits.max_bytes} bytes limit", 200)
        dest_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=dest_dir, prefix="download-", suffix=".zip")
        path = Path(name)
        digest = hashlib.sha256()
        received = 0
        try:
            with os.fdopen(handle, "wb") as target:
                async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                    received += len(chunk)
                    if received > limits.max_bytes:
                        raise _Definitive(f"the feed exceeds the {limits.max_bytes} bytes limit", 200)
                    digest.update(chunk)
                    target.write(chunk)
                    if progress:
                        progress(received, total)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if total is not None and received < total:
            path.unlink(missing_ok=True)
            raise _Transient(f"the download stopped after {received} of {total} bytes")
        return FetchResult(FetchStatus.FETCHED, url, path, digest.hexdigest(), received,
                           etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                           http_status=200, attempts=attempts)
