"""The database goes away under the running web service (a TCP proxy in front
of PostgreSQL, cut and restored): 503s, never a stack trace, the service stays
up, a short outage is ridden out by retries, and when the database is back the
requests work again without a restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot.clock import shop_today
from tests.conftest import _seeded
from tests.database_proxy import DatabaseProxy
from tests.integration.web_process import AUTH, WebService, running_web

STAFF_PASSWORD = "outage-test-staff-password"


@pytest.fixture
def service(tmp_path: Path, postgres_url: str) -> Iterator[tuple[WebService, DatabaseProxy]]:
    _seeded(postgres_url, shop_today("Europe/Amsterdam"))
    proxy = DatabaseProxy(postgres_url)
    proxy.up()
    try:
        with running_web(
            tmp_path, proxy.url, DEMO_SHOP="true", STAFF_PASSWORD=STAFF_PASSWORD
        ) as web:
            yield web, proxy
    finally:
        proxy.down()


def sessions_for(web: WebService) -> tuple[requests.Session, requests.Session]:
    erik = requests.Session()
    assert erik.post(f"{web.base}/shop/login", data={"customer_id": "1001"}, timeout=10).ok
    staff = requests.Session()
    assert staff.post(f"{web.base}/staff/login", data={"password": STAFF_PASSWORD}, timeout=10).ok
    return erik, staff


def delay(web: WebService, days: int) -> requests.Response:
    return requests.post(
        f"{web.base}/api/v1/supplier-delays",
        json={"supplier": "Gazelle", "delay_days": days, "reason_code": "production_problem"},
        headers=AUTH,
        timeout=30,
    )


def test_without_the_database_503_and_back_without_a_restart(
    service: tuple[WebService, DatabaseProxy],
) -> None:
    web, proxy = service
    erik, staff = sessions_for(web)
    assert requests.get(f"{web.base}/api/v1/outbox", headers=AUTH, timeout=10).status_code == 200
    assert erik.get(f"{web.base}/shop/orders/10001", timeout=10).status_code == 200
    assert staff.get(f"{web.base}/staff", timeout=10).status_code == 200

    proxy.down()
    for _ in range(2):  # pooled connections dropped, then new ones refused
        outbox = requests.get(f"{web.base}/api/v1/outbox", headers=AUTH, timeout=30)
        assert outbox.status_code == 503, outbox.text
        assert outbox.json() == {"error": "the database is unavailable, try again"}
        intake = delay(web, 2)
        assert intake.status_code == 503 and "Traceback" not in intake.text
        for page, client, words in (
            ("/shop", requests, "bestelsysteem"),
            ("/shop/orders/10001", erik, "bestelsysteem"),
            ("/staff", staff, "database"),
            ("/staff/handoffs", staff, "database"),
        ):
            answer = client.get(f"{web.base}{page}", timeout=30)
            assert answer.status_code == 503, (page, answer.text[:300])
            assert words in answer.text and "Traceback" not in answer.text
            assert "psycopg2" not in answer.text and "sqlalchemy" not in answer.text
        stats = staff.get(f"{web.base}/staff/api/stats", timeout=30)
        assert stats.status_code == 503 and "error" in stats.json()
    assert requests.get(f"{web.base}/health", timeout=5).status_code == 200
    assert web.process.poll() is None
    assert "Traceback" not in web.output()

    proxy.up()
    assert requests.get(f"{web.base}/api/v1/outbox", headers=AUTH, timeout=30).status_code == 200
    assert delay(web, 2).status_code == 202
    assert erik.get(f"{web.base}/shop/orders/10001", timeout=10).status_code == 200
    assert staff.get(f"{web.base}/staff", timeout=10).status_code == 200


def test_a_short_outage_is_retried_with_backoff(
    service: tuple[WebService, DatabaseProxy],
) -> None:
    web, proxy = service
    erik, _staff = sessions_for(web)
    proxy.down()
    threading.Timer(0.3, proxy.up).start()  # back before the retries run out
    started = time.monotonic()
    outbox = requests.get(f"{web.base}/api/v1/outbox", headers=AUTH, timeout=30)
    assert outbox.status_code == 200, outbox.text
    assert time.monotonic() - started >= 0.2  # it waited for the database

    proxy.down()
    threading.Timer(0.3, proxy.up).start()
    page = erik.get(f"{web.base}/shop/orders/10001", timeout=30)
    assert page.status_code == 200 and "Gazelle" in page.text
