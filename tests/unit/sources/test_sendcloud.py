"""Sendcloud adapter: signature, delivery, status mapping, and its API against a
stand-in Sendcloud on 127.0.0.1. Payloads: tests/fixtures/sources/sendcloud."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.sources.change import (
    SHIPMENT_STATUSES,
    Delivery,
    MalformedDelivery,
    ShipmentInfo,
    Source,
    SourceUnavailable,
)
from bot.sources.sendcloud import SendcloudSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources" / "sendcloud"
SECRET = "f3b1c0de5e4d4a2b9c8e7f6a5b4c3d2e"
PUBLIC_KEY = "pk-test-0b7a"
SECRET_KEY = "sk-test-91fe"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    return json.loads(raw(name))


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    """Headers as they reach the adapter (lower case), signed as Sendcloud does."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"sendcloud-signature": signature, "content-type": "application/json"}


def webhook_source() -> SendcloudSource:
    return SendcloudSource(SECRET)


def delivered(source: SendcloudSource, body: bytes) -> Delivery:
    return source.delivery(body, signed(body))


def with_status(status_id: int | None, message: str | None, carrier: str = "postnl") -> bytes:
    payload = fixture("parcel_status_changed_delivery_attempt_failed.json")
    payload["parcel"]["status"] = {"id": status_id, "message": message}
    payload["parcel"]["carrier"] = {"code": carrier}
    return json.dumps(payload).encode()


def test_is_a_source() -> None:
    source: Source = webhook_source()
    assert source.name == "sendcloud"


# --- verify --------------------------------------------------------------------


def test_verify_accepts_the_signature_sendcloud_computes() -> None:
    body = raw("parcel_status_changed_delivered.json")
    assert webhook_source().verify(body, signed(body))


def test_verify_accepts_sendclouds_documented_example() -> None:
    # sendcloud.dev/api/v2/webhooks: secret "secretkey", body {"key": "value"}.
    headers = {
        "sendcloud-signature": "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a"
    }
    assert SendcloudSource("secretkey").verify(b'{"key": "value"}', headers)


def test_verify_accepts_a_body_signed_in_another_sendcloud_client() -> None:
    body = raw("signed_by_sendcloud_client_test.json")
    headers = {
        "sendcloud-signature": "a9bd66100bcf12a2bf9a4ea21c4ba7ac6d81ac6459b9d077bf4f90db11fcee4a"
    }
    assert SendcloudSource("be7e2f9eb99716d4698bbe8220eea46f").verify(body, headers)


def _one_byte_changed(body: bytes) -> bytes:
    return body.replace(b'"Delivered"', b'"Delivereb"', 1)


@pytest.mark.parametrize(
    "case",
    ["wrong", "missing", "empty", "other secret", "body changed by one byte", "not hex"],
)
def test_verify_rejects(case: str) -> None:
    body = raw("parcel_status_changed_delivered.json")
    headers = signed(body)
    if case == "wrong":
        headers["sendcloud-signature"] = "0" * 64
    elif case == "missing":
        del headers["sendcloud-signature"]
    elif case == "empty":
        headers["sendcloud-signature"] = ""
    elif case == "other secret":
        headers = signed(body, secret="another-integrations-secret")
    elif case == "body changed by one byte":
        body = _one_byte_changed(body)
        assert len(body) == len(raw("parcel_status_changed_delivered.json"))
    else:
        headers["sendcloud-signature"] = "é" * 64
    assert not webhook_source().verify(body, headers)


def test_verify_rejects_everything_without_a_secret() -> None:
    body = raw("parcel_status_changed_delivered.json")
    assert not SendcloudSource("").verify(body, signed(body, secret=""))


# --- delivery ------------------------------------------------------------------


def test_delivery_reads_id_topic_and_time() -> None:
    body = raw("parcel_status_changed_delivery_attempt_failed.json")
    delivery = delivered(webhook_source(), body)
    assert delivery.source == "sendcloud"
    assert delivery.topic == "parcel_status_changed"
    assert delivery.event_id == "250001:8:1733307461123"
    assert delivery.triggered_at == datetime(2024, 12, 4, 10, 17, 41, 123000, tzinfo=timezone.utc)
    assert delivery.payload["parcel"]["id"] == 250001


