"""Order changes coming in: a supplier delay for many orders, or one order event.

Each intake is one transaction: the orders change, the events are written and
one warning per affected customer is queued (the transactional outbox), or
nothing happens at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

from bot.deadlines.intake import hand_over_threatened
from bot.memory.changes import OrderEventRow
from bot.orders.model import (
    HOLD_VALUES,
    MOVABLE_STATUSES,
    ORDER_STATUSES,
    SHIPMENT_SETBACKS,
    SHIPMENT_STATUSES,
    Order,
)
from bot.orders.sql.tables import OrderLineRow, OrderRow, ProductRow, ShipmentRow, SupplierRow
from bot.proactive.outbox import new_warning, queue_warning
from bot.proactive.promises import renew_date_promise, renew_date_promises, subscribers

# Orders locked and moved per round trip in a supplier delay.
CHUNK = 500
# What a line can be (bot/changes.py tells each), and the most of one thing on it.
LINE_STATUSES = ("ok", "out_of_stock", "replaced", "cancelled")
MAX_QUANTITY = 10_000
# Single events the customer hears about without having asked to be kept posted.
SETBACK_FIELDS = ("promised_date", "line_status", "line_product", "line_quantity", "address")


class IntakeError(ValueError):
    """The change cannot be applied (unknown order, nothing to change)."""


class UnknownOrder(IntakeError):
    pass


@dataclass(frozen=True)
class SupplierDelay:
    supplier: str
    reason_code: str
    reason: str
    new_date: date | None = None
    delay_days: int | None = None
    sku: str | None = None
    product: str | None = None


@dataclass(frozen=True)
class OrderChange:
    order_id: int
    field: str
    new_value: str | None
    reason_code: str | None = None
    reason: str | None = None
    party_type: str | None = None
    party_name: str | None = None
    old_value: str | None = None
    line_id: int | None = None
    notify: bool | None = None  # None: setbacks and subscribed orders only
    # When it happened (a platform's time); None: now, when it is taken in.
    occurred_at: datetime | None = None
    # A platform reports states, not changes: the same state again is no event.
    skip_unchanged: bool = False


@dataclass
class IntakeResult:
    order_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    warning_ids: list[int] = field(default_factory=list)
    # A move past a deadline the customer told us: a person takes the case at once.
    handoff_ids: list[int] = field(default_factory=list)


def affected_orders_query(delay: SupplierDelay) -> Select:
    """Open orders with a line from this supplier (and product or SKU, when given)."""
    query = (
        select(OrderRow.id)
        .join(OrderLineRow, OrderLineRow.order_id == OrderRow.id)
        .join(ProductRow, ProductRow.id == OrderLineRow.product_id)
        .join(SupplierRow, SupplierRow.id == ProductRow.supplier_id)
        .where(func.lower(SupplierRow.name) == delay.supplier.strip().lower())
        .where(OrderRow.status.in_(MOVABLE_STATUSES))
        .where(OrderLineRow.status != "cancelled")
    )
    if delay.sku:
        query = query.where(ProductRow.sku == delay.sku)
    if delay.product:
        query = query.where(func.lower(ProductRow.name).contains(delay.product.strip().lower()))
    return query.distinct().order_by(OrderRow.id)


def apply_supplier_delay(
    session_factory: sessionmaker[Session], delay: SupplierDelay, now: datetime
) -> IntakeResult:
    """Thousands of orders in one transaction, in chunks, with a query per chunk
    rather than per order."""
    with session_factory() as session, session.begin():
        return supplier_delay_in(session, delay, now)


def supplier_delay_in(session: Session, delay: SupplierDelay, now: datetime) -> IntakeResult:
    """The supplier delay in the caller's transaction (with an Idempotency-Key's row)."""
    result = IntakeResult()
    by_customer: dict[int, list[OrderEventRow]] = defaultdict(list)
    supplier = _supplier_name(session, delay.supplier)
    order_ids = list(session.execute(affected_orders_query(delay)).scalars())
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        orders = session.execute(
            select(OrderRow).where(OrderRow.id.in_(chunk)).with_for_update()
        ).scalars()
        moves = [(order, new) for order in orders if (new := _new_date(order, delay))]
        for order, new in moves:
            event = _move_date(order, new, delay, supplier, now)
            session.add(event)
            by_customer[order.customer_id].append(event)
            result.order_ids.append(order.id)
        renew_date_promises(session, moves, now)
        result.handoff_ids += hand_over_threatened(
            session, [(order.id, new) for order, new in moves], now
        )
        session.flush()
    # One message per customer, however many of their orders moved; the
    # events are new, so no warning for them can exist yet.
    warnings = [
        new_warning(
            customer_id=customer_id,
            kind="change",
            order_ids=sorted({e.order_id for e in events}),
            event_ids=[e.id for e in events],
            now=now,
        )
        for customer_id, events in by_customer.items()
    ]
    session.add_all(warnings)
    session.flush()
    result.warning_ids = [w.id for w in warnings]
    result.event_ids = [e.id for events in by_customer.values() for e in events]
    result.order_ids.sort()
    return result


def _new_date(order: OrderRow, delay: SupplierDelay) -> date | None:
    """The order's new promised date, or None when the delay does not move it later."""
    old = order.promised_date
    if delay.new_date is not None:
        new = delay.new_date
    elif old is not None and delay.delay_days:
        new = old + timedelta(days=delay.delay_days)
    else:
        return None
    if old is not None and new <= old:
        return None  # not later than already promised: nothing to warn about
    return new


