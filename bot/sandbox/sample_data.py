"""The demo's B2B store: buyer organizations, people, pending approvals and a bol.com offer upload.

Everything here only fills the sandbox servers (``CommerceEmulator``, ``BolEmulator``, the Slack
workspace's users); the bot finds it the way it finds a real store's, by polling. ``Timeline`` says what
happens after the start: the offer upload's processes finish over the first minute (a few of them
FAILURE with bol.com-like ``errorMessage``\\ s) and a new order approval arrives every so often.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.commerce.models import ApprovalKind
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import Person
from bot.sandbox.slack import SlackEmulator

# -- the workspace --------------------------------------------------------------------------------
APPROVALS_CHANNEL = "C0APPROVALS"
LARGE_ORDERS_CHANNEL = "C0LARGEORDERS"
PROCESS_CHANNEL = "C0BOLPROCESS"
CHANNEL_NAMES = {
    APPROVALS_CHANNEL: "approvals",
    LARGE_ORDERS_CHANNEL: "large-orders",
    PROCESS_CHANNEL: "bol-processes",
}


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str
    role: str


APPROVER = DemoUser("U0ANA", "Ana Kovač", "approver")
SECOND_APPROVER = DemoUser("U0BEN", "Ben Okafor", "second approver")
SUBMITTER = DemoUser("U0CHRIS", "Chris Meyer", "submitter, also an approver")
OUTSIDER = DemoUser("U0DANA", "Dana Reyes", "not an approver")
USERS = (APPROVER, SECOND_APPROVER, SUBMITTER, OUTSIDER)
APPROVERS = (APPROVER.user_id, SECOND_APPROVER.user_id, SUBMITTER.user_id)

LARGE_ORDER_TOTAL = Decimal(10_000)
"""Orders of at least this go to #large-orders, where two different approvers must approve."""

ROUTES_YAML = f"""\
# The demo's APPROVALS_ROUTES_FILE (README: Routes).
routes:
  - name: large-orders
    channel: {LARGE_ORDERS_CHANNEL}
    match:
      kind: order
      min_total: {{EUR: {LARGE_ORDER_TOTAL}, USD: {LARGE_ORDER_TOTAL}, GBP: {LARGE_ORDER_TOTAL}}}
    approvers: [{APPROVER.user_id}, {SECOND_APPROVER.user_id}]
    required_approvals: 2
"""


# -- the store --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Buyer:
    organization_id: str
    first_name: str
    last_name: str


NORTHWIND = Buyer("7000000000000000101", "Sanne", "de Vries")  # Northwind Outfitters B.V.
ALPINE = Buyer("7000000000000000202", "Lukas", "Huber")  # Alpine Tools GmbH
HARBOR = Buyer("7000000000000000303", "Olivia", "Grant")  # Harbor Supply Ltd
KEYSTONE = Buyer("7000000000000000404", "Marcus", "Bell")  # Keystone Medical Inc.


@dataclass(frozen=True)
class OrderSample:
    buyer: Buyer
    total: str
    currency: str
    items: int
    waiting: timedelta = timedelta(0)


PENDING_ORDERS = (
    OrderSample(NORTHWIND, "4860.00", "EUR", 12, timedelta(hours=3, minutes=10)),
    OrderSample(ALPINE, "1299.90", "EUR", 3, timedelta(hours=1, minutes=42)),
    OrderSample(HARBOR, "742.35", "GBP", 5, timedelta(minutes=38)),
    OrderSample(KEYSTONE, "48250.00", "USD", 40, timedelta(minutes=25)),  # -> the two-person route
)
ARRIVING_ORDERS = (
    OrderSample(ALPINE, "318.40", "EUR", 2),
    OrderSample(HARBOR, "2145.00", "GBP", 9),
    OrderSample(NORTHWIND, "86.95", "EUR", 1),
    OrderSample(KEYSTONE, "6730.20", "USD", 14),
)
ARRIVAL_EVERY = timedelta(seconds=45)
ARRIVALS_LIMIT = 40
"""After this many (half an hour) no more arrive: a demo left running does not pile up approvals."""

# -- bol.com ----------------------------------------------------------------------------------------
OFFER_UPLOAD_SIZE = 50
OFFER_UPLOAD_LABEL = "Offer upload: spring catalogue (50 offers)"
FINISH_WITHIN = timedelta(seconds=60)
FINISH_WAVES = 10
FAILURES = {
    7: "Offer with EAN 8719874563213 is not allowed: the product is blocked for sale on bol.com.",
    19: "Price 0.00 is below the minimum of 1.00 for offer reference SKU-4471-BLK.",
    33: "Stock 10000 exceeds the maximum allowed amount of 999 for fulfilment method FBR.",
    46: "EAN 8712345000071 is unknown; check the EAN or create the product first.",
}
"""Position in the upload -> its FAILURE's ``errorMessage`` (the rest finish SUCCESS)."""


