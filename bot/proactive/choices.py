"""What a customer can answer to a warning: wait, cancel, an alternative, stop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.memory.customers import OptOutRow
from bot.orders.model import MOVABLE_STATUSES
from bot.orders.system import OrderSystem
from bot.proactive.promises import keep_posted

# What the shop records as the reason of a cancellation made in the chat.
CANCELLED_IN_CHAT = "geannuleerd via de assistent"


def can_cancel(orders: OrderSystem, order_id: int) -> bool:
    """Not shipped yet: free of charge."""
    order = orders.get_order(order_id)
    return order is not None and order.status in MOVABLE_STATUSES


def cancel_order(orders: OrderSystem, order_id: int) -> bool:
    """Cancel free of charge through the shop, recorded there as the customer's
    own change; False when it is too late."""
    return orders.cancel_order(order_id, CANCELLED_IN_CHAT)


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