def _move_date(
    order: OrderRow, new: date, delay: SupplierDelay, supplier: str, now: datetime
) -> OrderEventRow:
    old = order.promised_date
    order.promised_date = new
    order.status = "changed"
    return OrderEventRow(
        order_id=order.id,
        field="promised_date",
        old_value=old.isoformat() if old else None,
        new_value=new.isoformat(),
        reason_code=delay.reason_code,
        reason_text=delay.reason,
        party_type="supplier",
        party_name=supplier,
        occurred_at=now,
    )


def _supplier_name(session: Session, name: str) -> str:
    found = session.execute(
        select(SupplierRow.name).where(func.lower(SupplierRow.name) == name.strip().lower())
    ).scalar()
    return str(found or name)


def apply_order_change(
    session_factory: sessionmaker[Session], change: OrderChange, now: datetime
) -> IntakeResult:
    with session_factory() as session, session.begin():
        return order_change_in(session, change, now)


def order_change_in(session: Session, change: OrderChange, now: datetime) -> IntakeResult:
    """One order event in the caller's transaction (with an Idempotency-Key's row)."""
    order = session.get(OrderRow, change.order_id, with_for_update=True)
    if order is None:
        raise UnknownOrder(f"order {change.order_id} not found")
    current = _current(session, order, change)
    if change.skip_unchanged and current == change.new_value:
        return IntakeResult()
    old_value = change.old_value if change.old_value is not None else current
    _apply(session, order, change, now)
    return record_and_tell(session, order.id, order.customer_id, change, old_value, now)


def reported_change_in(
    session: Session, order: Order, change: OrderChange, now: datetime
) -> IntakeResult:
    """A change the shop made in its own system and reports (a shop behind the
    REST adapter, ORDER_SYSTEM=http): the shop's data is not touched; the
    change goes into the assistant's change log, promises and deadlines
    follow it, and the customer is told. `order` is the shop's order now."""
    _check_value(change)
    heard = last_heard(session, order.id, change)
    if change.skip_unchanged and heard == change.new_value:
        return IntakeResult()
    old_value = change.old_value if change.old_value is not None else heard
    if old_value is None:
        # The shop's own value, when the change is not what the shop says now
        # (a carrier's new estimate beside the shop's promised date).
        shop_value = _shop_value(order, change)
        old_value = shop_value if shop_value != change.new_value else None
    if change.field == "promised_date":
        renew_date_promise(session, order, date.fromisoformat(str(change.new_value)), now)
    return record_and_tell(session, order.id, order.customer_id, change, old_value, now)


def last_heard(session: Session, order_id: int, change: OrderChange) -> str | None:
    """The newest value of this field of this order (this line) in the change log:
    what the assistant last heard, which a platform's repeated state is compared to."""
    query = select(OrderEventRow.new_value).where(
        OrderEventRow.order_id == order_id, OrderEventRow.field == change.field
    )
    if change.line_id is not None:
        query = query.where(OrderEventRow.line_id == change.line_id)
    return session.execute(query.order_by(OrderEventRow.id.desc()).limit(1)).scalar()


def _shop_value(order: Order, change: OrderChange) -> str | None:
    if change.field == "promised_date":
        return order.promised_date.isoformat() if order.promised_date else None
    if change.field == "status":
        return order.status
    if change.field == "address":
        return order.address
    return None


def record_and_tell(
    session: Session,
    order_id: int,
    customer_id: int,
    change: OrderChange,
    old_value: str | None,
    now: datetime,
) -> IntakeResult:
    """The change in the assistant's change log; a person takes the case when it
    threatens the customer's deadline; the customer's warning queued (setbacks,
    and every change of an order they asked to be kept posted about)."""
    handoff_ids = []
    if change.field == "promised_date" and change.new_value:
        new_date = date.fromisoformat(change.new_value)
        handoff_ids = hand_over_threatened(session, [(order_id, new_date)], now)
    event = OrderEventRow(
        order_id=order_id,
        line_id=change.line_id,
        field=change.field,
        old_value=old_value,
        new_value=change.new_value,
        reason_code=change.reason_code,
        reason_text=change.reason,
        party_type=change.party_type,
        party_name=change.party_name,
        occurred_at=change.occurred_at or now,
    )
    session.add(event)
    session.flush()
    result = IntakeResult(order_ids=[order_id], event_ids=[event.id])
    result.handoff_ids = handoff_ids
    notify = change.notify
    if notify is None:
        notify = is_setback(change) or customer_id in subscribers(session, order_id, now)
    if notify:
        warning = queue_warning(
            session,
            customer_id=customer_id,
            kind="change",
            order_ids=[order_id],
            event_ids=[event.id],
            now=now,
        )
        result.warning_ids.append(warning.id)
    return result


