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


def decision_comment(verb: str, user_id: str, user_name: str | None, comment: str | None) -> str:
    """``Rejected in Slack by @name (U1): reason``, uncut: the comment Commerce is sent, naming the
    Slack user so Commerce's own history shows who acted. ``verb`` is ``approved`` or ``rejected``."""
    who = f"@{user_name} ({user_id})" if user_name else user_id
    text = f"{verb.capitalize()} in Slack by {who}"
    return f"{text}: {comment}" if comment else text


def characters_over(verb: str, user_id: str, user_name: str | None, comment: str) -> int:
    """How many characters must go from the end of ``comment`` for :func:`decision_comment` to fit in
    :data:`COMMERCE_COMMENT_BYTES` UTF-8 bytes; 0 when it fits (an accented letter takes 2 bytes,
    an emoji 4)."""
    over = len(decision_comment(verb, user_id, user_name, comment).encode()) - COMMERCE_COMMENT_BYTES
    cut = 0
    while over > 0 and cut < len(comment):
        cut += 1
        over -= len(comment[-cut].encode())
    return cut


def too_long_for_commerce(what: str, cut: int) -> str:
    """The message for a ``what`` (comment, reason) that needs ``cut`` fewer characters."""
    return (
        f"The {what} does not fit in Commerce's {COMMERCE_COMMENT_BYTES} bytes together with your name; "
        f"make it {cut} characters shorter (accented letters count twice, emoji four times)."
    )
