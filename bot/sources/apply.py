"""Apply a platform's normalized changes to the shop's orders, once and in order.

Every change takes the intake's own path (bot/usecases/order_changes.py:
`apply_change`), so a Shopify hold or a Sendcloud parcel status warns
customers, renews promises and hands threatened deadlines over exactly like
the intake API. What is added here is what webhooks need:
- the order found by the number customers see, or by the platform's own id
  through the link kept from earlier deliveries (or the platform's API);
- a change older than the last one applied to the same field of the same
  order (a late retry, deliveries out of order) is recorded as stale and
  moves nothing back;
- a state the order is already in is no change (platforms send states).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.memory.sources import (
    APPLIED,
    FAILED,
    IGNORED,
    PENDING,
    UNKNOWN_ORDER,
    SourceDeliveryRow,
    SourceFieldMarkRow,
    SourceOrderLinkRow,
)
from bot.orders.model import Order
from bot.orders.sql.tables import OrderLineRow, OrderRow, ProductRow, ShipmentRow
from bot.orders.system import OrderSystem, OrderSystemUnavailable
from bot.proactive.intake import IntakeError, IntakeResult, OrderChange
from bot.sources.change import ShipmentInfo, Source, SourceChange, SourceUnavailable
from bot.sources.inbox import as_delivery, naive_utc
from bot.usecases.order_changes import apply_change

logger = logging.getLogger(__name__)

MAX_ORDER_NUMBER_DIGITS = 18


@dataclass
class Applied:
    """What one delivery did."""

    status: str = IGNORED
    order_number: str | None = None
    applied: int = 0  # changes that moved something
    unchanged: int = 0  # the order was already so
    stale: int = 0  # older than what was already applied
    unknown: int = 0  # no such order in this shop
    errors: list[str] = field(default_factory=list)
    warning_ids: list[int] = field(default_factory=list)
    handoff_ids: list[int] = field(default_factory=list)


def _order_id(number: str) -> int | None:
    """The order id an order system takes: the number customers see, as digits."""
    digits = number.strip().lstrip("#")
    if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_ORDER_NUMBER_DIGITS:
        return None
    return int(digits)


def order_id_for_number(session: Session, number: str) -> int | None:
    """The demo shop's order with this number, locked for the change.

    The demo shop's order ids are the numbers customers see ("10001")."""
    order_id = _order_id(number)
    order = session.get(OrderRow, order_id, with_for_update=True) if order_id else None
    return int(order.id) if order is not None else None


def known_numbers(
    sessions: sessionmaker[Session],
    source: Source,
    changes: list[SourceChange],
    link: tuple[str, str] | None = None,
) -> dict[str, str]:
    """Order numbers for the platform ids the changes name without a number:
    from the delivery's own link, the links kept, else from the platform's API
    (outside any transaction)."""
    wanted = {c.platform_order_id for c in changes if c.platform_order_id and not c.order_number}
    given = dict([link]) if link else {}
    wanted -= given.keys()
    if not wanted:
        return given
    with sessions() as session:
        rows = session.execute(
            select(SourceOrderLinkRow.platform_order_id, SourceOrderLinkRow.order_number).where(
                SourceOrderLinkRow.source == source.name,
                SourceOrderLinkRow.platform_order_id.in_(wanted),
            )
        ).all()
    numbers = {**given, **{str(platform_id): str(number) for platform_id, number in rows}}
    for platform_id in sorted(wanted - numbers.keys()):
        number = source.order_number_for(platform_id)  # SourceUnavailable: try later
        if number:
            numbers[platform_id] = number
    return numbers


def field_key(change: SourceChange) -> str:
    """What a change is about, for putting changes of one thing in order."""
    if change.line_sku:
        return f"{change.field}:{change.line_sku}"[:200]
    if change.field == "shipment_status" and change.shipment and change.shipment.tracking_code:
        return f"{change.field}:{change.shipment.tracking_code}"[:200]
    return change.field


