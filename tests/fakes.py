"""An in-memory order system and small builders, so unit tests stay short.

`FakeOrderSystem` implements the RememberedOrders protocol (bot/orders/
remembered.py: the shop's OrderSystem and what each customer was told) over
plain Customer and Order objects. It records what the assistant asked of it
(mark_informed, request_follow_up) and applies mark_informed the way the
assistant's memory does (the marker never moves backwards). `unavailable=True` makes
every method raise OrderSystemUnavailable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.orders.matching import order_matches
from bot.orders.model import MOVABLE_STATUSES, Customer, Order, OrderEvent, OrderLine, Shipment
from bot.orders.system import OrderSystemUnavailable

DEFAULT_PLACED_AT = datetime(2025, 11, 1, 10, 0)


@dataclass(frozen=True)
class FollowUpRequest:
    id: int
    order_id: int
    customer_id: int
    topic: str
    event_id: int | None


class FakeOrderSystem:
    """The OrderSystem protocol over dictionaries of Customer and Order objects."""

    def __init__(
        self,
        orders: Iterable[Order] = (),
        customers: Iterable[Customer] = (),
        unavailable: bool = False,
    ) -> None:
        self.customers: dict[int, Customer] = {c.id: c for c in customers}
        self.orders: dict[int, Order] = {o.id: o for o in orders}
        self.unavailable = unavailable
        self.informed_calls: list[tuple[int, int]] = []
        self.cancellations: list[tuple[int, str]] = []
        self.follow_ups: list[FollowUpRequest] = []

    # --- test set-up ------------------------------------------------------

    def add(self, *items: Order | Customer) -> FakeOrderSystem:
        for item in items:
            if isinstance(item, Order):
                self.orders[item.id] = item
            else:
                self.customers[item.id] = item
        return self

    def _check(self) -> None:
        if self.unavailable:
            raise OrderSystemUnavailable("fake order system switched off")

    # --- the OrderSystem protocol ----------------------------------------

    def get_customer(self, customer_id: int) -> Customer | None:
        self._check()
        return self.customers.get(customer_id)

    def get_order(self, order_id: int) -> Order | None:
        self._check()
        return self.orders.get(order_id)

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        self._check()
        mine = [order for order in self.orders.values() if order.customer_id == customer_id]
        return sorted(mine, key=lambda order: order.placed_at, reverse=True)

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        self._check()
        order = self.orders.get(order_id)
        if order is None:
            return False
        return order_matches(order.postcode, order.email, postcode, email)

    def mark_informed(self, order_id: int, event_id: int) -> None:
        self._check()
        self.informed_calls.append((order_id, event_id))
        order = self.orders.get(order_id)
        if order is None:
            return
        if order.informed_event_id is not None and order.informed_event_id >= event_id:
            return  # like the SQL system: never move the marker backwards
        self.orders[order_id] = dataclasses.replace(order, informed_event_id=event_id)

    def cancel_order(self, order_id: int, reason: str) -> bool:
        self._check()
        order = self.orders.get(order_id)
        if order is None or order.status not in MOVABLE_STATUSES:
            return False
        self.cancellations.append((order_id, reason))
        self.orders[order_id] = dataclasses.replace(order, status="cancelled")
        return True

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        self._check()
        for request in self.follow_ups:
            if request.order_id == order_id and request.topic == topic:
                return request.id
        request = FollowUpRequest(
            id=len(self.follow_ups) + 1,
            order_id=order_id,
            customer_id=customer_id,
            topic=topic,
            event_id=event_id,
        )
        self.follow_ups.append(request)
        return request.id


# --- builders ---------------------------------------------------------------


def _as_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def make_customer(
    id: int = 1001,
    name: str = "Erik de Vries",
    email: str = "erik@example.nl",
    postcode: str = "3511 AB",
    language: str = "nl",
) -> Customer:
    return Customer(id=id, name=name, email=email, postcode=postcode, language=language)


def make_line(
    id: int = 1,
    product_name: str = "Gazelle Ultimate C380",
    sku: str = "GZ-C380-53",
    supplier_name: str | None = "Gazelle",
    quantity: int = 1,
    status: str = "ok",
) -> OrderLine:
    return OrderLine(
        id=id,
        product_name=product_name,
        sku=sku,
        supplier_name=supplier_name,
        quantity=quantity,
        status=status,
    )


def make_shipment(
    id: int = 1,
    carrier: str = "PostNL",
    tracking_code: str | None = "3SFM000123456",
    tracking_url: str | None = "https://jouw.postnl.nl/track-and-trace/3SFM000123456-NL-3511AB",
    status: str = "in_transit",
    shipped_at: datetime | None = datetime(2025, 11, 3, 16, 0),
    expected_date: date | None = None,
    delivered_at: datetime | None = None,
) -> Shipment:
    return Shipment(
        id=id,
        carrier=carrier,
        tracking_code=tracking_code,
        tracking_url=tracking_url,
        status=status,
        shipped_at=shipped_at,
        expected_date=expected_date,
        delivered_at=delivered_at,
    )


def make_event(
    id: int = 1,
    field: str = "promised_date",
    old: object = None,
    new: object = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
    party_type: str | None = None,
    party_name: str | None = None,
    line_id: int | None = None,
    order_id: int = 10001,
    occurred_at: datetime | None = None,
) -> OrderEvent:
    """An event; dates become ISO strings and numbers strings, as the order system stores them."""
    return OrderEvent(
        id=id,
        order_id=order_id,
        field=field,
        old_value=_as_value(old),
        new_value=_as_value(new),
        reason_code=reason_code,
        reason_text=reason_text,
        party_type=party_type,
        party_name=party_name,
        occurred_at=occurred_at or datetime(2025, 11, 2, 9, 0) + timedelta(hours=id),
        line_id=line_id,
    )


def date_moved(
    id: int,
    old: date | None,
    new: date | None,
    reason_code: str | None = None,
    reason_text: str | None = None,
    party_type: str | None = None,
    party_name: str | None = None,
) -> OrderEvent:
    """A promised_date event (the most common change)."""
    return make_event(
        id=id,
        field="promised_date",
        old=old,
        new=new,
        reason_code=reason_code,
        reason_text=reason_text,
        party_type=party_type,
        party_name=party_name,
    )


def status_event(id: int, old: str, new: str) -> OrderEvent:
    return make_event(id=id, field="status", old=old, new=new)


def make_order(
    id: int = 10001,
    customer_id: int = 1001,
    status: str = "processing",
    fulfilment: str = "delivery",
    placed_at: datetime = DEFAULT_PLACED_AT,
    promised_date: date | None = None,
    original_promised_date: date | None = None,
    postcode: str = "3511 AB",
    email: str = "erik@example.nl",
    address: str = "Oudegracht 12, 3511 AB Utrecht",
    pickup_location: str | None = None,
    total_cents: int = 249900,
    currency: str = "EUR",
    delivered_at: datetime | None = None,
    lines: Iterable[OrderLine] | None = None,
    shipments: Iterable[Shipment] = (),
    events: Iterable[OrderEvent] = (),
    informed_event_id: int | None = None,
) -> Order:
    """An order with one Gazelle bike by default; events get this order's id, sorted by id."""
    if original_promised_date is None:
        original_promised_date = promised_date
    if fulfilment == "pickup" and pickup_location is None:
        pickup_location = "Fietsen & Meer Utrecht, Oudegracht 101"
    return Order(
        id=id,
        customer_id=customer_id,
        status=status,
        fulfilment=fulfilment,
        placed_at=placed_at,
        promised_date=promised_date,
        original_promised_date=original_promised_date,
        postcode=postcode,
        email=email,
        address=address,
        pickup_location=pickup_location,
        total_cents=total_cents,
        currency=currency,
        delivered_at=delivered_at,
        lines=tuple(lines) if lines is not None else (make_line(),),
        shipments=tuple(shipments),
        events=tuple(
            sorted(
                (dataclasses.replace(event, order_id=id) for event in events),
                key=lambda event: event.id,
            )
        ),
        informed_event_id=informed_event_id,
    )
