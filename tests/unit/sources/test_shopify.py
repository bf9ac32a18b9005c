"""ShopifySource against Shopify's documented webhook payloads and a stand-in
GraphQL Admin API on 127.0.0.1 (tests/fixtures/sources/shopify/README.md)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sources.change import (
    SHIPMENT_STATUSES,
    SOURCE_FIELDS,
    Delivery,
    MalformedDelivery,
    ShipmentInfo,
    SourceUnavailable,
)
from bot.sources.shopify import ShopifySource

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sources" / "shopify"
SECRET = "8f1e3c0a5b2d4e6f8a9b0c1d2e3f4a5b"  # an app's client secret
TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SHOP = "demo-fietsen.myshopify.com"
ORDER_ID = "820982911946154508"
EVENT_ID = "98880550-7158-44d4-b7cd-2c97c8a091b5"
WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
TRIGGERED_AT = "2025-11-24T09:16:01.877041743Z"
REASONS_FILE = Path(__file__).parents[3] / "bot" / "texts" / "reasons.yml"
REASON_CODES = set(yaml.safe_load(REASONS_FILE.read_text())["reasons"])


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(topic: str, body: bytes, **overrides: str) -> dict[str, str]:
    """The headers as Shopify sends them, lower-cased as the web service hands them over."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2024-10",
        "X-Shopify-Webhook-Id": WEBHOOK_ID,
        "X-Shopify-Event-Id": EVENT_ID,
        "X-Shopify-Triggered-At": TRIGGERED_AT,
    }
    headers.update(overrides)
    return {name.lower(): value for name, value in headers.items() if value is not None}


