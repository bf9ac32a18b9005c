"""The HTTP adapter against a local order API: retries, timeouts, clear errors."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import date

import pytest

from bot.answers import OrderAssistant
from bot.identity import Identity
from bot.orders.http_system import HttpOrderSystem
from bot.orders.system import OrderSystemUnavailable
from bot.texts import Catalog
from tests.conftest import _seeded
from tests.integration.order_api_server import OrderApiServer


@pytest.fixture
def api(sqlite_url: str, today: date) -> Iterator[OrderApiServer]:
    with OrderApiServer(_seeded(sqlite_url, today), api_key="k") as server:
        yield server


def client(api: OrderApiServer, **options: float) -> HttpOrderSystem:
    return HttpOrderSystem(
        api.url,
        api_key="k",
        timeout=float(options.get("timeout", 2.0)),
        retries=int(options.get("retries", 2)),
    )


def test_server_errors_are_retried_until_they_pass(api: OrderApiServer) -> None:
    api.faults.fail_next = 2
    order = client(api, retries=2).get_order(10001)
    assert order is not None and order.id == 10001
    assert api.faults.requests.count("GET /orders/10001") == 3


def test_after_the_retry_budget_the_order_system_is_unavailable(api: OrderApiServer) -> None:
    api.faults.fail_next = 10
    with pytest.raises(OrderSystemUnavailable, match="503"):
        client(api, retries=2).get_order(10001)
    assert api.faults.requests.count("GET /orders/10001") == 3


def test_a_stalled_api_times_out(api: OrderApiServer) -> None:
    api.faults.stall_seconds = 1.0
    with pytest.raises(OrderSystemUnavailable, match="unreachable"):
        client(api, timeout=0.2, retries=1).get_order(10001)


def test_nobody_listening_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    orders = HttpOrderSystem(f"http://127.0.0.1:{port}", timeout=0.5, retries=1)
    with pytest.raises(OrderSystemUnavailable):
        orders.orders_for_customer(1001)


def test_a_wrong_api_key_is_not_retried_and_is_unavailable(api: OrderApiServer) -> None:
    wrong = HttpOrderSystem(api.url, api_key="wrong", timeout=1, retries=2)
    with pytest.raises(OrderSystemUnavailable, match="401"):
        wrong.get_customer(1001)
    assert api.faults.requests.count("GET /customers/1001") == 1


def test_garbage_instead_of_json_is_unavailable(api: OrderApiServer) -> None:
    api.faults.garbage = True
    with pytest.raises(OrderSystemUnavailable, match="JSON"):
        client(api).get_order(10001)


def test_the_api_never_sends_postcode_or_email(api: OrderApiServer) -> None:
    order = client(api).get_order(10001)
    assert order is not None
    assert order.postcode == "" and order.email == ""
    assert client(api).verify_order(10001, postcode="3511AB") is True


def test_customer_hears_a_clear_apology_and_the_log_has_ids_only(
    api: OrderApiServer, catalog: Catalog, today: date, caplog: pytest.LogCaptureFixture
) -> None:
    api.faults.fail_next = 100
    assistant = OrderAssistant(client(api, retries=1), catalog, "nl", today)
    with caplog.at_level(logging.WARNING):
        reply = assistant.answer("changes", Identity(customer_id=1001), None)
    assert reply.messages == [catalog.message("error_order_system_unavailable", "nl")]
    assert "ordersysteem" in reply.messages[0]
    assert "order API GET /customers/1001/orders answered 503" in caplog.text
    assert "Erik" not in caplog.text and "3511" not in caplog.text


def test_english_customer_gets_the_apology_in_english(
    api: OrderApiServer, catalog: Catalog, today: date
) -> None:
    api.faults.fail_next = 100
    reply = OrderAssistant(client(api, retries=0), catalog, "en", today).answer(
        "status", Identity(customer_id=1003), None
    )
    assert reply.messages == [catalog.message("error_order_system_unavailable", "en")]