def test_delivery_reads_the_millisecond_timestamp_of_a_real_client_test() -> None:
    body = raw("signed_by_sendcloud_client_test.json")
    delivery = delivered(webhook_source(), body)
    assert delivery.event_id == "3:0:1525271885993"
    assert delivery.triggered_at == datetime(2018, 5, 2, 14, 38, 5, 993000, tzinfo=timezone.utc)


def test_a_retried_webhook_keeps_its_id_and_a_new_status_gets_a_new_one() -> None:
    source = webhook_source()
    body = raw("parcel_status_changed_delivery_attempt_failed.json")
    assert delivered(source, body).event_id == delivered(source, body).event_id
    assert delivered(source, with_status(11, "Delivered")).event_id == "250001:11:1733307461123"


def test_delivery_time_from_date_updated_without_timestamp() -> None:
    payload = fixture("parcel_status_changed_delivered.json")
    del payload["timestamp"]
    body = json.dumps(payload).encode()
    delivery = delivered(webhook_source(), body)
    assert delivery.event_id == "250002:11:2024-12-05T10:17:41"
    assert delivery.triggered_at == datetime(2024, 12, 5, 10, 17, 41, tzinfo=timezone.utc)


def test_delivery_of_another_action_is_stored_by_its_action_and_time() -> None:
    delivery = delivered(webhook_source(), raw("integration_connected.json"))
    assert delivery.topic == "integration_connected"
    assert delivery.event_id == "integration_connected:1733200000000"
    assert delivery.triggered_at == datetime(2024, 12, 3, 4, 26, 40, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe{}",
        b"[]",
        b'[{"action": "parcel_status_changed"}]',
        b'"parcel_status_changed"',
        b"{}",
        b'{"action": "parcel_status_changed", "timestamp": 1733307461123}',
        b'{"action": "parcel_status_changed", "timestamp": 1, "parcel": {"status": {"id": 8}}}',
        b'{"action": "parcel_status_changed", "timestamp": 1, "parcel": {"id": 3}}',
        b'{"action": "parcel_status_changed", "parcel": {"id": 3, "status": {"id": 8}}}',
    ],
    ids=[
        "not JSON",
        "not UTF-8",
        "JSON array",
        "array of events",
        "JSON string",
        "no action",
        "no parcel",
        "no parcel id",
        "no status id",
        "no time at all",
    ],
)
def test_delivery_rejects_what_sendcloud_does_not_send(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        webhook_source().delivery(body, signed(body))


# --- changes -------------------------------------------------------------------

# (status id, message as Sendcloud sends it, shipment_status, reason code, party type)
MAPPED_STATUSES = [
    (4, "Delivery delayed", "exception", "carrier_delay", "carrier"),
    (8, "Delivery attempt failed", "exception", "delivery_attempt_failed", "carrier"),
    (80, "Unable to deliver", "exception", "unable_to_deliver", "carrier"),
    (13, "Announced: not collected", "exception", "not_collected_by_carrier", "carrier"),
    (15, "Error collecting", "exception", "not_collected_by_carrier", "carrier"),
    (62989, "At Customs", "exception", "customs_delay", "carrier"),
    (62997, "Address invalid", "exception", "address_problem", "carrier"),
    (62991, "Refused by recipient", "exception", "refused_by_recipient", "carrier"),
    (62992, "Returned to sender", "returned", "returned_to_sender", "carrier"),
    (12, "Awaiting customer pickup", "awaiting_pickup", "awaiting_pickup", "carrier"),
    (11, "Delivered", "delivered", None, "carrier"),
    (93, "Shipment collected by customer", "delivered", None, "carrier"),
    (2000, "Cancelled", "cancelled", None, "shop"),
    (1998, "Cancelled upstream", "cancelled", None, "shop"),
    (3, "En route to sorting center", "in_transit", None, "carrier"),
    (5, "Sorted", "in_transit", None, "carrier"),
    (7, "Being sorted", "in_transit", None, "carrier"),
    (62990, "At sorting centre", "in_transit", None, "carrier"),
    (22, "Shipment picked up by driver", "in_transit", None, "carrier"),
    (91, "Parcel en route", "in_transit", None, "carrier"),
    (92, "Driver en route", "in_transit", None, "carrier"),
]


@pytest.mark.parametrize(("status_id", "message", "value", "reason", "party"), MAPPED_STATUSES)
def test_each_parcel_status_becomes_its_shipment_status(
    status_id: int, message: str, value: str, reason: str | None, party: str
) -> None:
    source = webhook_source()
    [change] = source.changes(delivered(source, with_status(status_id, message)))
    assert value in SHIPMENT_STATUSES
    assert (change.field, change.new_value, change.reason_code) == (
        "shipment_status",
        value,
        reason,
    )
    assert change.reason_text == message
    assert change.party_type == party
    assert change.party_name == ("PostNL" if party == "carrier" else None)
    assert change.shipment is not None and change.shipment.status == value


@pytest.mark.parametrize(("status_id", "message", "value", "reason", "party"), MAPPED_STATUSES)
def test_a_status_is_known_by_its_id_when_the_message_is_missing(
    status_id: int, message: str, value: str, reason: str | None, party: str
) -> None:
    source = webhook_source()
    [change] = source.changes(delivered(source, with_status(status_id, None)))
    assert (change.new_value, change.reason_code, change.reason_text) == (value, reason, None)


def test_a_delivery_attempt_failed_webhook_in_full() -> None:
    source = webhook_source()
    body = raw("parcel_status_changed_delivery_attempt_failed.json")
    [change] = source.changes(delivered(source, body))
    assert change.source == "sendcloud"
    assert change.order_number == "10003"
    assert change.platform_order_id == "5512345678901"
    assert change.occurred_at == datetime(2024, 12, 4, 10, 17, 41, 123000, tzinfo=timezone.utc)
    assert change.old_value is None and change.line_sku is None
    assert change.shipment == ShipmentInfo(
        carrier="PostNL",
        tracking_code="3SYZXG132912330",
        tracking_url=(
            "https://tracking.sendcloud.sc/forward?carrier=postnl&code=3SYZXG132912330"
            "&destination=NL&lang=nl-nl&source=NL&type=parcel&verification=5611EM"
        ),
        status="exception",
        expected_date=None,
    )


def test_the_reason_text_is_passed_through_verbatim() -> None:
    source = webhook_source()
    message = "Delivery attempt failed  (2nd attempt) – neighbour not home"
    payload = fixture("parcel_status_changed_delivery_attempt_failed.json")
    payload["parcel"]["status"]["message"] = message
    [change] = source.changes(delivered(source, json.dumps(payload).encode()))
    # Known by its id (8); the words stay Sendcloud's.
    assert (change.reason_code, change.reason_text) == ("delivery_attempt_failed", message)


@pytest.mark.parametrize(
    ("fixture_name", "order_number"),
    [
        ("parcel_status_changed_delivered.json", "10001"),  # "WS-10001"
        ("parcel_status_changed_awaiting_customer_pickup.json", "10002"),  # "#10002"
        ("parcel_status_changed_at_customs.json", "10005"),
    ],
)
def test_the_order_number_keeps_the_digits(fixture_name: str, order_number: str) -> None:
    source = webhook_source()
    [change] = source.changes(delivered(source, raw(fixture_name)))
    assert change.order_number == order_number


@pytest.mark.parametrize(
    ("raw_number", "expected"),
    [("10001-2", "10001"), ("2024-10006", "10006"), ("ORD12334", "12334"), ("webshop", None)],
)
def test_order_numbers_with_prefixes_and_suffixes(raw_number: str, expected: str | None) -> None:
    source = webhook_source()
    payload = fixture("parcel_status_changed_delivered.json")
    payload["parcel"]["order_number"] = raw_number
    [change] = source.changes(delivered(source, json.dumps(payload).encode()))
    assert change.order_number == expected
    assert change.platform_order_id == "5512345678902"


def test_a_parcel_that_names_no_order_gives_no_change() -> None:
    source = webhook_source()
    payload = fixture("parcel_status_changed_delivered.json")
    payload["parcel"]["order_number"] = ""
    payload["parcel"]["external_order_id"] = None
    assert source.changes(delivered(source, json.dumps(payload).encode())) == []


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("postnl", "PostNL"),
        ("dhl", "DHL"),
        ("dpd", "DPD"),
        ("ups", "UPS"),
        ("gls", "GLS"),
        ("bpost", "bpost"),
        ("dhl_express", "DHL Express"),
        ("gls_de", "GLS"),
        ("dhl_de", "DHL"),
        ("mondial_relay", "Mondial Relay"),
        ("new_carrier", "New Carrier"),
    ],
)
def test_the_carrier_is_named_as_customers_know_it(code: str, name: str) -> None:
    source = webhook_source()
    [change] = source.changes(delivered(source, with_status(11, "Delivered", carrier=code)))
    assert change.party_name == name
    assert change.shipment is not None and change.shipment.carrier == name


