"""Shapes of the Slack ids a user writes into settings and the routes file (one definition each)."""

from __future__ import annotations

import re

CHANNEL_ID = re.compile(r"[CG][A-Z0-9_]{2,}")
"""A public (``C…``) or private (``G…``) channel id, as Slack shows it under the channel's details."""
APPROVER_ID = re.compile(r"[UWS][A-Z0-9_]{1,30}")
"""A Slack user id (``U…``, ``W…``) or user-group id (``S…``)."""
