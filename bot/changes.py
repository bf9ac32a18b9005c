"""What changed in an order since the customer last heard about it.

The order system's event log is the truth; this module only reads it. Several
events on the same thing collapse into one change (first old value, last new
value) that keeps every event, so every recorded reason can be told.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.orders.model import Order, OrderEvent

PROGRESS_STATUSES = ("processing", "shipped", "ready_for_pickup", "delivered", "picked_up")


@dataclass(frozen=True)
class Change:
    kind: str  # a key under "change." in messages.yml
    old: str | None
    new: str | None
    product: str | None
    events: tuple[OrderEvent, ...]

    @property
    def is_progress(self) -> bool:
        """Good news (shipped, delivered): nothing to apologise for."""
        return self.kind.startswith("progress_")

    @property
    def last_event_id(self) -> int:
        return max(event.id for event in self.events)


def _kind(event: OrderEvent) -> str | None:
    new = event.new_value or ""
    if event.field == "promised_date":
        return "date_moved"
    if event.field == "status":
        if new == "cancelled":
            return "cancelled"
        if new in PROGRESS_STATUSES:
            return f"progress_{new}"
        return None  # "changed" is only a label; the events say what changed
    if event.field == "hold":
        return "on_hold" if new == "on_hold" else "progress_resumed"
    if event.field == "shipment_status":
        return {
            "exception": "shipment_problem",
            "returned": "shipment_returned",
            "cancelled": "shipment_cancelled",
            "awaiting_pickup": "progress_awaiting_pickup",
            "in_transit": "progress_in_transit",
            "delivered": "progress_delivered",
        }.get(new)
    if event.field == "line_status":
        return {
            "out_of_stock": "out_of_stock",
            "cancelled": "line_cancelled",
            "ok": "back_in_stock",
        }.get(new)
    return {
        "line_product": "item_replaced",
        "line_quantity": "quantity",
        "shipment_split": "split_shipment",
        "address": "address",
        "total": "total",
        "refund": "refund",
    }.get(event.field, "other")


def _product_for(order: Order, event: OrderEvent) -> str | None:
    if event.line_id is not None:
        for line in order.lines:
            if line.id == event.line_id:
                return line.product_name
    return order.product_summary or None


def changes_in(order: Order, events: list[OrderEvent]) -> list[Change]:
    """Collapse events into changes, in the order they first happened."""
    grouped: dict[tuple[str, int | None], list[OrderEvent]] = {}
    for event in sorted(events, key=lambda e: e.id):
        kind = _kind(event)
        if kind is None:
            continue
        # Progress steps each stand alone; the rest collapse per thing changed.
        key = (kind if not kind.startswith("progress_") else f"{kind}:{event.id}", event.line_id)
        grouped.setdefault(key, []).append(event)
    changes = []
    for (kind, _line), group in grouped.items():
        first, last = group[0], group[-1]
        changes.append(
            Change(
                kind=kind.split(":")[0],
                old=first.old_value,
                new=last.new_value,
                product=_product_for(order, last),
                events=tuple(group),
            )
        )
    # Something changed back to where it was (a date, a quantity) is no change at all.
    return [c for c in changes if c.is_progress or c.old != c.new]


def told_marker(order: Order, told: list[Change]) -> int | None:
    """The newest event the customer knows after hearing `told`, if it moved.

    The marker means "every event up to here is known", so it stops before the
    first unseen event that was not told (events that are no change count as told).
    """
    told_ids = {event.id for change in told for event in change.events}
    marker: int | None = None
    for event in sorted(order.events_after(order.informed_event_id), key=lambda e: e.id):
        if event.id not in told_ids and _kind(event) is not None:
            break
        marker = event.id
    return marker


def unseen_changes(order: Order) -> list[Change]:
    """Changes the customer has not been told about yet."""
    return changes_in(order, order.events_after(order.informed_event_id))


def all_problem_changes(order: Order) -> list[Change]:
    """Every change since the order was placed, good news left out (for a recap)."""
    return [change for change in changes_in(order, list(order.events)) if not change.is_progress]
