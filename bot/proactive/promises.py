"""The promise ledger: every promise made to a customer, and its fate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.promises import PromiseRow

DATE_KINDS = ("delivery_date", "pickup_date")


class DatedOrder(Protocol):
    """What a date promise needs of an order: the shop's Order, or the demo
    shop's row while the intake moves it."""

    @property
    def id(self) -> int: ...

    @property
    def customer_id(self) -> int: ...

    @property
    def fulfilment(self) -> str: ...


def date_kind(order: DatedOrder) -> str:
    return "pickup_date" if order.fulfilment == "pickup" else "delivery_date"


def promise_date(
    session: Session, order: DatedOrder, due: date, now: datetime, made_by: str = "shop"
) -> PromiseRow:
    promise = PromiseRow(
        customer_id=order.customer_id,
        order_id=order.id,
        kind=date_kind(order),
        due_date=due,
        made_by=made_by,
        made_at=now,
        status="open",
    )
    session.add(promise)
    return promise


def renew_date_promise(session: Session, order: DatedOrder, new: date, now: datetime) -> None:
    """The shop moved the date: the old promise is renewed (honestly), a new one opens."""
    renew_date_promises(session, [(order, new)], now)


def renew_date_promises(
    session: Session, moves: Sequence[tuple[DatedOrder, date]], now: datetime
) -> None:
    """renew_date_promise for many orders at once: one query, not one per order."""
    if not moves:
        return
    order_ids = [order.id for order, _ in moves]
    with session.no_autoflush:
        for promise in session.execute(
            select(PromiseRow).where(
                PromiseRow.order_id.in_(order_ids),
                PromiseRow.kind.in_(DATE_KINDS),
                PromiseRow.status == "open",
            )
        ).scalars():
            promise.status = "renewed"
            promise.resolved_at = now
    for order, new in moves:
        promise_date(session, order, new, now)


def promise_callback(
    session: Session, customer_id: int, order_id: int | None, due_at: datetime, now: datetime
) -> PromiseRow:
    """'A colleague finds out and you hear from us by ...': a time the watcher holds us to."""
    promise = PromiseRow(
        customer_id=customer_id,
        order_id=order_id,
        kind="callback",
        due_at=due_at,
        made_by="assistant",
        made_at=now,
        status="open",
    )
    session.add(promise)
    return promise


def mark_kept(session_factory: sessionmaker[Session], promise_id: int, now: datetime) -> bool:
    """Staff kept an open promise (called back, answered); False when none such is open."""
    with session_factory() as session, session.begin():
        promise = session.get(PromiseRow, promise_id)
        if promise is None or promise.status != "open":
            return False
        promise.status, promise.resolved_at = "kept", now
        return True


def keep_posted(session: Session, customer_id: int, order_id: int, now: datetime) -> PromiseRow:
    """'Hou me op de hoogte': one open keep-posted promise per order."""
    existing = session.execute(
        select(PromiseRow).where(
            PromiseRow.order_id == order_id,
            PromiseRow.customer_id == customer_id,
            PromiseRow.kind == "keep_posted",
            PromiseRow.status == "open",
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    promise = PromiseRow(
        customer_id=customer_id,
        order_id=order_id,
        kind="keep_posted",
        made_by="assistant",
        made_at=now,
        status="open",
    )
    session.add(promise)
    return promise


def subscribers(session: Session, order_id: int, now: datetime) -> set[int]:
    rows = session.execute(
        select(PromiseRow.customer_id).where(
            PromiseRow.order_id == order_id,
            PromiseRow.kind == "keep_posted",
            PromiseRow.status == "open",
        )
    ).scalars()
    return set(rows)


def list_promises(
    session_factory: sessionmaker[Session], status: str | None = None
) -> list[PromiseRow]:
    with session_factory() as session:
        query = select(PromiseRow).order_by(PromiseRow.id)
        if status:
            query = query.where(PromiseRow.status == status)
        return list(session.execute(query).scalars())
