"""Typed view of bol.com ``ProcessStatus`` (Shared API v10)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class ProcessState(str, Enum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"

    @property
    def is_final(self) -> bool:
        return self is not ProcessState.PENDING


@dataclass(frozen=True)
class ProcessStatus:
    process_status_id: str
    event_type: str
    description: str
    state: ProcessState
    entity_id: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class BulkResult:
    """Answer of the bulk endpoint: statuses found, and ids bol no longer knows (purged)."""

    found: dict[str, ProcessStatus]
    purged: set[str]


MAX_BULK_IDS = 1000
PROCESS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""A bol.com process status id as the bot accepts it (slash commands, API, CLI)."""
ENTITY_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
"""An entity id (an offer, a shipment, ...) whose processes can be followed."""
ENTITY_PAGE_SIZE = 50
EVENT_TYPES: tuple[str, ...] = (
    "CREATE_SHIPMENT",
    "CANCEL_ORDER",
    "CHANGE_TRANSPORT",
    "HANDLE_RETURN_ITEM",
    "CREATE_RETURN_ITEM",
    "CREATE_INBOUND",
    "DELETE_OFFER",
    "CREATE_OFFER",
    "UPDATE_OFFER",
    "UPDATE_OFFER_STOCK",
    "UPDATE_OFFER_PRICE",
    "CREATE_OFFER_EXPORT",
    "UNPUBLISHED_OFFER_REPORT",
    "CREATE_PRODUCT_CONTENT",
    "CREATE_SUBSCRIPTION",
    "UPDATE_SUBSCRIPTION",
    "DELETE_SUBSCRIPTION",
    "SEND_SUBSCRIPTION_TST_MSG",
    "CREATE_SHIPPING_LABEL",
    "CREATE_REPLENISHMENT",
    "UPDATE_REPLENISHMENT",
    "REQUEST_PRODUCT_DESTINATIONS",
    "CREATE_SOV_SEARCH_TERM_REPORT",
    "CREATE_SOV_CATEGORY_REPORT",
    "UPLOAD_INVOICE",
    "CREATE_CAMPAIGN_PERFORMANCE_REPORT",
)