def delivery(topic: str, payload: dict[str, Any]) -> Delivery:
    return Delivery(
        source="shopify",
        event_id=EVENT_ID,
        topic=topic,
        triggered_at=datetime(2025, 11, 24, 9, 16, 1, tzinfo=timezone.utc),
        payload=payload,
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


@pytest.fixture
def source() -> ShopifySource:
    """Webhook only: no Admin API token."""
    return ShopifySource(SECRET)


# --- verify ---------------------------------------------------------------------


def test_verify_accepts_shopifys_signature(source: ShopifySource) -> None:
    body = (FIXTURES / "orders_updated.json").read_bytes()
    assert source.verify(body, shopify_headers("orders/updated", body)) is True


@pytest.mark.parametrize(
    "hmac_header",
    [
        "",
        "bm90IHRoZSBzaWduYXR1cmU=",
        signature(b"{}"),
        signature(b"x", "another app's secret"),
        "ÿ not base64 ÿ",
    ],
    ids=["empty", "wrong", "other-body", "other-secret", "not-ascii"],
)
def test_verify_refuses_a_wrong_signature(source: ShopifySource, hmac_header: str) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers("orders/updated", body, **{"X-Shopify-Hmac-Sha256": hmac_header})
    assert source.verify(body, headers) is False


def test_verify_refuses_a_missing_signature(source: ShopifySource) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers("orders/updated", body)
    del headers["x-shopify-hmac-sha256"]
    assert source.verify(body, headers) is False


def test_verify_refuses_a_body_changed_by_one_byte(source: ShopifySource) -> None:
    body = (FIXTURES / "refunds_create.json").read_bytes()
    headers = shopify_headers("refunds/create", body)
    changed = body.replace(b'"75.00"', b'"76.00"', 1)
    assert len(changed) == len(body) and changed != body
    assert source.verify(changed, headers) is False


def test_verify_refuses_everything_without_a_secret() -> None:
    body = b'{"id": 1}'
    assert ShopifySource("").verify(body, {"x-shopify-hmac-sha256": signature(body, "")}) is False


# --- delivery ------------------------------------------------------------------------


def test_delivery_reads_event_id_topic_and_time(source: ShopifySource) -> None:
    body = (FIXTURES / "refunds_create.json").read_bytes()
    found = source.delivery(body, shopify_headers("refunds/create", body))
    assert found.source == "shopify"
    assert found.event_id == EVENT_ID
    assert found.topic == "refunds/create"
    # Nanoseconds and "Z", as Shopify writes them.
    assert found.triggered_at == datetime(2025, 11, 24, 9, 16, 1, 877041, tzinfo=timezone.utc)
    assert found.payload["id"] == 890088186047892319


def test_delivery_falls_back_on_the_webhook_id(source: ShopifySource) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers("orders/updated", body)
    del headers["x-shopify-event-id"]
    assert source.delivery(body, headers).event_id == WEBHOOK_ID


def test_delivery_without_a_time_has_none(source: ShopifySource) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers("orders/updated", body)
    del headers["x-shopify-triggered-at"]
    assert source.delivery(body, headers).triggered_at is None


@pytest.mark.parametrize(
    "body",
    [b"<order><id>1</id></order>", b"[]", b'[{"id": 1}]', b'"orders"', b"\xff\xfe{}", b""],
    ids=["xml", "empty-array", "array", "string", "not-utf8", "empty"],
)
def test_delivery_refuses_a_body_that_is_no_json_object(source: ShopifySource, body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        source.delivery(body, shopify_headers("orders/updated", body))


@pytest.mark.parametrize(
    "missing", [("x-shopify-event-id", "x-shopify-webhook-id"), ("x-shopify-topic",)]
)
def test_delivery_refuses_missing_id_or_topic(
    source: ShopifySource, missing: tuple[str, ...]
) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers("orders/updated", body)
    for name in missing:
        del headers[name]
    with pytest.raises(MalformedDelivery):
        source.delivery(body, headers)


# --- changes: orders ----------------------------------------------------------------


def test_fulfilled_order_shipped_when_its_fulfillment_was_made(source: ShopifySource) -> None:
    [change] = source.changes(delivery("orders/updated", load("orders_updated")))
    assert (change.field, change.new_value) == ("status", "shipped")
    assert (change.order_number, change.platform_order_id) == ("10001", ORDER_ID)
    assert change.occurred_at == utc("2025-11-24T10:15:00+01:00")
    assert change.reason_code is None and change.reason_text is None


def test_open_order_says_nothing(source: ShopifySource) -> None:
    assert source.changes(delivery("orders/updated", load("orders_updated_unfulfilled"))) == []


def test_order_without_order_number_uses_the_digits_of_its_name(source: ShopifySource) -> None:
    order = load("orders_updated")
    del order["order_number"]
    [change] = source.changes(delivery("orders/updated", order))
    assert change.order_number == "10001"


@pytest.mark.parametrize(
    ("cancel_reason", "reason_code", "party_type"),
    [
        ("customer", "cancelled_by_customer", "customer"),
        ("inventory", "shop_out_of_stock", "shop"),
        ("fraud", "cancelled_by_shop", "shop"),
        ("declined", "payment_declined", None),
        ("staff", "cancelled_by_shop", "shop"),
        ("other", "cancelled_by_shop", "shop"),
        (None, None, None),
    ],
)
@pytest.mark.parametrize("topic", ["orders/cancelled", "orders/updated"])
def test_cancelled_order(
    source: ShopifySource,
    topic: str,
    cancel_reason: str | None,
    reason_code: str | None,
    party_type: str | None,
) -> None:
    order = load("orders_cancelled")
    order["cancel_reason"] = cancel_reason
    [change] = source.changes(delivery(topic, order))
    assert (change.field, change.new_value) == ("status", "cancelled")
    assert (change.order_number, change.platform_order_id) == ("10002", "820982911946154509")
    assert change.occurred_at == utc("2025-11-22T16:30:00+01:00")
    assert (change.reason_code, change.party_type) == (reason_code, party_type)
    assert change.reason_text is None  # Shopify records a code, no words


# --- changes: fulfillments ---------------------------------------------------------------


def test_new_fulfillment_ships_the_order_with_its_tracking(source: ShopifySource) -> None:
    shipped, parcel = source.changes(delivery("fulfillments/create", load("fulfillments_create")))
    assert (shipped.field, shipped.new_value) == ("status", "shipped")
    assert (shipped.order_number, shipped.platform_order_id) == (None, ORDER_ID)
    assert shipped.occurred_at == utc("2025-11-24T10:15:00+01:00")
    assert (parcel.field, parcel.new_value) == ("shipment_status", "in_transit")
    assert (parcel.party_type, parcel.party_name) == ("carrier", "PostNL")
    assert parcel.shipment == ShipmentInfo(
        carrier="PostNL",
        tracking_code="3SABCD0123456789",
        tracking_url="https://jouw.postnl.nl/track-and-trace/3SABCD0123456789-NL-1234AB",
        status="in_transit",
    )


def test_failed_delivery_attempt_on_a_fulfillment(source: ShopifySource) -> None:
    changes = source.changes(delivery("fulfillments/update", load("fulfillments_update")))
    parcel = changes[-1]
    assert (parcel.field, parcel.new_value) == ("shipment_status", "exception")
    assert parcel.reason_code == "delivery_attempt_failed"
    assert parcel.occurred_at == utc("2025-11-26T14:02:00+01:00")
    assert parcel.shipment is not None and parcel.shipment.tracking_code == "3SABCD0123456789"


@pytest.mark.parametrize(
    ("status", "shipment_status", "expected"),
    [
        ("pending", None, [("shipment_status", "preparing", None)]),
        ("open", "label_printed", [("shipment_status", "preparing", None)]),
        ("success", "delivered", [("shipment_status", "delivered", None)]),
        ("success", "ready_for_pickup", [("shipment_status", "awaiting_pickup", None)]),
        (
            "success",
            "out_for_delivery",
            [("status", "shipped", None), ("shipment_status", "in_transit", None)],
        ),
        (
            "success",
            "delayed",
            [("status", "shipped", None), ("shipment_status", "exception", "carrier_delay")],
        ),
        (
            "success",
            "failure",
            [("status", "shipped", None), ("shipment_status", "exception", "unable_to_deliver")],
        ),
        ("cancelled", None, [("shipment_status", "cancelled", None)]),
        ("error", None, []),
        ("teleported", "beamed_up", []),
    ],
)
def test_fulfillment_statuses(
    source: ShopifySource,
    status: str,
    shipment_status: str | None,
    expected: list[tuple[str, str, str | None]],
) -> None:
    fulfillment = load("fulfillments_update")
    fulfillment.update(status=status, shipment_status=shipment_status)
    changes = source.changes(delivery("fulfillments/update", fulfillment))
    assert [(c.field, c.new_value, c.reason_code) for c in changes] == expected


# --- changes: fulfillment events --------------------------------------------------------------


def test_delay_with_a_new_estimate_moves_the_promised_date(source: ShopifySource) -> None:
    [change] = source.changes(
        delivery("fulfillment_events/create", load("fulfillment_events_create"))
    )
    assert (change.field, change.new_value) == ("promised_date", "2025-11-28")
    assert (change.reason_code, change.party_type) == ("carrier_delay", "carrier")
    assert change.reason_text == "Vertraging door drukte in het sorteercentrum"
    assert (change.order_number, change.platform_order_id) == (None, ORDER_ID)
    assert change.occurred_at == utc("2025-11-25T07:45:00+01:00")


def test_delay_without_an_estimate_is_an_exception(source: ShopifySource) -> None:
    event = load("fulfillment_events_create")
    event.update(status="DELAYED", estimated_delivery_at=None)  # GraphQL writes upper case
    [change] = source.changes(delivery("fulfillment_events/create", event))
    assert (change.field, change.new_value) == ("shipment_status", "exception")
    assert change.reason_code == "carrier_delay"
    assert change.reason_text == "Vertraging door drukte in het sorteercentrum"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("attempted_delivery", ("exception", "delivery_attempt_failed")),
        ("failure", ("exception", "unable_to_deliver")),
        ("in_transit", ("in_transit", None)),
        ("OUT_FOR_DELIVERY", ("in_transit", None)),
        ("ready_for_pickup", ("awaiting_pickup", None)),
        ("delivered", ("delivered", None)),
        ("confirmed", None),
        ("label_printed", None),
        ("picked_up", None),
        ("", None),
        ("lost_in_space", None),
    ],
)
def test_fulfillment_event_statuses(
    source: ShopifySource, status: str, expected: tuple[str, str | None] | None
) -> None:
    event = load("fulfillment_events_create")
    event.update(status=status, estimated_delivery_at=None, message="Bezorgpoging mislukt")
    changes = source.changes(delivery("fulfillment_events/create", event))
    if expected is None:
        assert changes == []
        return
    [change] = changes
    assert (change.new_value, change.reason_code) == expected
    assert change.reason_text == ("Bezorgpoging mislukt" if expected[1] else None)
    assert change.shipment == ShipmentInfo(status=expected[0])


