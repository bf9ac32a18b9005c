"""`ShopifyOrderSystem`: a Shopify shop's own orders as the assistant's order system.

A shop on Shopify needs no order database of its own: customers and orders
are read from the GraphQL Admin API (POST {base}/admin/api/{version}/
graphql.json, `X-Shopify-Access-Token`) and the assistant's two writes go
there too. Requests, retries and errors are `AdminApi`'s (admin_api.py: two
retries on connection errors, 5xx, 429 and THROTTLED); every failure reaches
the caller as `OrderSystemUnavailable`, and logs carry ids, HTTP statuses and
error codes, never a name, address or token.

Ids: an order is the number customers see (its `name` "#10001" -> 10001),
found with orders(first: 1, query: "name:#10001") and checked digit for digit;
a customer is Shopify's numeric customer id (gid://shopify/Customer/1001).

How Shopify's fields become the model's (docs/shops/shopify.md has the table):

  status          cancelledAt -> cancelled; otherwise from the fulfillments
                  that are not cancelled: all DELIVERED on a fully fulfilled
                  order -> delivered, PICKED_UP -> picked_up, any
                  READY_FOR_PICKUP -> ready_for_pickup, any other -> shipped
                  (also displayFulfillmentStatus FULFILLED/PARTIALLY_FULFILLED);
                  none yet: IN_PROGRESS/PENDING_FULFILLMENT -> processing, the
                  rest -> placed; placed/processing become changed when the
                  promised date moved off the original one or a line is out of
                  stock or cancelled (Shopify has no "changed": this is it)
  fulfilment      a fulfillment order's deliveryMethod.methodType PICK_UP ->
                  pickup (pickup_location: its assignedLocation.name), else
                  delivery
  promised dates  the order metafields `promised_date_metafield` and
                  `original_date_metafield` (type date, "YYYY-MM-DD"); Shopify
                  has no such field: absent -> None
  lines           name, sku, vendor (supplier), currentQuantity (quantity when
                  nothing is left); status cancelled when nothing is left
                  (removed by an edit, refunded, restocked), out_of_stock when
                  the line waits in a fulfillment order held with
                  INVENTORY_OUT_OF_STOCK, else ok; "replaced" cannot be told
                  from Shopify (an edit's removed and added lines are not
                  linked) and is never said
  shipments       fulfillments: trackingInfo company/number/url, displayStatus
                  (SHIPMENT_DISPLAY below), createdAt/inTransitAt,
                  estimatedDeliveryAt (the date in its own offset),
                  deliveredAt; a pickup's handover without tracking is no parcel
  postcode, email shippingAddress.zip (billingAddress.zip for a pickup order
                  without one), the order's email; address likewise
  total           currentTotalPriceSet.shopMoney (after edits and refunds)
  delivered_at    the last deliveredAt of a delivered or picked-up order
  placed_at       createdAt, naive UTC like every stored time here

Writes: `cancel_order` asks orderCancel (reason CUSTOMER, refund and restock,
no notification from Shopify: the assistant tells the customer; the
customer's words as the staff note) only while the order is not cancelled
and nothing is fulfilled; `request_follow_up` tags the order
"assistant-follow-up:<topic>" with tagsAdd (idempotent in Shopify) and
returns a number derived from the order and topic, the same every time.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from bot.orders.matching import order_matches
from bot.orders.model import Customer, Order, OrderLine, Shipment
from bot.orders.system import OrderSystemUnavailable
from bot.sources.change import SourceUnavailable
from bot.sources.shopify.admin_api import AdminApi
from bot.sources.shopify.mapping import digits, local_date, numeric_id, parse_time

logger = logging.getLogger(__name__)

FOLLOW_UP_TAG = "assistant-follow-up:"
STAFF_NOTE_LIMIT = 255  # Shopify's limit for a cancellation's staff note
MAX_CUSTOMER_ORDERS = 50  # newest first; a customer with more hears of these
CUSTOMER_ORDERS_PAGE = 25
CANCEL_JOB_POLLS = 5  # orderCancel runs as a job: wait this often for it
CANCEL_JOB_WAIT = 0.3

# Connection sizes keep one order's query well under Shopify's 1,000-point
# cost limit (a fulfillment order's lines multiply by the fulfillment orders).
ORDER_FIELDS = """
      id legacyResourceId name createdAt cancelledAt displayFulfillmentStatus email
      customer { id }
      shippingAddress { address1 address2 zip city }
      billingAddress { address1 address2 zip city }
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      promisedDate: metafield(key: $promisedKey) { value }
      originalPromisedDate: metafield(key: $originalKey) { value }
      lineItems(first: 50) { nodes { id name sku vendor quantity currentQuantity } }
      fulfillmentOrders(first: 5) { nodes {
        status
        deliveryMethod { methodType }
        assignedLocation { name }
        fulfillmentHolds { reason }
        lineItems(first: 50) { nodes { lineItem { id } } }
      } }
      fulfillments(first: 10) {
        legacyResourceId status displayStatus createdAt inTransitAt deliveredAt
        estimatedDeliveryAt
        trackingInfo(first: 1) { company number url }
      }
