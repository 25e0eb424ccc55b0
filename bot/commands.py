"""The command line's grammar: every ``approvals-bot`` command and its arguments, and nothing that runs
them.

Parsing imports no more than this module, so ``--help``, ``--version`` and a mistyped argument answer
at once; each command's module is imported when that command runs (:mod:`bot.cli`).
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.version import VERSION

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

AUDIT_FORMATS = ("table", "csv", "json")
DEMO_PORT = 3000


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="approvals-bot",
        description="Slack bot for HCL Commerce approvals and bol.com process statuses.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="run the bot (HTTP on $PORT, or Socket Mode when SLACK_APP_TOKEN is set)"
    )
    commands.add_parser("check", help="validate settings and reach Slack, Commerce, bol.com and the database")
    _add_watch(commands)
    _add_approvers(commands)
    _add_audit(commands)
    _add_db(commands)
    _add_demo(commands)
    return parser


def _add_watch(commands: Commands) -> None:
    watch = commands.add_parser(
        "watch",
        help="watch bol.com process ids as one batch card (ids as arguments, or from stdin when none)",
    )
    watch.add_argument("ids", nargs="*", metavar="ID", help="process status ids (default: read stdin)")
    watch.add_argument("--channel", help="channel id for the batch card (default PROCESS_STATUS_CHANNEL)")
    watch.add_argument("--label", help="what the batch is, e.g. 'offer upload 2026-11-23'")
    watch.add_argument(
        "--notify", choices=["failures", "all"], help="thread replies (default PROCESS_STATUS_NOTIFY)"
    )


def _add_approvers(commands: Commands) -> None:
    approvers = commands.add_parser(
        "approvers", help="link Slack users to Commerce users (list, link, unlink)"
    )
    actions = approvers.add_subparsers(dest="approvers_command", required=True)
    link = actions.add_parser("link", help="link a Slack user to the Commerce user with that logon id")
    link.add_argument(
        "slack_user_id", help="the Slack user id, e.g. U0123ABCD (profile > ⋮ > Copy member ID)"
    )
    link.add_argument("logon_id", help="the Commerce logon id, as the user logs in to the store")
    unlink = actions.add_parser("unlink", help="remove a Slack user's link")
    unlink.add_argument("slack_user_id")
    actions.add_parser("list", help="every link, as a table")


def _add_audit(commands: Commands) -> None:
    audit = commands.add_parser("audit", help="print the audit log of decisions (oldest first)")
    audit.add_argument("--since", type=_since, help="only entries from this day (YYYY-MM-DD, UTC) or time on")
    audit.add_argument("--approval", help="only this approval id's entries")
    audit.add_argument(
        "--format", choices=AUDIT_FORMATS, default="table", help="table (default, for reading), csv or json"
    )


def _since(value: str) -> datetime:
    """A day (midnight UTC) or an ISO 8601 time (UTC when it names no zone)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM): {value!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _add_db(commands: Commands) -> None:
    db = commands.add_parser("db", help="the database: upgrade, current, history, backup")
    actions = db.add_subparsers(dest="db_command", required=True)
    actions.add_parser("upgrade", help="bring the schema to the newest revision (starting the bot does too)")
    actions.add_parser("current", help="the revision the database is at")
    actions.add_parser("history", help="every revision, newest first; > marks the database's")
    backup = actions.add_parser("backup", help="copy a live SQLite database to PATH (PostgreSQL: pg_dump)")
    backup.add_argument("path", type=Path, help="the new file to write, e.g. /data/backup-2026-12-06.db")


def _add_demo(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="try the bot in a sandbox on this machine: no settings, no network; prints a URL to open",
    )
    demo.add_argument(
        "--host",
        default=os.environ.get("DEMO_HOST", "127.0.0.1"),
        help="address of the page (default 127.0.0.1, or $DEMO_HOST; the image sets 0.0.0.0 so that "
        "`docker run -p 127.0.0.1:3000:3000` reaches it)",
    )
    demo.add_argument(
        "--port", type=int, help="port of the page (default $PORT, else 3000; 0: any free port)"
    )
    demo.add_argument(
        "--db", type=Path, help="a new SQLite file, kept after the demo (default: in a temporary directory)"
    )