# --- changes: refunds ----------------------------------------------------------------------------


def test_refund_in_cents_with_the_shops_note(source: ShopifySource) -> None:
    [change] = source.changes(delivery("refunds/create", load("refunds_create")))
    assert (change.field, change.new_value) == ("refund", "8500")  # 75.00 + 10.00
    assert change.reason_text == "Things were damaged"
    assert (change.party_type, change.reason_code) == ("shop", None)
    assert (change.order_number, change.platform_order_id) == (None, ORDER_ID)
    assert change.occurred_at == utc("2025-11-27T09:00:00+01:00")


def test_refund_without_transactions_counts_its_lines(source: ShopifySource) -> None:
    refund = load("refunds_create")
    refund["transactions"] = []
    refund["note"] = None
    [change] = source.changes(delivery("refunds/create", refund))
    assert change.new_value == "36997"  # 89.99 + 159.99 + 119.99
    assert change.reason_text is None


def test_failed_refund_transaction_refunds_nothing(source: ShopifySource) -> None:
    refund = load("refunds_create")
    for transaction in refund["transactions"]:
        transaction["status"] = "failure"
    assert source.changes(delivery("refunds/create", refund)) == []


# --- changes: whatever else arrives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("products/update", load("orders_updated")),
        ("orders/create", load("orders_updated")),
        ("orders/updated", {}),
        ("orders/updated", {"id": "x", "order_number": "10001", "cancelled_at": 5}),
        ("fulfillments/create", {"order_id": 1, "status": ["success"], "shipment_status": 3}),
        ("fulfillment_events/create", {"order_id": None, "status": "delivered"}),
        ("refunds/create", {"order_id": 1, "transactions": {"amount": "1"}}),
        ("refunds/create", {"order_id": 1, "transactions": [{"kind": "refund", "amount": "x"}]}),
        ("orders/edited", {"order_edit": []}),
        ("fulfillment_holds/added", {"fulfillment_order": "1"}),
    ],
)
def test_unknown_topics_and_shapes_say_nothing(
    source: ShopifySource, topic: str, payload: dict[str, Any]
) -> None:
    assert source.changes(delivery(topic, payload)) == []


