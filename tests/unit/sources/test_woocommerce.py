"""The WooCommerce adapter: signatures, deliveries, the mapping, the REST API.

Payloads are replayed from tests/fixtures/sources/woocommerce (REST API v3
shapes, see its README); the REST API is a stand-in HTTP server on 127.0.0.1
that answers the documented shapes and checks basic auth as WooCommerce does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources.change import (
    Delivery,
    MalformedDelivery,
    ShipmentInfo,
    SourceChange,
    SourceUnavailable,
)
from bot.sources.woocommerce import WooCommerceSource
from tests.shop_standins import WooCommerceStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources" / "woocommerce"
SECRET = "wc-webhook-secret-3f9a1c"
CONSUMER_KEY = "ck_4b0c6d8e2f1a3b5c7d9e0f1a2b3c4d5e6f7a8b9c"
CONSUMER_SECRET = "cs_9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def sign(body: bytes, secret: str = SECRET) -> str:
    """What WC_Webhook::generate_signature sends: base64 of the raw HMAC-SHA256."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wc_headers(body: bytes, topic: str = "order.updated", **changes: str) -> dict[str, str]:
    """The headers WooCommerce sends (WC_Webhook::deliver), lower-cased like the web service."""
    resource, event = topic.split(".")
    headers = {
        "content-type": "application/json",
        "user-agent": "WooCommerce/8.6.1 Hookshot (WordPress/6.4.3)",
        "x-wc-webhook-source": "https://shop.example.nl/",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-signature": sign(body),
        "x-wc-webhook-id": "3",
        "x-wc-webhook-delivery-id": "9f2c5d1e8b7a4c3d2e1f0a9b8c7d6e5f",
    }
    headers.update(changes)
    return headers


def delivery_of(order: dict[str, Any], topic: str = "order.updated") -> Delivery:
    body = json.dumps(order).encode()
    return WooCommerceSource(SECRET).delivery(body, wc_headers(body, topic))


def changes_of(name: str, topic: str = "order.updated", **status: str) -> list[SourceChange]:
    order = fixture(name)
    order.update(status)
    return WooCommerceSource(SECRET).changes(delivery_of(order, topic))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# --- verify ------------------------------------------------------------------


def test_the_right_signature_is_accepted() -> None:
    body = fixture_bytes("order_created.json")
    assert WooCommerceSource(SECRET).verify(body, wc_headers(body, "order.created"))


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "bm90IHRoZSBzaWduYXR1cmU=",
        sign(b"another body"),
        sign(fixture_bytes("order_created.json"), "another-secret"),
    ],
    ids=["empty", "wrong", "other-body", "other-secret"],
)
def test_a_wrong_signature_is_refused(signature: str) -> None:
    body = fixture_bytes("order_created.json")
    headers = wc_headers(body, **{"x-wc-webhook-signature": signature})
    assert not WooCommerceSource(SECRET).verify(body, headers)


def test_a_missing_signature_is_refused() -> None:
    body = fixture_bytes("order_created.json")
    headers = wc_headers(body)
    del headers["x-wc-webhook-signature"]
    assert not WooCommerceSource(SECRET).verify(body, headers)


def test_a_body_changed_by_one_byte_is_refused() -> None:
    body = fixture_bytes("order_created.json")
    headers = wc_headers(body)
    changed = body.replace(b'"10001"', b'"10002"', 1)
    assert len(changed) == len(body) and changed != body
    assert not WooCommerceSource(SECRET).verify(changed, headers)


def test_no_secret_configured_refuses_everything() -> None:
    body = fixture_bytes("order_created.json")
    assert not WooCommerceSource("").verify(body, wc_headers(body))


# --- the ping ------------------------------------------------------------------

# WC_Webhook::deliver_ping: wp_safe_remote_post with only a user agent and this
# body; WordPress' cURL transport sends it form-encoded.
PING_HEADERS = {
    "user-agent": "WooCommerce/8.6.1 Hookshot (WordPress/6.4.3)",
    "content-type": "application/x-www-form-urlencoded",
}


def test_the_unsigned_ping_is_accepted_as_a_ping_that_means_nothing() -> None:
    source = WooCommerceSource(SECRET)
    assert source.verify(b"webhook_id=3", PING_HEADERS)
    delivery = source.delivery(b"webhook_id=3", PING_HEADERS)
    assert (delivery.topic, delivery.event_id, delivery.triggered_at) == ("ping", "ping:3", None)
    assert delivery.payload == {"webhook_id": 3}
    assert source.changes(delivery) == []


@pytest.mark.parametrize(
    "body", [b"webhook_id=", b"webhook_id=3&x=1", b"webhook_id=abc", b'{"webhook_id": 3}', b""]
)
def test_only_the_exact_ping_body_goes_unsigned(body: bytes) -> None:
    assert not WooCommerceSource(SECRET).verify(body, PING_HEADERS)


