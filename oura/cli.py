"""The `oura` command line: serve the API, manage the database and API keys, and the packages' tools.

Each package adds its own subcommands through a ``register(subparsers)`` function in its
``cli.py``; this module only assembles them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from . import __version__
from .commands import add_command as _add
from .config import Config, ConfigError, load_config
from .db.session import database_dsn

__all__ = ["main", "build_parser", "database_dsn", "resolve_realtime_files"]

Examples = Callable[[argparse._SubParsersAction], None]  # noqa: SLF001


@contextlib.asynccontextmanager
async def _migrated_connection(config: Config) -> AsyncIterator[object]:
    import asyncpg

    from .db.migrate import apply_migrations

    async with database_dsn(config) as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
            yield conn
        finally:
            await conn.close()


def _cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from .app import create_app
    from .http.server import serve
    from .logs import setup_logging

    setup_logging(config.log.level, config.log.format)
    host = args.host or config.http.host
    port = args.port if args.port is not None else config.http.port
    contexts = []
    carpool_operators: tuple = ()  # the demo region's (else the registry's [[carpool_operators]])
    if config.feeds.registry is None and not args.no_demo:
        from .demo.wiring import demo_realtime_context, ensure_demo_region

        registry = ensure_demo_region(config.data_dir / "demo")
        config = replace(config, feeds=replace(config.feeds, registry=registry))
        contexts.append(demo_realtime_context(registry))
        from journey_planner.carpool.client import OperatorConfig

        from .demo.carpool_operator import DEMO_CARPOOL_OPERATOR, DEMO_CARPOOL_URL, demo_carpool_context

        contexts.append(demo_carpool_context())  # the demo region's carpool operator (issue 16)
        carpool_operators = (OperatorConfig(id=DEMO_CARPOOL_OPERATOR, base_url=DEMO_CARPOOL_URL),)
        if not args.no_usage:
            from .usage import usage_context

            contexts.append(usage_context(registry, days=args.usage_days))
    app = create_app(config, extra_contexts=contexts)
    if carpool_operators:
        from journey_planner.carpool.startup import CARPOOL_OPERATORS

        app[CARPOOL_OPERATORS] = carpool_operators
    print(f"OùRA {__version__} serving on http://{host}:{port} (docs: /docs) — Ctrl-C to stop", file=sys.stderr)
    # not web.run_app: its runner would answer unparsable requests in plain text (oura.http.server)
    serve(app, host=host, port=port, shutdown_timeout_s=config.http.shutdown_timeout_s)
    return 0


def _cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    async def run() -> list[str]:
        import asyncpg

        from .db.migrate import apply_migrations

        async with database_dsn(config) as dsn:
            conn = await asyncpg.connect(dsn)
            try:
                return await apply_migrations(conn)
            finally:
                await conn.close()

    applied = asyncio.run(run())
    print("\n".join(f"applied {name}" for name in applied) or "database schema is up to date")
    return 0


def _cmd_db_dsn(args: argparse.Namespace, config: Config) -> int:
    async def run() -> str:
        async with database_dsn(config, keep_running=True) as dsn:
            return dsn

    dsn = asyncio.run(run())
    print(dsn)
    if not config.database.url:
        print("(embedded server left running; `oura db stop` stops it)", file=sys.stderr)
    return 0


def _cmd_db_stop(args: argparse.Namespace, config: Config) -> int:
    if config.database.url:
        print("DATABASE_URL is set: the database is not ours to stop", file=sys.stderr)
        return 1
    from .db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(config.database.embedded_pgdata)
    # Only a live postgres of this data folder counts: a postmaster.pid left by a killed server
    # (its pid gone, a zombie, or reused) is not a server to stop, and "stopped" is never printed
    # for a stop that did not happen.
    if embedded.running_pid() is None:
        print(f"embedded database not running ({embedded.pgdata})")
        return 0
    holders = embedded.list_holders()
    if holders:
        print(f"the embedded database is in use by process {', '.join(map(str, holders))} "
              "(oura serve?): stop it first", file=sys.stderr)
        return 1
    embedded.stop_server()
    print("embedded database stopped")
    return 0


def _registry_authority_ids(config: Config) -> frozenset[str]:
    """The authorities this installation serves: those of the configured registry, else those of
    the demo region (what `oura serve` serves without one), read without generating it."""
    if config.feeds.registry is not None:
        from feeds.authorities import load_registry

        return frozenset(authority.id for authority in load_registry(config.feeds.registry).authorities)
    from .demo.region import AUTHORITIES

    return frozenset(authority.id for authority in AUTHORITIES)


def _cmd_keys_create(args: argparse.Namespace, config: Config) -> int:
    from .auth import UNSCOPED_ROLES, Role, UnknownAuthority, create_key

    role = Role(args.role)
    if role not in UNSCOPED_ROLES and not args.authority:
        print(f"error: a {role} key needs --authority", file=sys.stderr)
        return 2
    if role in UNSCOPED_ROLES and args.authority:
        print(f"error: a {role} key acts for no authority; drop --authority", file=sys.stderr)
        return 2
    try:
        authorities = _registry_authority_ids(config) if role not in UNSCOPED_ROLES else frozenset()
    except (OSError, ValueError) as error:  # unreadable or invalid registry: say so, create nothing
        print(f"error: cannot read the authority registry: {error}", file=sys.stderr)
        return 2
    if role not in UNSCOPED_ROLES and args.authority not in authorities:
        source = config.feeds.registry or "the demo region (no OURA_REGISTRY)"
        print(f"error: no authority '{args.authority}' in {source}; known: {', '.join(sorted(authorities))}",
              file=sys.stderr)
        return 2

    async def run() -> tuple[object, str]:
        async with _migrated_connection(config) as conn:
            return await create_key(conn, role, args.authority, label=args.label, authorities=authorities)

    try:
        principal, token = asyncio.run(run())
    except UnknownAuthority as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(token)
    print(f"(key id {principal.key_id}, role {principal.role}, authority {principal.authority_id or '-'}; "
          "the key is shown only once)", file=sys.stderr)
    return 0


def _cmd_keys_revoke(args: argparse.Namespace, config: Config) -> int:
    from .auth import revoke_key

    async def run() -> bool:
        async with _migrated_connection(config) as conn:
            return await revoke_key(conn, args.key_id)

    if asyncio.run(run()):
        print(f"revoked {args.key_id}")
        return 0
    print(f"no active key {args.key_id}", file=sys.stderr)
    return 1


def _cmd_keys_list(args: argparse.Namespace, config: Config) -> int:
    from .auth import list_keys

    async def run() -> list[dict]:
        async with _migrated_connection(config) as conn:
            return await list_keys(conn)

    for key in asyncio.run(run()):
        state = "revoked" if key["revoked_at"] else "active"
        print(f"{key['key_id']}  {key['role']:<11} {key['authority_id'] or '-':<16} {state:<8} {key['label']}")
    return 0


def resolve_realtime_files(network, request):
    """`oura plan`'s realtime files decoded and matched, each against the one feed it is bound to
    (`journey_planner.cli.RealtimeRequest` -> `RealtimeInput`): feeds decodes and matches, the
    planner applies. A file that cannot be read or decoded raises `RealtimeFileError` (one line)."""
    from dataclasses import replace as replaced
    from pathlib import Path

    from feeds.realtime import RtDecodeError, decode_feed_message, resolve_trip_updates
    from feeds.realtime.indexes import StaticFeedSource, TripIndexes
    from feeds.realtime.model import namespace_alert
    from journey_planner.cli import RealtimeFileError, RealtimeFileReport, RealtimeInput

    def decoded(feed_id: str, path: str, flag: str):
        try:
            payload = Path(path).read_bytes()
        except OSError as error:
            raise RealtimeFileError(f"{flag} {path}: cannot read it ({error.strerror or error})") from None
        try:
            message = decode_feed_message(payload, feed_id=feed_id)
        except RtDecodeError as error:
            raise RealtimeFileError(f"{flag} {path}: {error.detail}") from None
        if request.now_s is not None and (request.now_overrides_header or message.header_timestamp is None):
            message = replaced(message, header_timestamp=request.now_s)
        return message

    feed_paths = dict(zip(network.feed_ids, network.feed_paths))
    indexes = TripIndexes()  # the one builder of trip indexes (no registry here: no adapter, agency's zone)
    indexes.refresh(StaticFeedSource(feed_id, Path(feed_paths[feed_id]), adapter=None, timezone=None)
                    for feed_id in sorted({feed for feed, _ in request.trip_updates}))
    updates, alerts, files = [], [], []
    for feed_id, path in request.trip_updates:
        message = decoded(feed_id, path, "--realtime")
        index = indexes.find(feed_id)
        if index is None:
            raise RealtimeFileError(f"--realtime {path}: feed {feed_id!r} could not be indexed for matching")
        resolved, errors = resolve_trip_updates(message, index)
        updates.extend(resolved)
        files.append(RealtimeFileReport(feed_id, "trip_updates", path, len(message.trip_updates) + _undecoded(message),
                                        len(resolved), (*message.errors, *errors)))
    for feed_id, path in request.alerts:
        message = decoded(feed_id, path, "--alerts")
        alerts.extend(namespace_alert(feed_id, alert) for alert in message.alerts)
        files.append(RealtimeFileReport(feed_id, "alerts", path, len(message.alerts), len(message.alerts),
                                        message.errors))
    return RealtimeInput(tuple(updates), tuple(alerts), tuple(files))


def _undecoded(message) -> int:
    """Entities dropped while decoding (a TripUpdate without trip reference): counted as entities."""
    return sum(1 for error in message.errors if error.entity_id is not None)


def _package_registrars() -> list[Callable[[argparse._SubParsersAction], None]]:  # noqa: SLF001
    """The ``register`` functions of the packages' command lines."""
    from functools import partial

    from feeds.cli import register as register_feeds
    from feeds.realtime.cli import register as register_realtime
    from journey_planner.cli import register as register_plan
    from nfc_gateway.cli import register as register_cards
    from ticketing.cli import register as register_fares

    from .demo.cli import register as register_demo_tools
    from .usage import register as register_usage

    register_demo = partial(register_demo_tools, extra_actions=register_usage)

    register_plan_with_realtime = partial(register_plan, resolve_realtime=resolve_realtime_files)
    return [register_plan_with_realtime, register_fares, register_feeds, register_realtime, register_demo, register_cards]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oura",
        description="OùRA: journeys, tickets and statistics for a region's pooled public transport.",
        epilog="examples:\n  oura serve                 # API on http://127.0.0.1:8080\n"
        "  oura keys create --role authority --authority sytral\n  oura db dsn | xargs psql",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oura {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = _add(sub, "serve", "Serve the HTTP API (starts the database, migrates, ingests feeds)", "oura serve --port 8080")
    serve.add_argument("--host", help="address to listen on (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default from config: 8080)")
    serve.add_argument(
        "--no-demo",
        action="store_true",
        help="without a registry (OURA_REGISTRY), serve no feeds instead of the generated demo region",
    )
    serve.add_argument("--no-usage", action="store_true",
                       help="on the demo region, do not simulate riders' sales and validations on first start")
    serve.add_argument("--usage-days", type=int, default=7,
                       help="on the demo region's first start, service days of simulated usage (default 7)")
    serve.set_defaults(func=_cmd_serve)

    migrate = _add(sub, "migrate", "Apply pending database migrations", "oura migrate")
    migrate.set_defaults(func=_cmd_migrate)

    db = _add(sub, "db", "Inspect the database", "oura db dsn")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    _add(db_sub, "dsn", "Print the database DSN (starts the embedded server and leaves it running)",
         'psql "$(oura db dsn)"').set_defaults(func=_cmd_db_dsn)
    _add(db_sub, "stop", "Stop the embedded database server", "oura db stop").set_defaults(func=_cmd_db_stop)

    keys = _add(sub, "keys", "Manage API keys (device, sales_point, authority, admin)",
                "oura keys create --role device --authority sytral --label 'validator 12'")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = _add(keys_sub, "create", "Create an API key and print it once",
                  "oura keys create --role authority --authority sytral")
    create.add_argument("--role", required=True, choices=["device", "sales_point", "authority", "admin", "metrics"],
                        help="metrics: a read-only key for the Prometheus scraper of /metrics")
    create.add_argument("--authority", help="id of a registry authority the key acts for "
                        "(required unless --role admin or metrics; refused when not in the registry)")
    create.add_argument("--label", default="", help="free text to recognise the key later")
    create.set_defaults(func=_cmd_keys_create)
    revoke = _add(keys_sub, "revoke", "Revoke an API key by its id", "oura keys revoke 3f2a9c0d1e2b4a5f")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=_cmd_keys_revoke)
    _add(keys_sub, "list", "List API keys (never their secrets)", "oura keys list").set_defaults(func=_cmd_keys_list)

    for register in _package_registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, config) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