def test_every_change_is_in_the_contracts_words(source: ShopifySource) -> None:
    topics = {
        "orders/updated": "orders_updated",
        "orders/cancelled": "orders_cancelled",
        "fulfillments/create": "fulfillments_create",
        "fulfillments/update": "fulfillments_update",
        "fulfillment_events/create": "fulfillment_events_create",
        "refunds/create": "refunds_create",
    }
    changes = [
        c for topic, name in topics.items() for c in source.changes(delivery(topic, load(name)))
    ]
    assert len(changes) == 8
    for change in changes:
        assert change.source == "shopify" and change.field in SOURCE_FIELDS
        assert change.occurred_at.utcoffset() == timedelta(0)
        assert change.reason_code is None or change.reason_code in REASON_CODES
        assert change.shipment is None or change.shipment.status in SHIPMENT_STATUSES


def test_without_an_api_token_holds_and_edits_are_left_out(source: ShopifySource) -> None:
    assert (
        source.changes(delivery("fulfillment_holds/added", load("fulfillment_holds_added"))) == []
    )
    assert source.changes(delivery("orders/edited", load("orders_edited"))) == []
    assert source.order_number_for(ORDER_ID) is None
    assert source.reconcile(datetime(2025, 11, 24, tzinfo=timezone.utc)) == []


# --- the GraphQL Admin API, on a stand-in ---------------------------------------------------------