def test_a_ping_body_with_webhook_headers_must_be_signed() -> None:
    headers = {**PING_HEADERS, "x-wc-webhook-topic": "order.updated"}
    assert not WooCommerceSource(SECRET).verify(b"webhook_id=3", headers)


# --- delivery --------------------------------------------------------------------


def test_delivery_reads_id_topic_and_the_orders_gmt_time() -> None:
    body = fixture_bytes("order_updated_cancelled.json")
    delivery = WooCommerceSource(SECRET).delivery(body, wc_headers(body))
    assert delivery.source == "woocommerce"
    # WooCommerce's delivery id only names the webhook and the second it was sent.
    assert delivery.event_id == "9f2c5d1e8b7a4c3d2e1f0a9b8c7d6e5f:10004"
    assert delivery.topic == "order.updated"
    # date_modified_gmt "2025-11-26T10:30:05" carries no offset: it is UTC.
    assert delivery.triggered_at == datetime(2025, 11, 26, 10, 30, 5, tzinfo=timezone.utc)
    assert delivery.payload["number"] == "10004"


def test_a_deleted_order_has_no_time() -> None:
    body = fixture_bytes("order_deleted.json")
    delivery = WooCommerceSource(SECRET).delivery(body, wc_headers(body, "order.deleted"))
    assert (delivery.topic, delivery.triggered_at, dict(delivery.payload)) == (
        "order.deleted",
        None,
        {"id": 10004},
    )


@pytest.mark.parametrize(
    "body", [b"<html>not json</html>", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"number": "1"}']
)
def test_a_body_that_is_no_order_object_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        WooCommerceSource(SECRET).delivery(body, wc_headers(body))


@pytest.mark.parametrize("header", ["x-wc-webhook-delivery-id", "x-wc-webhook-topic"])
def test_a_missing_id_or_topic_header_is_malformed(header: str) -> None:
    body = fixture_bytes("order_created.json")
    headers = wc_headers(body)
    del headers[header]
    with pytest.raises(MalformedDelivery):
        WooCommerceSource(SECRET).delivery(body, headers)


# --- changes from the webhook alone ----------------------------------------------


def test_processing() -> None:
    [change] = changes_of("order_created.json", "order.created")
    assert change == SourceChange(
        source="woocommerce",
        field="status",
        new_value="processing",
        occurred_at=utc("2025-11-24T09:13:02"),
        order_number="10001",
        platform_order_id="10001",
    )


def test_completed_is_shipped_with_a_parcel_per_tracking_item() -> None:
    shipped, postnl, courier = changes_of("order_updated_completed.json")
    completed_at = utc("2025-11-25T15:05:40")  # date_completed_gmt, not the later edit
    assert (shipped.field, shipped.new_value, shipped.occurred_at) == (
        "status",
        "shipped",
        completed_at,
    )
    assert (postnl.field, postnl.new_value, postnl.party_type, postnl.party_name) == (
        "shipment_status",
        "in_transit",
        "carrier",
        "PostNL",
    )
    assert postnl.shipment == ShipmentInfo(
        carrier="PostNL", tracking_code="3SABCD0123456789", status="in_transit"
    )
    assert courier.shipment == ShipmentInfo(
        carrier="Fietskoerier Utrecht",
        tracking_code="FK-20931",
        tracking_url="https://track.fietskoerier.example/FK-20931",
        status="in_transit",
    )
    assert {c.order_number for c in (shipped, postnl, courier)} == {"10003"}


def test_completed_without_tracking_is_only_shipped() -> None:
    [change] = changes_of("order_created.json", status="completed")
    assert (change.field, change.new_value) == ("status", "shipped")


def test_on_hold_without_api_keys_has_no_reason() -> None:
    [change] = changes_of("order_updated_on_hold.json")
    assert (change.field, change.new_value, change.reason_code, change.reason_text) == (
        "hold",
        "on_hold",
        None,
        None,
    )


def test_cancelled_without_api_keys_has_no_reason() -> None:
    [change] = changes_of("order_updated_cancelled.json")
    assert (change.field, change.new_value, change.reason_text) == ("status", "cancelled", None)
    assert change.occurred_at == utc("2025-11-26T10:30:05")


def test_failed_is_a_hold_for_a_declined_payment() -> None:
    [change] = changes_of("order_updated_failed.json")
    assert (change.field, change.new_value, change.reason_code) == (
        "hold",
        "on_hold",
        "payment_declined",
    )


def test_refunded_is_the_sum_of_the_refunds_in_cents_with_the_newest_reason() -> None:
    [change] = changes_of("order_updated_refunded.json")
    assert (change.field, change.new_value, change.party_type) == ("refund", "124900", "shop")
    assert change.reason_text == "Frame beschadigd aangekomen, volledig terugbetaald na overleg"


