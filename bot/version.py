"""The bot's version: the one place it is written (``pyproject.toml`` and the image's label read it).

Every request the bot sends to Commerce, bol.com and Slack names it in its ``User-Agent``, so their
logs tell which version asked.
"""

from __future__ import annotations

VERSION = "0.2.0"
USER_AGENT = f"commerce-approvals-bot/{VERSION}"
