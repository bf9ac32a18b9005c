"""The demo shop as a WooCommerce store: REST API v3 over real HTTP on 127.0.0.1.

Built on tests/shop_standins.py's WooCommerceStore (basic auth with the
consumer key and secret, injected 500s, the request log), it answers from the
seeded demo database, in the documented shapes
(https://woocommerce.github.io/woocommerce-rest-api-docs/, #orders,
#order-notes, #customers, #products; tests/fixtures/sources/woocommerce/):

  GET  /wp-json/wc/v3/orders/{id}              an order (404 woocommerce_rest_shop_order_invalid_id)
  GET  /wp-json/wc/v3/orders?customer=&search=&per_page=&page=   a list, X-WP-Total(Pages)
  PUT  /wp-json/wc/v3/orders/{id}  {"status": "cancelled"}       the demo shop cancels it
  GET  /wp-json/wc/v3/orders/{id}/notes        the notes, newest first
  POST /wp-json/wc/v3/orders/{id}/notes  {note, customer_note}   a note (201)
  GET  /wp-json/wc/v3/customers/{id}           a customer, or 404 woocommerce_rest_invalid_id
  GET  /wp-json/wc/v3/products/{id}            a product with its brands (WooCommerce 9.6+)

How the demo shop is shown (what a shop would have set up):
- statuses: placed -> pending, processing and ready_for_pickup -> processing
  (WooCommerce has no "ready for pickup"), changed -> on-hold, shipped ->
  completed, delivered and picked_up -> completed with the meta `_delivered_at`,
  cancelled -> cancelled;
- the promised dates in the metas `_promised_date` and `_original_promised_date`;
  the customer's language in WooCommerce Multilingual's order meta
  `wpml_language` (the customer has no language in WooCommerce);
- pickup as WooCommerce's own pickup: a shipping line `pickup_location` with
  the metas pickup_location and pickup_address;
- suppliers that are brands (Gazelle, Philips, Abus) as the product's brand,
  the wholesalers as the line meta `_supplier`; a line out of stock as the
  "Backordered" meta WooCommerce adds at checkout;
- parcels in the Shipment Tracking extension's `_wc_shipment_tracking_items`:
  a provider of the extension's own list (a slug, no link), or for the orders
  in `custom_providers` a custom provider with its link.

`number_offset` plays a shop with an order-number plugin: an order's id is its
number plus the offset, so GET /orders/{number} does not find it.
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.orders.model import Customer, Order, Shipment
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.sql.tables import OrderRow, ProductRow, SupplierRow
from tests.shop_standins import WooCommerceStore

SHOP_ZONE = ZoneInfo("Europe/Amsterdam")
BRANDS = {"Gazelle", "Philips", "Abus"}
WC_STATUS = {
    "placed": "pending",
    "processing": "processing",
    "changed": "on-hold",
    "shipped": "completed",
    "ready_for_pickup": "processing",
    "delivered": "completed",
    "picked_up": "completed",
    "cancelled": "cancelled",
}
STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
PROVIDER_SLUGS = {"PostNL": "postnl", "DHL": "dhl", "DPD": "dpd", "UPS": "ups", "GLS": "gls"}


class WooCommerceShop(WooCommerceStore):
    def __init__(
        self,
        orders: SqlOrderSystem,
        sessions: sessionmaker[Session],
        consumer_key: str = "ck_standin",
        consumer_secret: str = "cs_standin",
        number_offset: int = 0,
        custom_providers: frozenset[int] = frozenset({10004}),
    ) -> None:
        self.shop = orders
        self.sessions = sessions
        self.number_offset = number_offset
        self.custom_providers = custom_providers
        self.order_notes: dict[int, list[dict[str, Any]]] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self._ids = itertools.count(701)
        self._lock = threading.Lock()
        super().__init__(consumer_key, consumer_secret)

    def __enter__(self) -> WooCommerceShop:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- HTTP ----------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        shop = self
        base: Any = super()._handler()

        class Handler(base):
            def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
                self.write("PUT")

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.write("POST")

            def write(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?")[0]
                shop.writes.append((method, path, body))
                if shop.failures_left > 0:
                    shop.failures_left -= 1
                    return self.answer(500, {"code": "internal_server_error"})
                if not self.authorized():
                    return self.answer(
                        401,
                        {
                            "code": "woocommerce_rest_cannot_edit",
                            "message": "Sorry, you are not allowed to edit this resource.",
                            "data": {"status": 401},
                        },
                    )
                shop.write(self, method, path, body)

        return Handler

    def route(self, handler: Any, path: str, query: dict[str, list[str]]) -> None:
        parts = path.removeprefix("/wp-json/wc/v3/").strip("/").split("/")
        if parts == ["orders"]:
            return self.list_orders(handler, query)
        if parts[0] == "orders" and len(parts) in (2, 3) and parts[1].isdigit():
            order = self._order(int(parts[1]))
            if order is None:
                return handler.answer(404, _not_found("woocommerce_rest_shop_order_invalid_id"))
            if len(parts) == 2:
                return handler.answer(200, self.order_json(order))
            if parts[2] == "notes":
                notes = self.order_notes.get(order.id, [])
                return handler.answer(200, sorted(notes, key=lambda n: -int(n["id"])))
        if parts[0] == "customers" and len(parts) == 2 and parts[1].isdigit():
            customer = self.shop.get_customer(int(parts[1]))
            if customer is None:
                return handler.answer(404, _not_found("woocommerce_rest_invalid_id"))
            return handler.answer(200, self.customer_json(customer))
        if parts[0] == "products" and len(parts) == 2 and parts[1].isdigit():
            product = self._product(int(parts[1]))
            if product is None:
                return handler.answer(404, _not_found("woocommerce_rest_product_invalid_id"))
            return handler.answer(200, product)
        return handler.answer(404, _not_found("rest_no_route"))

    def list_orders(self, handler: Any, query: dict[str, list[str]]) -> None:
        per_page = int(query.get("per_page", ["10"])[0])
        page = int(query.get("page", ["1"])[0])
        if "customer" in query:
            found = self.shop.orders_for_customer(int(query["customer"][0]))
        else:
            found = [o for o in (self.shop.get_order(n) for n in self._numbers()) if o]
            found.sort(key=lambda order: order.placed_at, reverse=True)
        if "search" in query:
            # WooCommerce searches addresses, items and the number (an
            # order-number plugin hooks its own number into the search).
            words = query["search"][0]
            found = [o for o in found if words in str(o.id) or words in o.address]
        chunk = found[(page - 1) * per_page : page * per_page]
        pages = max(1, -(-len(found) // per_page))
        handler.answer(
            200,
            [self.order_json(order) for order in chunk],
            {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)},
        )

    def write(self, handler: Any, method: str, path: str, body: dict[str, Any]) -> None:
        parts = path.removeprefix("/wp-json/wc/v3/").strip("/").split("/")
        order = (
            self._order(int(parts[1]))
            if len(parts) >= 2 and parts[0] == "orders" and parts[1].isdigit()
            else None
        )
        if order is None:
            return handler.answer(404, _not_found("woocommerce_rest_shop_order_invalid_id"))
        if method == "PUT" and len(parts) == 2:
            if body.get("status") == "cancelled" and order.status != "cancelled":
                # WooCommerce would cancel any order; the demo shop cancels only
                # what has not shipped, and this stand-in cannot show more.
                if not self.shop.cancel_order(order.id, "cancelled over the REST API"):
                    return handler.answer(
                        409, {"code": "standin_cannot_cancel", "data": {"status": 409}}
                    )
                was = STATUS_LABELS[WC_STATUS[order.status]]
                self._add_note(order.id, f"Order status changed from {was} to Cancelled.", False)
            updated = self.shop.get_order(order.id)
            return handler.answer(200, self.order_json(updated or order))
        if method == "POST" and parts[2:] == ["notes"]:
            if not str(body.get("note") or "").strip():
                return handler.answer(
                    400,
                    {
                        "code": "woocommerce_rest_missing_note",
                        "message": "Cannot create order note, please provide a note.",
                        "data": {"status": 400},
                    },
                )
            note = self._add_note(order.id, str(body["note"]), bool(body.get("customer_note")))
            return handler.answer(201, note)
        return handler.answer(404, _not_found("rest_no_route"))

    # --- the demo shop in WooCommerce's shapes -------------------------------

    def order_json(self, order: Order) -> dict[str, Any]:
        customer = self.shop.get_customer(order.customer_id)
        status = WC_STATUS[order.status]
        first, last = _split_name(customer.name if customer else "")
        home = _address(order.address, order.postcode)
        billing = {
            "first_name": first,
            "last_name": last,
            "company": "",
            **home,
            "state": "",
            "country": "NL",
            "email": order.email,
            "phone": "",
        }
        if order.fulfilment == "pickup":
            store, _, street = (order.pickup_location or "").partition(", ")
            shipping = {**billing, "address_1": street, "postcode": "", "city": "Utrecht"}
            shipping_line = {
                "id": 9000 + order.id % 1000,
                "method_title": "Ophalen in de winkel",
                "method_id": "pickup_location",
                "instance_id": "0",
                "total": "0.00",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [
                    _meta(1, "pickup_location", store),
                    _meta(2, "pickup_address", street),
                ],
            }
        else:
            shipping = dict(billing)
            shipping_line = {
                "id": 9000 + order.id % 1000,
                "method_title": "Verzending",
                "method_id": "flat_rate",
                "instance_id": "1",
                "total": "0.00",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        shipping.pop("email", None)
        meta = [
            _meta(11, "_promised_date", _iso(order.promised_date)),
            _meta(12, "_original_promised_date", _iso(order.original_promised_date)),
            _meta(13, "wpml_language", customer.language if customer else "nl"),
        ]
        if order.delivered_at is not None:
            meta.append(_meta(14, "_delivered_at", order.delivered_at.isoformat()))
        if order.shipments:
            items = [self._tracking_item(order, s) for s in order.shipments]
            meta.append(_meta(15, "_wc_shipment_tracking_items", items))
        shipped = [s.shipped_at for s in order.shipments if s.shipped_at]
        completed = max(shipped) if status == "completed" and shipped else None
        wc_id = order.id + self.number_offset
        return {
            "id": wc_id,
            "parent_id": 0,
            "number": str(order.id),
            "order_key": f"wc_order_{order.id}standin",
            "created_via": "checkout",
            "version": "9.6.0",
            "status": status,
            "currency": order.currency,
            **_dates("date_created", order.placed_at),
            **_dates("date_modified", order.placed_at),
            "discount_total": "0.00",
            "shipping_total": "0.00",
            "total": f"{order.total_cents / 100:.2f}",
            "total_tax": "0.00",
            "prices_include_tax": True,
            "customer_id": order.customer_id,
            "customer_note": "",
            "billing": billing,
            "shipping": shipping,
            "payment_method": "mollie_wc_gateway_ideal",
            "payment_method_title": "iDEAL",
            **_dates("date_completed", completed),
            "meta_data": meta,
            "line_items": [self._line_item(order, index) for index in range(len(order.lines))],
            "tax_lines": [],
            "shipping_lines": [shipping_line],
            "fee_lines": [],
            "coupon_lines": [],
            "refunds": [],
            "_links": {"self": [{"href": f"{self.url}/wp-json/wc/v3/orders/{wc_id}"}]},
        }

    def customer_json(self, customer: Customer) -> dict[str, Any]:
        first, last = _split_name(customer.name)
        address = {
            "first_name": first,
            "last_name": last,
            "company": "",
            "address_1": "",
            "address_2": "",
            "city": "",
            "postcode": customer.postcode,
            "state": "",
            "country": "NL",
        }
        return {
            "id": customer.id,
            **_dates("date_created", datetime(2024, 3, 1, 10, 0)),
            "email": customer.email,
            "first_name": first,
            "last_name": last,
            "role": "customer",
            "username": customer.email.split("@")[0],
            "billing": {**address, "email": customer.email, "phone": ""},
            "shipping": {**address, "phone": ""},
            "is_paying_customer": True,
            "avatar_url": "",
            "meta_data": [],
        }

    def _line_item(self, order: Order, index: int) -> dict[str, Any]:
        line = order.lines[index]
        products = self._products()
        product_id, supplier = products.get(line.sku, (0, None))
        meta = []
        if supplier and supplier not in BRANDS:
            meta.append(_meta(21, "_supplier", supplier))
        if line.status == "out_of_stock":
            meta.append(_meta(22, "Backordered", line.quantity))
        return {
            "id": line.id,
            "name": line.product_name,
            "product_id": product_id,
            "variation_id": 0,
            "quantity": line.quantity,
            "tax_class": "",
            "subtotal": "0.00",
            "total": "0.00",
            "taxes": [],
            "meta_data": meta,
            "sku": line.sku,
            "price": 0,
            "parent_name": None,
        }

    def _tracking_item(self, order: Order, shipment: Shipment) -> dict[str, Any]:
        shipped = shipment.shipped_at or order.placed_at
        custom = order.id in self.custom_providers or shipment.carrier not in PROVIDER_SLUGS
        link = ""
        if custom and shipment.tracking_url and shipment.tracking_code:
            link = shipment.tracking_url.replace(shipment.tracking_code, "%1$s")
        return {
            "tracking_provider": "" if custom else PROVIDER_SLUGS[shipment.carrier],
            "custom_tracking_provider": shipment.carrier if custom else "",
            "custom_tracking_link": link,
            "tracking_number": shipment.tracking_code or "",
            "date_shipped": str(int(shipped.replace(tzinfo=timezone.utc).timestamp())),
            "tracking_id": f"{shipment.id:032x}",
        }

    def _product(self, product_id: int) -> dict[str, Any] | None:
        for sku, (found_id, supplier) in self._products().items():
            if found_id == product_id:
                brands = [{"id": 40 + found_id, "name": supplier, "slug": str(supplier).lower()}]
                return {
                    "id": found_id,
                    "sku": sku,
                    "type": "simple",
                    "status": "publish",
                    "brands": brands if supplier in BRANDS else [],
                }
        return None

    def _products(self) -> dict[str, tuple[int, str | None]]:
        with self.sessions() as session:
            rows = session.execute(
                select(ProductRow.sku, ProductRow.id, SupplierRow.name).outerjoin(
                    SupplierRow, ProductRow.supplier_id == SupplierRow.id
                )
            ).all()
        return {sku: (int(product_id), supplier) for sku, product_id, supplier in rows}

    def _numbers(self) -> list[int]:
        with self.sessions() as session:
            return [int(n) for n in session.execute(select(OrderRow.id)).scalars()]

    def _order(self, wc_id: int) -> Order | None:
        return self.shop.get_order(wc_id - self.number_offset)

    def _add_note(self, number: int, text: str, to_customer: bool) -> dict[str, Any]:
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        with self._lock:
            note = {
                "id": next(self._ids),
                "author": "WooCommerce",
                **_dates("date_created", now),
                "note": text,
                "customer_note": to_customer,
            }
            self.order_notes.setdefault(number, []).append(note)
        return note


def _not_found(code: str) -> dict[str, Any]:
    return {"code": code, "message": "Invalid ID.", "data": {"status": 404}}


def _meta(meta_id: int, key: str, value: Any) -> dict[str, Any]:
    return {"id": meta_id, "key": key, "value": value}


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _dates(name: str, utc_naive: datetime | None) -> dict[str, str | None]:
    """WooCommerce's pair: the shop's local time and `_gmt`, both without offset."""
    if utc_naive is None:
        return {name: None, f"{name}_gmt": None}
    local = utc_naive.replace(tzinfo=timezone.utc).astimezone(SHOP_ZONE).replace(tzinfo=None)
    return {
        name: local.isoformat(timespec="seconds"),
        f"{name}_gmt": utc_naive.isoformat(timespec="seconds"),
    }


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first, last


def _address(one_line: str, postcode: str) -> dict[str, str]:
    """ "Lange Nieuwstraat 12, 3511 AB Utrecht" -> WooCommerce's address fields."""
    street, _, town = one_line.partition(", ")
    city = town.removeprefix(postcode).strip() if postcode and town.startswith(postcode) else town
    return {"address_1": street, "address_2": "", "city": city, "postcode": postcode}
