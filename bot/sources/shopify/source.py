"""`ShopifySource`: the Shopify webhook endpoint and its Admin API, behind `Source`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import requests

from bot.sources.change import Delivery, MalformedDelivery, SourceChange
from bot.sources.shopify import mapping
from bot.sources.shopify.admin_api import AdminApi
from bot.sources.shopify.mapping import OrderRef, digits, parse_time

logger = logging.getLogger(__name__)

RECONCILE_TOPIC = "orders/updated"


# Topics whose payload is the order itself (with its id and number).
ORDER_TOPICS = frozenset({"orders/updated", "orders/cancelled", "orders/create"})


class ShopifySource:
    """Shopify's webhooks (signed with the app's client secret) and, when an
    Admin API token is given, its GraphQL Admin API. Without a token every
    webhook that names its order still works; holds and edits need the API."""

    name = "shopify"

    def __init__(
        self,
        secret: str,
        shop_domain: str | None = None,
        access_token: str | None = None,
        api_version: str = "2024-10",
        base_url: str | None = None,
        session: requests.Session | None = None,
        *,
        timeout: float = 10.0,
        retry_wait: float = 1.0,
    ) -> None:
        self.secret = secret
        base = base_url or (f"https://{shop_domain}" if shop_domain else None)
        self.api: AdminApi | None = None
        if base and access_token:
            self.api = AdminApi(
                base, access_token, api_version, session, timeout=timeout, retry_wait=retry_wait
            )
        self._topics: dict[str, Callable[[Delivery], list[SourceChange]]] = {
            "orders/updated": self._order,
            "orders/cancelled": self._order,
            "orders/edited": self._order_edit,
            "fulfillments/create": self._fulfillment,
            "fulfillments/update": self._fulfillment,
            "fulfillment_events/create": self._fulfillment_event,
            "refunds/create": self._refund,
            "fulfillment_holds/added": self._hold,
            "fulfillment_holds/released": self._hold,
        }

    # --- the webhook -----------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """X-Shopify-Hmac-Sha256 is the base64 HMAC-SHA256 of the raw body."""
        signature = headers.get("x-shopify-hmac-sha256") or ""
        if not signature or not self.secret:
            return False
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
        expected = base64.b64encode(digest)
        return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))

    def delivery(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        # X-Shopify-Event-Id is the same for every subscription the event
        # reaches; X-Shopify-Webhook-Id is per delivery (older senders only).
        event_id = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id")
        topic = headers.get("x-shopify-topic")
        if not event_id:
            raise MalformedDelivery("no X-Shopify-Event-Id or X-Shopify-Webhook-Id header")
        if not topic:
            raise MalformedDelivery("no X-Shopify-Topic header")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as error:
            raise MalformedDelivery("body is not JSON") from error
        if not isinstance(payload, dict):
            raise MalformedDelivery("body is not a JSON object")
        return Delivery(
            source=self.name,
            event_id=event_id,
            topic=topic,
            triggered_at=parse_time(headers.get("x-shopify-triggered-at")),
            payload=payload,
        )

    def changes(self, delivery: Delivery) -> list[SourceChange]:
        handle = self._topics.get(delivery.topic)
        if handle is None:
            return []
        try:
            return handle(delivery)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # A payload of a shape we do not know: nothing to tell, and
            # retrying would not help. SourceUnavailable passes through.
            logger.warning(
                "Shopify %s %s unreadable: %s",
                delivery.topic,
                delivery.event_id,
                type(error).__name__,
            )
            return []

    def order_link(self, delivery: Delivery) -> tuple[str, str] | None:
        if delivery.topic not in ORDER_TOPICS:
            return None
        ref = mapping.order_ref(delivery.payload)
        if ref.platform_order_id and ref.order_number:
            return ref.platform_order_id, ref.order_number
        return None

    # --- the Admin API -----------------------------------------------------------

    def order_number_for(self, platform_order_id: str) -> str | None:
        if self.api is None:
            return None
        return digits(self.api.order_name(platform_order_id))

    def reconcile(self, since: datetime) -> list[Delivery]:
        """Orders changed since `since`, as orders/updated deliveries."""
        if self.api is None:
            return []
        return [reconcile_delivery(node) for node in self.api.orders_updated_since(since)]

    # --- one method per topic ---------------------------------------------------------

    def _order(self, delivery: Delivery) -> list[SourceChange]:
        return mapping.order_changes(delivery.payload, fallback_time(delivery))

    def _fulfillment(self, delivery: Delivery) -> list[SourceChange]:
        return mapping.fulfillment_changes(delivery.payload, fallback_time(delivery))

    def _fulfillment_event(self, delivery: Delivery) -> list[SourceChange]:
        return mapping.fulfillment_event_changes(delivery.payload, fallback_time(delivery))

    def _refund(self, delivery: Delivery) -> list[SourceChange]:
        return mapping.refund_changes(delivery.payload, fallback_time(delivery))

    def _hold(self, delivery: Delivery) -> list[SourceChange]:
        """The hold payload names only the fulfillment order: its order comes
        from the API (no token: the hold is logged and left out)."""
        fulfillment_order_id = mapping.fulfillment_order_id(delivery.payload)
        if self.api is None or fulfillment_order_id is None:
            logger.info(
                "Shopify %s %s: fulfillment order %s not looked up (no Admin API token)",
                delivery.topic,
                delivery.event_id,
                fulfillment_order_id,
            )
            return []
        found = self.api.order_of_fulfillment_order(fulfillment_order_id)
        if found is None:
            logger.info("Shopify fulfillment order %s has no order", fulfillment_order_id)
            return []
        order_id, order_name = found
        ref = OrderRef(digits(order_name), order_id)
        released = delivery.topic == "fulfillment_holds/released"
        return mapping.hold_changes(delivery.payload, ref, released, fallback_time(delivery))

    def _order_edit(self, delivery: Delivery) -> list[SourceChange]:
        """Removed lines are named by line item id only; their SKU and the
        quantity left come from the API (no token: logged and left out)."""
        order_id = mapping.edit_order_id(delivery.payload)
        removed = mapping.removed_line_ids(delivery.payload)
        if order_id is None or not removed:
            return []
        if self.api is None:
            logger.info(
                "Shopify orders/edited %s: order %s lines %s not looked up (no Admin API token)",
                delivery.event_id,
                order_id,
                ",".join(removed),
            )
            return []
        order = self.api.order_lines(order_id)
        if order is None:
            logger.info("Shopify order %s not found for edit %s", order_id, delivery.event_id)
            return []
        ref = OrderRef(digits(order.order_number), order_id)
        at = mapping.edit_time(delivery.payload) or fallback_time(delivery)
        return mapping.edit_changes(ref, removed, order.lines, at)


def fallback_time(delivery: Delivery) -> datetime:
    """When the payload has no time of its own: when Shopify sent it, else now."""
    return delivery.triggered_at or datetime.now(timezone.utc)


def reconcile_delivery(node: Mapping[str, object]) -> Delivery:
    """A GraphQL order as the orders/updated webhook would have sent it."""
    order_id = mapping.numeric_id(node.get("legacyResourceId")) or mapping.numeric_id(
        node.get("id"), "Order"
    )
    name = mapping.text(node, "name")
    number = digits(name)
    updated_at = str(node.get("updatedAt") or "")
    payload = {
        "id": int(order_id) if order_id else None,
        "admin_graphql_api_id": node.get("id"),
        "name": name,
        "order_number": int(number) if number else None,
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": lower(node.get("cancelReason")),
        "fulfillment_status": FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus"))),
        "updated_at": updated_at,
        "fulfillments": [
            {"created_at": item.get("createdAt"), "status": lower(item.get("status"))}
            for item in mapping.mappings(node, "fulfillments")
        ],
    }
    return Delivery(
        source=ShopifySource.name,
        event_id=f"reconcile:{order_id}:{updated_at}",
        topic=RECONCILE_TOPIC,
        triggered_at=parse_time(updated_at),
        payload=payload,
    )


# GraphQL displayFulfillmentStatus -> the REST order's fulfillment_status.
FULFILLMENT_STATUS = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}


def lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None