def test_awaiting_pickup_from_dpd() -> None:
    source = webhook_source()
    [change] = source.changes(
        delivered(source, raw("parcel_status_changed_awaiting_customer_pickup.json"))
    )
    assert (change.new_value, change.reason_code, change.party_name) == (
        "awaiting_pickup",
        "awaiting_pickup",
        "DPD",
    )


def test_the_expected_delivery_date_when_the_payload_has_one() -> None:
    source = webhook_source()
    [change] = source.changes(delivered(source, raw("parcel_status_changed_at_customs.json")))
    assert change.reason_code == "customs_delay"
    assert change.party_name == "UPS"
    assert change.shipment is not None
    assert change.shipment.expected_date == date(2024, 12, 10)
    assert change.shipment.tracking_code == "1Z999AA10123456784"


@pytest.mark.parametrize(
    ("status_id", "message"),
    [
        (1000, "Ready to send"),
        (1, "Announced"),
        (6, "Not sorted"),
        (1999, "Cancellation requested"),
        (62994, "Delivery date changed"),
        (1337, "Unknown status - check carrier track & trace page for more insights"),
        (424242, "A status Sendcloud adds next year"),
        (None, None),
        (0, ""),
    ],
)
def test_a_status_that_says_nothing_to_the_customer_gives_no_change(
    status_id: int | None, message: str | None
) -> None:
    source = webhook_source()
    payload = fixture("parcel_status_changed_delivered.json")
    payload["parcel"]["status"] = {"id": status_id, "message": message}
    delivery = Delivery("sendcloud", "x", "parcel_status_changed", None, payload)
    assert source.changes(delivery) == []


