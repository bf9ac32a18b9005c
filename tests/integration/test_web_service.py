"""The web service in front of the internet, as a real process: body limits,
order events checked field by field, no token no API, the demo shop only with
DEMO_SHOP=true, and slow work never holding up the event loop."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, text, update

from bot.clock import shop_today
from bot.database import create_db_engine, make_session_factory
from bot.deadlines.parse import ParsedDeadline
from bot.deadlines.service import save_deadline
from bot.memory.changes import OrderEventRow
from bot.memory.handoffs import HandoffRow
from bot.memory.warnings import WarningRow
from bot.processes import stop_all
from tests.conftest import _seeded
from tests.integration.web_process import (
    AUTH,
    SlowZendesk,
    WebService,
    running_web,
    start_web,
)

TODAY = shop_today("Europe/Amsterdam")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebService, str]]:
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'shop.db'}"
    _seeded(url, TODAY)
    with running_web(folder, url, DEMO_SHOP="true") as web:
        yield web, url


def events(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(OrderEventRow)).scalar())
    finally:
        engine.dispose()


def test_a_body_over_the_limit_gets_413_and_stores_nothing(shop: tuple[WebService, str]) -> None:
    web, url = shop
    before = events(url)
    padding = "x" * (1024 * 1024 + 1)
    for path, body in (
        ("/api/v1/supplier-delays", f'{{"supplier": "Gazelle", "reason": "{padding}"}}'),
        ("/api/v1/orders/10001/events", f'{{"field": "address", "new_value": "{padding}"}}'),
    ):
        response = requests.post(
            f"{web.base}{path}",
            data=body,
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413, response.text[:200]
        assert "error" in response.json() and len(response.text) < 200
    assert events(url) == before
    assert requests.get(f"{web.base}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field": "status", "new_value": "exploded"}, "new_value"),
        ({"field": "line_status", "new_value": "lost", "line_id": 1}, "new_value"),
        ({"field": "line_quantity", "new_value": "2.5", "line_id": 1}, "new_value"),
        ({"field": "line_quantity", "new_value": "0", "line_id": 1}, "new_value"),
        ({"field": "line_quantity", "new_value": "-3", "line_id": 1}, "new_value"),
        ({"field": "line_quantity", "new_value": "99999999999", "line_id": 1}, "new_value"),
        ({"field": "line_quantity", "new_value": "2"}, "line_id"),
        ({"field": "line_quantity", "new_value": "2", "line_id": 2.5}, "line_id"),
        ({"field": "promised_date", "new_value": "next tuesday"}, "new_value"),
        ({"field": "promised_date", "new_value": "9999-01-01"}, "new_value"),
        ({"field": "total", "new_value": "lots"}, "new_value"),
        (
            {"field": "address", "new_value": "Dorpsstraat 1", "reason_code": "x" * 65},
            "reason_code",
        ),
        ({"field": "address", "new_value": "Dorpsstraat 1", "reason_code": "a b"}, "reason_code"),
        ({"field": "address", "new_value": "Dorpsstraat 1", "party_type": "alien"}, "party_type"),
        ({"field": "address", "new_value": "Dorpsstraat 1", "party_name": "p" * 201}, "party_name"),
        ({"field": "address", "new_value": "Dorpsstraat 1", "reason": "r" * 2001}, "reason"),
        ({"field": "colour", "new_value": "red"}, "field"),
    ],
)
def test_an_order_event_that_cannot_be_told_gets_422_naming_the_field(
    shop: tuple[WebService, str], body: dict[str, object], field: str
) -> None:
    web, url = shop
    before = events(url)
    response = requests.post(
        f"{web.base}/api/v1/orders/10001/events", json=body, headers=AUTH, timeout=10
    )
    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["fields"]]
    assert events(url) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"supplier": "Gazelle", "reason_code": "x", "delay_days": 2.5}, "delay_days"),
        ({"supplier": "Gazelle", "reason_code": "x", "delay_days": True}, "delay_days"),
        ({"supplier": "Gazelle", "reason_code": "x", "new_date": 1767225600}, "new_date"),
        ({"supplier": "Gazelle", "reason_code": "x", "new_date": "1999-12-31"}, "new_date"),
        ({"supplier": "G" * 201, "reason_code": "x", "delay_days": 2}, "supplier"),
        ({"supplier": "Gazelle", "reason_code": "x" * 65, "delay_days": 2}, "reason_code"),
        ({"supplier": "Gazelle", "reason_code": "x", "delay_days": 2, "sku": "s" * 65}, "sku"),
    ],
)
def test_a_supplier_delay_is_checked_the_same_way(
    shop: tuple[WebService, str], body: dict[str, object], field: str
) -> None:
    web, url = shop
    before = events(url)
    response = requests.post(
        f"{web.base}/api/v1/supplier-delays", json=body, headers=AUTH, timeout=10
    )
    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["fields"]]
    assert events(url) == before


def test_good_events_still_apply_and_the_customers_pages_show_them(
    shop: tuple[WebService, str],
) -> None:
    web, _url = shop
    for body in (
        {"field": "line_quantity", "new_value": "2", "line_id": 1, "reason_code": "shop_error"},
        {"field": "status", "new_value": "processing"},
    ):
        response = requests.post(
            f"{web.base}/api/v1/orders/10001/events", json=body, headers=AUTH, timeout=10
        )
        assert response.status_code == 202, response.text
    too_big_id = requests.post(
        f"{web.base}/api/v1/orders/99999999999/events",
        json={"field": "status", "new_value": "processing"},
        headers=AUTH,
        timeout=10,
    )
    assert too_big_id.status_code == 404
    erik = requests.Session()
    erik.post(f"{web.base}/shop/login", data={"customer_id": "1001"}, timeout=10)
    for page in ("/shop/orders", "/shop/orders/10001"):
        assert erik.get(f"{web.base}{page}", timeout=10).status_code == 200


def test_with_the_demo_the_root_leads_to_the_shop(shop: tuple[WebService, str]) -> None:
    web, _url = shop
    root = requests.get(f"{web.base}/", allow_redirects=False, timeout=10)
    assert root.status_code == 302 and root.headers["location"] == "/shop"
    assert requests.get(f"{web.base}/shop", timeout=10).status_code == 200


def test_without_the_demo_there_is_no_shop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _seeded(url, TODAY)
    with running_web(tmp_path, url, DEMO_SHOP="false") as web:
        root = requests.get(f"{web.base}/", allow_redirects=False, timeout=10)
        assert root.status_code == 404 and "/shop" not in root.text
        assert "location" not in root.headers
        for path in ("/shop", "/shop/orders", "/shop/orders/10001", "/static/webchat.js"):
            assert requests.get(f"{web.base}{path}", timeout=10).status_code == 404, path
        login = requests.post(
            f"{web.base}/shop/login", data={"customer_id": "1001"}, allow_redirects=False
        )
        assert login.status_code == 404 and "set-cookie" not in login.headers
        # The rest of the service is there.
        assert requests.get(f"{web.base}/staff/login", timeout=10).status_code == 200
        outbox = requests.get(f"{web.base}/api/v1/outbox", headers=AUTH, timeout=10)
        assert outbox.status_code == 200


def test_without_an_api_token_every_api_call_is_refused(tmp_path: Path) -> None:
    """`python -m bot web` does not start without one; the app refuses on its own too."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _seeded(url, TODAY)
    script = (
        "import dataclasses\n"
        "from bot.settings import load_settings\n"
        "from bot.web.app import run_web\n"
        "run_web(dataclasses.replace(load_settings(), order_api_token=''))\n"
    )
    web = start_web(tmp_path, url, command=[sys.executable, "-c", script])
    try:
        calls = [
            ("get", "/api/v1/outbox", None),
            ("get", "/api/v1/promises", None),
            ("post", "/api/v1/supplier-delays", {"supplier": "Gazelle", "reason_code": "x"}),
            ("post", "/api/v1/orders/10001/events", {"field": "status", "new_value": "shipped"}),
            ("post", "/api/v1/outbox/1/retry", None),
            ("put", "/api/v1/customers/1001/channels", {"channel": "telegram", "address": "1"}),
            ("post", "/api/v1/promises/1/kept", None),
        ]
        for method, path, body in calls:
            for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
                response = requests.request(
                    method, f"{web.base}{path}", json=body, headers=headers, timeout=10
                )
                assert response.status_code == 401, (path, headers)
        assert events(url) == events(url)
    finally:
        stop_all([web.process])