def test_a_partial_refund_comes_with_the_status() -> None:
    refunds = [{"id": 10040, "reason": "Fietsslot niet geleverd", "total": "-12.50"}]
    status, refund = changes_of("order_created.json", refunds=refunds)
    assert (status.new_value, refund.field, refund.new_value) == ("processing", "refund", "1250")
    assert refund.reason_text == "Fietsslot niet geleverd"


@pytest.mark.parametrize("status", ["pending", "checkout-draft", "trash", "shipped-by-plugin", ""])
def test_pending_and_unknown_statuses_mean_nothing(status: str) -> None:
    assert changes_of("order_created.json", status=status) == []


@pytest.mark.parametrize(
    "topic", ["order.deleted", "order.restored", "product.updated", "coupon.created"]
)
def test_other_topics_mean_nothing(topic: str) -> None:
    assert changes_of("order_updated_cancelled.json", topic) == []


def test_an_unreadable_order_means_nothing() -> None:
    assert changes_of("order_created.json", refunds=[{"id": 1, "total": "a lot"}]) == []
    source = WooCommerceSource(SECRET)
    odd = Delivery("woocommerce", "x", "order.updated", None, {"id": {"no": 1}, "status": 5})
    assert source.changes(odd) == []


def test_a_number_that_is_not_digits_leaves_the_order_to_its_id() -> None:
    [change] = changes_of("order_created.json", number="WC-2025-0017")
    assert (change.order_number, change.platform_order_id) == (None, "10001")


def test_a_missing_modified_time_falls_back_to_the_delivery() -> None:
    order = fixture("order_created.json")
    del order["date_modified_gmt"]
    [change] = WooCommerceSource(SECRET).changes(delivery_of(order))
    assert change.occurred_at.tzinfo is not None


# --- the stand-in REST API -------------------------------------------------------


class FakeStore(WooCommerceStore):
    def __init__(self) -> None:
        super().__init__(CONSUMER_KEY, CONSUMER_SECRET)

    def source(self, key: str = CONSUMER_KEY) -> WooCommerceSource:
        return WooCommerceSource(
            SECRET, self.url, key, CONSUMER_SECRET, timeout=2.0, retry_pause=0.0
        )


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def api_changes(store: FakeStore, order: dict[str, Any], notes: str) -> list[SourceChange]:
    store.orders[order["id"]] = order
    store.notes[order["id"]] = fixture(notes)
    return store.source().changes(delivery_of(order))


# --- reasons from notes ------------------------------------------------------------


def test_cancelled_takes_the_note_to_the_customer_never_a_private_one(store: FakeStore) -> None:
    """The private note after the change is staff's ("klant gebeld, akkoord"): the
    customer hears what the shop wrote to them, in the same edit."""
    [change] = api_changes(store, fixture("order_updated_cancelled.json"), "notes_cancelled.json")
    assert (change.field, change.new_value, change.reason_code) == ("status", "cancelled", None)
    assert change.reason_text == (
        "We hebben je bestelling helaas moeten annuleren. "
        "Je krijgt het bedrag binnen 5 werkdagen terug."
    )
    assert (change.party_type, change.party_name) == ("shop", "Sanne Bakker")
    assert store.requests[-1][0] == "/wp-json/wc/v3/orders/10004/notes"


def test_a_note_written_just_before_the_status_change_counts(store: FakeStore) -> None:
    # No note after the change, and no other note to the customer.
    notes = [n for n in fixture("notes_cancelled.json")[1:] if not n["customer_note"]]
    notes.insert(
        1, {**notes[0], "id": 4409, "note": "Leverancier failliet.", "customer_note": True}
    )
    notes[1]["date_created_gmt"] = "2025-11-26T10:25:00"
    store.orders[10004] = fixture("order_updated_cancelled.json")
    store.notes[10004] = notes
    [change] = store.source().changes(delivery_of(store.orders[10004]))
    assert change.reason_text == "Leverancier failliet."


def test_private_notes_and_notes_from_long_before_are_no_reason(store: FakeStore) -> None:
    # The staff's private note, the status note and older system notes; no note to the customer.
    notes = [n for n in fixture("notes_cancelled.json") if not n["customer_note"]]
    store.orders[10004] = fixture("order_updated_cancelled.json")
    store.notes[10004] = notes
    [change] = store.source().changes(delivery_of(store.orders[10004]))
    assert (change.reason_text, change.party_name) == (None, None)


def test_cancelled_by_the_customer_in_my_account(store: FakeStore) -> None:
    order = fixture("order_updated_cancelled.json")
    [change] = api_changes(store, order, "notes_cancelled_by_customer.json")
    assert (change.reason_code, change.reason_text, change.party_type, change.party_name) == (
        "cancelled_by_customer",
        "Order cancelled by customer.",
        "customer",
        None,
    )


