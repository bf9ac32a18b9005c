"""Apply an order change, from wherever it comes (the intake API, a platform's
webhook, a supplier's delay): logged in the change log, promises renewed,
threatened deadlines handed to a person, the customer warned.

In the caller's unit of work, which is the session: the intake API's runs
with its Idempotency-Key's row, a source's with its delivery's status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.orders.model import Order
from bot.proactive.intake import (
    IntakeResult,
    OrderChange,
    SupplierDelay,
    order_change_in,
    reported_change_in,
    supplier_delay_in,
)


def apply_change(
    session: Session, change: OrderChange, now: datetime, shop_order: Order | None = None
) -> IntakeResult:
    """`shop_order`: the order as the shop's own system holds it now (read before
    the unit began), which already has the change: it is logged and told, the
    shop is not written. None: the demo shop's tables take the change."""
    if shop_order is not None:
        return reported_change_in(session, shop_order, change, now)
    return order_change_in(session, change, now)


def apply_delay(session: Session, delay: SupplierDelay, now: datetime) -> IntakeResult:
    """A supplier's delay moves every affected open order of the demo shop (a
    shop with its own order system reports each order's change instead)."""
    return supplier_delay_in(session, delay, now)
