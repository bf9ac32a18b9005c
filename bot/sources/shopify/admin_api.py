"""Shopify's GraphQL Admin API, for what a webhook does not say.

POST {base}/admin/api/{version}/graphql.json with `X-Shopify-Access-Token`
(an Admin API token of the shop's custom app). Used for: the number customers
see for an order id, the order behind a fulfillment hold, an order's lines
after an edit (their SKUs), and the orders changed since a time (reconcile).

Timeouts, retries and errors live in `_post` only: 2 retries on connection
errors, 5xx, 429 and GraphQL THROTTLED (after Retry-After or the wait the
throttle status asks for, capped), then SourceUnavailable. Logs carry ids,
HTTP statuses and error codes, never a name, address or note.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from bot.sources.change import SourceUnavailable
from bot.sources.shopify.mapping import LineItem, numeric_id, order_gid

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 5.0  # a worker waits, not a webhook: still, never for long
LINES_PAGE = 250  # Shopify's largest page; orders with more lines are rare

ORDER_NAME = "query OrderName($id: ID!) { order(id: $id) { id name } }"
FULFILLMENT_ORDER = (
    "query FulfillmentOrderOrder($id: ID!) { fulfillmentOrder(id: $id) { id order { id name } } }"
)
ORDER_LINES = (
    "query OrderLines($id: ID!, $first: Int!) { order(id: $id) { id name"
    " lineItems(first: $first) { nodes { id sku quantity currentQuantity } } } }"
)
ORDERS_SINCE = (
    "query OrdersSince($query: String!, $first: Int!, $after: String) {"
    " orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " nodes { id legacyResourceId name updatedAt cancelledAt cancelReason"
    " displayFulfillmentStatus fulfillments(first: 10) { createdAt status } }"
    " pageInfo { hasNextPage endCursor } } }"
)


@dataclass(frozen=True)
class OrderLines:
    order_number: str | None
    lines: dict[str, LineItem]  # by Shopify's numeric line item id


class AdminApi:
    def __init__(
        self,
        base_url: str,
        access_token: str,
        api_version: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        retry_wait: float = 1.0,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.access_token = access_token
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retries = retries
        self.retry_wait = retry_wait

    # --- the questions -------------------------------------------------------

    def order_name(self, order_id: str) -> str | None:
        """The order's `name` ("#10001"); None when Shopify has no such order."""
        data = self.query(ORDER_NAME, {"id": order_gid(order_id)})
        order = data.get("order")
        return order.get("name") if isinstance(order, Mapping) else None

    def order_of_fulfillment_order(self, fulfillment_order_id: str) -> tuple[str, str] | None:
        """(order id, order name) of a fulfillment order; None when unknown."""
        data = self.query(
            FULFILLMENT_ORDER, {"id": f"gid://shopify/FulfillmentOrder/{fulfillment_order_id}"}
        )
        fulfillment_order = data.get("fulfillmentOrder")
        if not isinstance(fulfillment_order, Mapping):
            return None
        order = fulfillment_order.get("order")
        if not isinstance(order, Mapping):
            return None
        order_id = numeric_id(order.get("id"), "Order")
        return (order_id, str(order.get("name") or "")) if order_id else None

    def order_lines(self, order_id: str) -> OrderLines | None:
        """The order's lines as they are now, by line item id."""
        data = self.query(ORDER_LINES, {"id": order_gid(order_id), "first": LINES_PAGE})
        order = data.get("order")
        if not isinstance(order, Mapping):
            return None
        nodes = (order.get("lineItems") or {}).get("nodes") or []
        lines = {}
        for node in nodes:
            line_id = numeric_id(node.get("id"), "LineItem")
            if line_id:
                lines[line_id] = LineItem(
                    sku=node.get("sku") or None,
                    current_quantity=int(node.get("currentQuantity") or 0),
                )
        name = order.get("name")
        return OrderLines(order_number=name if isinstance(name, str) else None, lines=lines)

    def orders_updated_since(self, since: datetime, page_size: int = 50) -> Iterator[Any]:
        """Every order updated after `since`, oldest change first, page by page."""
        moment = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        variables: dict[str, Any] = {"query": f"updated_at:>'{moment}'", "first": page_size}
        while True:
            orders = self.query(ORDERS_SINCE, variables).get("orders") or {}
            yield from orders.get("nodes") or []
            page = orders.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                return
            variables = {**variables, "after": page["endCursor"]}

    # --- the one place that talks HTTP ---------------------------------------------

    def query(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The `data` of a GraphQL answer; SourceUnavailable when there is none."""
        try:
            answer = self._post({"query": query, "variables": dict(variables)})
            data = answer.get("data")
            if not isinstance(data, dict):
                raise SourceUnavailable("Shopify Admin API answered without data")
            return data
        except (AttributeError, TypeError, ValueError) as error:
            # An answer of an unexpected shape: try the delivery again later.
            logger.warning("Shopify Admin API sent an unreadable answer: %s", type(error).__name__)
            raise SourceUnavailable("Shopify Admin API sent an unreadable answer") from error

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"X-Shopify-Access-Token": self.access_token, "Accept": "application/json"}
        failure = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.retry_wait, MAX_WAIT_SECONDS))
            try:
                response = self.session.post(
                    self.url, json=body, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as error:
                failure = type(error).__name__
                logger.warning("Shopify Admin API unreachable: %s", failure)
                continue
            if response.status_code in RETRY_STATUSES:
                failure = f"HTTP {response.status_code}"
                logger.warning("Shopify Admin API answered %s", response.status_code)
                self._wait_retry_after(response)
                continue
            if not response.ok:
                logger.warning("Shopify Admin API answered %s", response.status_code)
                raise SourceUnavailable(f"Shopify Admin API answered {response.status_code}")
            answer = response.json()
            if not isinstance(answer, dict):
                raise SourceUnavailable("Shopify Admin API answered no JSON object")
            codes = error_codes(answer)
            if "THROTTLED" in codes:
                failure = "THROTTLED"
                logger.info("Shopify Admin API throttled the query; waiting")
                time.sleep(throttle_wait(answer))
                continue
            if codes:
                logger.warning("Shopify Admin API errors: %s", ",".join(sorted(codes)))
                raise SourceUnavailable(f"Shopify Admin API errors: {','.join(sorted(codes))}")
            return answer
        raise SourceUnavailable(f"Shopify Admin API failed {self.retries + 1} times: {failure}")

    def _wait_retry_after(self, response: requests.Response) -> None:
        try:
            seconds = float(response.headers.get("Retry-After", "0"))
        except ValueError:
            return
        time.sleep(max(0.0, min(seconds, MAX_WAIT_SECONDS)))


def error_codes(answer: Mapping[str, Any]) -> set[str]:
    """The `extensions.code` of each GraphQL error ("UNKNOWN" when it has none)."""
    errors = answer.get("errors")
    if not errors:
        return set()
    if not isinstance(errors, list):
        return {"UNKNOWN"}
    codes = set()
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, Mapping) else None
        code = extensions.get("code") if isinstance(extensions, Mapping) else None
        codes.add(str(code) if code else "UNKNOWN")
    return codes


def throttle_wait(answer: Mapping[str, Any]) -> float:
    """Seconds until the bucket holds the query's cost again (Shopify sends
    the cost and restore rate with a THROTTLED answer), at most MAX_WAIT_SECONDS."""
    try:
        cost = answer["extensions"]["cost"]
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        seconds = missing / float(status["restoreRate"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        seconds = 1.0
    return max(0.0, min(seconds, MAX_WAIT_SECONDS))