def test_on_hold_awaiting_a_bank_transfer(store: FakeStore) -> None:
    [change] = api_changes(store, fixture("order_updated_on_hold.json"), "notes_on_hold_bacs.json")
    assert (change.field, change.new_value, change.reason_code, change.reason_text) == (
        "hold",
        "on_hold",
        "payment_pending",
        "Awaiting BACS payment",
    )
    assert change.party_name is None  # "system" is WooCommerce itself


def test_failed_passes_the_payment_plugins_words(store: FakeStore) -> None:
    [change] = api_changes(store, fixture("order_updated_failed.json"), "notes_failed.json")
    assert (change.reason_code, change.reason_text) == (
        "payment_declined",
        "iDEAL payment failed via Mollie (tr_Xk3PZ9).",
    )


def test_processing_after_on_hold_releases_the_hold(store: FakeStore) -> None:
    order = {**fixture("order_updated_on_hold.json"), "status": "processing"}
    status, released = api_changes(store, order, "notes_processing_after_hold.json")
    assert (status.field, status.new_value) == ("status", "processing")
    assert (released.field, released.new_value, released.occurred_at) == (
        "hold",
        "released",
        utc("2025-11-27T08:02:30"),
    )


def test_processing_from_pending_releases_nothing(store: FakeStore) -> None:
    notes = [n for n in fixture("notes_cancelled.json") if n["id"] == 4397]
    store.orders[10001] = fixture("order_created.json")
    store.notes[10001] = notes
    [change] = store.source().changes(delivery_of(store.orders[10001]))
    assert (change.field, change.new_value) == ("status", "processing")


# --- the REST API: order numbers, reconcile, failures --------------------------------


def test_order_number_for_an_id(store: FakeStore) -> None:
    store.orders[727] = {**fixture("order_created.json"), "id": 727, "number": "10001"}
    source = store.source()
    assert source.order_number_for("727") == "10001"
    assert source.order_number_for("728") is None  # WooCommerce answers 404
    assert WooCommerceSource(SECRET).order_number_for("727") is None  # no API keys


def test_reconcile_pages_through_the_orders_changed_since(store: FakeStore) -> None:
    for offset in range(205):
        order = {**fixture("order_created.json"), "id": 20000 + offset}
        order["number"] = str(order["id"])
        order["date_modified_gmt"] = f"2025-11-28T09:{offset // 60:02d}:{offset % 60:02d}"
        store.orders[order["id"]] = order
    store.orders[10001] = fixture("order_created.json")  # changed before `since`
    since = datetime(2025, 11, 28, 9, 59, 59, tzinfo=timezone(timedelta(hours=1)))
    deliveries = store.source().reconcile(since)
    assert len(deliveries) == 205
    first = deliveries[0]
    assert (first.topic, first.event_id, first.triggered_at) == (
        "order.updated",
        "reconcile:20000:2025-11-28T09:00:00",
        utc("2025-11-28T09:00:00"),
    )
    pages = [query for path, query in store.requests if path == "/wp-json/wc/v3/orders"]
    assert [q["page"] for q in pages] == [["1"], ["2"], ["3"]]
    assert pages[0]["modified_after"] == ["2025-11-28T08:59:59"]  # +01:00 sent as UTC
    assert pages[0]["per_page"] == ["100"]
    # A reconciled order means what its webhook would have meant.
    assert store.source().changes(first)[0].new_value == "processing"


def test_reconcile_without_api_keys_is_empty() -> None:
    assert WooCommerceSource(SECRET).reconcile(utc("2025-11-28T09:00:00")) == []


def test_a_500_is_tried_again(store: FakeStore) -> None:
    store.orders[10001] = fixture("order_created.json")
    store.failures_left = 1
    assert store.source().order_number_for("10001") == "10001"
    assert len(store.requests) == 2


def test_a_store_that_keeps_failing_is_unavailable(store: FakeStore) -> None:
    store.orders[10004] = fixture("order_updated_cancelled.json")
    store.failures_left = 3  # the first try and both retries
    with pytest.raises(SourceUnavailable):
        store.source().changes(delivery_of(store.orders[10004]))
    assert len(store.requests) == 3


def test_refused_api_keys_make_the_store_unavailable(store: FakeStore) -> None:
    store.orders[10004] = fixture("order_updated_cancelled.json")
    with pytest.raises(SourceUnavailable):
        store.source(key="ck_revoked").changes(delivery_of(store.orders[10004]))


def test_an_unreachable_store_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = WooCommerceSource(
        SECRET, f"http://127.0.0.1:{port}", CONSUMER_KEY, CONSUMER_SECRET, retry_pause=0.0
    )
    with pytest.raises(SourceUnavailable):
        source.reconcile(utc("2025-11-28T09:00:00"))
