"""The embedded PostgreSQL used when no DATABASE_URL is given (pgserver).

pgserver ships real PostgreSQL binaries in a wheel, so a fresh machine needs nothing but pip. The
data folder is reused across runs; the server listens on a Unix socket inside it (no TCP port to
collide with). `stop()` stops the server when this process holds the last handle on it, so two
processes (the app and `oura db dsn`, say) can share one data folder safely.

Killed servers. A server killed with SIGKILL (or the OOM killer) leaves its ``postmaster.pid``
behind, and a process killed the same way leaves its handle in pgserver's list: pgserver would
then take the stale pid (a zombie, or another process that reuses it) for a live server, and never
stop the server it shares because a dead process still "holds" it. `running_pid` is therefore this
module's own answer to "is a postgres serving this data folder": a live, non-zombie ``postgres``
process whose command line names the folder; `start` forgets the handles of dead processes and a
stale ``postmaster.pid`` before attaching; `restart` brings a dead server back (the app's watchdog
calls it), and `stop_server` stops a live one and reports whether it did.

Blocking: call from an executor in async code (startup takes about a second).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from pathlib import Path

import psutil

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, keep_running: bool = False) -> None:
        self.pgdata = Path(pgdata).resolve()
        self.keep_running = keep_running
        self._server = None

    def running_pid(self) -> int | None:
        """The pid of the live postmaster serving this data folder; None when there is none (no
        ``postmaster.pid``, or one left by a killed server whose pid is gone, a zombie, or now
        another process)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
                return None
            if str(self.pgdata) not in " ".join(process.cmdline()):
                return None
        except psutil.Error:
            return None
        return pid

    def _forget_the_dead(self) -> None:
        """Drop what killed processes left behind: a ``postmaster.pid`` naming no live server (so
        that a new server can start), and the handles of processes that no longer exist (so that
        the last live handle still stops the server)."""
        lock = self.pgdata / "postmaster.pid"
        if lock.exists() and self.running_pid() is None:
            log.warning("removing the stale lock files of a server that died", extra={"pgdata": str(self.pgdata)})
            try:  # line 5: the folder of its socket, which has a lock file of its own
                socket_dir = Path(lock.read_text().split("\n")[4].strip() or self.pgdata)
            except (OSError, IndexError):
                socket_dir = self.pgdata
            for socket_lock in socket_dir.glob(".s.PGSQL.*.lock"):
                socket_lock.unlink(missing_ok=True)
            lock.unlink(missing_ok=True)
        handles = self.pgdata / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if pid == os.getpid() or _is_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))

    def start(self) -> str:
        """Start (or attach to) the server and return its DSN."""
        import pgserver  # imported lazily: it registers atexit hooks on import

        self.pgdata.mkdir(parents=True, exist_ok=True)
        with _THREADS:
            if (self.pgdata / "PG_VERSION").exists():
                with _pgserver_lock():
                    self._forget_the_dead()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
                self._server = pgserver.get_server(
                    self.pgdata, cleanup_mode=None if self.keep_running else "stop"
                )
        dsn = self._server.get_uri()
        log.info("embedded postgresql ready", extra={"pgdata": str(self.pgdata)})
        return dsn

    def restart(self) -> bool:
        """Start the server again if it died (while this object is attached to it: after `start`,
        before `stop`). Returns whether it had to. Raises when it cannot start yet (the caller
        retries: the backends of a killed server can take a moment to exit)."""
        with _THREADS, _pgserver_lock():
            if self._server is None or self.running_pid() is not None:
                return False
            self._forget_the_dead()
            _let_pgserver_user_in(self.pgdata)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._server.ensure_postgres_running()
        log.warning("embedded postgresql restarted", extra={"pgdata": str(self.pgdata)})
        return True

    def list_holders(self) -> list[int]:
        """The live processes (other than this one) that hold a handle on the server, e.g. a
        running ``oura serve``."""
        try:
            pids = json.loads((self.pgdata / ".handle_pids.json").read_text())
        except (OSError, ValueError):
            return []
        return [pid for pid in pids if pid != os.getpid() and _is_alive(pid)]

    def stop_server(self) -> bool:
        """Stop the server serving this data folder, whoever started it; False when none runs
        (nothing was stopped). Raises when the server does not stop."""
        from pgserver._commands import pg_ctl

        if self.running_pid() is None:
            return False
        _let_pgserver_user_in(self.pgdata)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=_pgserver_user())
        if self.running_pid() is not None:
            raise RuntimeError(f"the postgres server of {self.pgdata} did not stop")
        log.info("embedded postgresql stopped", extra={"pgdata": str(self.pgdata)})
        return True

    def stop(self) -> None:
        """Stop the server if this process holds its last handle."""
        with _THREADS:
            if self._server is None:
                return
            if self.running_pid() is None:  # it died (killed): nothing to stop, only our handle to drop
                _drop_handle(self._server)
                log.warning("the embedded postgresql was already gone", extra={"pgdata": str(self.pgdata)})
            else:
                self._server.cleanup()
            self._server = None
            log.info("embedded postgresql released", extra={"pgdata": str(self.pgdata)})

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# pgserver guards starting and stopping with an inter-process file lock shared by the whole
# process, which two threads of one process both "acquire" at once (it is per process); the
# watchdog restarts the server from a worker thread while another may be stopping it, so the
# threads of this process take this lock first. Process-wide on purpose, like the lock it guards.
_THREADS = threading.Lock()


def _is_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _pgserver_lock():  # noqa: ANN202
    """pgserver's inter-process lock, the one it holds while it starts and stops servers."""
    from pgserver.postgres_server import PostgresServer

    return PostgresServer._lock  # noqa: SLF001 - the same lock, so we never race its own start/stop


def _drop_handle(server) -> None:  # noqa: ANN001 - a pgserver.PostgresServer
    """Let go of a pgserver handle without stopping the server, which is dead: pgserver's own
    cleanup would wait for a zombie postmaster to stop (a minute), then fail on it."""
    import atexit

    from pgserver.postgres_server import PostgresServer

    with _pgserver_lock():
        server.global_process_id_list.get_and_remove(os.getpid())
        PostgresServer._instances.pop(server.pgdata, None)  # noqa: SLF001 - a new start() makes a new handle
    atexit.unregister(server._cleanup)  # noqa: SLF001


def _pgserver_user() -> str | None:
    """The system user pgserver runs postgres as (a dedicated one when we are root)."""
    return "pgserver" if os.name == "posix" and os.geteuid() == 0 else None


def _let_pgserver_user_in(pgdata: Path) -> None:
    """As root, postgres runs as pgserver's own user, which must be able to reach the data folder.
    pgserver opens the folders above it when it starts a server; do the same before each later
    command, since a parent's mode can have changed since (a test runner's temporary folders)."""
    if _pgserver_user() is not None:
        from pgserver.utils import ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