def apply_delivery(
    sessions: sessionmaker[Session],
    source: Source,
    delivery_id: int,
    now: datetime,
    shop: OrderSystem | None = None,
) -> Applied | None:
    """Work one delivery: its changes applied in one transaction with its new
    status. None when it was no longer pending. SourceUnavailable propagates
    (the worker tries again later).

    `shop`: the shop's own order system (ORDER_SYSTEM=http, a platform), which
    already holds the change: read, never written; None: the demo shop, whose
    tables the change is applied to."""
    with sessions() as session:
        row = session.get(SourceDeliveryRow, delivery_id)
        if row is None or row.status != PENDING:
            return None
        delivery = as_delivery(row)
    changes = source.changes(delivery)
    link = source.order_link(delivery)
    numbers = known_numbers(sessions, source, changes, link)
    orders = shop_orders(shop, changes, numbers) if shop is not None else None
    with sessions() as session, session.begin():
        row = session.get(SourceDeliveryRow, delivery_id, with_for_update=True)
        if row is None or row.status != PENDING:
            return None
        if link is not None:
            remember_link(session, source.name, *link)
        outcome = apply_changes(session, source.name, changes, numbers, now, orders)
        row.status = outcome.status
        row.applied_at = now
        row.order_number = outcome.order_number
        row.warnings = len(outcome.warning_ids)
        row.error = "; ".join(outcome.errors)[:300] or None
        row.next_try_at = None
    return outcome


def shop_orders(
    shop: OrderSystem, changes: list[SourceChange], numbers: dict[str, str]
) -> dict[str, Order | None]:
    """The shop's orders the changes name, read before the transaction (over
    HTTP); an order system that is away: the delivery is tried again later."""
    wanted = {c.order_number or numbers.get(c.platform_order_id or "") for c in changes}
    found: dict[str, Order | None] = {}
    for number in sorted(n for n in wanted if n):
        order_id = _order_id(number)
        try:
            found[number] = shop.get_order(order_id) if order_id is not None else None
        except OrderSystemUnavailable as error:
            raise SourceUnavailable(f"order system unavailable: {error}") from error
    return found


def apply_changes(
    session: Session,
    source_name: str,
    changes: list[SourceChange],
    numbers: dict[str, str],
    now: datetime,
    orders: dict[str, Order | None] | None = None,
) -> Applied:
    """`orders`: the shop's own orders (read before); None: the demo shop's tables."""
    outcome = Applied()
    for change in changes:
        if change.platform_order_id and change.order_number:
            remember_link(session, source_name, change.platform_order_id, change.order_number)
        number = change.order_number or numbers.get(change.platform_order_id or "")
        outcome.order_number = outcome.order_number or number
        if orders is not None:
            order = orders.get(number) if number else None
            order_id = order.id if order is not None else None
        else:
            order_id = order_id_for_number(session, number) if number else None
        if order_id is None:
            outcome.unknown += 1
            continue
        try:
            if orders is not None and order is not None:
                _report_one(session, order, str(number), change, now, outcome)
            else:
                _apply_one(session, order_id, str(number), change, now, outcome)
        except IntakeError as error:
            # The change cannot be applied (a line this order does not have):
            # the others still are; the error is kept on the delivery.
            outcome.errors.append(f"{change.field}: {error}")
    outcome.status = _status(outcome, len(changes))
    return outcome


def _apply_one(
    session: Session,
    order_id: int,
    number: str,
    change: SourceChange,
    now: datetime,
    outcome: Applied,
) -> None:
    """A change the demo shop's tables take (bot/usecases/order_changes.py)."""
    place = _in_order(session, number, change, now, outcome)
    if place is None:
        return
    # Checked before anything is written: a change that fails leaves no trace
    # (the intake checks its values before it writes, too).
    line_id = _line_id(session, order_id, change)
    if change.shipment is not None:
        _record_shipment(session, order_id, change.shipment, place.occurred)
    carrier = _carrier_of(session, order_id, change)
    normalized = _order_change(order_id, change, line_id, carrier, place.occurred)
    _count(session, place, apply_change(session, normalized, now), outcome)


def _report_one(
    session: Session,
    order: Order,
    number: str,
    change: SourceChange,
    now: datetime,
    outcome: Applied,
) -> None:
    """A change the shop's own system already holds: logged and told, never
    written to the shop (bot/usecases/order_changes.py)."""
    place = _in_order(session, number, change, now, outcome)
    if place is None:
        return
    line_id = next((line.id for line in order.lines if line.sku == change.line_sku), None)
    if change.line_sku and line_id is None:
        raise IntakeError(f"order {order.id} has no line with that SKU")
    carrier = None
    if change.party_type == "carrier":
        carrier = next((s.carrier for s in reversed(order.shipments) if s.carrier), None)
    normalized = _order_change(order.id, change, line_id, carrier, place.occurred)
    _count(session, place, apply_change(session, normalized, now, order), outcome)


@dataclass
class _Place:
    """Where a change falls among those applied to the same field of an order."""

    number: str
    key: str
    occurred: datetime
    mark: SourceFieldMarkRow | None