"""
ORDER_BY_NAME = (
    "query OrderByName($query: String!, $promisedKey: String!, $originalKey: String!) {"
    f" orders(first: 1, query: $query) {{ nodes {{ {ORDER_FIELDS} }} }} }}"
)
ORDER_BY_ID = (
    "query OrderById($id: ID!, $promisedKey: String!, $originalKey: String!) {"
    f" order(id: $id) {{ {ORDER_FIELDS} }} }}"
)
CUSTOMER_ORDER_IDS = (
    "query CustomerOrders($query: String!, $first: Int!, $after: String) {"
    " orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT, reverse: true) {"
    " nodes { id name } pageInfo { hasNextPage endCursor } } }"
)
CUSTOMER = (
    "query Customer($id: ID!) { customer(id: $id) {"
    " id firstName lastName displayName email locale defaultAddress { zip } } }"
)
ORDER_CHECK = (
    "query OrderCheck($query: String!) { orders(first: 1, query: $query) { nodes {"
    " id name email cancelledAt displayFulfillmentStatus"
    " shippingAddress { zip } billingAddress { zip }"
    " fulfillments(first: 10) { status displayStatus } } } }"
)
ORDER_CANCEL = (
    "mutation OrderCancel($orderId: ID!, $staffNote: String) {"
    " orderCancel(orderId: $orderId, reason: CUSTOMER, refund: true, restock: true,"
    " notifyCustomer: false, staffNote: $staffNote) {"
    " job { id done } orderCancelUserErrors { field message code } } }"
)
JOB = "query Job($id: ID!) { job(id: $id) { id done } }"
TAGS_ADD = (
    "mutation TagsAdd($id: ID!, $tags: [String!]!) {"
    " tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }"
)

# Fulfillment.displayStatus -> the parcel's status (SHIPMENT_STATUSES). The
# same words as mapping.PARCEL_STATUSES for webhooks, in GraphQL's case.
SHIPMENT_DISPLAY: dict[str, str] = {
    "SUBMITTED": "preparing",
    "CONFIRMED": "preparing",
    "LABEL_PRINTED": "preparing",
    "LABEL_PURCHASED": "preparing",
    "CARRIER_PICKED_UP": "in_transit",
    "FULFILLED": "in_transit",
    "MARKED_AS_FULFILLED": "in_transit",
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "in_transit",
    "READY_FOR_PICKUP": "awaiting_pickup",
    "DELIVERED": "delivered",
    "PICKED_UP": "delivered",
    "DELAYED": "exception",
    "ATTEMPTED_DELIVERY": "exception",
    "FAILURE": "exception",
    "NOT_DELIVERED": "exception",
    "CANCELED": "cancelled",
    "LABEL_VOIDED": "cancelled",
}
# A fulfillment's own status when it has no display status.
FULFILLMENT_STATUS: dict[str, str] = {"SUCCESS": "in_transit", "CANCELLED": "cancelled"}
# The order's displayFulfillmentStatus before any fulfillment: someone is at it.
PROCESSING = frozenset({"IN_PROGRESS", "PENDING_FULFILLMENT"})
FULFILLED = frozenset({"FULFILLED", "PARTIALLY_FULFILLED"})
GONE = frozenset({"CANCELED", "LABEL_VOIDED"})
HANDOVER = frozenset({"READY_FOR_PICKUP", "PICKED_UP"})


class ShopifyOrderSystem:
    """Customers and orders from a Shopify shop's GraphQL Admin API."""

    def __init__(
        self,
        shop_domain_or_base_url: str,
        access_token: str,
        api_version: str = "2025-01",
        promised_date_metafield: str = "custom.promised_date",
        original_date_metafield: str = "custom.original_promised_date",
        timeout: float = 10.0,
        retries: int = 2,
        session: requests.Session | None = None,
        *,
        retry_wait: float = 1.0,
        default_language: str = "nl",
    ) -> None:
        if not shop_domain_or_base_url or not access_token:
            raise ValueError("a Shopify shop domain and Admin API token are required")
        base = shop_domain_or_base_url.strip().rstrip("/")
        if "://" not in base:
            base = f"https://{base}"
        self.api = AdminApi(
            base,
            access_token,
            api_version,
            session,
            timeout=timeout,
            retries=retries,
            retry_wait=retry_wait,
        )
        self.default_language = default_language
        self.metafield_keys = {
            "promisedKey": promised_date_metafield,
            "originalKey": original_date_metafield,
        }

    # --- reads -----------------------------------------------------------------

    def get_customer(self, customer_id: int) -> Customer | None:
        data = self._query(CUSTOMER, {"id": f"gid://shopify/Customer/{customer_id}"})
        node = data.get("customer")
        if not isinstance(node, Mapping):
            return None
        return self._parse(lambda n: _customer(n, self.default_language), customer_id, node)

    def get_order(self, order_id: int) -> Order | None:
        node = self._order_node(order_id)
        return self._parse(self._order, order_id, node) if node is not None else None

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        """The customer's orders, newest first (at most MAX_CUSTOMER_ORDERS)."""
        variables: dict[str, Any] = {
            "query": f"customer_id:{customer_id}",
            "first": CUSTOMER_ORDERS_PAGE,
        }
        ids: list[str] = []
        while len(ids) < MAX_CUSTOMER_ORDERS:
            page = self._query(CUSTOMER_ORDER_IDS, variables).get("orders") or {}
            ids += [str(node["id"]) for node in page.get("nodes") or [] if node.get("id")]
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            variables = {**variables, "after": info["endCursor"]}
        orders = []
        for gid in ids[:MAX_CUSTOMER_ORDERS]:
            node = self._query(ORDER_BY_ID, {"id": gid, **self.metafield_keys}).get("order")
            if isinstance(node, Mapping):
                orders.append(self._parse(self._order, customer_id, node))
        return orders

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        node = self._order_check(order_id)
        if node is None:
            return False
        return order_matches(_postcode(node), str(node.get("email") or ""), postcode, email)

    # --- writes ----------------------------------------------------------------

    def cancel_order(self, order_id: int, reason: str) -> bool:
        """orderCancel while the order is not cancelled and nothing of it is
        fulfilled (a pickup made ready counts as fulfilled); False otherwise."""
        node = self._order_check(order_id)
        if node is None or node.get("cancelledAt") or _anything_fulfilled(node):
            return False
        answer = self._query(
            ORDER_CANCEL, {"orderId": node["id"], "staffNote": reason[:STAFF_NOTE_LIMIT]}
        ).get("orderCancel")
        if not isinstance(answer, Mapping):
            raise OrderSystemUnavailable("Shopify did not answer the cancellation")
        errors = answer.get("orderCancelUserErrors") or []
        if errors:
            codes = ",".join(sorted({str(e.get("code") or "UNKNOWN") for e in errors}))
            logger.info("Shopify refused to cancel order %s: %s", order_id, codes)
            return False
        self._wait_for(answer.get("job"), order_id)
        return True

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        """Tag the order "assistant-follow-up:<topic>" (staff filter orders by
        tag); the same order and topic give the same tag and the same id."""
        node = self._order_check(order_id)
        if node is None:
            raise OrderSystemUnavailable(f"Shopify has no order {order_id} to follow up")
        answer = self._query(TAGS_ADD, {"id": node["id"], "tags": [f"{FOLLOW_UP_TAG}{topic}"]})
        result = answer.get("tagsAdd")
        if not isinstance(result, Mapping) or result.get("userErrors"):
            logger.warning("Shopify did not tag order %s for a follow-up", order_id)
            raise OrderSystemUnavailable("Shopify did not record the follow-up request")
        return follow_up_id(order_id, topic)

    # --- the API ---------------------------------------------------------------

    def _query(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.api.query(query, variables)
        except SourceUnavailable as error:
            raise OrderSystemUnavailable(str(error)) from error

    def _order_node(self, order_id: int) -> Mapping[str, Any] | None:
        data = self._query(ORDER_BY_NAME, {"query": f"name:#{order_id}", **self.metafield_keys})
        return _named(data, order_id)

    def _order_check(self, order_id: int) -> Mapping[str, Any] | None:
        return _named(self._query(ORDER_CHECK, {"query": f"name:#{order_id}"}), order_id)

    def _wait_for(self, job: object, order_id: int) -> None:
        """Give the cancel job a moment, so the next read says cancelled; a job
        still running is still accepted (Shopify finishes it)."""
        if not isinstance(job, Mapping) or job.get("done") or not job.get("id"):
            return
        for _ in range(CANCEL_JOB_POLLS):
            time.sleep(CANCEL_JOB_WAIT)
            found = self._query(JOB, {"id": job["id"]}).get("job")
            if not isinstance(found, Mapping) or found.get("done"):
                return
        logger.info("Shopify is still cancelling order %s", order_id)

    def _parse(self, parse: Any, ref: int, node: Mapping[str, Any]) -> Any:
        try:
            return parse(node)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            logger.warning(
                "Shopify sent an unreadable record for %s: %s", ref, type(error).__name__
            )
            raise OrderSystemUnavailable("Shopify sent an unreadable record") from error

    def _order(self, node: Mapping[str, Any]) -> Order:
        number = int(digits(str(node["name"])) or "")
        customer = node.get("customer")
        customer_id = numeric_id(customer.get("id"), "Customer") if customer else None
        fulfillment_orders = _nodes(node.get("fulfillmentOrders"))
        pickup = next(
            (
                fo
                for fo in fulfillment_orders
                if (fo.get("deliveryMethod") or {}).get("methodType") == "PICK_UP"
            ),
            None,
        )
        lines = _lines(node, fulfillment_orders)
        fulfillments = [f for f in node.get("fulfillments") or [] if not _gone(f)]
        shipments = tuple(_shipment(f) for f in fulfillments if not (pickup and _handover_only(f)))
        promised = _metafield_date(node.get("promisedDate"), number)
        original = _metafield_date(node.get("originalPromisedDate"), number)
        status = _status(node, fulfillments)
        if status in ("placed", "processing") and (
            (promised is not None and original is not None and promised != original)
            or any(line.status != "ok" for line in lines)
        ):
            status = "changed"
        delivered_at = None
        if status in ("delivered", "picked_up"):
            moments = [_utc(f.get("deliveredAt")) for f in fulfillments]
            delivered_at = max((m for m in moments if m), default=None)
        address = node.get("shippingAddress") or node.get("billingAddress") or {}
        money = (node.get("currentTotalPriceSet") or {}).get("shopMoney") or {}
        placed_at = _utc(node.get("createdAt"))
        if placed_at is None:
            raise ValueError("order without createdAt")
        return Order(
            id=number,
            customer_id=int(customer_id or 0),
            status=status,
            fulfilment="pickup" if pickup else "delivery",
            placed_at=placed_at,
            promised_date=promised,
            original_promised_date=original,
            postcode=_postcode(node),
            email=str(node.get("email") or ""),
            address=_address(address),
            pickup_location=_location(pickup),
            total_cents=_cents(money.get("amount")),
            currency=str(money.get("currencyCode") or "EUR"),
            delivered_at=delivered_at,
            lines=lines,
            shipments=shipments,
        )


# --- mapping, pure functions -------------------------------------------------------


def follow_up_id(order_id: int, topic: str) -> int:
    """A stable positive 31-bit number for (order, topic): Shopify's tag has no id."""
    digest = hashlib.sha256(f"{order_id}:{topic}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def _named(data: Mapping[str, Any], order_id: int) -> Mapping[str, Any] | None:
    """The order whose name has exactly these digits ("name:" search is loose)."""
    for node in _nodes(data.get("orders")):
        if digits(str(node.get("name") or "")) == str(order_id):
            return node
    return None


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    return [node for node in connection.get("nodes") or [] if isinstance(node, Mapping)]


def _customer(node: Mapping[str, Any], default_language: str) -> Customer:
    customer_id = numeric_id(node.get("id"), "Customer")
    if customer_id is None:
        raise ValueError("customer without id")
    first, last = node.get("firstName") or "", node.get("lastName") or ""
    name = f"{first} {last}".strip() or str(node.get("displayName") or "")
    locale = str(node.get("locale") or "")
    return Customer(
        id=int(customer_id),
        name=name,
        email=str(node.get("email") or ""),
        postcode=str((node.get("defaultAddress") or {}).get("zip") or ""),
        # Shopify keeps the storefront language the customer used ("nl", "en-GB").
        language=locale[:2].lower() if re.match(r"[A-Za-z]{2}", locale) else default_language,
    )


def _status(node: Mapping[str, Any], fulfillments: list[Mapping[str, Any]]) -> str:
    if node.get("cancelledAt"):
        return "cancelled"
    display = str(node.get("displayFulfillmentStatus") or "")
    shown = {str(f.get("displayStatus") or "") for f in fulfillments}
    if fulfillments and display == "FULFILLED":
        if shown == {"DELIVERED"}:
            return "delivered"
        if "PICKED_UP" in shown and shown <= {"PICKED_UP", "DELIVERED"}:
            return "picked_up"
    if "READY_FOR_PICKUP" in shown:
        return "ready_for_pickup"
    if fulfillments or display in FULFILLED:
        return "shipped"
    return "processing" if display in PROCESSING else "placed"


def _anything_fulfilled(node: Mapping[str, Any]) -> bool:
    if str(node.get("displayFulfillmentStatus") or "") in FULFILLED:
        return True
    return any(not _gone(f) for f in node.get("fulfillments") or [])


def _gone(fulfillment: Mapping[str, Any]) -> bool:
    return (
        fulfillment.get("status") == "CANCELLED"
        or str(fulfillment.get("displayStatus") or "") in GONE
    )


def _handover_only(fulfillment: Mapping[str, Any]) -> bool:
    """A pickup made ready or collected in the shop: no carrier, no parcel."""
    tracking = fulfillment.get("trackingInfo") or []
    return str(fulfillment.get("displayStatus") or "") in HANDOVER and not any(
        t.get("number") or t.get("company") for t in tracking
    )


def _lines(
    node: Mapping[str, Any], fulfillment_orders: list[Mapping[str, Any]]
) -> tuple[OrderLine, ...]:
    out_of_stock = set()
    for fo in fulfillment_orders:
        reasons = {h.get("reason") for h in fo.get("fulfillmentHolds") or []}
        if fo.get("status") == "ON_HOLD" and "INVENTORY_OUT_OF_STOCK" in reasons:
            out_of_stock |= {
                (item.get("lineItem") or {}).get("id") for item in _nodes(fo.get("lineItems"))
            }
    lines = []
    for item in _nodes(node.get("lineItems")):
        line_id = numeric_id(item.get("id"), "LineItem")
        if line_id is None:
            raise ValueError("line item without id")
        current = int(item.get("currentQuantity") or 0)
        if current == 0:
            status = "cancelled"
        elif item.get("id") in out_of_stock:
            status = "out_of_stock"
        else:
            status = "ok"
        lines.append(
            OrderLine(
                id=int(line_id),
                product_name=str(item.get("name") or ""),
                sku=str(item.get("sku") or ""),
                supplier_name=item.get("vendor") or None,
                quantity=current or int(item.get("quantity") or 1),
                status=status,
            )
        )
    return tuple(lines)


def _shipment(fulfillment: Mapping[str, Any]) -> Shipment:
    found: list[Mapping[str, Any]] = list(fulfillment.get("trackingInfo") or [])
    tracking = found[0] if found else {}
    display = str(fulfillment.get("displayStatus") or "")
    status = SHIPMENT_DISPLAY.get(display) or FULFILLMENT_STATUS.get(
        str(fulfillment.get("status") or ""), "preparing"
    )
    shipped_at = _utc(fulfillment.get("inTransitAt"))
    if shipped_at is None and status != "preparing":
        shipped_at = _utc(fulfillment.get("createdAt"))
    return Shipment(
        id=int(fulfillment["legacyResourceId"]),
        carrier=str(tracking.get("company") or ""),
        tracking_code=tracking.get("number") or None,
        tracking_url=tracking.get("url") or None,
        status=status,
        shipped_at=shipped_at,
        expected_date=local_date(fulfillment.get("estimatedDeliveryAt")),
        delivered_at=_utc(fulfillment.get("deliveredAt")),
    )


def _metafield_date(field: object, order_id: int) -> date | None:
    """A date metafield's value ("2025-11-28"; a date_time's day as written)."""
    value = field.get("value") if isinstance(field, Mapping) else None
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        logger.warning("order %s has a promised-date metafield that is no date", order_id)
        return None


def _postcode(node: Mapping[str, Any]) -> str:
    for key in ("shippingAddress", "billingAddress"):
        address = node.get(key)
        if isinstance(address, Mapping) and address.get("zip"):
            return str(address["zip"])
    return ""


def _address(address: Mapping[str, Any]) -> str:
    town = " ".join(str(address.get(k) or "").strip() for k in ("zip", "city")).strip()
    parts = [str(address.get(k) or "").strip() for k in ("address1", "address2")] + [town]
    return ", ".join(part for part in parts if part)


def _location(fulfillment_order: Mapping[str, Any] | None) -> str | None:
    if fulfillment_order is None:
        return None
    location = fulfillment_order.get("assignedLocation") or {}
    return str(location.get("name") or "") or None


def _cents(amount: object) -> int:
    try:
        return int((Decimal(str(amount)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0


def _utc(value: object) -> datetime | None:
    moment = parse_time(value)
    return moment.replace(tzinfo=None) if moment else None
