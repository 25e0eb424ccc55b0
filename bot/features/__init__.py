"""The bot's features, one module each, and the shared parts they are built from (``parts.py``, and
``backend_parts.py`` for the parts with nothing of Slack).

A feature module has ``contribute(parts) -> Contribution``: the pollers, announcers, Bolt listeners
and HTTP routes it adds. ``FEATURE_MODULES`` lists the features once, a line each; ``bot/runtime.py``
derives every list it runs from their contributions. Adding a feature is a new module here and its
line there. This package is part of the composition root: it may read ``Settings``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from bot.features.parts import Feature

FEATURE_MODULES = (
    "approvals",
    "app_home",
    "reminders",
    "digest",
    "process_status",
    "ingest_api",
    "retention",
    "decide_details",
)
"""Every feature module of this package, in the order its listeners and routes are registered."""

COMMERCE_FEATURES = frozenset({"approvals", "app_home", "reminders", "digest", "decide_details"})
BOL_FEATURES = frozenset({"process_status", "ingest_api"})
"""The features of each optional backend: a deployment without the backend runs none of them."""


def enabled_features(*, commerce: bool = True, bol: bool = True) -> tuple[Feature, ...]:
    """The ``contribute`` function of each module in ``FEATURE_MODULES``, less those of a backend that
    is off."""
    off = (frozenset() if commerce else COMMERCE_FEATURES) | (frozenset() if bol else BOL_FEATURES)
    return tuple(
        cast("Feature", importlib.import_module(f"{__name__}.{name}").contribute)
        for name in FEATURE_MODULES
        if name not in off
    )
