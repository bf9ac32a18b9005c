"""A stand-in of Shopify's GraphQL Admin API serving the demo shop, on 127.0.0.1.

POST /admin/api/{version}/graphql.json with X-Shopify-Access-Token, as
Shopify: a wrong token is 401 {"errors": "[API] Invalid API key or access
token ..."}, other paths 404. The query is parsed (operations, aliases,
arguments, variables; no fragments or directives) and answered with exactly
the fields it asks for, in the documented shapes of API version 2025-01
(Order, LineItem, FulfillmentOrder, Fulfillment, Customer, orderCancel,
tagsAdd, job); a field the stand-in does not know is an `undefinedField`
error, as Shopify answers for a field its schema lacks, so the adapter's
queries are checked against these shapes.

The data is the demo shop's (a seeded SqlOrderSystem and its tables):

  order           name "#<id>", legacyResourceId = id + 5_000_000_000 (Shopify's
                  own ids differ from the numbers customers see)
  dates           metafields custom.promised_date / custom.original_promised_date
  lines           LineItem: product name, sku, vendor = supplier; a cancelled
                  line has currentQuantity 0; out_of_stock lines wait in a
                  fulfillment order ON_HOLD with INVENTORY_OUT_OF_STOCK
  fulfilment      one fulfillment order per order, deliveryMethod PICK_UP at
                  the location named after the pickup store, else SHIPPING
  shipments       Fulfillment: trackingInfo, displayStatus from the parcel's
                  status, estimatedDeliveryAt, deliveredAt
  pickup handover ready_for_pickup / picked_up orders without a shipment get a
                  fulfillment READY_FOR_PICKUP / PICKED_UP without tracking

orderCancel applies SqlOrderSystem.cancel_order (Shopify refuses an order
already cancelled or fulfilled with an OrderCancelUserError) and, restocking,
leaves no current quantity; the job is done at once. tagsAdd adds to the
order's tags (a set: adding a tag twice keeps one), as Shopify does.
Failures: `fail_next` answers 500 that many times; `requests` records each
operation name.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.clock import utcnow
from bot.orders.model import Order
from bot.orders.sql.system import SqlOrderSystem

ORDER_ID_OFFSET = 5_000_000_000
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"

# The demo's parcel status -> Fulfillment.displayStatus (Shopify has no
# "returned" for a fulfillment: NOT_DELIVERED is the nearest it shows).
DISPLAY_STATUS = {
    "preparing": "LABEL_PRINTED",
    "in_transit": "IN_TRANSIT",
    "awaiting_pickup": "READY_FOR_PICKUP",
    "delivered": "DELIVERED",
    "exception": "DELAYED",
    "returned": "NOT_DELIVERED",
    "cancelled": "CANCELED",
}


# --- a small GraphQL reader -----------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:\\.|[^"\\])*")|(?P<comment>#[^\n]*)|(?P<number>-?\d+(?:\.\d+)?)'
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<punct>\.\.\.|[{}()\[\]:!$=@,]))"
)


class GraphQLError(Exception):
    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions = extensions


@dataclass
class Field:
    name: str
    alias: str | None
    args: dict[str, Any]
    children: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


def parse(query: str, variables: dict[str, Any]) -> tuple[str, str, list[Field]]:
    """(operation type, operation name, root fields) of one operation."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query.rstrip()):
        match = _TOKEN.match(query, position)
        if not match:
            raise GraphQLError(f"Parse error at {position}", "parseError")
        kind = match.lastgroup or ""
        if kind != "comment" and match.group(kind) != ",":
            tokens.append((kind, match.group(kind)))
        position = match.end()
    reader = _Reader(tokens, variables)
    return reader.operation()


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]], variables: dict[str, Any]) -> None:
        self.tokens, self.variables, self.at = tokens, variables, 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise GraphQLError("Unexpected end of document", "parseError")
        value = self.tokens[self.at][1]
        if expected is not None and value != expected:
            raise GraphQLError(f"Expected {expected}, found {value}", "parseError")
        self.at += 1
        return value

    def operation(self) -> tuple[str, str, list[Field]]:
        kind, name = "query", ""
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{"):
                name = self.take()
            if self.peek() == "(":  # variable definitions: the values come in `variables`
                depth = 0
                while True:
                    token = self.take()
                    depth += {"(": 1, ")": -1}.get(token, 0)
                    if depth == 0:
                        break
        return kind, name, self.selection_set()

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while self.peek() != "}":
            if self.peek() == "...":
                raise GraphQLError("Fragments are not served by this stand-in", "parseError")
            first = self.take()
            alias, name = (first, None) if self.peek() == ":" else (None, first)
            if name is None:
                self.take(":")
                name = self.take()
            args = self.arguments() if self.peek() == "(" else {}
            children = self.selection_set() if self.peek() == "{" else []
            fields.append(Field(name, alias, args, children))
        self.take("}")
        return fields

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        kind, token = self.tokens[self.at]
        if token == "$":
            self.take()
            return self.variables.get(self.take())
        if token == "[":
            self.take()
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        self.take()
        if kind == "string":
            return json.loads(token)
        if kind == "number":
            return Decimal(token) if "." in token else int(token)
        return {"true": True, "false": False, "null": None}.get(token, token)  # enum: its name


def resolve(value: Any, fields: list[Field], type_name: str, path: list[str]) -> Any:
    """Only the fields asked for; an unknown field is Shopify's undefinedField."""
    if value is None:
        return None
    if isinstance(value, list):
        return [resolve(item, fields, type_name, path) for item in value]
    answer = {}
    for f in fields:
        if f.name not in value:
            raise GraphQLError(
                f"Field '{f.name}' doesn't exist on type '{type_name}'",
                "undefinedField",
                typeName=type_name,
                fieldName=f.name,
            )
        found = value[f.name]
        if callable(found):
            try:
                found = found(**f.args)
            except TypeError as error:
                raise GraphQLError(
                    f"Field '{f.name}' got wrong arguments: {error}", "argumentLiteralsIncompatible"
                ) from error
        elif f.args:
            raise GraphQLError(f"Field '{f.name}' doesn't accept arguments", "argumentNotAccepted")
        child_type = found.get("__typename", f.name) if isinstance(found, dict) else f.name
        answer[f.key] = (
            resolve(found, f.children, child_type, [*path, f.key]) if f.children else found
        )
    return answer


# --- the shop ---------------------------------------------------------------------------


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def moment(value: datetime | None) -> str | None:
    """A stored naive-UTC time as Shopify writes DateTime."""
    return f"{value.replace(microsecond=0).isoformat()}Z" if value else None


def connection(items: list[dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def page(first: int, after: str | None = None) -> dict[str, Any]:
        start = int(after) if after else 0
        chosen = items[start : start + first]
        more = start + first < len(items)
        return {
            "nodes": chosen,
            "edges": [
                {"node": item, "cursor": str(start + i + 1)} for i, item in enumerate(chosen)
            ],
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
        }

    return page


class ShopifyAdminStandIn:
    """Serves a SqlOrderSystem (the seeded demo shop) as Shopify's Admin API."""

    def __init__(
        self, orders: SqlOrderSystem, access_token: str = "shpat_test", api_version: str = "2025-01"
    ) -> None:
        self.orders = orders
        self.access_token = access_token
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.tags: dict[int, set[str]] = {}
        self.cancelled: dict[int, tuple[datetime, str]] = {}  # when, the staff note
        self.fail_next = 0
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ShopifyAdminStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- GraphQL ----------------------------------------------------------------

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            kind, name, fields = parse(str(body.get("query") or ""), body.get("variables") or {})
            self.requests.append(name or kind)
            root = self._mutation_root() if kind == "mutation" else self._query_root()
            with self.lock:
                data = resolve(root, fields, "Mutation" if kind == "mutation" else "QueryRoot", [])
            return {"data": data, "extensions": self._cost()}
        except GraphQLError as error:
            return {
                "errors": [
                    {"message": str(error), "extensions": {"code": error.code, **error.extensions}}
                ]
            }

    def _cost(self) -> dict[str, Any]:
        status = {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}
        return {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10, "throttleStatus": status}}

    def _query_root(self) -> dict[str, Any]:
        return {
            "orders": self._orders,
            "order": lambda id: self._order_by_gid(id),  # noqa: A006 - GraphQL's name
            "customer": lambda id: self._customer(id),  # noqa: A006
            "job": lambda id: {"__typename": "Job", "id": id, "done": True},  # noqa: A006
        }

    def _mutation_root(self) -> dict[str, Any]:
        return {"orderCancel": self._order_cancel, "tagsAdd": self._tags_add}

    def _orders(
        self,
        first: int,
        after: str | None = None,
        query: str = "",
        sortKey: str = "ID",  # noqa: N803 - GraphQL's name
        reverse: bool = False,
    ) -> dict[str, Any]:
        if match := re.fullmatch(r"name:#?(\d+)", query):
            order = self.orders.get_order(int(match.group(1)))
            found = [order] if order else []
        elif match := re.fullmatch(r"customer_id:(\d+)", query):
            found = self.orders.orders_for_customer(int(match.group(1)))  # newest first
            if not (sortKey == "CREATED_AT" and reverse):
                found = sorted(found, key=lambda o: (o.placed_at, o.id))
        else:
            raise GraphQLError(f"Search syntax not served by this stand-in: {query}", "badQuery")
        return connection([self._order(order) for order in found])(first, after)

    def _order_by_gid(self, order_gid: str) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", order_gid)
        if not match:
            raise GraphQLError("Invalid global id", "argumentLiteralsIncompatible")
        order = self.orders.get_order(int(match.group(1)) - ORDER_ID_OFFSET)
        return self._order(order) if order else None

    def _order(self, order: Order) -> dict[str, Any]:
        shopify_id = order.id + ORDER_ID_OFFSET
        cancelled = self.cancelled.get(order.id)
        restocked = cancelled is not None
        lines = [
            {
                "__typename": "LineItem",
                "id": gid("LineItem", line.id),
                "name": line.product_name,
                "title": line.product_name,
                "sku": line.sku,
                "vendor": line.supplier_name,
                "quantity": line.quantity,
                "currentQuantity": 0 if restocked or line.status == "cancelled" else line.quantity,
            }
            for line in order.lines
        ]
        fulfillments = [
            {
                "__typename": "Fulfillment",
                "id": gid("Fulfillment", s.id),
                "legacyResourceId": str(s.id),
                "status": "CANCELLED" if s.status == "cancelled" else "SUCCESS",
                "displayStatus": "PICKED_UP"
                if s.status == "delivered" and order.status == "picked_up"
                else DISPLAY_STATUS[s.status],
                "createdAt": moment(s.shipped_at or order.placed_at),
                "inTransitAt": moment(s.shipped_at),
                "deliveredAt": moment(s.delivered_at),
                "estimatedDeliveryAt": f"{s.expected_date.isoformat()}T12:00:00+01:00"
                if s.expected_date
                else None,
                "trackingInfo": _tracking(s.carrier, s.tracking_code, s.tracking_url),
            }
            for s in order.shipments
        ]
        if order.status in ("ready_for_pickup", "picked_up") and not order.shipments:
            fulfillments.append(
                {
                    "__typename": "Fulfillment",
                    "id": gid("Fulfillment", shopify_id),
                    "legacyResourceId": str(shopify_id),
                    "status": "SUCCESS",
                    "displayStatus": order.status.upper(),
                    "createdAt": moment(order.placed_at),
                    "inTransitAt": None,
                    "deliveredAt": moment(order.delivered_at),
                    "estimatedDeliveryAt": None,
                    "trackingInfo": _tracking(None, None, None),
                }
            )
        live = [f for f in fulfillments if f["status"] != "CANCELLED"]
        held = [line for line in order.lines if line.status == "out_of_stock"]
        if live:
            display = "FULFILLED"
        elif order.status == "processing":
            display = "IN_PROGRESS"
        elif held and len(held) == len(order.lines):
            display = "ON_HOLD"
        else:
            display = "UNFULFILLED"
        address = _mailing_address(order.address, order.postcode)
        return {
            "__typename": "Order",
            "id": gid("Order", shopify_id),
            "legacyResourceId": str(shopify_id),
            "name": f"#{order.id}",
            "createdAt": moment(order.placed_at),
            "processedAt": moment(order.placed_at),
            "cancelledAt": moment(cancelled[0])
            if cancelled
            else (moment(order.placed_at) if order.status == "cancelled" else None),
            "cancelReason": "CUSTOMER" if order.status == "cancelled" else None,
            "displayFulfillmentStatus": display,
            "email": order.email,
            "tags": sorted(self.tags.get(order.id, set())),
            "customer": {"__typename": "Customer", "id": gid("Customer", order.customer_id)},
            # A pickup order has no shipping address in Shopify: the billing one has the postcode.
            "shippingAddress": None if order.fulfilment == "pickup" else address,
            "billingAddress": address,
            "currentTotalPriceSet": _money(order.total_cents, order.currency),
            "totalPriceSet": _money(order.total_cents, order.currency),
            "metafield": lambda key, namespace=None: self._metafield(order, key, namespace),
            "lineItems": connection(lines),
            "fulfillmentOrders": connection(self._fulfillment_orders(order, shopify_id, live)),
            "fulfillments": lambda first=None: fulfillments[:first],
        }

    def _metafield(self, order: Order, key: str, namespace: str | None) -> dict[str, Any] | None:
        full = f"{namespace}.{key}" if namespace else key
        value = {
            "custom.promised_date": order.promised_date,
            "custom.original_promised_date": order.original_promised_date,
        }.get(full)
        if value is None:
            return None
        space, _, name = full.partition(".")
        return {
            "__typename": "Metafield",
            "namespace": space,
            "key": name,
            "type": "date",
            "value": value.isoformat(),
        }

    def _fulfillment_orders(
        self, order: Order, shopify_id: int, live: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        pickup = order.fulfilment == "pickup"
        method = {"__typename": "DeliveryMethod", "methodType": "PICK_UP" if pickup else "SHIPPING"}
        location = {
            "__typename": "FulfillmentOrderAssignedLocation",
            "name": order.pickup_location if pickup else "Magazijn Utrecht",
        }

        def fulfillment_order(number: int, lines: list[int], status: str, holds: list[str]) -> Any:
            return {
                "__typename": "FulfillmentOrder",
                "id": gid("FulfillmentOrder", number),
                "status": status,
                "deliveryMethod": method,
                "assignedLocation": location,
                "fulfillmentHolds": [
                    {"__typename": "FulfillmentHold", "reason": reason} for reason in holds
                ],
                "lineItems": connection(
                    [
                        {
                            "__typename": "FulfillmentOrderLineItem",
                            "lineItem": {"__typename": "LineItem", "id": gid("LineItem", line)},
                        }
                        for line in lines
                    ]
                ),
            }

        if order.status == "cancelled":
            status = "CANCELLED"
        elif live:
            status = "CLOSED"
        else:
            status = "IN_PROGRESS" if order.status == "processing" else "OPEN"
        held = [line.id for line in order.lines if line.status == "out_of_stock"]
        rest = [line.id for line in order.lines if line.status != "out_of_stock"]
        orders = []
        if rest:
            orders.append(fulfillment_order(shopify_id, rest, status, []))
        if held:
            on_hold = "ON_HOLD" if status in ("OPEN", "IN_PROGRESS") else status
            orders.append(
                fulfillment_order(shopify_id + 1, held, on_hold, ["INVENTORY_OUT_OF_STOCK"])
            )
        return orders

    def _customer(self, customer_gid: str) -> dict[str, Any] | None:
        match = re.fullmatch(r"gid://shopify/Customer/(\d+)", customer_gid)
        if not match:
            raise GraphQLError("Invalid global id", "argumentLiteralsIncompatible")
        customer = self.orders.get_customer(int(match.group(1)))
        if customer is None:
            return None
        first, _, last = customer.name.partition(" ")
        return {
            "__typename": "Customer",
            "id": gid("Customer", customer.id),
            "legacyResourceId": str(customer.id),
            "firstName": first,
            "lastName": last,
            "displayName": customer.name,
            "email": customer.email,
            "locale": customer.language,
            "defaultAddress": {"__typename": "MailingAddress", "zip": customer.postcode},
        }

    # --- mutations -----------------------------------------------------------

    def _order_cancel(
        self,
        orderId: str,  # noqa: N803 - GraphQL's names
        reason: str,
        refund: bool,
        restock: bool,
        notifyCustomer: bool = False,  # noqa: N803
        staffNote: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        order_id = self._order_number(orderId)
        order = self.orders.get_order(order_id) if order_id else None
        problem = None
        if order is None:
            problem = ("NOT_FOUND", "Order does not exist")
        elif order.status == "cancelled":
            problem = ("INVALID", "Order has already been cancelled")
        elif not self.orders.cancel_order(order_id or 0, staffNote or ""):
            problem = ("INVALID", "Order has fulfillments and can't be cancelled")
        if problem:
            error = {"__typename": "OrderCancelUserError", "field": ["orderId"]}
            error |= {"code": problem[0], "message": problem[1]}
            return {
                "__typename": "OrderCancelPayload",
                "job": None,
                "orderCancelUserErrors": [error],
            }
        self.cancelled[order_id or 0] = (utcnow(), staffNote or "")
        job = {"__typename": "Job", "id": gid("Job", f"cancel-{orderId[-6:]}"), "done": True}
        return {"__typename": "OrderCancelPayload", "job": job, "orderCancelUserErrors": []}

    def _tags_add(self, id: str, tags: list[str]) -> dict[str, Any]:  # noqa: A002
        order_id = self._order_number(id)
        if order_id is None or self.orders.get_order(order_id) is None:
            error = {"__typename": "UserError", "field": ["id"], "message": "Resource not found"}
            return {"__typename": "TagsAddPayload", "node": None, "userErrors": [error]}
        self.tags.setdefault(order_id, set()).update(tag.strip() for tag in tags)
        return {"__typename": "TagsAddPayload", "node": {"id": id}, "userErrors": []}

    def _order_number(self, order_gid: str) -> int | None:
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", order_gid or "")
        return int(match.group(1)) - ORDER_ID_OFFSET if match else None

    def staff_note(self, order_id: int) -> str | None:
        found = self.cancelled.get(order_id)
        return found[1] if found else None

    # --- HTTP --------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != stand_in.path:
                    return self._send(404, {"errors": "Not Found"})
                with stand_in.lock:
                    failing = stand_in.fail_next > 0
                    stand_in.fail_next -= 1 if failing else 0
                if failing:
                    stand_in.requests.append("500")
                    return self._send(500, {"errors": "Internal Server Error"})
                if self.headers.get("X-Shopify-Access-Token") != stand_in.access_token:
                    stand_in.requests.append("401")
                    return self._send(401, {"errors": INVALID_TOKEN})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(400, {"errors": "Bad Request"})
                self._send(200, stand_in.execute(body))

            def _send(self, status: int, answer: Any) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler


def _tracking(
    company: str | None, number: str | None, url: str | None
) -> Callable[..., list[dict[str, Any]]]:
    """Fulfillment.trackingInfo(first:): a list, not a connection."""
    found = [
        {"__typename": "FulfillmentTrackingInfo", "company": company, "number": number, "url": url}
    ]
    return lambda first=None: found[:first] if (company or number) else []


def _money(cents: int, currency: str) -> dict[str, Any]:
    amount = f"{Decimal(cents) / 100:.2f}"
    bag = {"__typename": "MoneyV2", "amount": amount, "currencyCode": currency}
    return {"__typename": "MoneyBag", "shopMoney": bag, "presentmentMoney": bag}


def _mailing_address(address: str, postcode: str) -> dict[str, Any]:
    """'Lange Nieuwstraat 12, 3511 AB Utrecht' as Shopify's MailingAddress."""
    street, _, town = address.partition(", ")
    city = town.removeprefix(postcode).strip() if town.startswith(postcode) else town
    return {
        "__typename": "MailingAddress",
        "address1": street,
        "address2": None,
        "zip": postcode,
        "city": city,
        "countryCodeV2": "NL",
    }