def test_a_slow_helpdesk_does_not_hold_up_the_service(tmp_path: Path) -> None:
    """A delay past Erik's deadline opens a handoff; Zendesk takes 2 s for the
    ticket, and /health answers meanwhile."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _seeded(url, TODAY)
    sessions = make_session_factory(create_db_engine(url))
    wedding = ParsedDeadline(
        day=TODAY + timedelta(days=12), phrase="zaterdag", before=False, purpose="bruiloft"
    )
    save_deadline(sessions, 10001, 1001, wedding, "nl", datetime(2026, 1, 1))
    zendesk = SlowZendesk(seconds=2.0)
    try:
        with running_web(
            tmp_path,
            url,
            ZENDESK_URL=zendesk.url,
            ZENDESK_EMAIL="staff@example.nl",
            ZENDESK_API_TOKEN="zendesk-token",
        ) as web:
            delay = requests.post(
                f"{web.base}/api/v1/supplier-delays",
                json={
                    "supplier": "Gazelle",
                    "new_date": (TODAY + timedelta(days=17)).isoformat(),
                    "reason_code": "production_problem",
                },
                headers=AUTH,
                timeout=30,
            )
            assert delay.status_code == 202 and len(delay.json()["handoff_ids"]) == 1
            handoff_id = delay.json()["handoff_ids"][0]
            # The ticket is being made now; the service answers at once.
            for _ in range(5):
                started = time.monotonic()
                assert requests.get(f"{web.base}/health", timeout=5).status_code == 200
                assert time.monotonic() - started < 0.5
                time.sleep(0.1)
            deadline = time.monotonic() + 15
            ticket = None
            while ticket is None and time.monotonic() < deadline:
                with sessions() as session:
                    row = session.get(HandoffRow, handoff_id)
                    ticket = row.ticket_ref if row is not None else None
                time.sleep(0.2)
            assert ticket == "7001"
            assert "handoff" in zendesk.tickets[0]["ticket"]["subject"].lower()
    finally:
        zendesk.close()


def test_a_database_wait_does_not_hold_up_the_service(tmp_path: Path, postgres_url: str) -> None:
    """A retry of a dead warning waits for a row another transaction holds;
    /health answers meanwhile."""
    _seeded(postgres_url, TODAY)
    engine = create_db_engine(postgres_url)
    sessions = make_session_factory(engine)
    with running_web(tmp_path, postgres_url) as web:
        delay = requests.post(
            f"{web.base}/api/v1/supplier-delays",
            json={"supplier": "Gazelle", "delay_days": 3, "reason_code": "production_problem"},
            headers=AUTH,
            timeout=30,
        )
        warning_id = delay.json()["warning_ids"][0]
        with sessions() as session, session.begin():
            session.execute(update(WarningRow).values(status="dead"))
        answers: list[requests.Response] = []
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(
                text("SELECT id FROM warnings WHERE id = :id FOR UPDATE"), {"id": warning_id}
            )
            retry = threading.Thread(
                target=lambda: answers.append(
                    requests.post(
                        f"{web.base}/api/v1/outbox/{warning_id}/retry", headers=AUTH, timeout=30
                    )
                )
            )
            retry.start()
            time.sleep(0.5)
            try:
                for _ in range(3):
                    started = time.monotonic()
                    assert requests.get(f"{web.base}/health", timeout=5).status_code == 200
                    assert time.monotonic() - started < 0.5
                assert answers == []  # still waiting for the row
            finally:
                transaction.rollback()
        retry.join(timeout=30)
        assert [a.status_code for a in answers] == [202]
    engine.dispose()
