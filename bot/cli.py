"""``approvals-bot serve|check|watch|approvers|audit|db``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TextIO

from bot.commands import DEMO_PORT, parser

if TYPE_CHECKING:
    from bot.checks import CheckResult
    from bot.logging_setup import SecretMaskingFilter
    from bot.settings import Settings

# Each command imports what it runs when it runs (``bot.commands`` parses without them): `audit` or
# `db` never load Slack's libraries, and `--help` answers at once.

EXIT_BAD_SETTINGS = 2
CHECK_QUIET_LOGGERS = ("bot.storage", "alembic")
EXIT_CHECK_FAILED = 1

log = logging.getLogger("bot")

SETTINGS_HINT = """\
Set them where this deployment reads its settings from:
  run locally:     .env in the directory you start approvals-bot from (a copy of .env.example)
  Docker Compose:  deploy/.env (a copy of deploy/compose.env.example)
  Kubernetes:      the approvals-bot Secret (a copy of deploy/kubernetes/secret.example.yaml)
  otherwise:       the process environment (docker run --env-file, systemd, ...)
README.md (Settings) says what each variable means."""


def load_settings() -> Settings | None:
    from pydantic import ValidationError

    from bot.settings import Settings, describe_errors

    try:
        return Settings()
    except ValidationError as error:
        print("approvals-bot: invalid settings:", file=sys.stderr)
        for line in describe_errors(error):
            print(f"  {line}", file=sys.stderr)
        print(SETTINGS_HINT, file=sys.stderr)
        return None


def routes_valid(settings: Settings) -> bool:
    """False, after naming the file, the line and the problem, when ``APPROVALS_ROUTES_FILE`` is bad."""
    from bot.services.routes_file import RoutesFileError, read_routes

    try:
        read_routes(settings.approvals_routes_file, settings.approvals_channel)
    except RoutesFileError as error:
        print(f"approvals-bot: invalid routes file (APPROVALS_ROUTES_FILE): {error}", file=sys.stderr)
        print(
            "  docs/using/routes.md shows the format; deploy/routes.example.yaml is a valid file.",
            file=sys.stderr,
        )
        return False
    return True


# The image's user; a host directory mounted on /data must belong to it.
CONTAINER_UID = 10001


def database_writable(database_url: str) -> bool:
    """False, after saying why and what to do, when the SQLite database could not be written."""
    from bot.storage.engine import safe_url
    from bot.storage.sqlite_files import sqlite_write_problem

    problem = sqlite_write_problem(database_url)
    if problem is None:
        return True
    print(f"approvals-bot: cannot use the SQLite database {safe_url(database_url)}:", file=sys.stderr)
    print(f"  {problem} (this process runs as uid {os.geteuid()}).", file=sys.stderr)
    print(
        f"  In the container (uid {CONTAINER_UID}) with a host directory on /data: run "
        f"`chown {CONTAINER_UID}:{CONTAINER_UID} ./data` on the host, or use a named volume "
        "(`-v approvals-data:/data`).",
        file=sys.stderr,
    )
    print(
        "  Elsewhere: make it writable for this user, or set DATABASE_URL to a path that is.",
        file=sys.stderr,
    )
    return False


class CheckProgress:
    """Prints each check's line as it comes in; on a terminal, a "checking ..." note under them.

    Lines are flushed at once, so a pipe or a log collector sees them as they happen too.
    """

    def __init__(self, stream: TextIO, names: list[str], mask: SecretMaskingFilter) -> None:
        self._stream = stream
        self._mask = mask
        self._pending = list(names)
        self._terminal = stream.isatty()
        self._show_note()

    def add(self, result: CheckResult) -> None:
        self._pending.remove(result.name)
        if self._terminal:
            self._stream.write("\r\x1b[K")  # back to the start of the note and erase it
        self._stream.write(self._mask.mask(result.line()) + "\n")  # failures may echo a secret
        self._show_note()

    def _show_note(self) -> None:
        if self._terminal and self._pending:
            self._stream.write(f"checking {', '.join(self._pending)}...")
        self._stream.flush()


async def _check(settings: Settings) -> int:
    from bot.checks import checks_for, run_checks
    from bot.logging_setup import SecretMaskingFilter
    from bot.settings import secret_values

    names = [check.name for check in checks_for(settings)]
    progress = CheckProgress(sys.stdout, names, SecretMaskingFilter(secret_values(settings)))
    all_ok = True
    async for result in run_checks(settings):
        progress.add(result)
        all_ok = all_ok and result.ok
    return 0 if all_ok else EXIT_CHECK_FAILED


# -- watch: process ids from cron jobs and shell pipelines -----------------------------------------


def _ids_from(arguments: list[str]) -> tuple[str, ...]:
    """The ids given, or whitespace- or comma-separated ids read from stdin when none are."""
    if arguments:
        return tuple(arguments)
    return tuple(word for word in sys.stdin.read().replace(",", " ").split() if word)


def _field_name(pointer: str, ids: tuple[str, ...]) -> str:
    """``/ids/3`` -> ``id 'abc?'``: on the command line the value says more than its position."""
    parts = pointer.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "ids" and parts[1].isdigit() and int(parts[1]) < len(ids):
        return f"id {ids[int(parts[1])]!r}"
    return parts[0] or "input"


async def _watch(settings: Settings, args: argparse.Namespace) -> int:
    from bot.features.backend_parts import process_status_service
    from bot.services.process_batches import InvalidRequest, WatchRequest, parsed
    from bot.storage.store import Store

    ids = _ids_from(args.ids)
    try:
        fields = {"ids": list(ids), "channel": args.channel, "label": args.label, "notify": args.notify}
        request = parsed(WatchRequest, fields)
    except InvalidRequest as bad:
        print("approvals-bot watch: nothing was watched:", file=sys.stderr)
        for error in bad.errors:
            print(f"  {_field_name(error.pointer, ids)}: {error.detail}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    store = await Store.open(settings.database_url)
    try:
        created = await process_status_service(store, settings).ingest(request, requested_by="cli")
    finally:
        await store.close()
    print(f"batch {created.batch_id}: {created.new} new of {len(set(request.ids))} id(s)")
    return 0


# -- demo: the bot against the built-in sandbox, with a page to click in ----------------------------


def _demo(args: argparse.Namespace) -> int:
    from bot.logging_setup import configure_logging
    from bot.sandbox.demo import DemoOptions, run_demo

    port = args.port
    if port is None:
        try:
            port = int(os.environ.get("PORT") or DEMO_PORT)
        except ValueError:
            print("approvals-bot demo: PORT must be a port number (or use --port)", file=sys.stderr)
            return EXIT_BAD_SETTINGS
    if args.db is not None and args.db.exists():
        # The sandbox starts empty every time: an old file's cards and batches name messages and
        # approvals this sandbox never had, so the bot would post nothing.
        print(
            f"approvals-bot demo: {args.db} exists; give --db a new file, or leave --db out", file=sys.stderr
        )
        return EXIT_BAD_SETTINGS
    configure_logging("WARNING", [])

    async def demo() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_demo(DemoOptions(host=args.host, port=port, db=args.db), stop)

    try:
        asyncio.run(demo())
    except OSError as error:  # the port is taken, or the address is not this machine's
        print(f"approvals-bot demo: {error}", file=sys.stderr)
        print("  Another program may use that port: `--port 0` takes a free one.", file=sys.stderr)
        return 1
    return 0


async def _serve(settings: Settings) -> None:
    """Serves until SIGINT or SIGTERM. Start-up runs with the cyclic garbage collector paused (see
    :func:`main`): it makes about 100,000 objects that live as long as the process, and few cycles.
    Once serving, they are frozen out of every later collection, which then walks only the objects
    made since: a full collection no longer stalls a request for the ~100 ms it takes to walk them."""
    from bot.server import BotServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = BotServer(settings)
    await server.start()
    gc.freeze()
    gc.enable()
    try:
        await stop.wait()
    finally:
        await server.stop()


def _on_database(command: str, settings: Settings, work: Coroutine[Any, Any, int]) -> int:
    """Runs a command that opens the database; a database it cannot use is one line, not a traceback.

    Only the database's errors: an ``OSError`` here may be a closed pipe on standard output
    (``approvals-bot audit | head``), which is not the database's fault."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db_commands import EXIT_REFUSED, database_refusal

    try:
        return asyncio.run(work)
    except SQLAlchemyError as error:
        print(database_refusal(command, settings.database_url, error), file=sys.stderr)
        return EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command != "serve":
        return _run(args)
    gc.disable()  # until the bot serves (_serve): its imports alone would run 280 collections
    try:
        return _run(args)
    finally:
        gc.enable()  # after a start that failed; a no-op once _serve froze start-up and enabled it


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None or not routes_valid(settings) or not database_writable(settings.database_url):
        return EXIT_BAD_SETTINGS
    from bot.logging_setup import configure_logging
    from bot.settings import secret_values

    configure_logging(
        settings.log_level,
        secret_values(settings),
        log_format=settings.log_format,
        static_fields={"replica": settings.replica_id},
    )

    if args.command == "watch":
        return _on_database("watch", settings, _watch(settings, args))
    if args.command == "approvers":
        from bot.operators import approvers

        return _on_database(f"approvers {args.approvers_command}", settings, approvers(settings, args))
    if args.command == "audit":
        from bot.operators import audit

        return _on_database("audit", settings, audit(settings, args))
    if args.command == "db":
        from bot.db_commands import db

        return asyncio.run(db(settings.database_url, args))

    if args.command == "check":
        if settings.log_level != "DEBUG":
            # Opening a new database applies every migration, one INFO line each: between the PASS
            # lines they only hide them (the database line says whether it is ready).
            for name in CHECK_QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
        return asyncio.run(_check(settings))

    try:
        asyncio.run(_serve(settings))
    except Exception as error:
        # One readable line; the traceback only when asked for with LOG_LEVEL=DEBUG.
        log.error(
            "approvals-bot stopped: %s: %s",
            type(error).__name__,
            error,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