def _in_order(
    session: Session, number: str, change: SourceChange, now: datetime, outcome: Applied
) -> _Place | None:
    """None (counted stale) when a newer change to the same field was applied."""
    occurred = naive_utc(change.occurred_at) or now
    key = field_key(change)
    mark = session.get(SourceFieldMarkRow, (number, key))
    if mark is not None and occurred < mark.occurred_at:
        outcome.stale += 1
        return None
    return _Place(number, key, occurred, mark)


def _order_change(
    order_id: int,
    change: SourceChange,
    line_id: int | None,
    carrier: str | None,
    occurred: datetime,
) -> OrderChange:
    """The intake's change; a platform repeats states, so the same one is no change."""
    return OrderChange(
        order_id=order_id,
        field=change.field,
        new_value=change.new_value,
        reason_code=change.reason_code,
        reason=change.reason_text,
        party_type=change.party_type,
        party_name=change.party_name or carrier,
        old_value=change.old_value,
        line_id=line_id,
        occurred_at=occurred,
        skip_unchanged=True,
    )


def _count(session: Session, place: _Place, result: IntakeResult, outcome: Applied) -> None:
    """Move the field's mark to this change and count what it did."""
    if place.mark is None:
        session.add(
            SourceFieldMarkRow(
                order_number=place.number, field_key=place.key, occurred_at=place.occurred
            )
        )
    else:
        place.mark.occurred_at = place.occurred
    if result.event_ids:
        outcome.applied += 1
    else:
        outcome.unchanged += 1
    outcome.warning_ids += result.warning_ids
    outcome.handoff_ids += result.handoff_ids


def _status(outcome: Applied, total: int) -> str:
    if total == 0:
        return IGNORED
    if outcome.unknown == total:
        return UNKNOWN_ORDER
    if outcome.errors and len(outcome.errors) + outcome.unknown == total:
        return FAILED
    return APPLIED


def remember_link(session: Session, source_name: str, platform_order_id: str, number: str) -> None:
    """Keep which number the platform's id stands for (the newest word counts)."""
    key = (source_name, platform_order_id[:64])
    link = session.get(SourceOrderLinkRow, key)
    if link is None:
        session.add(
            SourceOrderLinkRow(source=key[0], platform_order_id=key[1], order_number=number[:64])
        )
        session.flush()
    elif link.order_number != number:
        link.order_number = number[:64]


def _line_id(session: Session, order_id: int, change: SourceChange) -> int | None:
    if not change.line_sku:
        return None
    line_id = session.execute(
        select(OrderLineRow.id)
        .join(ProductRow, ProductRow.id == OrderLineRow.product_id)
        .where(OrderLineRow.order_id == order_id, ProductRow.sku == change.line_sku)
        .order_by(OrderLineRow.id)
        .limit(1)
    ).scalar()
    if line_id is None:
        raise IntakeError(f"order {order_id} has no line with that SKU")
    return int(line_id)


def _carrier_of(session: Session, order_id: int, change: SourceChange) -> str | None:
    """A carrier's event that does not name the carrier (Shopify's fulfillment
    events) is about the order's parcel: its carrier is the one to name."""
    if change.party_type != "carrier" or change.party_name:
        return None
    carrier = session.execute(
        select(ShipmentRow.carrier)
        .where(ShipmentRow.order_id == order_id, ShipmentRow.carrier != "")
        .order_by(ShipmentRow.id.desc())
        .limit(1)
    ).scalar()
    return str(carrier) if carrier else None


def _record_shipment(
    session: Session, order_id: int, info: ShipmentInfo, occurred: datetime
) -> None:
    """The parcel as the platform describes it: the one with its tracking code,
    else the order's newest; a new one when the order has none yet."""
    query = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
    if info.tracking_code:
        query = query.where(ShipmentRow.tracking_code == info.tracking_code)
    shipment = session.execute(query.order_by(ShipmentRow.id.desc()).limit(1)).scalar()
    if shipment is None:
        if not (info.carrier or info.tracking_code):
            return
        shipment = ShipmentRow(order_id=order_id, carrier=info.carrier or "", status="preparing")
        session.add(shipment)
    if info.carrier:
        shipment.carrier = info.carrier[:100]
    if info.tracking_code:
        shipment.tracking_code = info.tracking_code[:100]
    if info.tracking_url:
        shipment.tracking_url = info.tracking_url[:500]
    if info.expected_date:
        shipment.expected_date = info.expected_date
    if info.status in ("in_transit", "delivered") and shipment.shipped_at is None:
        shipment.shipped_at = occurred
    session.flush()