@dataclass
class Sample:
    """What the sample put in the sandbox, for the demo to act on."""

    commerce: CommerceEmulator
    bol: BolEmulator
    self_submitter: Person
    offer_upload: list[str]
    linked_approvers: tuple[tuple[str, Person], ...] = ()
    """Slack user id and Commerce user of the approvers the demo links (two-person routes need it)."""


def fill(slack: SlackEmulator, commerce: CommerceEmulator, bol: BolEmulator) -> Sample:
    """Users in Slack, buyers and pending approvals in Commerce, a pending offer upload in bol.com."""
    for user in USERS:
        slack.users[user.user_id] = _slack_user(slack.team_id, user)
    now = datetime.now(UTC)
    for order in PENDING_ORDERS:
        add_order(commerce, order, now - order.waiting)
    commerce.add_approval(  # a buyer registering themselves
        ApprovalKind.BUYER,
        first_name="Emma",
        last_name="Lindqvist",
        organization_id=NORTHWIND.organization_id,
        submit_time=now - timedelta(minutes=55),
    )
    with commerce.lock:
        chris = commerce.people.add(
            "chris.meyer", email="chris.meyer@store.example", organization_id=ALPINE.organization_id
        )
    commerce.add_approval(  # an approver who ordered for their own team: they may not approve it
        ApprovalKind.ORDER,
        submitter_id=chris.user_id,
        first_name="Chris",
        last_name="Meyer",
        order_total="2980.00",
        order_currency="EUR",
        order_items=6,
        organization_id=ALPINE.organization_id,
        submit_time=now - timedelta(minutes=12),
    )
    upload = [
        bol.add_process("UPDATE_OFFER", f"SKU-{4400 + n}", f"Update offer SKU-{4400 + n}.")
        for n in range(OFFER_UPLOAD_SIZE)
    ]
    organizations = tuple(b.organization_id for b in (NORTHWIND, ALPINE, HARBOR, KEYSTONE))
    with commerce.lock:
        approvers = tuple(
            (
                user.user_id,
                commerce.people.add(logon, email=f"{logon}@store.example", approver_for=organizations),
            )
            for user, logon in ((APPROVER, "ana.kovac"), (SECOND_APPROVER, "ben.okafor"))
        )
    return Sample(commerce, bol, chris, upload, approvers)


def add_order(commerce: CommerceEmulator, order: OrderSample, submitted: datetime) -> str:
    return commerce.add_approval(
        ApprovalKind.ORDER,
        first_name=order.buyer.first_name,
        last_name=order.buyer.last_name,
        order_total=order.total,
        order_currency=order.currency,
        order_items=order.items,
        organization_id=order.buyer.organization_id,
        submit_time=submitted,
    )


def _slack_user(team_id: str, user: DemoUser) -> dict[str, object]:
    handle = user.name.split()[0].lower()
    return {
        "id": user.user_id,
        "team_id": team_id,
        "name": handle,
        "real_name": user.name,
        "is_bot": False,
        "deleted": False,
        "profile": {"display_name": handle, "real_name": user.name, "email": f"{handle}@store.example"},
    }


class Timeline:
    """What happens while the demo runs; ``advance(elapsed)`` does what is due by then (idempotent)."""

    def __init__(self, sample: Sample) -> None:
        self._sample = sample
        wave_size = -(-len(sample.offer_upload) // FINISH_WAVES)
        step = FINISH_WITHIN / FINISH_WAVES
        self._waves = [
            (step * (n + 1), list(enumerate(sample.offer_upload))[n * wave_size : (n + 1) * wave_size])
            for n in range(FINISH_WAVES)
        ]
        self._arrivals: Iterator[OrderSample] = itertools.cycle(ARRIVING_ORDERS)
        self._next_arrival = ARRIVAL_EVERY
        self._arrived = 0

    def advance(self, elapsed: timedelta) -> None:
        while self._waves and self._waves[0][0] <= elapsed:
            _, wave = self._waves.pop(0)
            for position, process_id in wave:
                failure = FAILURES.get(position)
                self._sample.bol.set_status(process_id, "FAILURE" if failure else "SUCCESS", failure)
        while self._next_arrival <= elapsed and self._arrived < ARRIVALS_LIMIT:
            add_order(self._sample.commerce, next(self._arrivals), datetime.now(UTC))
            self._next_arrival += ARRIVAL_EVERY
            self._arrived += 1
