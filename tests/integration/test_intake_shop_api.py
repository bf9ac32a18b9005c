"""A shop behind the REST adapter (ORDER_SYSTEM=http) reports a change it made
in its own system: the web service (a real process) records it in the
assistant's change log and queues the customer's warning, reading the shop's
order over HTTP and writing nothing to the shop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import shop_today
from bot.database import create_db_engine, upgrade_database
from bot.memory.changes import OrderEventRow
from bot.memory.warnings import WarningRow
from tests.conftest import _seeded
from tests.integration.order_api_server import OrderApiServer
from tests.integration.web_process import AUTH, WebService, running_web

TODAY = shop_today("Europe/Amsterdam")


@pytest.fixture
def shop_api(tmp_path: Path) -> Iterator[OrderApiServer]:
    with OrderApiServer(_seeded(f"sqlite:///{tmp_path / 'the-shop.db'}", TODAY), "k") as api:
        yield api


@pytest.fixture
def service(tmp_path: Path, shop_api: OrderApiServer) -> Iterator[tuple[WebService, str]]:
    memory = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade_database(memory)  # the assistant's own tables only: no demo shop in it
    env = {"ORDER_SYSTEM": "http", "ORDER_API_URL": shop_api.url, "ORDER_API_KEY": "k"}
    with running_web(tmp_path, memory, **env) as web:
        yield web, memory


def rows(url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            return list(session.execute(select(model)).scalars())
    finally:
        engine.dispose()


def test_a_reported_change_is_recorded_and_told_without_writing_the_shop(
    service: tuple[WebService, str], shop_api: OrderApiServer
) -> None:
    web, memory = service
    before = shop_api.orders.get_order(10001)
    new_date = (TODAY + timedelta(days=25)).isoformat()
    response = requests.post(
        f"{web.base}/api/v1/orders/10001/events",
        json={
            "field": "promised_date",
            "new_value": new_date,
            "old_value": (TODAY + timedelta(days=10)).isoformat(),
            "reason_code": "production_problem",
            "reason": "het frame is opnieuw afgekeurd",
            "party_type": "supplier",
            "party_name": "Gazelle",
        },
        headers=AUTH,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    assert response.json()["warnings_queued"] == 1
    [event] = rows(memory, OrderEventRow)
    assert (event.order_id, event.new_value, event.reason_text) == (
        10001,
        new_date,
        "het frame is opnieuw afgekeurd",
    )
    [warning] = rows(memory, WarningRow)
    assert warning.customer_id == 1001  # the shop's customer of the order, read over HTTP
    assert shop_api.orders.get_order(10001) == before  # nothing written to the shop


def test_what_the_shop_must_do_itself_or_does_not_know_is_refused(
    service: tuple[WebService, str], shop_api: OrderApiServer
) -> None:
    web, memory = service
    delay = requests.post(
        f"{web.base}/api/v1/supplier-delays",
        json={"supplier": "Gazelle", "delay_days": 3, "reason_code": "supplier_delay"},
        headers=AUTH,
        timeout=30,
    )
    assert delay.status_code == 409
    assert "/api/v1/orders/{id}/events" in delay.json()["error"]
    unknown = requests.post(
        f"{web.base}/api/v1/orders/99999/events",
        json={"field": "status", "new_value": "cancelled"},
        headers=AUTH,
        timeout=30,
    )
    assert unknown.status_code == 404
    shop_api.faults.fail_next = 100  # every try answers 503
    away = requests.post(
        f"{web.base}/api/v1/orders/10001/events",
        json={"field": "status", "new_value": "cancelled"},
        headers=AUTH,
        timeout=30,
    )
    assert away.status_code == 503
    assert rows(memory, OrderEventRow) == [] and rows(memory, WarningRow) == []
