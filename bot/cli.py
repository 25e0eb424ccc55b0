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
from bot.server import serve_forever
from bot.settings import Settings, describe_errors

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
    return [s.get_secret_value() for s in secrets]


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
    args = parser.parse_args(argv)

    settings = load_settings()
    if settings is None:
        return EXIT_BAD_SETTINGS
    configure_logging(
        settings.log_level,
        secret_values(settings),
        log_format=settings.log_format,
        static_fields={"replica": settings.replica_id},
    )

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
