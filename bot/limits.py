"""Text limits a user meets when deciding, in one place.

The slash-command parser, the reject modal and the comment sent to Commerce all read these, so a
reason the modal accepts is one the command accepts and one Commerce can store.
"""

from __future__ import annotations

COMMERCE_COMMENT_BYTES = 254
"""Commerce keeps approval comments in ``APRVSTATUS.COMMENTS``, a VARCHAR(254) counted in bytes."""

COMMENT_MAX_LENGTH = 200
"""Characters a user may write: room is left for "Rejected in Slack by @who (U…): " in front."""

REASON_MIN_LENGTH = 3
"""A reject reason says something: at least this many characters."""
