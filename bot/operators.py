"""``approvals-bot approvers link|unlink|list`` and ``approvals-bot audit``, for operators and auditors.

Each command opens the store (and, to link, a Commerce session), does one thing and prints the
outcome; a refusal is one plain line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from bot.commerce.errors import CommerceError
from bot.services.identity import AmbiguousLogonId, Identities, LinkedElsewhere, UnknownLogonId
from bot.settings import Settings
from bot.storage.records import AuditEntry, IdentityLink
from bot.storage.store import Store

EXIT_REFUSED = 1
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9_]{1,40}")
AUDIT_COLUMNS = (
    "at",
    "approval_id",
    "action",
    "outcome",
    "slack_user_id",
    "slack_user_name",
    "acted_as",
    "commerce_user_id",
    "comment",
    "detail",
)
SERVICE_ACCOUNT = "service account"


# -- approvers ----------------------------------------------------------------------------------------


async def approvers(settings: Settings, args: argparse.Namespace) -> int:
    if args.approvers_command != "list" and not SLACK_USER_ID.fullmatch(args.slack_user_id):
        return _refuse(
            f"{args.slack_user_id!r} is not a Slack user id (U… or W…, as Slack's 'Copy member ID')"
        )
    store = await Store.open(settings.database_url)
    try:
        if args.approvers_command == "list":
            print_links(await store.identity_links(), sys.stdout)
            return 0
        if args.approvers_command == "unlink":
            removed = await store.unlink_identity(args.slack_user_id)
            if removed is None:
                return _refuse(f"{args.slack_user_id} is not linked; nothing was changed")
            print(f"unlinked {removed.slack_user_id} from Commerce user {removed.commerce_logon_id}")
            return 0
        return await _link(settings, store, args.slack_user_id, args.logon_id)
    finally:
        await store.close()


async def _link(settings: Settings, store: Store, slack_user_id: str, logon_id: str) -> int:
    from bot.features.backend_parts import commerce_client, identity_policy  # the one command that needs them

    commerce = commerce_client(settings)
    try:
        # Without Slack: no auto-link by e-mail, no notices (``approvers link`` needs neither).
        identities = Identities(store, commerce, identity_policy(settings))
        link, replaced = await identities.link(slack_user_id, logon_id)
    except UnknownLogonId:
        return _refuse(
            f"Commerce has no user with logon id {logon_id!r} (or the service account "
            f"{settings.commerce_logon_id} may not see them); nothing was linked"
        )
    except AmbiguousLogonId:
        return _refuse(f"Commerce has more than one user with logon id {logon_id!r}; nothing was linked")
    except LinkedElsewhere as error:
        return _refuse(
            f"Commerce user {error.link.commerce_logon_id} is already linked to {error.link.slack_user_id}; "
            f"one Commerce user may be linked to one Slack user only (unlink "
            f"{error.link.slack_user_id} first); nothing was linked"
        )
    except CommerceError as error:
        return _refuse(f"Commerce could not look up {logon_id!r}: {error.message}; nothing was linked")
    finally:
        await commerce.aclose()
    was = f" (was {replaced.commerce_logon_id})" if replaced is not None else ""
    print(
        f"linked {link.slack_user_id} to Commerce user {link.commerce_logon_id} "
        f"(user id {link.commerce_user_id}){was}"
    )
    return 0


def print_links(links: Sequence[IdentityLink], out: TextIO) -> None:
    header = ("SLACK USER", "COMMERCE LOGON ID", "COMMERCE USER ID", "LINKED BY", "LINKED AT")
    rows = [
        (
            link.slack_user_id,
            link.commerce_logon_id,
            link.commerce_user_id,
            link.linked_by,
            _time(link.linked_at),
        )
        for link in links
    ]
    _table(header, rows, out)
    if not links:
        out.write("(no links yet: approvals-bot approvers link <slack-user-id> <commerce-logon-id>)\n")


# -- audit --------------------------------------------------------------------------------------------


async def audit(settings: Settings, args: argparse.Namespace) -> int:
    store = await Store.open(settings.database_url)
    try:
        entries = await store.audit_report(since=args.since, approval_id=args.approval)
    finally:
        await store.close()
    print_audit(entries, args.format, sys.stdout)
    return 0


def audit_row(entry: AuditEntry) -> dict[str, str]:
    """One entry as the auditors' columns; ``acted_as`` names the Commerce user or the service account."""
    if entry.commerce_user_id:
        acted_as = entry.commerce_logon_id or entry.commerce_user_id
    elif entry.commerce_logon_id:
        acted_as = f"{entry.commerce_logon_id} ({SERVICE_ACCOUNT})"
    else:
        acted_as = ""  # written before the bot recorded it
    return {
        "at": _time(entry.at),
        "approval_id": entry.approval_id or "",
        "action": entry.action,
        "outcome": entry.outcome,
        "slack_user_id": entry.slack_user_id,
        "slack_user_name": entry.slack_user_name or "",
        "acted_as": acted_as,
        "commerce_user_id": entry.commerce_user_id or "",
        "comment": entry.comment or "",
        "detail": entry.detail or "",
    }


def print_audit(entries: Sequence[AuditEntry], output_format: str, out: TextIO) -> None:
    rows = [audit_row(e) for e in entries]
    if output_format == "json":
        json.dump(rows, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif output_format == "csv":
        writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        header = tuple(c.upper().replace("_", " ") for c in AUDIT_COLUMNS)
        _table(header, [tuple(_one_line(r[c]) for c in AUDIT_COLUMNS) for r in rows], out)


# -- text ---------------------------------------------------------------------------------------------


def _refuse(message: str) -> int:
    print(f"approvals-bot: {message}", file=sys.stderr)
    return EXIT_REFUSED


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment is not None else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        out.write(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
        )