def test_the_ready_to_send_fixture_gives_no_change() -> None:
    source = webhook_source()
    body = raw("parcel_status_changed_ready_to_send.json")
    assert source.changes(delivered(source, body)) == []


def test_another_action_gives_no_change() -> None:
    source = webhook_source()
    assert source.changes(delivered(source, raw("integration_connected.json"))) == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"action": "parcel_status_changed"},
        {"parcel": []},
        {"parcel": {"status": "Delivered"}},
        {"parcel": {"status": {"id": "eleven", "message": 11}}},
        {"parcel": {"status": {"id": 11, "message": "Delivered"}, "carrier": ["dhl"]}},
    ],
)
def test_changes_never_raise_on_an_odd_payload(payload: dict[str, Any]) -> None:
    delivery = Delivery("sendcloud", "x", "parcel_status_changed", None, payload)
    assert webhook_source().changes(delivery) == []


def test_an_unknown_topic_gives_no_change() -> None:
    payload = fixture("parcel_status_changed_delivered.json")
    delivery = Delivery("sendcloud", "x", "parcel_deleted", None, payload)
    assert webhook_source().changes(delivery) == []


def test_occurred_at_falls_back_to_the_parcels_update_time() -> None:
    payload = fixture("signed_by_sendcloud_client_test.json")
    payload["parcel"]["status"] = {"id": 11, "message": "Delivered"}
    payload["parcel"]["date_updated"] = "02-05-2018 14:38:05"
    payload["parcel"]["order_number"] = "10004"
    delivery = Delivery("sendcloud", "x", "parcel_status_changed", None, payload)
    [change] = webhook_source().changes(delivery)
    assert change.occurred_at == datetime(2018, 5, 2, 14, 38, 5, tzinfo=timezone.utc)
    assert (change.order_number, change.platform_order_id) == ("10004", "42")


