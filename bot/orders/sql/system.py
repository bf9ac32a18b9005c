"""The demo shop's order system in SQL: each call is one short unit of work.

Orders as they are now; what changed and why is the assistant's own change
log (bot/memory/changes.py), laid over them by bot/orders/remembered.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, sessionmaker

from bot.clock import utcnow
from bot.orders.matching import order_matches
from bot.orders.model import (
    MOVABLE_STATUSES,
    Customer,
    Order,
    OrderLine,
    Shipment,
)
from bot.orders.sql.tables import CustomerRow, FollowUpRequestRow, OrderLineRow, OrderRow
from bot.orders.system import OrderSystemUnavailable


class SqlOrderSystem:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    @contextmanager
    def _unit_of_work(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        try:
            with self._session_factory() as session, session.begin():
                yield session
        except SQLAlchemyError as error:
            raise OrderSystemUnavailable(f"order database error: {type(error).__name__}") from error

    def get_customer(self, customer_id: int) -> Customer | None:
        with self._unit_of_work() as session:
            row = session.get(CustomerRow, customer_id)
            return _customer(row) if row else None

    def get_order(self, order_id: int) -> Order | None:
        with self._unit_of_work() as session:
            found = session.execute(_order_query().where(OrderRow.id == order_id))
            rows = found.unique().scalars().all()
            return _order(rows[0]) if rows else None

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        with self._unit_of_work() as session:
            query = (
                _order_query()
                .where(OrderRow.customer_id == customer_id)
                .order_by(OrderRow.placed_at.desc())
            )
            return [_order(row) for row in session.execute(query).unique().scalars().all()]

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        with self._unit_of_work() as session:
            found = session.execute(
                select(OrderRow.postcode, OrderRow.email).where(OrderRow.id == order_id)
            ).first()
        if found is None:
            return False
        return order_matches(found.postcode, found.email, postcode, email)

    def cancel_order(self, order_id: int, reason: str) -> bool:
        with self._unit_of_work() as session:
            order = session.get(OrderRow, order_id, with_for_update=True)
            if order is None or order.status not in MOVABLE_STATUSES:
                return False
            order.status = "cancelled"
            return True

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        with self._unit_of_work() as session:
            existing = session.execute(
                select(FollowUpRequestRow.id).where(
                    FollowUpRequestRow.order_id == order_id,
                    FollowUpRequestRow.topic == topic,
                    FollowUpRequestRow.status == "open",
                )
            ).scalar()
            if existing is not None:
                return int(existing)
            row = FollowUpRequestRow(
                order_id=order_id,
                customer_id=customer_id,
                topic=topic,
                event_id=event_id,
                status="open",
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return int(row.id)


def _order_query():
    """An order with its lines, their products and its parcels in one query
    (a warning shown reads one: one round trip, not three). Read it with
    `.unique()`: the joined rows repeat the order."""
    return select(OrderRow).options(
        joinedload(OrderRow.lines).joinedload(OrderLineRow.product),
        joinedload(OrderRow.shipments),
    )


def _customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id, name=row.name, email=row.email, postcode=row.postcode, language=row.language
    )


def _order(row: OrderRow) -> Order:
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        status=row.status,
        fulfilment=row.fulfilment,
        placed_at=row.placed_at,
        promised_date=row.promised_date,
        original_promised_date=row.original_promised_date,
        postcode=row.postcode,
        email=row.email,
        address=row.address,
        pickup_location=row.pickup_location,
        total_cents=row.total_cents,
        currency=row.currency,
        delivered_at=row.delivered_at,
        lines=tuple(
            OrderLine(
                id=line.id,
                product_name=line.product.name,
                sku=line.product.sku,
                supplier_name=line.product.supplier.name if line.product.supplier else None,
                quantity=line.quantity,
                status=line.status,
            )
            for line in row.lines
        ),
        shipments=tuple(
            Shipment(
                id=s.id,
                carrier=s.carrier,
                tracking_code=s.tracking_code,
                tracking_url=s.tracking_url,
                status=s.status,
                shipped_at=s.shipped_at,
                expected_date=s.expected_date,
                delivered_at=s.delivered_at,
            )
            for s in row.shipments
        ),
    )
