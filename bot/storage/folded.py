"""A click's two transactions as one PostgreSQL statement each (CTEs), so each is one round trip.

The claim: INSERT the claim unless one is there, and read the claim in the way, the card and the
claimant's link, all in one statement. The record: mark the claim DONE and, only if that marked it,
move the card and write the audit row (naming the organization the moved card shows).
Data-modifying CTEs run once whether or not the outer query reads them, and every part of the
statement sees the same snapshot (taken as it starts), so a claim a concurrent click committed after
that moment is not seen: the caller treats that as it treats a claim released meanwhile, and looks
again. (An UPDATE is the exception: it moves the row as last committed, and returns that.)

Built once (bound parameters), so SQLAlchemy reuses their compiled form on every click.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.expression import update

from bot.storage.records import DecisionState
from bot.storage.schema import approval_cards, audit_log, decision_claims, identity_links

CLAIM = "claim_"
CARD = "card_"
LINK = "link_"
MOVED = "moved_"


class Prefixed:
    """The columns of one table in a row of a folded statement, by their own names."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def present(row: Any, prefix: str, table: Table) -> Prefixed | None:
    """The table's columns of ``row``, or ``None`` when its outer join found no row."""
    key = next(iter(table.primary_key.columns)).name
    return None if getattr(row, prefix + key) is None else Prefixed(row, prefix)


def _labelled(table: Any, prefix: str) -> list[Any]:
    return [column.label(prefix + column.name) for column in table.c]


def _claim_and_read() -> Select[Any]:
    new_claim = (
        pg_insert(decision_claims)
        .values({c.name: bindparam("n_" + c.name, type_=c.type) for c in decision_claims.c})
        .on_conflict_do_nothing()
        .returning(decision_claims.c.approval_id)
        .cte("new_claim")
    )
    approval_id = bindparam("b_approval_id", type_=decision_claims.c.approval_id.type)
    claim = decision_claims.alias("claim")
    card = approval_cards.alias("card")
    link = identity_links.alias("link")
    base = select(literal(1).label("one")).subquery("base")
    return select(
        exists(select(new_claim.c.approval_id)).label("claimed"),
        *_labelled(claim, CLAIM),
        *_labelled(card, CARD),
        *_labelled(link, LINK),
    ).select_from(
        base.outerjoin(claim, claim.c.approval_id == approval_id)
        .outerjoin(card, card.c.approval_id == approval_id)
        .outerjoin(link, link.c.slack_user_id == bindparam("b_slack_user_id"))
    )


def _record() -> Select[Any]:
    approval_id = bindparam("b_approval_id", type_=decision_claims.c.approval_id.type)
    done = (
        update(decision_claims)
        .where(
            decision_claims.c.approval_id == approval_id, decision_claims.c.state != DecisionState.DONE.value
        )
        .values(state=DecisionState.DONE.value)
        .returning(decision_claims.c.approval_id)
        .cte("done")
    )
    marked = exists(select(done.c.approval_id))
    moved = (
        update(approval_cards)
        .where(approval_cards.c.approval_id == approval_id, marked)
        .values(state=bindparam("b_state"), updated_at=bindparam("b_now"))
        .returning(*approval_cards.c)
        .cte("moved")
    )
    columns = [c for c in audit_log.c if c.name != "id"]
    values: dict[str, ColumnElement[Any]] = {c.name: bindparam("a_" + c.name, type_=c.type) for c in columns}
    # Unless the entry names one, the organization the card shows as it is moved (after any post
    # recorded meanwhile: the move waits for that row and returns it as committed).
    values["organization_id"] = func.coalesce(
        values["organization_id"], select(moved.c.organization_id).scalar_subquery()
    )
    audited = (
        pg_insert(audit_log)
        .from_select(list(values), select(*values.values()).where(marked))
        .returning(audit_log.c.id)
        .cte("audited")
    )
    claim = decision_claims.alias("claim")
    card = approval_cards.alias("card")
    base = select(literal(1).label("one")).subquery("base")
    return select(
        marked.label("marked"),
        exists(select(audited.c.id)).label("audited"),  # the audit row went in with the card
        claim.c.state.label("claim_state"),
        *_labelled(moved, MOVED),
        *_labelled(card, CARD),
    ).select_from(
        base.outerjoin(claim, claim.c.approval_id == approval_id)
        .outerjoin(moved, moved.c.approval_id == approval_id)
        .outerjoin(card, card.c.approval_id == approval_id)
    )


CLAIM_AND_READ = _claim_and_read()
"""Parameters: ``n_<column>`` of the new claim, ``b_approval_id``, ``b_slack_user_id``."""
RECORD = _record()
"""Parameters: ``b_approval_id``, ``b_state``, ``b_now`` and ``a_<column>`` of the audit row."""
