"""What a customer can answer to a warning: wait, cancel, an alternative, stop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.customers import OptOutRow
from bot.orders.sql.tables import OrderRow
from bot.proactive.intake import MOVABLE_STATUSES, OrderChange, apply_order_change
from bot.proactive.promises import keep_posted

CANCELLABLE = MOVABLE_STATUSES  # not shipped yet: free of charge


def can_cancel(sessions: sessionmaker[Session], order_id: int) -> bool:
    with sessions() as session:
        status = session.execute(select(OrderRow.status).where(OrderRow.id == order_id)).scalar()
    return status in CANCELLABLE


def cancel_order(sessions: sessionmaker[Session], order_id: int, now: datetime) -> bool:
    """Cancel free of charge, recorded as the customer's own change; False if too late."""
    if not can_cancel(sessions, order_id):
        return False
    apply_order_change(
        sessions,
        OrderChange(
            order_id=order_id,
            field="status",
            new_value="cancelled",
            reason_code="changed_by_customer",
            reason="geannuleerd via de assistent",
            party_type="customer",
            notify=False,
        ),
        now,
    )
    return True


def keep_customer_posted(
    sessions: sessionmaker[Session], customer_id: int, order_id: int, now: datetime
) -> None:
    with sessions() as session, session.begin():
        keep_posted(session, customer_id, order_id, now)


def is_opted_out(sessions: sessionmaker[Session], customer_id: int) -> bool:
    with sessions() as session:
        return session.get(OptOutRow, customer_id) is not None


def set_opt_out(sessions: sessionmaker[Session], customer_id: int, now: datetime | None) -> None:
    """now: opted out from now on; None: opted in again."""
    with sessions() as session, session.begin():
        opted_out = session.get(OptOutRow, customer_id)
        if now is None and opted_out is not None:
            session.delete(opted_out)
        elif now is not None and opted_out is None:
            session.add(OptOutRow(customer_id=customer_id, opted_out_at=now))
