"""The shop platforms' webhooks against the web service as a real process, on
SQLite and PostgreSQL: signed as each platform signs, replayed from their
documented payloads (tests/fixtures/sources/), applied once and in order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import shop_today
from bot.database import create_db_engine
from bot.memory.changes import OrderEventRow
from bot.memory.sources import SourceDeliveryRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import OrderRow
from tests import platform_webhooks as hooks
from tests.conftest import _seeded
from tests.integration.web_process import WebService, running_web
from tests.shop_standins import WooCommerceStore

TODAY = shop_today("Europe/Amsterdam")
WC_KEY, WC_SECRET = "ck_" + "4b0c6d8e2f1a" * 3, "cs_" + "9f8e7d6c5b4a" * 3


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WebService, str, WooCommerceStore]]:
    """The web service on a fresh database, with a WooCommerce REST API of its
    own (the worker's first reconcile reads it: a store shared with another
    database's run would hand this one that run's orders)."""
    folder = tmp_path_factory.mktemp("sources")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'shop.db'}"
    else:
        url = request.getfixturevalue("postgres_url_module")
    _seeded(url, TODAY)
    store = WooCommerceStore(WC_KEY, WC_SECRET).start()
    env = {
        **hooks.source_env(),
        "WOOCOMMERCE_URL": store.url,
        "WOOCOMMERCE_CONSUMER_KEY": WC_KEY,
        "WOOCOMMERCE_CONSUMER_SECRET": WC_SECRET,
    }
    try:
        with running_web(folder, url, **env) as web:
            yield web, url, store
    finally:
        store.close()


@pytest.fixture(scope="module")
def service(backend: tuple[WebService, str, WooCommerceStore]) -> tuple[WebService, str]:
    return backend[0], backend[1]


@pytest.fixture(scope="module")
def woocommerce_api(backend: tuple[WebService, str, WooCommerceStore]) -> WooCommerceStore:
    return backend[2]


def query(url: str, work: Callable[[Session], Any]) -> Any:
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            return work(session)
    finally:
        engine.dispose()


def deliveries(url: str, source: str | None = None) -> list[SourceDeliveryRow]:
    statement = select(SourceDeliveryRow).order_by(SourceDeliveryRow.id)
    if source:
        statement = statement.where(SourceDeliveryRow.source == source)
    return list(query(url, lambda s: list(s.execute(statement).scalars())))


def settled(url: str, delivery_id: int, timeout: float = 20.0) -> SourceDeliveryRow:
    """The delivery once the worker has worked on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = query(url, lambda s: s.get(SourceDeliveryRow, delivery_id))
        if row is not None and row.status != "pending":
            return row
        time.sleep(0.1)
    raise AssertionError(f"delivery {delivery_id} still pending after {timeout} s")


def events_of(url: str, order_id: int, field: str) -> list[OrderEventRow]:
    statement = (
        select(OrderEventRow)
        .where(OrderEventRow.order_id == order_id, OrderEventRow.field == field)
        .order_by(OrderEventRow.id)
    )
    return list(query(url, lambda s: list(s.execute(statement).scalars())))


def warnings_for(url: str, customer_id: int) -> int:
    statement = (
        select(func.count()).select_from(WarningRow).where(WarningRow.customer_id == customer_id)
    )
    return int(query(url, lambda s: s.execute(statement).scalar()) or 0)


def accepted(web: WebService, platform: str, request: tuple[bytes, dict[str, str]]) -> int:
    response = hooks.post(web.base, platform, request)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted", response.text
    return int(response.json()["delivery_id"])


def shopify_event(
    order_id: int, status: str, happened: datetime, estimate: datetime | None
) -> dict[str, Any]:
    event = hooks.fixture("shopify", "fulfillment_events_create.json")
    event.update(
        order_id=order_id,
        status=status,
        happened_at=happened.isoformat(),
        created_at=happened.isoformat(),
        estimated_delivery_at=estimate.isoformat() if estimate else None,
    )
    return event


# --- each platform, signed as it signs ----------------------------------------------


