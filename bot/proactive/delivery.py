"""Showing warnings in a conversation: each one once, to its own customer only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.memory.promises import PromiseRow
from bot.memory.warnings import WarningRow
from bot.orders.remembered import move_told_marker
from bot.proactive.outbox import id_list

# Warnings a customer who comes by is shown (opted-out ones are not).
SHOWABLE = ("queued", "sending", "sent", "unread", "dead")


@dataclass(frozen=True)
class ShownWarning:
    id: int
    kind: str
    order_ids: list[int]
    event_ids: list[int]
    promised: date | None  # the promised date of a promise warning
    promised_at: datetime | None = None  # a callback's promised time (naive UTC)
    # Marked shown in this conversation before: it may have reached the customer
    # in a turn Rasa never saved, which only the channel's receipt can tell.
    again: bool = False


def take_for_showing(
    session: Session,
    warning_id: int,
    customer_id: int,
    address: str,
    now: datetime,
    recorded_here: bool = False,
) -> ShownWarning | None:
    """Mark the warning shown, once; None when it was shown before or is not theirs.

    One exception: marked shown in this very conversation (`address`) but absent
    from the conversation's own record (`recorded_here` false). Rasa dropped that
    turn, as it does when the pushing request is cut off, so the customer never
    saw it: show it again rather than lose it (`again`: unless the channel's
    receipt says it arrived, bot/channels/receipts.py).
    """
    mark = (
        update(WarningRow)
        .where(WarningRow.id == warning_id, WarningRow.customer_id == customer_id)
        .values(delivered_at=now, delivered_to=address)
    )
    again = False
    taken = session.execute(mark.where(WarningRow.delivered_at.is_(None))).rowcount
    if taken != 1 and not recorded_here:
        taken = session.execute(mark.where(WarningRow.delivered_to == address)).rowcount
        again = True
    if taken != 1:
        return None
    row = session.get(WarningRow, warning_id)
    assert row is not None
    if row.status in ("queued", "unread"):
        # Shown at a visit: nothing left to push. One being pushed right
        # now ('sending') is finished by its notifier.
        row.status = "sent"
        row.address = row.address or address
    events = id_list(row.event_ids)
    if events:
        # The customer now knows these changes: "what changed?" starts after them.
        for order_id in id_list(row.order_ids):
            move_told_marker(session, order_id, max(events), now)
    promise = session.get(PromiseRow, row.promise_id) if row.promise_id is not None else None
    return ShownWarning(
        row.id,
        row.kind,
        id_list(row.order_ids),
        events,
        promised=promise.due_date if promise else None,
        promised_at=promise.due_at if promise else None,
        again=again,
    )


def unshown_for(
    session: Session,
    customer_id: int,
    only_orders: frozenset[int] | None = None,
) -> list[int]:
    """Warnings of this customer not shown yet, oldest first; with `only_orders`,
    only those about nothing but these orders (a visitor who verified one order)."""
    rows = session.execute(
        select(WarningRow.id, WarningRow.order_ids)
        .where(WarningRow.customer_id == customer_id)
        .where(WarningRow.delivered_at.is_(None))
        .where(WarningRow.status.in_(SHOWABLE))
        .order_by(WarningRow.id)
    ).all()
    return [
        int(warning_id)
        for warning_id, order_ids in rows
        if only_orders is None or set(id_list(order_ids)) <= only_orders
    ]


def orders_of_warning(session: Session, warning_id: int) -> list[int]:
    """The orders a warning is about (none for an unknown warning)."""
    order_ids = session.execute(
        select(WarningRow.order_ids).where(WarningRow.id == warning_id)
    ).scalar_one_or_none()
    return id_list(order_ids) if order_ids else []


def record_said(session: Session, warning_id: int, said: str) -> None:
    """The text a warning was sent with by the notifier itself (no Rasa turn
    holds it): for the person who takes the conversation over."""
    session.execute(update(WarningRow).where(WarningRow.id == warning_id).values(said=said))


def _sent_by_notifier(customer_id: int, address: str) -> Any:
    """The warnings the notifier sent itself to this customer at this address."""
    return (
        (WarningRow.customer_id == customer_id)
        & (WarningRow.delivered_to == address)
        & WarningRow.said.is_not(None)
    )


def last_said_warning(
    session: Session, customer_id: int, address: str
) -> tuple[datetime, int] | None:
    """(when, the order it is about) of the warning the notifier sent itself
    to this address last: the order of its choices (the first it tells of),
    which "annuleren" or "wachten" answers. No Rasa turn set the
    conversation's slot for it. One query; None when there was none."""
    row = session.execute(
        select(WarningRow.delivered_at, WarningRow.order_ids)
        .where(_sent_by_notifier(customer_id, address))
        .order_by(WarningRow.delivered_at.desc(), WarningRow.id.desc())
        .limit(1)
    ).first()
    if row is None or row.delivered_at is None or not id_list(row.order_ids):
        return None
    return row.delivered_at, id_list(row.order_ids)[0]


def warnings_said(
    session: Session, customer_id: int, address: str, limit: int = 20
) -> list[tuple[datetime, str]]:
    """(when, what) of the warnings the notifier sent itself to this address,
    oldest first: lines of the conversation Rasa's record does not hold."""
    rows = session.execute(
        select(WarningRow.delivered_at, WarningRow.said)
        .where(_sent_by_notifier(customer_id, address))
        .order_by(WarningRow.delivered_at.desc())
        .limit(limit)
    ).all()
    return [(at, said) for at, said in reversed(rows) if at is not None]
