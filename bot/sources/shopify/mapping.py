"""What a Shopify webhook payload means for the customer, as `SourceChange`s.

Pure functions over the REST-shaped JSON Shopify sends (webhook payloads and
the reconcile payloads built to look like them); nothing here calls the API.
The tables below are the whole mapping; the module docstring of the package
lists it per topic.

Times: every change happens when Shopify says the state began (cancelled_at,
the fulfillment's created_at, the event's happened_at), not when the webhook
left, so a late retry or a later orders/updated repeating the same state
never counts as newer than what happened since.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from bot.sources.change import ShipmentInfo, SourceChange

SOURCE = "shopify"

# orders/*: `cancel_reason` -> reason code and who caused it. "fraud" is never
# said to a customer: it reads as a cancellation by the shop.
CANCEL_REASONS: dict[str, tuple[str, str | None]] = {
    "customer": ("cancelled_by_customer", "customer"),
    "inventory": ("shop_out_of_stock", "shop"),
    "fraud": ("cancelled_by_shop", "shop"),
    "declined": ("payment_declined", None),
    "staff": ("cancelled_by_shop", "shop"),
    "other": ("cancelled_by_shop", "shop"),
}

# fulfillment_holds/*: the hold's `reason` (lower case in webhooks, upper case
# in GraphQL) -> reason code; OTHER has none (reason_notes says why).
HOLD_REASONS: dict[str, str | None] = {
    "INVENTORY_OUT_OF_STOCK": "shop_out_of_stock",
    "INCORRECT_ADDRESS": "address_problem",
    "AWAITING_PAYMENT": "payment_pending",
    "UNKNOWN_DELIVERY_DATE": "delivery_date_unknown",
    "HIGH_RISK_OF_FRAUD": "order_review",
    "AWAITING_RETURN_ITEMS": "awaiting_return",
    "OTHER": None,
}
# Held for minutes while the checkout offers an upsell: nothing to tell anyone.
SILENT_HOLD_REASONS = frozenset({"ONLINE_STORE_POST_PURCHASE_CROSS_SELL"})

# A parcel status (fulfillment `shipment_status`, fulfillment event `status`)
# -> (shipment status, reason code). Statuses missing here mean nothing new.
PARCEL_STATUSES: dict[str, tuple[str, str | None]] = {
    "label_printed": ("preparing", None),
    "label_purchased": ("preparing", None),
    "confirmed": ("preparing", None),
    "carrier_picked_up": ("in_transit", None),
    "in_transit": ("in_transit", None),
    "out_for_delivery": ("in_transit", None),
    "ready_for_pickup": ("awaiting_pickup", None),
    "delivered": ("delivered", None),
    "delayed": ("exception", "carrier_delay"),
    "attempted_delivery": ("exception", "delivery_attempt_failed"),
    "failure": ("exception", "unable_to_deliver"),
}
# Fulfillment events say less than a fulfillment: only these are news.
EVENT_STATUSES = frozenset(
    {"in_transit", "out_for_delivery", "ready_for_pickup", "delivered", "delayed"}
    | {"attempted_delivery", "failure"}
)
# A fulfillment's own `status` when the carrier reported nothing yet. "error"
# and "failure" are the fulfillment service's trouble, not the parcel's.
FULFILLMENT_STATUSES: dict[str, str] = {
    "pending": "preparing",
    "open": "preparing",
    "success": "in_transit",
    "cancelled": "cancelled",
}
# Once the parcel is this far, a fulfillment update is no reason to say "shipped".
PAST_SHIPPED = frozenset({"delivered", "ready_for_pickup"})


@dataclass(frozen=True)
class OrderRef:
    """Which order: the number customers see and/or Shopify's own id."""

    order_number: str | None
    platform_order_id: str | None

    @property
    def known(self) -> bool:
        return bool(self.order_number or self.platform_order_id)


@dataclass(frozen=True)
class LineItem:
    """An order line as the Admin API has it now (after any edit)."""

    sku: str | None
    current_quantity: int


# --- reading payloads ---------------------------------------------------


def text(data: Mapping[str, object], key: str) -> str | None:
    """A non-empty string field, as recorded (not stripped)."""
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return value
    return None


