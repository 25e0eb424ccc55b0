"""Shapes of the Slack ids a user writes into settings, the routes file and requests (one definition each)."""

from __future__ import annotations

import re

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9_]{1,63}$")
"""A public or private channel id (``C…``, ``G…``): where the bot can post (a batch card, a route)."""
APPROVER_ID = re.compile(r"[UWS][A-Z0-9_]{1,30}")
"""A Slack user id (``U…``, ``W…``) or user-group id (``S…``)."""