class StandInShopify:
    """Answers POST /admin/api/2024-10/graphql.json like Shopify: the token in
    X-Shopify-Access-Token, the answer chosen by the query's operation name,
    or by `script` (status, body, headers) first when failures are staged."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict[str, str]]] = []
        self.by_operation: dict[str, object] = {
            "OrderName": load("graphql_order_name"),
            "FulfillmentOrderOrder": load("graphql_fulfillment_order"),
            "OrderLines": load("graphql_order_line_items"),
        }
        self.received: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, request: dict[str, Any]) -> tuple[int, object, dict[str, str]]:
        if self.script:
            return self.script.pop(0)
        match = re.match(r"\s*query\s+(\w+)", request.get("query", ""))
        operation = match.group(1) if match else ""
        if operation == "OrdersSince":
            after = request.get("variables", {}).get("after")
            return 200, load("graphql_orders_page_2" if after else "graphql_orders_page_1"), {}
        return 200, self.by_operation[operation], {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server calls it by this name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/admin/api/2024-10/graphql.json":
                    return self._send(404, {"errors": "Not Found"}, {})
                if self.headers.get("X-Shopify-Access-Token") != TOKEN:
                    invalid = (
                        "[API] Invalid API key or access token"
                        " (unrecognized login or wrong password)"
                    )
                    return self._send(401, {"errors": invalid}, {})
                request = json.loads(body)
                stand_in.received.append(request)
                self._send(*stand_in.answer(request))

            def _send(self, status: int, answer: object, headers: dict[str, str]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def shopify() -> Iterator[StandInShopify]:
    stand_in = StandInShopify()
    thread = threading.Thread(target=stand_in.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def connected(shopify: StandInShopify, token: str = TOKEN) -> ShopifySource:
    return ShopifySource(SECRET, SHOP, token, base_url=shopify.url, timeout=2.0, retry_wait=0.01)


def test_order_number_for_asks_the_order_name(shopify: StandInShopify) -> None:
    assert connected(shopify).order_number_for(ORDER_ID) == "10001"
    [request] = shopify.received
    assert request["variables"] == {"id": f"gid://shopify/Order/{ORDER_ID}"}


def test_order_number_for_an_order_shopify_does_not_have(shopify: StandInShopify) -> None:
    shopify.by_operation["OrderName"] = load("graphql_order_missing")
    assert connected(shopify).order_number_for("1") is None


def test_a_wrong_token_is_unavailable(shopify: StandInShopify) -> None:
    with pytest.raises(SourceUnavailable):
        connected(shopify, "shpat_wrong").order_number_for(ORDER_ID)
    assert shopify.received == []


def test_graphql_errors_are_unavailable(shopify: StandInShopify) -> None:
    shopify.by_operation["OrderName"] = load("graphql_access_denied")
    with pytest.raises(SourceUnavailable, match="ACCESS_DENIED"):
        connected(shopify).order_number_for(ORDER_ID)


@pytest.mark.parametrize(
    "failure",
    [
        (500, {"errors": "Internal Server Error"}, {}),
        (503, {"errors": "Unavailable Shop"}, {}),
        (429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "0.01"}),
        (200, load("graphql_throttled"), {}),
    ],
    ids=["500", "503", "429", "THROTTLED"],
)
def test_a_passing_failure_is_retried(
    shopify: StandInShopify, failure: tuple[int, object, dict[str, str]]
) -> None:
    shopify.script = [failure]
    assert connected(shopify).order_number_for(ORDER_ID) == "10001"
    assert len(shopify.received) == 2


def test_a_failure_that_stays_is_unavailable_after_two_retries(shopify: StandInShopify) -> None:
    shopify.script = [(500, {"errors": "Internal Server Error"}, {})] * 3
    with pytest.raises(SourceUnavailable):
        connected(shopify).order_number_for(ORDER_ID)
    assert len(shopify.received) == 3


def test_an_unreachable_api_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = ShopifySource(
        SECRET, SHOP, TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=1.0, retry_wait=0.01
    )
    with pytest.raises(SourceUnavailable):
        source.order_number_for(ORDER_ID)
    with pytest.raises(SourceUnavailable):
        source.changes(delivery("fulfillment_holds/added", load("fulfillment_holds_added")))


@pytest.mark.parametrize(
    ("reason", "reason_code"),
    [
        ("inventory_out_of_stock", "shop_out_of_stock"),
        ("INCORRECT_ADDRESS", "address_problem"),
        ("awaiting_payment", "payment_pending"),
        ("unknown_delivery_date", "delivery_date_unknown"),
        ("high_risk_of_fraud", "order_review"),
        ("awaiting_return_items", "awaiting_return"),
        ("other", None),
        ("a_reason_from_2027", None),
    ],
)
def test_hold_with_shopifys_reason_and_the_shops_notes(
    shopify: StandInShopify, reason: str, reason_code: str | None
) -> None:
    payload = load("fulfillment_holds_added")
    payload["fulfillment_hold"]["reason"] = reason
    [change] = connected(shopify).changes(delivery("fulfillment_holds/added", payload))
    assert (change.field, change.new_value) == ("hold", "on_hold")
    assert (change.order_number, change.platform_order_id) == ("10001", ORDER_ID)
    assert change.reason_code == reason_code
    assert change.reason_text == "Wachten op nieuwe voorraad van de leverancier"
    assert change.party_type == "shop"
    assert change.occurred_at == datetime(2025, 11, 24, 9, 16, 1, tzinfo=timezone.utc)
    [request] = shopify.received
    assert request["variables"] == {"id": "gid://shopify/FulfillmentOrder/1046000812"}


def test_hold_released(shopify: StandInShopify) -> None:
    payload = load("fulfillment_holds_released")
    [change] = connected(shopify).changes(delivery("fulfillment_holds/released", payload))
    assert (change.field, change.new_value, change.order_number) == ("hold", "released", "10001")
    assert change.reason_code is None and change.reason_text is None


def test_upsell_hold_is_not_news(shopify: StandInShopify) -> None:
    payload = load("fulfillment_holds_added")
    payload["fulfillment_hold"]["reason"] = "online_store_post_purchase_cross_sell"
    assert connected(shopify).changes(delivery("fulfillment_holds/added", payload)) == []


def test_edited_order_lines_by_sku(shopify: StandInShopify) -> None:
    changes = connected(shopify).changes(delivery("orders/edited", load("orders_edited")))
    assert [(c.field, c.line_sku, c.new_value) for c in changes] == [
        ("line_status", "SKU2006-020", "cancelled"),
        ("line_quantity", "SKU2006-035", "1"),
    ]
    for change in changes:
        assert (change.order_number, change.platform_order_id) == ("10001", ORDER_ID)
        assert change.occurred_at == utc("2025-11-21T11:00:00+01:00")
        assert change.reason_code is None and change.reason_text is None
    [request] = shopify.received
    assert request["variables"]["id"] == f"gid://shopify/Order/{ORDER_ID}"


def test_edit_of_a_line_without_sku_is_left_out(shopify: StandInShopify) -> None:
    lines = copy.deepcopy(load("graphql_order_line_items"))
    for node in lines["data"]["order"]["lineItems"]["nodes"]:
        node["sku"] = None
    shopify.by_operation["OrderLines"] = lines
    assert connected(shopify).changes(delivery("orders/edited", load("orders_edited"))) == []


def test_reconcile_pages_through_orders_updated_since(shopify: StandInShopify) -> None:
    source = connected(shopify)
    found = source.reconcile(datetime(2025, 11, 24, 9, 0, tzinfo=timezone.utc))
    first, second = shopify.received
    assert first["variables"] == {"query": "updated_at:>'2025-11-24T09:00:00Z'", "first": 50}
    assert second["variables"]["after"] == "eyJsYXN0X2lkIjo4MjA5ODI5MTE5NDYxNTQ1MDl9"
    assert [d.event_id for d in found] == [
        "reconcile:820982911946154508:2025-11-24T09:16:00Z",
        "reconcile:820982911946154509:2025-11-24T10:00:00Z",
        "reconcile:820982911946154510:2025-11-24T11:30:00Z",
    ]
    assert {d.topic for d in found} == {"orders/updated"}
    assert found[0].triggered_at == datetime(2025, 11, 24, 9, 16, tzinfo=timezone.utc)
    assert found[1].payload["cancel_reason"] == "inventory"
    shipped, cancelled = (source.changes(d) for d in found[:2])
    assert [(c.order_number, c.new_value, c.occurred_at) for c in shipped] == [
        ("10001", "shipped", datetime(2025, 11, 24, 9, 15, tzinfo=timezone.utc))
    ]
    assert [(c.order_number, c.new_value, c.reason_code) for c in cancelled] == [
        ("10002", "cancelled", "shop_out_of_stock")
    ]
    assert source.changes(found[2]) == []


def test_promised_date_is_the_customers_calendar_day(source: ShopifySource) -> None:
    event = load("fulfillment_events_create")
    event["estimated_delivery_at"] = "2025-11-28T00:30:00+01:00"  # 23:30 UTC the day before
    [change] = source.changes(delivery("fulfillment_events/create", event))
    assert change.new_value == date(2025, 11, 28).isoformat()
