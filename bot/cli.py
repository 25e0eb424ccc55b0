"""``approvals-bot serve|check``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from bot.checks import run_checks
from bot.logging_setup import configure_logging
from bot.runtime import batch_ingest
from bot.server import serve_forever
from bot.services.process_batches import BatchRequest, InvalidBatchRequest, checked
from bot.settings import Settings, describe_errors
from bot.storage.store import Store

EXIT_BAD_SETTINGS = 2
EXIT_CHECK_FAILED = 1

log = logging.getLogger("bot")


def load_settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as error:
        print("approvals-bot: invalid settings:", file=sys.stderr)
        for line in describe_errors(error):
            print(f"  {line}", file=sys.stderr)
        print("See README.md (Settings) for what each variable means.", file=sys.stderr)
        return None


def secret_values(settings: Settings) -> list[str]:
    secrets = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.commerce_logon_password,
        settings.bol_client_secret,
    ]
    if settings.slack_app_token is not None:
        secrets.append(settings.slack_app_token)
    secrets.extend(settings.api_tokens)
    return [s.get_secret_value() for s in secrets]


# -- watch: process ids from cron jobs and shell pipelines -----------------------------------------


def _add_watch_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    watch = sub.add_parser(
        "watch",
        help="watch bol.com process ids as one batch card (ids as arguments, or from stdin when none)",
    )
    watch.add_argument("ids", nargs="*", metavar="ID", help="process status ids (default: read stdin)")
    watch.add_argument("--channel", help="channel id for the batch card (default PROCESS_STATUS_CHANNEL)")
    watch.add_argument("--label", help="what the batch is, e.g. 'offer upload 2026-11-23'")
    watch.add_argument(
        "--notify", choices=["failures", "all"], help="thread replies (default PROCESS_STATUS_NOTIFY)"
    )


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
    ids = _ids_from(args.ids)
    try:
        request = checked(BatchRequest(ids, args.channel, args.label), args.notify)
    except InvalidBatchRequest as bad:
        print("approvals-bot watch: nothing was watched:", file=sys.stderr)
        for error in bad.errors:
            print(f"  {_field_name(error.pointer, ids)}: {error.detail}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    store = await Store.open(settings.database_url)
    try:
        created = await batch_ingest(store, settings).watch(request, requested_by="cli")
    finally:
        await store.close()
    print(f"batch {created.batch_id}: {created.new} new of {len(set(request.ids))} id(s)")
    return 0


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_forever(settings, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="approvals-bot",
        description="Slack bot for HCL Commerce approvals and bol.com process statuses.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the bot (HTTP on $PORT, or Socket Mode when SLACK_APP_TOKEN is set)")
    sub.add_parser("check", help="validate settings and reach Slack, Commerce, bol.com and the database")
    _add_watch_command(sub)
    args = parser.parse_args(argv)

    settings = load_settings()
    if settings is None:
        return EXIT_BAD_SETTINGS
    configure_logging(settings.log_level, secret_values(settings))

    if args.command == "watch":
        return asyncio.run(_watch(settings, args))

    if args.command == "check":
        results = asyncio.run(run_checks(settings))
        for result in results:
            print(result.line())
        return 0 if all(r.ok for r in results) else EXIT_CHECK_FAILED

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