def test_shopify_cancellation_is_applied_once_with_its_reason(
    service: tuple[WebService, str],
) -> None:
    web, url = service
    order = hooks.fixture("shopify", "orders_cancelled.json")
    order.update(order_number=10005, name="#10005", cancel_reason="customer")
    request = hooks.shopify("orders/cancelled", order, event_id="shopify-cancel-10005")
    row = settled(url, accepted(web, "shopify", request))
    assert (row.status, row.order_number, row.warnings) == ("applied", "10005", 1)
    [event] = events_of(url, 10005, "status")
    assert (event.new_value, event.reason_code, event.party_type) == (
        "cancelled",
        "cancelled_by_customer",
        "customer",
    )
    # Shopify's retry of the same event (8 over 4 hours): taken once.
    again = hooks.post(
        web.base,
        "shopify",
        hooks.shopify("orders/cancelled", order, event_id="shopify-cancel-10005"),
    )
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(events_of(url, 10005, "status")) == 1 and warnings_for(url, 1005) == 1


def test_woocommerce_on_hold_takes_the_note_to_the_customer_as_its_reason(
    service: tuple[WebService, str], woocommerce_api: WooCommerceStore
) -> None:
    web, url = service
    order = hooks.fixture("woocommerce", "order_updated_on_hold.json")
    modified = datetime.now(timezone.utc).replace(microsecond=0)
    order.update(date_modified_gmt=modified.strftime("%Y-%m-%dT%H:%M:%S"))
    woocommerce_api.orders[order["id"]] = order
    woocommerce_api.notes[order["id"]] = [
        {
            "id": 9002,
            "author": "Sanne Bakker",
            "date_created_gmt": (modified + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S"),
            "note": "TabletWereld levert pas na de 10e; je tablet staat zolang even vast.",
            "customer_note": True,
        },
        {
            "id": 9001,
            "author": "Sanne Bakker",
            "date_created_gmt": modified.strftime("%Y-%m-%dT%H:%M:%S"),
            "note": "Order status changed from Processing to On hold.",
            "customer_note": False,
        },
    ]
    row = settled(url, accepted(web, "woocommerce", hooks.woocommerce(order)))
    assert (row.status, row.order_number, row.warnings) == ("applied", "10002", 1)
    [hold] = events_of(url, 10002, "hold")
    assert hold.new_value == "on_hold"
    assert (
        hold.reason_text == "TabletWereld levert pas na de 10e; je tablet staat zolang even vast."
    )
    assert (hold.party_type, hold.party_name) == ("shop", "Sanne Bakker")


def test_sendcloud_failed_attempt_reaches_the_parcel_and_the_customer(
    service: tuple[WebService, str],
) -> None:
    web, url = service
    payload = hooks.fixture("sendcloud", "parcel_status_changed_delivery_attempt_failed.json")
    payload["parcel"]["order_number"] = "10003"
    row = settled(url, accepted(web, "sendcloud", hooks.sendcloud(payload)))
    assert (row.status, row.order_number, row.warnings) == ("applied", "10003", 1)
    [event] = events_of(url, 10003, "shipment_status")
    assert (event.new_value, event.reason_code, event.party_name) == (
        "exception",
        "delivery_attempt_failed",
        "PostNL",
    )
    assert event.reason_text == "Delivery attempt failed"


# --- what is refused, and what moves nothing ------------------------------------------


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "sendcloud"])
def test_a_wrong_or_missing_signature_gets_401_and_nothing_is_stored(
    service: tuple[WebService, str], platform: str
) -> None:
    web, url = service
    before = len(deliveries(url))
    other = "x" * 40
    forged = {
        "shopify": hooks.shopify(
            "orders/cancelled", hooks.fixture("shopify", "orders_cancelled.json"), secret=other
        ),
        "woocommerce": hooks.woocommerce(
            hooks.fixture("woocommerce", "order_updated_cancelled.json"), secret=other
        ),
        "sendcloud": hooks.sendcloud(
            hooks.fixture("sendcloud", "parcel_status_changed_delivered.json"), secret=other
        ),
    }[platform]
    assert hooks.post(web.base, platform, forged).status_code == 401
    body, headers = forged
    unsigned = {
        name: value
        for name, value in headers.items()
        if name not in ("X-Shopify-Hmac-Sha256", "X-WC-Webhook-Signature", "Sendcloud-Signature")
    }
    assert hooks.post(web.base, platform, (body, unsigned)).status_code == 401
    # Another platform's valid signature is no signature here.
    if platform != "sendcloud":
        signed_for_sendcloud = hooks.sendcloud(
            hooks.fixture("sendcloud", "parcel_status_changed_delivered.json")
        )
        assert hooks.post(web.base, platform, signed_for_sendcloud).status_code == 401
    # The intake API's token is not accepted either.
    with_token = (
        body,
        {**unsigned, "Authorization": "Bearer web-service-test-order-api-token-0123456789"},
    )
    assert hooks.post(web.base, platform, with_token).status_code == 401
    assert len(deliveries(url)) == before


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "sendcloud"])
def test_malformed_json_gets_400_and_nothing_is_stored(
    service: tuple[WebService, str], platform: str
) -> None:
    web, url = service
    before = len(deliveries(url))
    cut_off = hooks.signed_raw(platform, b'{"id": 10001, "status": ')
    not_an_object = hooks.signed_raw(platform, b"[1, 2, 3]")
    for request in (cut_off, not_an_object):
        response = hooks.post(web.base, platform, request)
        assert response.status_code == 400, response.text
    assert len(deliveries(url)) == before