def _check_value(change: OrderChange) -> None:
    """What the intake accepts of a reported change (the demo shop's _apply
    checks the same while it applies it)."""
    if change.field == "promised_date":
        if not change.new_value:
            raise IntakeError("promised_date needs a new date")
        date.fromisoformat(change.new_value)
    elif change.field == "status" and change.new_value not in ORDER_STATUSES:
        raise IntakeError(f"status must be one of {', '.join(ORDER_STATUSES)}")
    elif change.field == "hold" and change.new_value not in HOLD_VALUES:
        raise IntakeError(f"hold must be one of {', '.join(HOLD_VALUES)}")
    elif change.field == "shipment_status" and change.new_value not in SHIPMENT_STATUSES:
        raise IntakeError(f"shipment_status must be one of {', '.join(SHIPMENT_STATUSES)}")
    elif change.field == "line_status" and change.new_value not in LINE_STATUSES:
        raise IntakeError(f"line_status must be one of {', '.join(LINE_STATUSES)}")
    elif change.field == "line_quantity":
        whole_quantity(change.new_value)


def is_setback(change: OrderChange) -> bool:
    """A change the customer hears about without having asked to be kept posted."""
    if change.field == "hold":
        return change.new_value == "on_hold"
    if change.field == "shipment_status":
        return change.new_value in SHIPMENT_SETBACKS
    return change.field in SETBACK_FIELDS or change.new_value == "cancelled"


def _current(session: Session, order: OrderRow, change: OrderChange) -> str | None:
    if change.field in ("hold", "shipment_status"):
        last = last_heard(session, order.id, change)
        return last if last is not None else ("released" if change.field == "hold" else None)
    if change.field == "promised_date":
        return order.promised_date.isoformat() if order.promised_date else None
    if change.field == "status":
        return str(order.status)
    if change.field == "address":
        return str(order.address)
    if change.field in ("line_status", "line_quantity") and change.line_id is not None:
        line = session.get(OrderLineRow, change.line_id)
        if line is not None:
            return str(line.status if change.field == "line_status" else line.quantity)
    return None


def _apply(session: Session, order: OrderRow, change: OrderChange, now: datetime) -> None:
    """Make the order what the event says it now is."""
    if change.field == "promised_date":
        if not change.new_value:
            raise IntakeError("promised_date needs a new date")
        new = date.fromisoformat(change.new_value)
        order.promised_date = new
        order.status = "changed" if order.status in MOVABLE_STATUSES else order.status
        renew_date_promise(session, order, new, now)
    elif change.field == "status":
        if change.new_value not in ORDER_STATUSES:
            raise IntakeError(f"status must be one of {', '.join(ORDER_STATUSES)}")
        order.status = change.new_value
    elif change.field == "address":
        order.address = change.new_value or order.address
    elif change.field in ("line_status", "line_quantity"):
        line = session.get(OrderLineRow, change.line_id) if change.line_id else None
        if line is None or line.order_id != order.id:
            raise IntakeError(f"{change.field} needs a line_id of order {order.id}")
        if change.field == "line_status":
            if change.new_value not in LINE_STATUSES:
                raise IntakeError(f"line_status must be one of {', '.join(LINE_STATUSES)}")
            line.status = change.new_value
        else:
            line.quantity = whole_quantity(change.new_value)
    elif change.field == "hold":
        if change.new_value not in HOLD_VALUES:
            raise IntakeError(f"hold must be one of {', '.join(HOLD_VALUES)}")
    elif change.field == "shipment_status":
        _apply_shipment_status(session, order, change.new_value, change.occurred_at or now)


def _apply_shipment_status(
    session: Session, order: OrderRow, status: str | None, when: datetime
) -> None:
    """The order follows its parcel: in transit is shipped, delivered is delivered."""
    if status not in SHIPMENT_STATUSES:
        raise IntakeError(f"shipment_status must be one of {', '.join(SHIPMENT_STATUSES)}")
    if status == "in_transit" and order.status in MOVABLE_STATUSES:
        order.status = "shipped"
    elif status == "delivered" and order.status not in ("delivered", "picked_up", "cancelled"):
        order.status = "delivered"
        order.delivered_at = when
    shipment = session.execute(
        select(ShipmentRow).where(ShipmentRow.order_id == order.id).order_by(ShipmentRow.id.desc())
    ).scalar()
    if shipment is not None:
        shipment.status = status
        if status == "delivered":
            shipment.delivered_at = when


def whole_quantity(value: str | None) -> int:
    """A line's quantity as the order system may set it: a whole number, 1 to MAX_QUANTITY."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_QUANTITY:
        raise IntakeError(f"a quantity is a whole number from 1 to {MAX_QUANTITY}")
    return int(text)
