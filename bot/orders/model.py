"""The order system's domain objects, independent of how they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Who caused a change. The names are what the order system records.
PARTY_TYPES = ("supplier", "warehouse", "carrier", "shop", "customer")

# Order statuses in the order system.
OPEN_STATUSES = ("placed", "processing", "changed", "shipped", "ready_for_pickup")
CLOSED_STATUSES = ("delivered", "picked_up", "cancelled")
# Not shipped yet: a supplier delay still moves these, and a customer may
# cancel them free of charge.
MOVABLE_STATUSES = ("placed", "processing", "changed")
ORDER_STATUSES = OPEN_STATUSES + CLOSED_STATUSES

# Fields an order event can change.
EVENT_FIELDS = (
    "promised_date",
    "status",
    "line_status",
    "line_product",
    "line_quantity",
    "shipment_split",
    "address",
    "total",
    "refund",
    "hold",  # on_hold / released: a shop platform holds the order (Shopify, WooCommerce)
    "shipment_status",  # a carrier's parcel status, one of SHIPMENT_STATUSES
)

HOLD_VALUES = ("on_hold", "released")
# A parcel's status as carriers and platforms report it.
SHIPMENT_STATUSES = (
    "preparing",  # label made, not yet with the carrier
    "in_transit",
    "awaiting_pickup",  # at a pickup point for the customer
    "delivered",
    "exception",  # delayed, attempt failed, customs, address, ...: the reason says which
    "returned",  # on its way back to the shop
    "cancelled",
)
# Parcel statuses a customer hears about unasked: something they must know or do.
SHIPMENT_SETBACKS = ("exception", "returned", "cancelled", "awaiting_pickup")


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str
    postcode: str
    language: str


@dataclass(frozen=True)
class OrderLine:
    id: int
    product_name: str
    sku: str
    supplier_name: str | None
    quantity: int
    status: str  # ok, out_of_stock, replaced, cancelled


@dataclass(frozen=True)
class Shipment:
    id: int
    carrier: str
    tracking_code: str | None
    tracking_url: str | None
    status: str  # one of SHIPMENT_STATUSES
    shipped_at: datetime | None
    expected_date: date | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class OrderEvent:
    """One change to an order, as the order system recorded it."""

    id: int
    order_id: int
    field: str
    old_value: str | None
    new_value: str | None
    reason_code: str | None
    reason_text: str | None
    party_type: str | None
    party_name: str | None
    occurred_at: datetime
    line_id: int | None = None


@dataclass(frozen=True)
class Order:
    id: int
    customer_id: int
    status: str
    fulfilment: str  # delivery or pickup
    placed_at: datetime
    promised_date: date | None
    original_promised_date: date | None
    postcode: str
    email: str
    address: str
    pickup_location: str | None
    total_cents: int
    currency: str
    delivered_at: datetime | None
    lines: tuple[OrderLine, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    events: tuple[OrderEvent, ...] = ()
    # The last event the customer was told about (None: only the order
    # confirmation): "what changed" means every event after this one.
    informed_event_id: int | None = None
    informed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def product_summary(self) -> str:
        names = [line.product_name for line in self.lines]
        return ", ".join(names) if names else ""

    @property
    def suppliers(self) -> tuple[str, ...]:
        return tuple(sorted({ln.supplier_name for ln in self.lines if ln.supplier_name}))

    def events_after(self, event_id: int | None) -> list[OrderEvent]:
        if event_id is None:
            return list(self.events)
        return [event for event in self.events if event.id > event_id]


@dataclass(frozen=True)
class OrderSummary:
    """What "which orders do I have" needs, without lines and events."""

    id: int
    status: str
    fulfilment: str
    placed_at: datetime
    promised_date: date | None
    product_summary: str
    has_unseen_changes: bool = False
