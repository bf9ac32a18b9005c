"""The order system behind a shop's REST API (requests).

Contract (JSON, `Authorization: Bearer ORDER_API_KEY`):
  GET  /customers/{id}                      a customer, or 404
  GET  /customers/{id}/orders               a list of orders
  GET  /orders/{id}                         an order with lines and shipments, or 404
  POST /orders/{id}/verify   {postcode|email}   {"match": true|false}
  POST /orders/{id}/cancel   {reason}           {"cancelled": true|false} (false: shipped)
  POST /follow-up-requests   {order_id, customer_id, topic, event_id}   {"id": N}
Timeouts, retries and errors are handled in `_request` only.

The shop tells what changed and why through the intake API (POST
/api/v1/orders/{id}/events, after it changed the order in its own system):
that change log, what each customer was told, deadlines and compensations are
the assistant's own (bot/memory/), keyed by the shop's ids; an order's
`events` in this API's answers are not read.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.orders.model import Customer, Order
from bot.orders.serialization import customer_from_json, order_from_json
from bot.orders.system import OrderSystemUnavailable

logger = logging.getLogger(__name__)

RETRY_STATUSES = (500, 502, 503, 504)


class HttpOrderSystem:
    def __init__(
        self, base_url: str, api_key: str = "", timeout: float = 3.0, retries: int = 2
    ) -> None:
        if not base_url:
            raise ValueError("ORDER_API_URL is required when ORDER_SYSTEM=http")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.2,
            status_forcelist=RETRY_STATUSES,
            # Every call of this contract is safe to repeat (reads, or writes
            # the API deduplicates), so POSTs are retried as well.
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """JSON of a 2xx answer, None for 404; OrderSystemUnavailable for the rest."""
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            logger.warning("order API %s %s failed: %s", method, path, type(error).__name__)
            raise OrderSystemUnavailable(
                f"order API unreachable: {type(error).__name__}"
            ) from error
        if response.status_code == 404:
            return None
        if not response.ok:
            logger.warning("order API %s %s answered %s", method, path, response.status_code)
            raise OrderSystemUnavailable(f"order API answered {response.status_code}")
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            logger.warning("order API %s %s sent no JSON", method, path)
            raise OrderSystemUnavailable("order API sent no JSON") from error

    def _parse(self, parse: Any, data: Any) -> Any:
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("order API sent an unreadable record: %s", type(error).__name__)
            raise OrderSystemUnavailable("order API sent an unreadable record") from error

    def get_customer(self, customer_id: int) -> Customer | None:
        data = self._request("GET", f"/customers/{customer_id}")
        return self._parse(customer_from_json, data) if data else None

    def get_order(self, order_id: int) -> Order | None:
        data = self._request("GET", f"/orders/{order_id}")
        return self._parse(order_from_json, data) if data else None

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        data = self._request("GET", f"/customers/{customer_id}/orders") or []
        if not isinstance(data, list):
            raise OrderSystemUnavailable("order API sent no list of orders")
        return [self._parse(order_from_json, item) for item in data]

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        data = self._request(
            "POST", f"/orders/{order_id}/verify", {"postcode": postcode, "email": email}
        )
        return bool(data and data.get("match") is True)

    def cancel_order(self, order_id: int, reason: str) -> bool:
        data = self._request("POST", f"/orders/{order_id}/cancel", {"reason": reason})
        return bool(data and data.get("cancelled") is True)

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        data = self._request(
            "POST",
            "/follow-up-requests",
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "topic": topic,
                "event_id": event_id,
            },
        )
        if not data or "id" not in data:
            raise OrderSystemUnavailable("order API did not record the follow-up request")
        return int(data["id"])
