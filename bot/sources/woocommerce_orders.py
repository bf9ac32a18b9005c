"""A WooCommerce store as the assistant's order system (REST API v3, basic auth).

A shop on WooCommerce needs no order database of its own: customers and
orders are read from `{store}/wp-json/wc/v3` with the shop's API keys
(Read/Write: the two writes below), and RememberingOrders lays the
assistant's own memory (change log, told marker) over them, so `events` is
always () here.

Ids. An order is the number customers see (`number`, digits only). WooCommerce's
own numbers are its ids: GET /orders/{number}, and the answer's `number` must
be that number. When it is not (404, or another order: a shop with an
order-number plugin such as Sequential Order Numbers), GET
/orders?search={number} and take the order whose `number` is exactly it. A
number with letters ("WC-2025-17") is never matched. A customer is
WooCommerce's customer id (the WordPress user id); a guest's orders have
customer_id 0 and no customer.

How an order maps (status is WooCommerce's `status`):

  status       pending, on-hold -> "changed" when the promised date moved (the
               two date metas differ), else "placed"; processing -> processing;
               completed -> "shipped", or "delivered" / "picked_up" when the
               meta `_delivered_at` says when it arrived; cancelled, refunded,
               failed -> cancelled. A status of a plugin's own reads as
               "processing" (open, not known to be sent) and is never cancelled
               here. WooCommerce has no "ready for pickup": never returned.
  fulfilment   "pickup" when a shipping line's method_id is local_pickup or
               pickup_location (WooCommerce's own pickup), else "delivery";
               pickup_location from that line's meta pickup_location and
               pickup_address, else its method_title.
  dates        promised_date / original_promised_date from the order metas
               named by `promised_date_meta` / `original_date_meta` (defaults
               `_promised_date`, `_original_promised_date`; an ISO date or a
               Unix time): WooCommerce has no delivery date of its own, so
               without them both are None. delivered_at from `_delivered_at`
               (ISO 8601, UTC when it has no offset, or a Unix time).
               placed_at is date_created_gmt. All times are naive UTC, as the
               rest of the assistant keeps them.
  customer     postcode shipping.postcode (billing.postcode for pickup or when
               empty), email billing.email, address the shipping address
               (billing for pickup), total `total` in cents, `currency`.
  lines        name, sku, quantity; supplier the line's meta `_supplier`, else
               the product's first brand (GET /products/{id}, WooCommerce
               Brands, 9.6+), else None; status "out_of_stock" while the order
               is open and WooCommerce marked the line "Backordered" at checkout
               (the meta it adds), else "ok". Whether a line was replaced or
               cancelled WooCommerce cannot say: never returned.
  shipments    one per item of the Shipment Tracking extension's meta
               `_wc_shipment_tracking_items` (read as bot.sources.woocommerce
               reads it for the webhooks): carrier, tracking number, the link
               for a custom provider only (the extension builds the links of
               its own providers when it shows them; the meta has none),
               shipped_at from date_shipped; status "preparing" before the
               order is completed, "in_transit" after, "delivered" with the
               order's `_delivered_at`, "cancelled" with the order. No expected
               date: the extension has none.
  language     a customer's language is not WooCommerce's: the meta
               `wpml_language` (WooCommerce Multilingual writes it on every
               order; read from the customer's meta, else their newest order),
               else `default_language`.

Writes. cancel_order: only while pending, processing or on-hold: PUT
/orders/{id} {"status": "cancelled"} and a private order note that the
customer cancelled in the chat (WooCommerce restocks the items but refunds
nothing by itself: the note asks staff to refund a paid order).
request_follow_up: a private note "assistant follow-up: <topic>", posted once
per order and topic (the notes are read first); its id is the note's id.

Timeouts, retries and errors are handled in `_request` only: GET and PUT
(safe to repeat) are retried on connection errors and 5xx; a POST (a note) is
never retried, so a note is not posted twice. Refused keys (401/403), any
other error and answers that are not JSON are OrderSystemUnavailable, logged
with the path (ids only) and the status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

import requests

from bot.orders.matching import order_matches
from bot.orders.model import Customer, Order, OrderLine, Shipment
from bot.orders.system import OrderSystemUnavailable
from bot.sources.woocommerce import _cents, _gmt, _order_number, _shipment, _tracking_items

logger = logging.getLogger(__name__)

API_PATH = "/wp-json/wc/v3"
PAGE_SIZE = 100  # the REST API's largest page

# WooCommerce statuses a customer may still cancel (not sent yet).
CANCELLABLE = ("pending", "processing", "on-hold")
_NOT_STARTED = ("pending", "on-hold")
_CANCELLED = ("cancelled", "refunded", "failed")
PICKUP_METHODS = ("local_pickup", "pickup_location")

DELIVERED_AT_META = "_delivered_at"
SUPPLIER_META = "_supplier"
# WooCommerce adds this line meta (its English word; the filter
# woocommerce_backordered_item_meta_name may rename it) at checkout when more
# was ordered than was in stock.
BACKORDERED_META = "Backordered"
# WooCommerce Multilingual's order language (WCML_Orders::KEY_LANGUAGE).
LANGUAGE_META = "wpml_language"

FOLLOW_UP_NOTE = "assistant follow-up: {topic}"
CANCEL_NOTE = (
    "The customer cancelled this order in the chat with the order assistant "
    '("{reason}"). WooCommerce refunds nothing by itself: refund it if it was paid.'
)


class WooCommerceOrderSystem:
    """The OrderSystem of one WooCommerce store (see the module docstring)."""

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        promised_date_meta: str = "_promised_date",
        original_date_meta: str = "_original_promised_date",
        timeout: float = 5.0,
        retries: int = 2,
        session: requests.Session | None = None,
        default_language: str = "nl",
        retry_pause: float = 0.3,
    ) -> None:
        if not store_url or not consumer_key or not consumer_secret:
            raise ValueError(
                "WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY and WOOCOMMERCE_CONSUMER_SECRET "
                "are required when ORDER_SYSTEM=woocommerce"
            )
        self.base_url = store_url.rstrip("/") + API_PATH
        self.promised_date_meta = promised_date_meta
        self.original_date_meta = original_date_meta
        self.timeout = timeout
        self.retries = retries
        self.default_language = default_language
        self.retry_pause = retry_pause
        self._auth = (consumer_key, consumer_secret)
        self._session = session

    # --- the OrderSystem -----------------------------------------------------

    def get_customer(self, customer_id: int) -> Customer | None:
        if customer_id <= 0:
            return None  # 0 is a guest: WooCommerce has no customer for it
        data = self._json("GET", f"/customers/{customer_id}")
        if data is None:
            return None
        language = _language(data) or self._language_of_newest_order(customer_id)
        return self._parse(_customer, data, language or self.default_language)

    def get_order(self, order_id: int) -> Order | None:
        data = self._find_order(order_id)
        return self._order(data) if data is not None else None

    def orders_for_customer(self, customer_id: int) -> list[Order]:
        if customer_id <= 0:
            return []
        return [self._order(data) for data in self._customer_orders(customer_id)]

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        data = self._find_order(order_id)
        if data is None:
            return False
        billing, shipping = _address(data, "billing"), _address(data, "shipping")
        order_email = str(billing.get("email") or "")
        return any(
            order_matches(str(code or ""), order_email, postcode, email)
            for code in (shipping.get("postcode"), billing.get("postcode"))
        )

    def cancel_order(self, order_id: int, reason: str) -> bool:
        data = self._find_order(order_id)
        if data is None or data.get("status") not in CANCELLABLE:
            return False
        wc_id = int(data["id"])
        answer = self._json("PUT", f"/orders/{wc_id}", body={"status": "cancelled"})
        if not isinstance(answer, dict) or answer.get("status") != "cancelled":
            logger.warning("woocommerce order %s was not cancelled", wc_id)
            raise OrderSystemUnavailable("woocommerce did not cancel the order")
        try:
            self._add_note(wc_id, CANCEL_NOTE.format(reason=reason))
        except OrderSystemUnavailable:
            # The order is cancelled; only the shop's note of why is missing.
            logger.warning("woocommerce order %s cancelled without its note", wc_id)
        return True

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        data = self._find_order(order_id)
        if data is None:
            raise OrderSystemUnavailable("woocommerce has no such order for a follow-up")
        wc_id = int(data["id"])
        text = FOLLOW_UP_NOTE.format(topic=topic)
        notes = self._json("GET", f"/orders/{wc_id}/notes") or []
        if not isinstance(notes, list):
            raise OrderSystemUnavailable("woocommerce sent no list of notes")
        for note in notes:
            if isinstance(note, dict) and str(note.get("note") or "").strip() == text:
                return int(note["id"])
        return self._add_note(wc_id, text)

    # --- reading -------------------------------------------------------------

    def _find_order(self, number: int) -> dict[str, Any] | None:
        """The order customers know by `number` (see the module docstring)."""
        wanted = str(number)
        data = self._json("GET", f"/orders/{number}")
        if isinstance(data, dict) and _order_number(data.get("number")) == wanted:
            return data
        found = self._json("GET", "/orders", params={"search": wanted, "per_page": PAGE_SIZE})
        if not isinstance(found, list):
            raise OrderSystemUnavailable("woocommerce sent no list of orders")
        return next(
            (
                item
                for item in found
                if isinstance(item, dict) and _order_number(item.get("number")) == wanted
            ),
            None,
        )

    def _customer_orders(self, customer_id: int) -> list[dict[str, Any]]:
        """All of a customer's orders, newest first (the API's default order)."""
        orders: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self._request(
                "GET",
                "/orders",
                params={"customer": customer_id, "per_page": PAGE_SIZE, "page": page},
            )
            items = _decoded(answer, "/orders") if answer is not None else []
            if not isinstance(items, list):
                raise OrderSystemUnavailable("woocommerce sent no list of orders")
            # Orders with a number of a plugin's own format are no order here.
            orders.extend(
                item
                for item in items
                if isinstance(item, dict) and _order_number(item.get("number"))
            )
            header = answer.headers.get("X-WP-TotalPages", "") if answer is not None else ""
            pages = int(header) if header.isdigit() else page
            page += 1
        return orders

    def _language_of_newest_order(self, customer_id: int) -> str | None:
        newest = self._json(
            "GET", "/orders", params={"customer": customer_id, "per_page": 1, "page": 1}
        )
        if isinstance(newest, list) and newest and isinstance(newest[0], dict):
            return _language(newest[0])
        return None

    def _order(self, data: dict[str, Any]) -> Order:
        brands: dict[int, str | None] = {}
        lines = [
            (line, self._supplier(line, brands))
            for line in data.get("line_items") or []
            if _is(line)
        ]
        return self._parse(self._order_from, data, lines)

    def _order_from(
        self, data: dict[str, Any], lines: list[tuple[dict[str, Any], str | None]]
    ) -> Order:
        meta = _meta(data.get("meta_data"))
        wc_status = str(data.get("status") or "")
        promised = _meta_date(meta.get(self.promised_date_meta))
        original = _meta_date(meta.get(self.original_date_meta))
        delivered_at = _meta_moment(meta.get(DELIVERED_AT_META))
        pickup = _pickup_line(data)
        fulfilment = "pickup" if pickup is not None else "delivery"
        status = _status(wc_status, promised, original, delivered_at, fulfilment)
        billing, shipping = _address(data, "billing"), _address(data, "shipping")
        home = billing if pickup is not None or not shipping.get("address_1") else shipping
        postcode = (None if pickup is not None else shipping.get("postcode")) or billing.get(
            "postcode"
        )
        placed = _gmt(data.get("date_created_gmt"))
        if placed is None:
            raise ValueError("an order without date_created_gmt")
        return Order(
            id=int(str(_order_number(data.get("number")))),
            customer_id=int(data.get("customer_id") or 0),
            status=status,
            fulfilment=fulfilment,
            placed_at=_naive(placed),
            promised_date=promised,
            original_promised_date=original,
            postcode=str(postcode or ""),
            email=str(billing.get("email") or ""),
            address=_one_line(home),
            pickup_location=_pickup_location(pickup) if pickup is not None else None,
            total_cents=_cents(data.get("total") or "0"),
            currency=str(data.get("currency") or "EUR"),
            delivered_at=delivered_at,
            lines=tuple(
                _line(line, supplier, open_order=wc_status in CANCELLABLE)
                for line, supplier in lines
            ),
            shipments=tuple(
                _shipment_of(index, item, status, delivered_at)
                for index, item in enumerate(_tracking_items(data), start=1)
            ),
        )

    def _supplier(self, line: dict[str, Any], brands: dict[int, str | None]) -> str | None:
        """The line's meta `_supplier`, else the product's first brand, else None."""
        named = _meta(line.get("meta_data")).get(SUPPLIER_META)
        if isinstance(named, str) and named.strip():
            return named.strip()
        product_id = line.get("product_id")
        if not isinstance(product_id, int) or product_id <= 0:
            return None  # a deleted product
        if product_id not in brands:
            product = self._json("GET", f"/products/{product_id}")
            found = product.get("brands") if isinstance(product, dict) else None
            names = [
                str(brand.get("name")).strip()
                for brand in found or []
                if isinstance(brand, dict) and str(brand.get("name") or "").strip()
            ]
            brands[product_id] = names[0] if names else None
        return brands[product_id]

    # --- writing -------------------------------------------------------------

    def _add_note(self, wc_id: int, text: str) -> int:
        """A private note (never mailed to the customer); its id."""
        note = self._json(
            "POST", f"/orders/{wc_id}/notes", body={"note": text, "customer_note": False}
        )
        if not isinstance(note, dict) or not isinstance(note.get("id"), int):
            raise OrderSystemUnavailable("woocommerce did not record the note")
        return int(note["id"])

    # --- HTTP ----------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """JSON of a 2xx answer, None for 404."""
        response = self._request(method, path, params=params, body=body)
        return None if response is None else _decoded(response, path)

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        body: dict[str, Any] | None = None,
    ) -> requests.Response | None:
        """{store}/wp-json/wc/v3{path}: the answer, None for 404; GET and PUT
        retried on connection errors and 5xx; OrderSystemUnavailable when it
        still fails, the keys are refused or the store answers another error."""
        if self._session is None:
            self._session = requests.Session()  # made on first use, never at import
        attempts = self.retries + 1 if method in ("GET", "PUT") else 1
        for attempt in range(attempts):
            last_try = attempt == attempts - 1
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    auth=self._auth,
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                logger.warning("woocommerce %s %s failed: %s", method, path, type(error).__name__)
                if last_try:
                    raise OrderSystemUnavailable(
                        f"woocommerce unreachable: {type(error).__name__}"
                    ) from error
                time.sleep(self.retry_pause * (attempt + 1))
                continue
            if response.status_code >= 500 and not last_try:
                logger.warning("woocommerce %s %s answered %s", method, path, response.status_code)
                time.sleep(self.retry_pause * (attempt + 1))
                continue
            return _checked(response, method, path)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _parse(self, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            logger.warning("woocommerce sent an unreadable record: %s", type(error).__name__)
            raise OrderSystemUnavailable("woocommerce sent an unreadable record") from error


def _checked(response: requests.Response, method: str, path: str) -> requests.Response | None:
    if response.status_code == 404:
        return None
    if response.status_code in (401, 403):
        # Wrong keys, or keys without the permission: the shop must fix them.
        logger.error(
            "woocommerce %s %s refused the API keys (%s)", method, path, response.status_code
        )
        raise OrderSystemUnavailable(f"woocommerce refused the API keys: {response.status_code}")
    if not response.ok:
        logger.warning("woocommerce %s %s answered %s", method, path, response.status_code)
        raise OrderSystemUnavailable(f"woocommerce answered {response.status_code}")
    return response


def _decoded(response: requests.Response, path: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        logger.warning("woocommerce %s sent no JSON", path)
        raise OrderSystemUnavailable("woocommerce sent no JSON") from error


# --- mapping -----------------------------------------------------------------


def _status(
    wc_status: str,
    promised: date | None,
    original: date | None,
    delivered_at: datetime | None,
    fulfilment: str,
) -> str:
    if wc_status in _NOT_STARTED:
        moved = promised is not None and original is not None and promised != original
        return "changed" if moved else "placed"
    if wc_status == "completed":
        if delivered_at is None:
            return "shipped"
        return "picked_up" if fulfilment == "pickup" else "delivered"
    if wc_status in _CANCELLED:
        return "cancelled"
    return "processing"  # processing, and any status of a plugin's own


def _customer(data: dict[str, Any], language: str) -> Customer:
    billing, shipping = _address(data, "billing"), _address(data, "shipping")
    name = " ".join(
        part
        for part in (str(data.get("first_name") or ""), str(data.get("last_name") or ""))
        if part
    )
    return Customer(
        id=int(data["id"]),
        name=name or str(billing.get("first_name") or ""),
        email=str(data.get("email") or billing.get("email") or ""),
        postcode=str(billing.get("postcode") or shipping.get("postcode") or ""),
        language=language,
    )


def _language(data: Mapping[str, Any]) -> str | None:
    """The two letters of `wpml_language` ("en", "en_US", "nl-NL"), or None."""
    value = _meta(data.get("meta_data")).get(LANGUAGE_META)
    code = str(value or "").strip().lower()[:2]
    return code if len(code) == 2 and code.isalpha() else None


def _line(line: dict[str, Any], supplier: str | None, open_order: bool) -> OrderLine:
    backordered = _meta(line.get("meta_data")).get(BACKORDERED_META)
    short = open_order and _positive(backordered)
    return OrderLine(
        id=int(line["id"]),
        product_name=str(line.get("name") or ""),
        sku=str(line.get("sku") or ""),
        supplier_name=supplier,
        quantity=int(line.get("quantity") or 0),
        status="out_of_stock" if short else "ok",
    )


def _shipment_of(
    index: int, item: dict[str, Any], status: str, delivered_at: datetime | None
) -> Shipment:
    info = _shipment(item)
    if status in ("delivered", "picked_up"):
        parcel = "delivered"
    elif status == "shipped":
        parcel = "in_transit"
    elif status == "cancelled":
        parcel = "cancelled"
    else:
        parcel = "preparing"  # a label is made, the order is not completed yet
    return Shipment(
        id=index,  # the extension's tracking_id is a hash; its place is stable
        carrier=info.carrier or "",
        tracking_code=info.tracking_code,
        # The extension's own providers have no link in the meta (it builds it
        # when it shows one); a custom provider's link comes with its number.
        tracking_url=info.tracking_url,
        status=parcel,
        shipped_at=_meta_moment(item.get("date_shipped")),
        expected_date=None,
        delivered_at=delivered_at if parcel == "delivered" else None,
    )


def _pickup_line(data: Mapping[str, Any]) -> dict[str, Any] | None:
    for line in data.get("shipping_lines") or []:
        if _is(line) and str(line.get("method_id") or "") in PICKUP_METHODS:
            return line
    return None


def _pickup_location(line: dict[str, Any]) -> str | None:
    meta = _meta(line.get("meta_data"))
    parts = [str(meta.get(key) or "").strip() for key in ("pickup_location", "pickup_address")]
    named = ", ".join(part for part in parts if part)
    return named or str(line.get("method_title") or "").strip() or None


def _address(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    value = data.get(kind)
    return value if isinstance(value, dict) else {}


def _one_line(address: Mapping[str, Any]) -> str:
    """ "Lange Nieuwstraat 12, 3511 AB Utrecht" """
    town = " ".join(
        str(address.get(key) or "").strip() for key in ("postcode", "city") if address.get(key)
    )
    parts = [
        str(address.get("address_1") or "").strip(),
        str(address.get("address_2") or "").strip(),
    ]
    return ", ".join(part for part in [*parts, town] if part)


def _meta(items: object) -> dict[str, Any]:
    """meta_data as key -> value (the first of a key, as get_meta does)."""
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            found.setdefault(item["key"], item.get("value"))
    return found


def _meta_date(value: object) -> date | None:
    """An ISO date ("2025-12-01", or the date of an ISO time) or a Unix time."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return datetime.fromtimestamp(int(value), tz=timezone.utc).date()
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        logger.info("woocommerce date meta is no date")
        return None


def _meta_moment(value: object) -> datetime | None:
    """An ISO 8601 time (UTC when it has no offset) or a Unix time, naive UTC."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return _naive(datetime.fromtimestamp(int(value), tz=timezone.utc))
    moment = _gmt(value)
    return _naive(moment) if moment is not None else None


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _positive(value: object) -> bool:
    try:
        return float(str(value)) > 0
    except ValueError:
        return False


def _is(value: object) -> bool:
    return isinstance(value, dict)
