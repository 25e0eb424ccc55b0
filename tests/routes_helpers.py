"""A routes file for the routing tests, and what they look at on the wire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import Person
from bot.sandbox.slack import SlackEmulator
from bot.storage.records import IdentityLink
from bot.storage.store import Store
from tests.bot_runner import RunningBot
from tests.identity_helpers import add_approver, link

LARGE_CHANNEL = "C_LARGE"
ACME_CHANNEL = "C_ACME"
BUYERS_CHANNEL = "C_BUYERS"
ACME = "7000000000000000777"
FINANCE_1 = "U_FINANCE1"
FINANCE_2 = "U_FINANCE2"
FINANCE_GROUP = "S_FINANCE"
ACME_APPROVER = "U_ACME"

ROUTES = f"""
routes:
  - name: large-orders
    channel: {LARGE_CHANNEL}
    currency: EUR
    match: {{kind: order, min_total: 10000}}
    approvers: [{FINANCE_1}, {FINANCE_2}]
    required_approvals: 2
    min_order_total: 25000
  - name: acme
    channel: {ACME_CHANNEL}
    match:
      organization: "{ACME}"
    approvers: [{ACME_APPROVER}]
  - name: registrations
    channel: {BUYERS_CHANNEL}
    match: {{kind: buyer}}
"""
"""Large orders (two approvals above 25,000) to finance, Acme's orders to its team, buyers apart."""


def routes_file(directory: Path, text: str = ROUTES) -> str:
    path = directory / "routes.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def blocks_of(call: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def card_in(slack: SlackEmulator, channel: str, approval_id: str) -> dict[str, Any] | None:
    """The card of ``approval_id`` posted in ``channel`` (not a thread reply), if any."""
    for call in slack.calls("chat.postMessage"):
        shows = f'"value": "{approval_id}"' in json.dumps(blocks_of(call))
        if call.get("channel") == channel and not call.get("thread_ts") and shows:
            return call
    return None


def channels_of_cards(slack: SlackEmulator, approval_id: str) -> list[str]:
    """Every channel a card of ``approval_id`` was posted in."""
    return [
        str(call.get("channel"))
        for call in slack.calls("chat.postMessage")
        if not call.get("thread_ts") and f'"value": "{approval_id}"' in json.dumps(blocks_of(call))
    ]


def updates_of(slack: SlackEmulator, ts: str) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.update") if c.get("ts") == ts]


def finance_people(commerce: CommerceEmulator) -> tuple[Person, Person]:
    """The Commerce approvers FINANCE_1 and FINANCE_2 are (only linked approvers vote on two-person
    routes)."""
    return add_approver(commerce, "finance.one"), add_approver(commerce, "finance.two")


def link_finance(bot: RunningBot, commerce: CommerceEmulator) -> tuple[Person, Person]:
    """Links FINANCE_1 and FINANCE_2 to two Commerce approvers; those two."""
    first, second = finance_people(commerce)
    link(bot, FINANCE_1, first)
    link(bot, FINANCE_2, second)
    return first, second


async def link_finance_in(database_url: str, commerce: CommerceEmulator) -> None:
    """As :func:`link_finance`, written into the database of bots running in other processes."""
    store = await Store.open(database_url, replica="test-links")
    try:
        for slack_user, person in zip((FINANCE_1, FINANCE_2), finance_people(commerce), strict=True):
            await store.link_identity(IdentityLink(slack_user, person.logon_id, person.user_id))
    finally:
        await store.close()