def mapping(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def mappings(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def numeric_id(value: object, kind: str | None = None) -> str | None:
    """Shopify's numeric id from 123, "123" or "gid://shopify/<kind>/123"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return value
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", value)
    if match and (kind is None or match.group(1) == kind):
        return match.group(2)
    return None


def order_gid(order_id: str) -> str:
    return f"gid://shopify/Order/{order_id}"


def digits(name: str | None) -> str | None:
    """ "#10001" -> "10001"; None when the name has no digits."""
    found = re.sub(r"\D", "", name or "")
    return found or None


def parse_time(value: object) -> datetime | None:
    """An ISO time as Shopify writes it ("2025-11-24T10:15:00+01:00",
    "2025-11-24T09:15:00.877041743Z") in UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    cleaned = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.10 reads at most 6 fraction digits; Shopify's headers carry 9.
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(timezone.utc)


def local_date(value: object) -> date | None:
    """The calendar date of a Shopify time in its own offset: a delivery
    estimate "2025-11-28T00:30:00+01:00" is the 28th for the customer."""
    if not isinstance(value, str) or not value:
        return None
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", value.strip().replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(cleaned).date()
    except ValueError:
        return None


def cents(amount: object) -> int | None:
    """ "75.00" / 89.99 -> 7500 / 8999; None when not a number."""
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int((value * 100).quantize(Decimal(1)))


def order_ref(order: Mapping[str, object]) -> OrderRef:
    """An order payload names both: `order_number` (else the digits of `name`)
    and `id` (else the gid in `admin_graphql_api_id`)."""
    number = order.get("order_number")
    order_number = str(number) if isinstance(number, int) and number > 0 else None
    platform_id = numeric_id(order.get("id")) or numeric_id(
        order.get("admin_graphql_api_id"), "Order"
    )
    return OrderRef(order_number or digits(text(order, "name")), platform_id)


def child_ref(data: Mapping[str, object]) -> OrderRef:
    """Fulfillments, events and refunds name the order by Shopify's id only."""
    platform_id = numeric_id(data.get("order_id")) or numeric_id(
        data.get("admin_graphql_api_id"), "Order"
    )
    return OrderRef(None, platform_id)


def change(
    ref: OrderRef,
    field: str,
    new_value: str | None,
    occurred_at: datetime,
    *,
    reason_code: str | None = None,
    reason_text: str | None = None,
    party_type: str | None = None,
    party_name: str | None = None,
    line_sku: str | None = None,
    shipment: ShipmentInfo | None = None,
) -> SourceChange:
    return SourceChange(
        source=SOURCE,
        field=field,
        new_value=new_value,
        occurred_at=occurred_at,
        order_number=ref.order_number,
        platform_order_id=ref.platform_order_id,
        reason_code=reason_code,
        reason_text=reason_text,
        party_type=party_type,
        party_name=party_name,
        line_sku=line_sku,
        shipment=shipment,
    )


# --- orders/updated, orders/cancelled (and reconcile) ----------------------


def order_changes(order: Mapping[str, object], fallback: datetime) -> list[SourceChange]:
    """A cancelled order says cancelled and why; a fulfilled one says shipped.
    Anything else (open, partly shipped) is left to the fulfillment topics."""
    ref = order_ref(order)
    if not ref.known:
        return []
    updated_at = parse_time(order.get("updated_at")) or fallback
    if order.get("cancelled_at"):
        return [cancellation(order, ref, parse_time(order.get("cancelled_at")) or updated_at)]
    if order.get("fulfillment_status") == "fulfilled":
        shipped_at = last_fulfilled_at(order) or updated_at
        return [change(ref, "status", "shipped", shipped_at)]
    return []


def cancellation(order: Mapping[str, object], ref: OrderRef, at: datetime) -> SourceChange:
    reason = (text(order, "cancel_reason") or "").lower()
    reason_code, party_type = CANCEL_REASONS.get(reason, (None, None))
    return change(ref, "status", "cancelled", at, reason_code=reason_code, party_type=party_type)


def last_fulfilled_at(order: Mapping[str, object]) -> datetime | None:
    times = [
        parse_time(fulfillment.get("created_at"))
        for fulfillment in mappings(order, "fulfillments")
        if fulfillment.get("status") == "success"
    ]
    known = [moment for moment in times if moment is not None]
    return max(known) if known else None


# --- fulfillments/create, fulfillments/update ------------------------------


def fulfillment_changes(
    fulfillment: Mapping[str, object], fallback: datetime
) -> list[SourceChange]:
    """The parcel's status with its tracking; a successful fulfillment also
    means the order shipped (at the time the fulfillment was created)."""
    ref = child_ref(fulfillment)
    if not ref.known:
        return []
    carrier_status = (text(fulfillment, "shipment_status") or "").lower()
    own_status = (text(fulfillment, "status") or "").lower()
    if carrier_status in PARCEL_STATUSES:
        shipment_status, reason_code = PARCEL_STATUSES[carrier_status]
    elif own_status in FULFILLMENT_STATUSES:
        shipment_status, reason_code = FULFILLMENT_STATUSES[own_status], None
    else:
        return []
    created_at = parse_time(fulfillment.get("created_at")) or fallback
    updated_at = parse_time(fulfillment.get("updated_at")) or created_at
    carrier = text(fulfillment, "tracking_company")
    shipment = ShipmentInfo(
        carrier=carrier,
        tracking_code=text(fulfillment, "tracking_number"),
        tracking_url=text(fulfillment, "tracking_url"),
        status=shipment_status,
        expected_date=local_date(fulfillment.get("estimated_delivery_at")),
    )
    changes = []
    if own_status == "success" and carrier_status not in PAST_SHIPPED:
        changes.append(change(ref, "status", "shipped", created_at))
    changes.append(
        change(
            ref,
            "shipment_status",
            shipment_status,
            updated_at,
            reason_code=reason_code,
            party_type="carrier" if carrier else None,
            party_name=carrier,
            shipment=shipment,
        )
    )
    return changes


# --- fulfillment_events/create ------------------------------------------------


def fulfillment_event_changes(
    event: Mapping[str, object], fallback: datetime
) -> list[SourceChange]:
    """A carrier's tracking event. A delay with a new estimate moves the
    promised date; without one it is an exception on the parcel."""
    ref = child_ref(event)
    status = (text(event, "status") or "").lower()
    if not ref.known or status not in EVENT_STATUSES:
        return []
    at = parse_time(event.get("happened_at")) or parse_time(event.get("created_at")) or fallback
    message = text(event, "message")
    estimate = local_date(event.get("estimated_delivery_at"))
    if status == "delayed" and estimate is not None:
        return [
            change(
                ref,
                "promised_date",
                estimate.isoformat(),
                at,
                reason_code="carrier_delay",
                reason_text=message,
                party_type="carrier",
            )
        ]
    shipment_status, reason_code = PARCEL_STATUSES[status]
    return [
        change(
            ref,
            "shipment_status",
            shipment_status,
            at,
            reason_code=reason_code,
            reason_text=message if reason_code else None,
            party_type="carrier",
            shipment=ShipmentInfo(status=shipment_status, expected_date=estimate),
        )
    ]


# --- refunds/create -----------------------------------------------------------


def refund_changes(refund: Mapping[str, object], fallback: datetime) -> list[SourceChange]:
    """This refund's amount in cents, with the note the shop wrote."""
    ref = child_ref(refund)
    amount = refunded_cents(refund)
    if not ref.known or not amount:
        return []
    at = parse_time(refund.get("processed_at")) or parse_time(refund.get("created_at")) or fallback
    return [
        change(ref, "refund", str(amount), at, reason_text=text(refund, "note"), party_type="shop")
    ]


def refunded_cents(refund: Mapping[str, object]) -> int:
    """Money that went back: the refund's successful refund transactions (a
    failed one paid nothing back); a refund recorded without any transaction
    counts its lines' subtotals."""
    transactions = [
        transaction
        for transaction in mappings(refund, "transactions")
        if transaction.get("kind") == "refund"
    ]
    if transactions:
        return sum(
            cents(transaction.get("amount")) or 0
            for transaction in transactions
            if transaction.get("status") == "success"
        )
    return sum(line_subtotal(line) or 0 for line in mappings(refund, "refund_line_items"))


def line_subtotal(line: Mapping[str, object]) -> int | None:
    shop_money = mapping(mapping(line, "subtotal_set"), "shop_money")
    return cents(shop_money.get("amount")) if shop_money else cents(line.get("subtotal"))


# --- fulfillment_holds/added, fulfillment_holds/released -------------------------


def hold_changes(
    payload: Mapping[str, object], ref: OrderRef, released: bool, at: datetime
) -> list[SourceChange]:
    """A hold on the order's fulfillment, with Shopify's reason and the
    shop's notes; its release. The order comes from the API (`ref`)."""
    hold = mapping(payload, "fulfillment_hold")
    reason = (text(hold, "reason") or "").upper()
    if not ref.known or reason in SILENT_HOLD_REASONS:
        return []
    if released:
        return [change(ref, "hold", "released", at, party_type="shop")]
    return [
        change(
            ref,
            "hold",
            "on_hold",
            at,
            reason_code=HOLD_REASONS.get(reason),
            reason_text=text(hold, "reason_notes"),
            party_type="shop",
        )
    ]


def fulfillment_order_id(payload: Mapping[str, object]) -> str | None:
    return numeric_id(mapping(payload, "fulfillment_order").get("id"), "FulfillmentOrder")


# --- orders/edited ----------------------------------------------------------------


def removed_line_ids(payload: Mapping[str, object]) -> list[str]:
    removals = mappings(mapping(mapping(payload, "order_edit"), "line_items"), "removals")
    found = (numeric_id(item.get("id")) for item in removals)
    return [line_id for line_id in found if line_id]


def edit_changes(
    ref: OrderRef, removed: list[str], lines: Mapping[str, LineItem], at: datetime
) -> list[SourceChange]:
    """Each line the shop took out or down: its quantity now, or cancelled
    when none is left. Lines without a SKU cannot be named and are skipped."""
    changes = []
    for line_id in removed:
        line = lines.get(line_id)
        if line is None or not line.sku:
            continue
        if line.current_quantity <= 0:
            changes.append(
                change(ref, "line_status", "cancelled", at, line_sku=line.sku, party_type="shop")
            )
        else:
            changes.append(
                change(
                    ref,
                    "line_quantity",
                    str(line.current_quantity),
                    at,
                    line_sku=line.sku,
                    party_type="shop",
                )
            )
    return changes


def edit_order_id(payload: Mapping[str, object]) -> str | None:
    return numeric_id(mapping(payload, "order_edit").get("order_id"))


def edit_time(payload: Mapping[str, object]) -> datetime | None:
    order_edit = mapping(payload, "order_edit")
    return parse_time(order_edit.get("committed_at")) or parse_time(order_edit.get("created_at"))