def test_order_number_for_needs_no_api() -> None:
    assert webhook_source().order_number_for("5512345678901") is None
    assert SendcloudSource(SECRET, PUBLIC_KEY, SECRET_KEY).order_number_for("1") is None


# --- the API, against a stand-in Sendcloud --------------------------------------


class FakeSendcloud:
    """Answers /api/v2/parcels/statuses and /api/v2/parcels the way Sendcloud
    documents them, with basic auth, and records what it was asked."""

    def __init__(self) -> None:
        self.statuses: Any = fixture("api_parcel_statuses.json")
        self.pages = [fixture("api_parcels_page_1.json"), fixture("api_parcels_page_2.json")]
        self.failures_left = 0
        self.delay = 0.0
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        token = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
        self.expected_auth = f"Basic {token}"

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, Any]:
        self.requests.append((path, query, auth))
        if self.delay:
            time.sleep(self.delay)
        if auth != self.expected_auth:
            return 401, {"error": {"code": 401, "message": "Invalid username/password."}}
        if self.failures_left:
            self.failures_left -= 1
            return 500, {"error": {"code": 500, "message": "Internal server error"}}
        if path == "/api/v2/parcels/statuses":
            return 200, self.statuses
        if path == "/api/v2/parcels":
            first_cursor = parse_qs(urlsplit(self.pages[0]["next"]).query)["cursor"][0]
            if query.get("cursor") == [first_cursor]:
                return 200, self.pages[1]
            return 200, self.pages[0]
        return 404, {"error": {"code": 404, "message": "Not found"}}


@pytest.fixture
def fake_sendcloud() -> Iterator[tuple[FakeSendcloud, str]]:
    fake = FakeSendcloud()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, data = fake.answer(
                url.path, parse_qs(url.query), self.headers.get("Authorization")
            )
            body = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    finally:
        server.shutdown()
        server.server_close()


def api_source(base_url: str, **kwargs: Any) -> SendcloudSource:
    options: dict[str, Any] = {"retry_wait": 0.0, "session": requests.Session()}
    options.update(kwargs)
    return SendcloudSource(SECRET, PUBLIC_KEY, SECRET_KEY, base_url=base_url, **options)