def test_an_unknown_order_is_accepted_logged_and_moves_nothing(
    service: tuple[WebService, str],
) -> None:
    web, url = service
    payload = hooks.fixture("sendcloud", "parcel_status_changed_delivery_attempt_failed.json")
    payload["parcel"].update(order_number="99999", id=990001, external_order_id=None)
    events_before = query(
        url, lambda s: s.execute(select(func.count()).select_from(OrderEventRow)).scalar()
    )
    row = settled(url, accepted(web, "sendcloud", hooks.sendcloud(payload)))
    assert (row.status, row.order_number, row.warnings) == ("unknown_order", "99999", 0)
    events_after = query(
        url, lambda s: s.execute(select(func.count()).select_from(OrderEventRow)).scalar()
    )
    assert events_after == events_before
    assert "unknown_order" in web.output() and "99999" in web.output()


def test_deliveries_out_of_order_and_a_stale_retry_never_move_the_order_back(
    service: tuple[WebService, str],
) -> None:
    """Shopify's fulfillment events name the order by Shopify's id: the order
    webhook seen first links it to Erik's order number."""
    web, url = service
    order = hooks.fixture("shopify", "orders_updated_unfulfilled.json")  # #10001, no change
    settled(url, accepted(web, "shopify", hooks.shopify("orders/updated", order)))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    later, sooner = (TODAY + timedelta(days=40)), (TODAY + timedelta(days=30))

    def estimate(day: Any) -> datetime:
        return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)

    newest = shopify_event(order["id"], "DELAYED", now, estimate(later))
    older = shopify_event(order["id"], "delayed", now - timedelta(hours=2), estimate(sooner))
    first = settled(
        url, accepted(web, "shopify", hooks.shopify("fulfillment_events/create", newest))
    )
    assert (first.status, first.order_number) == ("applied", "10001")
    late = settled(url, accepted(web, "shopify", hooks.shopify("fulfillment_events/create", older)))
    assert late.status == "applied" and late.warnings == 0
    promised = query(url, lambda s: s.get(OrderRow, 10001).promised_date)
    assert promised == later
    moves = [e.new_value for e in events_of(url, 10001, "promised_date")]
    assert moves[-1] == later.isoformat() and sooner.isoformat() not in moves


def burst(rows: list[SourceDeliveryRow]) -> list[SourceDeliveryRow]:
    """The burst's deliveries: parcels 700000 to 700999 (the event id starts with it)."""
    return [r for r in rows if 700000 <= int(r.event_id.split(":")[0]) < 701000]


def test_a_burst_of_1000_webhooks_is_taken_and_applied(service: tuple[WebService, str]) -> None:
    web, url = service
    template = hooks.fixture("sendcloud", "parcel_status_changed_delivery_attempt_failed.json")
    start = int(time.time() * 1000)

    def one(i: int) -> int:
        payload = {**template, "timestamp": start + i}
        payload["parcel"] = {
            **template["parcel"],
            "order_number": str(10001 + i % 6),
            "id": 700000 + i,
        }
        return hooks.post(web.base, "sendcloud", hooks.sendcloud(payload)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(1000)))
    assert codes.count(200) == 1000, {code: codes.count(code) for code in set(codes)}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        rows = burst(deliveries(url, "sendcloud"))
        if len(rows) >= 1000 and all(r.status != "pending" for r in rows):
            break
        time.sleep(0.5)
    rows = burst(deliveries(url, "sendcloud"))
    assert len(rows) == 1000
    assert {r.status for r in rows} == {"applied"}
