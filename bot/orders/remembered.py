"""The shop's orders with the assistant's memory laid over them.

The shop says what an order is now. What changed and why (the change log,
bot/memory/changes.py) and what the customer was last told of it (ToldRow,
bot/memory/customers.py) are the assistant's own: "what changed?" means every
change after the last one told. So no order system has to store either: the
demo shop, a shop's REST API and the platforms are only read (and asked to
cancel).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.memory.changes import OrderEventRow
from bot.memory.customers import ToldRow
from bot.orders.model import Customer, Order, OrderEvent
from bot.orders.system import OrderSystem


class RememberedOrders(OrderSystem, Protocol):
    """An order system whose orders carry what the customer was told."""

    def mark_informed(self, order_id: int, event_id: int) -> None:
        """Remember that the customer now knows every event up to event_id."""
        ...


def move_told_marker(session: Session, order_id: int, event_id: int, now: datetime) -> None:
    """In the caller's transaction: the customer knows every event of the order
    up to `event_id`. Never moves back (two answers racing): one statement."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(ToldRow).values(order_id=order_id, event_id=event_id, told_at=now)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[ToldRow.order_id],
            set_={"event_id": insert.excluded.event_id, "told_at": insert.excluded.told_at},
            where=ToldRow.event_id < insert.excluded.event_id,
        )
    )


def told_markers(session: Session, order_ids: Iterable[int]) -> dict[int, tuple[int, datetime]]:
    """(event id, when) the customer was last told, per order that has one."""
    ids = list(order_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ToldRow.order_id, ToldRow.event_id, ToldRow.told_at).where(ToldRow.order_id.in_(ids))
    )
    return {int(order_id): (int(event_id), told_at) for order_id, event_id, told_at in rows}


def changes_of(session: Session, order_ids: Iterable[int]) -> dict[int, tuple[OrderEvent, ...]]:
    """The change log of each order, oldest first."""
    ids = list(order_ids)
    if not ids:
        return {}
    found: dict[int, list[OrderEvent]] = {}
    rows = session.execute(
        select(OrderEventRow).where(OrderEventRow.order_id.in_(ids)).order_by(OrderEventRow.id)
    ).scalars()
    for e in rows:
        found.setdefault(int(e.order_id), []).append(
            OrderEvent(
                id=e.id,
                order_id=e.order_id,
                line_id=e.line_id,
                field=e.field,
                old_value=e.old_value,
                new_value=e.new_value,
                reason_code=e.reason_code,
                reason_text=e.reason_text,
                party_type=e.party_type,
                party_name=e.party_name,
                occurred_at=e.occurred_at,
            )
        )
    return {order_id: tuple(events) for order_id, events in found.items()}


class RememberingOrders:
    """An OrderSystem over the shop's, adding the told marker to every order."""

    def __init__(self, shop: OrderSystem, sessions: sessionmaker[Session]) -> None:
        self.shop = shop
        self.sessions = sessions

    def get_customer(self, customer_id: int) -> Customer | None:
        return self.shop.get_customer(customer_id)

    def get_order(self, order_id: int) -> Order | None:
        order = self.shop.get_order(order_id)
        return self._with_told([order])[0] if order is not None else None

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        return self._with_told(self.shop.orders_for_customer(customer_id))

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        return self.shop.verify_order(order_id, postcode, email)

    def cancel_order(self, order_id: int, reason: str) -> bool:
        """The shop cancels; the assistant's change log records it as the
        customer's own change (so "what changed?" and the staff see it)."""
        before = self.shop.get_order(order_id)
        if before is None or not self.shop.cancel_order(order_id, reason):
            return False
        with self.sessions() as session, session.begin():
            session.add(
                OrderEventRow(
                    order_id=order_id,
                    field="status",
                    old_value=before.status,
                    new_value="cancelled",
                    reason_code="changed_by_customer",
                    reason_text=reason,
                    party_type="customer",
                    occurred_at=utcnow(),
                )
            )
        return True

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        return self.shop.request_follow_up(order_id, customer_id, topic, event_id)

    def mark_informed(self, order_id: int, event_id: int) -> None:
        with self.sessions() as session, session.begin():
            move_told_marker(session, order_id, event_id, utcnow())

    def _with_told(self, orders: list[Order]) -> list[Order]:
        """Each order with its changes and what its customer was told of them."""
        if not orders:
            return orders
        ids = [order.id for order in orders]
        with self.sessions() as session:
            markers = told_markers(session, ids)
            changes = changes_of(session, ids)
        remembered = []
        for order in orders:
            marker = markers.get(order.id)
            remembered.append(
                dataclasses.replace(
                    order,
                    events=changes.get(order.id, ()),
                    informed_event_id=marker[0] if marker else None,
                    informed_at=marker[1] if marker else None,
                )
            )
        return remembered