def test_load_status_table_maps_the_accounts_own_ids_by_message(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    # This account numbers its statuses differently from the documented list.
    fake.statuses = [
        {"id": 4711, "message": "Delivered"},
        {"id": 11, "message": "Announced"},
        {"id": 4712, "message": "At customs"},
    ]
    source = api_source(base_url)
    before = source.changes(delivered(source, with_status(4711, None)))
    assert before == []
    [documented] = source.changes(delivered(source, with_status(11, None)))
    assert documented.new_value == "delivered"

    source.load_status_table()

    [change] = source.changes(delivered(source, with_status(4711, None)))
    assert change.new_value == "delivered"
    [customs] = source.changes(delivered(source, with_status(4712, "Douane")))
    assert (customs.reason_code, customs.reason_text) == ("customs_delay", "Douane")
    assert source.changes(delivered(source, with_status(11, None))) == []
    [(path, _, auth)] = fake.requests
    assert path == "/api/v2/parcels/statuses"
    assert auth == fake.expected_auth


def test_load_status_table_with_the_documented_list_changes_nothing(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    _, base_url = fake_sendcloud
    source = api_source(base_url)
    source.load_status_table()
    for status_id, message, value, reason, _ in MAPPED_STATUSES:
        [change] = source.changes(delivered(source, with_status(status_id, None)))
        assert (change.new_value, change.reason_code) == (value, reason), message


def test_without_api_keys_nothing_is_asked(fake_sendcloud: tuple[FakeSendcloud, str]) -> None:
    fake, base_url = fake_sendcloud
    source = SendcloudSource(SECRET, base_url=base_url)
    source.load_status_table()
    assert source.reconcile(datetime(2024, 12, 4, tzinfo=timezone.utc)) == []
    assert (
        SendcloudSource(SECRET, PUBLIC_KEY, None, base_url=base_url).reconcile(
            datetime(2024, 12, 4, tzinfo=timezone.utc)
        )
        == []
    )
    assert fake.requests == []
    [change] = source.changes(delivered(source, with_status(11, None)))
    assert change.new_value == "delivered"


def test_wrong_api_keys_are_unavailable_at_once(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    source = SendcloudSource(
        SECRET, PUBLIC_KEY, "not-the-secret-key", base_url=base_url, retry_wait=0.0
    )
    with pytest.raises(SourceUnavailable):
        source.load_status_table()
    assert len(fake.requests) == 1


def test_reconcile_pages_through_the_parcels_updated_since(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    since = datetime(2024, 12, 4, tzinfo=timezone.utc)
    source = api_source(base_url)

    deliveries = source.reconcile(since)

    assert [d.event_id for d in deliveries] == [
        "reconcile:250001:8:04-12-2024 10:17:41",
        "reconcile:250002:11:05-12-2024 10:17:41",
        "reconcile:250004:62989:07-12-2024 10:17:41",
    ]
    assert {d.topic for d in deliveries} == {"parcel_status_changed"}
    assert {d.source for d in deliveries} == {"sendcloud"}
    assert deliveries[0].triggered_at == datetime(2024, 12, 4, 10, 17, 41, tzinfo=timezone.utc)
    first, second = fake.requests
    assert first[1] == {"updated_after": ["2024-12-04T00:00:00+00:00"]}
    # Only the cursor of `next` is taken: the request stays on the base URL.
    assert second[0] == "/api/v2/parcels"
    assert second[1]["cursor"] == ["cD0yMDI0LTEyLTA0KzEwJTNBMTclM0E0MS4wMDAwMDAlMkIwMCUzQTAw"]
    assert second[1]["updated_after"] == ["2024-12-04T00:00:00+00:00"]

    changes = [change for d in deliveries for change in source.changes(d)]
    assert [(c.order_number, c.new_value, c.reason_code, c.party_name) for c in changes] == [
        ("10003", "exception", "delivery_attempt_failed", "PostNL"),
        ("10001", "delivered", None, "DHL"),
        ("10005", "exception", "customs_delay", "UPS"),
    ]
    assert changes[0].occurred_at == datetime(2024, 12, 4, 10, 17, 41, tzinfo=timezone.utc)


def test_reconcile_takes_a_naive_since_as_utc(fake_sendcloud: tuple[FakeSendcloud, str]) -> None:
    fake, base_url = fake_sendcloud
    api_source(base_url).reconcile(datetime(2024, 12, 4, 6, 30))
    assert fake.requests[0][1]["updated_after"] == ["2024-12-04T06:30:00+00:00"]


def test_a_500_is_retried(fake_sendcloud: tuple[FakeSendcloud, str]) -> None:
    fake, base_url = fake_sendcloud
    fake.failures_left = 1
    source = api_source(base_url)
    source.load_status_table()
    assert len(fake.requests) == 2


def test_a_500_that_stays_is_unavailable_after_two_retries(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    fake.failures_left = 10
    with pytest.raises(SourceUnavailable):
        api_source(base_url).reconcile(datetime(2024, 12, 4, tzinfo=timezone.utc))
    assert len(fake.requests) == 3


def test_a_slow_api_is_unavailable(fake_sendcloud: tuple[FakeSendcloud, str]) -> None:
    fake, base_url = fake_sendcloud
    fake.delay = 0.5
    with pytest.raises(SourceUnavailable):
        api_source(base_url, timeout=0.1, retries=0).load_status_table()


def test_an_answer_that_is_no_status_list_is_unavailable(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    fake.statuses = {"error": "maintenance"}
    with pytest.raises(SourceUnavailable):
        api_source(base_url).load_status_table()


def test_an_empty_status_list_keeps_the_documented_table(
    fake_sendcloud: tuple[FakeSendcloud, str],
) -> None:
    fake, base_url = fake_sendcloud
    fake.statuses = []
    source = api_source(base_url)
    with pytest.raises(SourceUnavailable):
        source.load_status_table()
    [change] = source.changes(delivered(source, with_status(12, None)))
    assert change.new_value == "awaiting_pickup"


def test_an_unreachable_api_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = api_source(f"http://127.0.0.1:{port}/api/v2", timeout=1.0)
    with pytest.raises(SourceUnavailable):
        source.load_status_table()
    with pytest.raises(SourceUnavailable):
        source.reconcile(datetime(2024, 12, 4, tzinfo=timezone.utc))
