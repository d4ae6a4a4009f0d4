"""The embedded PostgreSQL used when no DATABASE_URL is given (pgserver).

pgserver ships real PostgreSQL binaries in a wheel, so a fresh machine needs nothing but pip. The
data folder is reused across runs; the server listens on a Unix socket inside it (no TCP port to
collide with). `stop()` stops the server when this process holds the last handle on it, so two
processes (the app and `oura db dsn`, say) can share one data folder safely.

Blocking: call from an executor in async code (startup takes about a second).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, keep_running: bool = False) -> None:
        self.pgdata = Path(pgdata).resolve()
        self.keep_running = keep_running
        self._server = None

    def start(self) -> str:
        """Start (or attach to) the server and return its DSN."""
        import pgserver  # imported lazily: it registers atexit hooks on import

        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            self._server = pgserver.get_server(
                self.pgdata, cleanup_mode=None if self.keep_running else "stop"
            )
        dsn = self._server.get_uri()
        log.info("embedded postgresql ready", extra={"pgdata": str(self.pgdata)})
        return dsn

    def stop(self) -> None:
        """Stop the server if this process holds its last handle."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded postgresql released", extra={"pgdata": str(self.pgdata)})

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
