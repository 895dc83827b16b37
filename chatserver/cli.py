"""`chatserver serve | demo | migrate | user add | backup | check`: parse arguments, call the right thing, no logic."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import getpass
import secrets
import socket
import sys
from typing import Sequence

from chatserver.config import Settings, SettingsError, load_settings
from chatserver.observability.logging import configure_logging
from chatserver.store import server_lock
from chatserver.store.db import DatabaseUnusable

# what binding the listening socket meets when the port is taken, privileged or not on this machine
LISTEN_ERRORS = {errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES}


def _common(parser: argparse.ArgumentParser, *, network: bool = True) -> None:
    if network:
        parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--db", help="SQLite database file (default ./chatserver.db)")
    parser.add_argument("--config", help="TOML file with settings (keys as in CHATSERVER_* variables, lower-case)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatserver",
        description="Live-chat support hub: routes customer chats to agents and tracks unresolved ones as complaints.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server", description="Run the server (the database is created and migrated on first start).")
    _common(serve)

    demo = commands.add_parser("demo", help="run with demo users, categories and a demo host page", description="Run the server with demo agents, a supervisor, an admin and a demo host page; prints the logins.")
    _common(demo)

    migrate = commands.add_parser("migrate", help="apply pending schema migrations and exit", description="Apply pending schema migrations and exit.")
    _common(migrate, network=False)

    backup = commands.add_parser("backup", help="copy the database while the server runs", description="Copy the database with SQLite's online backup while the server runs, check the copy, then move it to PATH.")
    backup.add_argument("path", metavar="PATH", help="file to write the copy to")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    _common(backup, network=False)

    check = commands.add_parser("check", help="check a database file's integrity and message sequences", description="Run SQLite's integrity check and the message sequence checks on a database file (for example a restored backup); exit 1 on any problem.")
    _common(check, network=False)

    user = commands.add_parser("user", help="manage console users", description="Manage console users.")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="create a console user", description="Create a console user. The password is read from stdin with --password-stdin, otherwise generated and printed once.")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
    add.add_argument("--max-chats", type=int, default=3, help="chats at once (default 3)")
    add.add_argument("--skills", default="", help="comma-separated category slugs this user handles (default: all)")
    add.add_argument("--languages", default="", help="comma-separated languages, e.g. en,ru")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _common(add, network=False)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        overrides={"host": getattr(args, "host", None), "port": getattr(args, "port", None), "db": args.db, "config": args.config}
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except SettingsError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        return _run(args, settings)
    except SettingsError as exc:  # the secret key file beside the database, read at start
        print(f"chatserver: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnusable as exc:
        # nothing can be stored: say why and exit, so the service manager (or person) sees it at once
        print(f"chatserver: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "backup":
        return _backup(settings, args)
    if args.command == "check":
        return _check(settings)
    if args.command == "user":
        return asyncio.run(_user_add(settings, args))
    server_lock.hold(settings.db)  # before the demo's seeding too: that writes as a server would
    if args.command == "demo":
        asyncio.run(_seed_demo(settings))
    return _serve(settings)


async def _migrate(settings: Settings) -> int:
    from chatserver.store.db import Database

    db = Database(settings.db, settings.db_synchronous)
    await db.open()
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from chatserver.store.backup import BackupError, backup_database

    target = Path(args.path)
    try:
        report = backup_database(Path(settings.db), target, force=args.force)
    except BackupError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{table} {n}" for table, n in report.counts.items())
    print(f"wrote {target} ({target.stat().st_size} bytes): {counts}; integrity and sequence checks passed")
    return 0


def _check(settings: Settings) -> int:
    from pathlib import Path

    from chatserver.store.backup import BackupError, check_file

    try:
        report = check_file(Path(settings.db))
    except BackupError as exc:
        print(f"chatserver: {exc}", file=sys.stderr)
        return 1
    if not report.ok:
        print(f"{settings.db}: {len(report.problems)} problem(s)", file=sys.stderr)
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{table} {n}" for table, n in report.counts.items())
    print(f"{settings.db}: integrity and sequence checks passed ({counts})")
    return 0


async def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    from chatserver.config import resolve_secret_key
    from chatserver.domain.errors import ChatError
    from chatserver.services.container import build_services, close_services

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    services = await build_services(settings, resolve_secret_key(settings))
    try:
        row = await services.auth.create_user(
            email=args.email, name=args.name, role=args.role, password=password, max_chats=args.max_chats,
            skills=[s.strip() for s in args.skills.split(",") if s.strip()],
            languages=[s.strip() for s in args.languages.split(",") if s.strip()],
        )
    except ChatError as exc:
        print(f"chatserver: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await close_services(services)
    print(f"created {row['role']} {row['email']}")
    if generated:
        print(f"password (shown once): {password}")
    return 0


async def _seed_demo(settings: Settings) -> None:
    from chatserver.config import resolve_secret_key
    from chatserver.demo import seed_demo
    from chatserver.services.container import build_services, close_services

    services = await build_services(settings, resolve_secret_key(settings))
    try:
        logins = await seed_demo(services)
    finally:
        await close_services(services)
    url = f"http://{settings.host}:{settings.port}"
    print(f"\nChatserver demo on {url}  (customer widget: {url}/, console: {url}/console, monitor: {url}/monitor, reports: {url}/reports, admin: {url}/admin)\n")
    print(f"  {'role':<11} {'e-mail':<24} password")
    for role, email, password in logins:
        print(f"  {role:<11} {email:<24} {password}")
    print(flush=True)


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from chatserver.app import create_app
    from chatserver.observability.access_log import AccessLogger

    if settings.gc_tuning:
        # Each connection keeps many small objects alive; default thresholds make full
        # collections frequent and long under load. A young collection costs about 2.5 µs per
        # object it finds on a slow core, so 10,000 bounds that pause near 25 ms; at 100,000 it
        # was 245 ms, over the loop's 100 ms budget (docs/benchmarks.md).
        gc.set_threshold(10_000, 50, 100)
    loop_factory = None
    if settings.uvloop:
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:  # pragma: no cover - uvloop is not available on every platform
            pass
    app = create_app(settings)
    if settings.gc_tuning:
        app.on_startup.append(_freeze_heap)
    options = dict(
        host=settings.host, port=settings.port, print=_announce(settings), access_log_class=AccessLogger,
        shutdown_timeout=settings.shutdown_timeout,
    )
    try:
        if loop_factory is not None:
            loop = loop_factory()
            asyncio.set_event_loop(loop)
            web.run_app(app, loop=loop, **options)  # type: ignore[arg-type]
        else:
            web.run_app(app, **options)  # type: ignore[arg-type]
    except OSError as exc:
        if not (isinstance(exc, socket.gaierror) or exc.errno in LISTEN_ERRORS):
            raise
        # another process has the port, or the address is not this machine's: one line, like a bad database
        print(f"chatserver: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _freeze_heap(app: object) -> None:
    gc.collect()
    gc.freeze()


def _announce(settings: Settings):
    def announce(_: str) -> None:
        print(f"chatserver listening on http://{settings.host}:{settings.port}", flush=True)

    return announce
