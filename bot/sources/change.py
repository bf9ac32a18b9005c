"""One normalized order change, whatever platform reported it.

A platform adapter turns a webhook into `SourceChange`s in the assistant's own
words: which order, which field, from what to what, the reason code and the
reason in the platform's words, who caused it and when it happened. The same
path then applies every change (apply.py), so a Shopify hold, a WooCommerce
note and a Sendcloud parcel status warn customers exactly like the intake API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# Re-exported for the adapters: who caused a change, and what a parcel can be.
from bot.orders.model import PARTY_TYPES, SHIPMENT_STATUSES  # noqa: F401

# What a source can change. The first ones are the order system's own event
# fields (bot/orders/model.py: EVENT_FIELDS); "hold" and "shipment_status" are
# what platforms report that a shop's own order system did not:
#   hold             new_value "on_hold" or "released" (Shopify fulfillment hold,
#                    WooCommerce on-hold)
#   shipment_status  new_value one of SHIPMENT_STATUSES (a carrier's parcel status)
SOURCE_FIELDS = (
    "promised_date",  # new_value an ISO date
    "status",  # new_value one of bot.orders.model.ORDER_STATUSES
    "line_status",  # needs line_sku; new_value ok / out_of_stock / replaced / cancelled
    "line_quantity",  # needs line_sku; new_value a whole number as text
    "address",  # new_value the new address on one line
    "refund",  # new_value the amount in cents as text ("1250")
    "hold",
    "shipment_status",
)


class MalformedDelivery(ValueError):
    """The body is not what the platform sends (not JSON, no id): answered with 400."""


@dataclass(frozen=True)
class Delivery:
    """One webhook as it arrived: who sent it, its id, topic and body.

    `event_id` is the platform's id for the event, stable across its retries
    (Shopify X-Shopify-Event-Id, WooCommerce X-WC-Webhook-Delivery-ID, ...);
    the inbox is deduplicated on (source, topic, event_id). `triggered_at`
    is when the platform says it happened (None: unknown, the receipt time counts).
    """

    source: str
    event_id: str
    topic: str
    triggered_at: datetime | None
    payload: Mapping[str, object]


@dataclass(frozen=True)
class ShipmentInfo:
    """A parcel as the carrier or platform describes it (every field optional)."""

    carrier: str | None = None
    tracking_code: str | None = None
    tracking_url: str | None = None
    status: str | None = None  # one of SHIPMENT_STATUSES
    expected_date: date | None = None


@dataclass(frozen=True)
class SourceChange:
    """What happened to one order, normalized.

    The order is named by the number customers see (`order_number`: "10001",
    without Shopify's "#") and, where the platform has one, by its own id
    (`platform_order_id`). A change that names only the platform id is matched
    through the link the inbox keeps from earlier deliveries, or the adapter's
    `order_number_for` (its API).

    `occurred_at` is when it happened (timezone-aware), which puts changes in
    order: a change older than one already applied to the same field of the
    same order never moves the order back.
    """

    source: str
    field: str  # one of SOURCE_FIELDS
    new_value: str | None
    occurred_at: datetime
    order_number: str | None = None
    platform_order_id: str | None = None
    old_value: str | None = None
    reason_code: str | None = None  # a code in bot/texts/reasons.yml, or None
    reason_text: str | None = None  # the platform's own words, as recorded
    party_type: str | None = None  # one of PARTY_TYPES
    party_name: str | None = None  # "PostNL", "Gazelle", ...
    line_sku: str | None = None  # which line, for line_status / line_quantity
    shipment: ShipmentInfo | None = None


class Source(Protocol):
    """A platform that reports order changes by webhook."""

    name: str  # "shopify", "woocommerce", "sendcloud": the URL is /sources/<name>

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True only when the platform's signature over the raw body is right
        (constant-time comparison). Header names are lower case."""
        ...

    def delivery(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """The delivery's id, topic, time and JSON body; MalformedDelivery when
        it is not what the platform sends. Called only after verify()."""
        ...

    def changes(self, delivery: Delivery) -> list[SourceChange]:
        """What the delivery means for the customer: zero or more changes.

        Runs after the webhook was answered, so it may call the platform's
        API (order notes, a fulfillment's order); an API that fails raises
        SourceUnavailable and the delivery is tried again later.
        """
        ...

    def order_link(self, delivery: Delivery) -> tuple[str, str] | None:
        """(platform order id, order number) when the delivery names both, even
        when it holds no change: later deliveries that name only the id (Shopify's
        fulfillments, holds, refunds) find the order through it."""
        ...

    def reconcile(self, since: datetime) -> list[Delivery]:
        """Deliveries built from the platform's API for the orders changed since
        `since` (the same shapes as its webhooks, event ids "reconcile:..."),
        so a missed webhook is caught; [] without API access."""
        ...

    def order_number_for(self, platform_order_id: str) -> str | None:
        """The number customers see for the platform's own order id, asked of
        the platform's API; None when the adapter has no API access."""
        ...


class SourceUnavailable(RuntimeError):
    """The platform's API could not be reached: try the delivery again later."""
