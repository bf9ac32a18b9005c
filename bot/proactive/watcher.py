"""The promise watcher: no promise breaks silently.

A date promise that is due soon or past, for an order that has not shipped,
becomes a warning (at risk, or broken), with the reason when the order system
has one; the promise is then honestly renewed to the current date. A callback
time that passed without a callback becomes a warning too.
A reminder before an express cut-off ("choose before 17:00 to have it by
Saturday") becomes a warning `reminder_lead` before the cut-off, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deadlines.service import REMINDER_KIND
from bot.memory.promises import PromiseRow
from bot.orders.model import Order
from bot.orders.system import OrderSystem, OrderSystemUnavailable
from bot.proactive.outbox import queue_warning
from bot.proactive.promises import DATE_KINDS, promise_date

logger = logging.getLogger(__name__)

KEPT_STATUSES = ("delivered", "picked_up")
ON_ITS_WAY = ("shipped", "ready_for_pickup")


@dataclass
class WatchResult:
    kept: list[int] = field(default_factory=list)
    at_risk: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    warning_ids: list[int] = field(default_factory=list)


def watch_promises(
    session_factory: sessionmaker[Session],
    orders: OrderSystem,
    today: date,
    now: datetime,
    near_days: int = 1,
    reminder_lead: timedelta = timedelta(hours=2),
) -> WatchResult:
    """The due promises judged against the orders as the shop has them now.

    The shop is read first, outside the promises' transaction (it may be a
    REST API); a promise whose order could not be read waits for the next round."""
    result = WatchResult()
    horizon = today + timedelta(days=near_days)
    due = (
        select(PromiseRow)
        .where(PromiseRow.status == "open")
        .where(
            or_(
                (PromiseRow.kind.in_(DATE_KINDS)) & (PromiseRow.due_date <= horizon),
                (PromiseRow.kind == "callback") & (PromiseRow.due_at <= now),
                (PromiseRow.kind == REMINDER_KIND) & (PromiseRow.due_at <= now + reminder_lead),
            )
        )
        .order_by(PromiseRow.id)
    )
    with session_factory() as session:
        order_ids = {p.order_id for p in session.execute(due).scalars() if p.order_id is not None}
    states = _orders_now(orders, order_ids)
    with session_factory() as session, session.begin():
        for promise in session.execute(due.with_for_update(skip_locked=True)).scalars():
            if promise.order_id is not None and promise.order_id not in states:
                continue  # its order could not be read now, or became due meanwhile
            _judge(session, promise, states.get(promise.order_id), today, now, result)
    return result


def _orders_now(orders: OrderSystem, order_ids: set[int]) -> dict[int, Order | None]:
    """Each order as the shop has it (None: the shop does not know it)."""
    states: dict[int, Order | None] = {}
    for order_id in sorted(order_ids):
        try:
            states[order_id] = orders.get_order(order_id)
        except OrderSystemUnavailable as error:
            logger.warning("promise watcher: order system unavailable (%s)", error)
            break  # the rest waits for the next round too
    return states


def _judge(
    session: Session,
    promise: PromiseRow,
    order: Order | None,
    today: date,
    now: datetime,
    result: WatchResult,
) -> None:
    if promise.kind == REMINDER_KIND:
        _remind(session, promise, order, now, result)
        return
    if promise.kind == "callback":
        promise.status, promise.resolved_at = "broken", now
        result.broken.append(promise.id)
        _warn(session, promise, "callback_missed", now, result)
        return
    if order is None or order.status == "cancelled":
        promise.status, promise.resolved_at = "ended", now
        return
    if order.status in KEPT_STATUSES:
        promise.status, promise.resolved_at = "kept", now
        result.kept.append(promise.id)
        return
    if order.status in ON_ITS_WAY and promise.due_date >= today:
        return  # on its way in time: nothing to say yet
    moved = order.promised_date is not None and order.promised_date > promise.due_date
    if promise.due_date < today:
        promise.status, promise.resolved_at = "broken", now
        result.broken.append(promise.id)
        _warn(session, promise, "promise_broken", now, result)
    else:
        result.at_risk.append(promise.id)
        _warn(session, promise, "promise_at_risk", now, result)
        if not moved:
            return  # still open: if it is missed after all, that is said too
        promise.status, promise.resolved_at = "renewed", now
    if moved and order.promised_date is not None:
        # Honestly renewed: the new date is what the warning tells the customer.
        promise_date(session, order, order.promised_date, now)


def _remind(
    session: Session, promise: PromiseRow, order: Order | None, now: datetime, result: WatchResult
) -> None:
    """Before the cut-off: one reminder. After it: too late to be of use, so none."""
    if promise.due_at <= now or order is None or order.status in ("cancelled", *KEPT_STATUSES):
        promise.status, promise.resolved_at = "ended", now
        return
    promise.status, promise.resolved_at = "kept", now
    result.kept.append(promise.id)
    _warn(session, promise, REMINDER_KIND, now, result)


def _warn(
    session: Session, promise: PromiseRow, kind: str, now: datetime, result: WatchResult
) -> None:
    warning = queue_warning(
        session,
        customer_id=promise.customer_id,
        kind=kind,
        order_ids=[promise.order_id] if promise.order_id else [],
        event_ids=[],
        now=now,
        promise_id=promise.id,
    )
    result.warning_ids.append(warning.id)
