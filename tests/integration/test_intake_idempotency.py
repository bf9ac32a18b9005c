"""Idempotency-Key on the intake, against the web service as a real process on
SQLite and PostgreSQL: a retried call moves nothing twice and queues no second
warning; two calls at once with one key apply once."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.clock import shop_today
from bot.database import create_db_engine, make_session_factory
from bot.memory.changes import OrderEventRow
from bot.memory.idempotency import IdempotencyKeyRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.tables import OrderRow
from bot.web.idempotency import Answer, KeyReused, forget_expired, run_once
from tests.conftest import _seeded
from tests.integration.web_process import AUTH, WebService, running_web

TODAY = shop_today("Europe/Amsterdam")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WebService, str]]:
    folder = tmp_path_factory.mktemp("intake")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'shop.db'}"
    else:
        url = request.getfixturevalue("postgres_url_module")
    _seeded(url, TODAY)
    with running_web(folder, url) as web:
        yield web, url


def state(url: str, order_id: int = 10001) -> tuple[date | None, int, int]:
    """The order's promised date, and how many warnings and events there are."""
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            order = session.get(OrderRow, order_id)
            warnings = session.execute(select(func.count()).select_from(WarningRow)).scalar()
            events = session.execute(select(func.count()).select_from(OrderEventRow)).scalar()
            return (order.promised_date if order else None, int(warnings or 0), int(events or 0))
    finally:
        engine.dispose()


def delay(web: WebService, key: str, days: int = 3) -> requests.Response:
    return requests.post(
        f"{web.base}/api/v1/supplier-delays",
        json={"supplier": "Gazelle", "delay_days": days, "reason_code": "production_problem"},
        headers={**AUTH, "Idempotency-Key": key},
        timeout=60,
    )


def test_a_retried_delay_moves_the_orders_once_and_warns_once(
    service: tuple[WebService, str],
) -> None:
    web, url = service
    before = state(url)
    key = f"delay-{uuid.uuid4()}"
    first = delay(web, key)
    assert first.status_code == 202, first.text
    assert first.json()["order_ids"] == [10001] and first.json()["warnings_queued"] == 1
    moved = state(url)
    assert before[0] is not None and moved[0] == before[0] + timedelta(days=3)
    assert moved[1:] == (before[1] + 1, before[2] + 1)

    again = delay(web, key)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert state(url) == moved  # not moved again, no second warning

    other = delay(web, f"delay-{uuid.uuid4()}")  # another key is another delay
    assert other.status_code == 202 and state(url)[0] == before[0] + timedelta(days=6)


def test_a_retried_order_event_is_applied_once(service: tuple[WebService, str]) -> None:
    web, url = service
    before = state(url, 10006)
    key = f"event-{uuid.uuid4()}"
    body = {
        "field": "promised_date",
        "new_value": (TODAY + timedelta(days=30)).isoformat(),
        "reason_code": "carrier_delay",
    }
    answers = [
        requests.post(
            f"{web.base}/api/v1/orders/10006/events",
            json=body,
            headers={**AUTH, "Idempotency-Key": key},
            timeout=30,
        )
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {202}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    after = state(url, 10006)
    assert after[0] == TODAY + timedelta(days=30)
    assert after[1:] == (before[1] + 1, before[2] + 1)
    # The same key for another order is another request: refused, nothing applied.
    elsewhere = requests.post(
        f"{web.base}/api/v1/orders/10005/events",
        json=body,
        headers={**AUTH, "Idempotency-Key": key},
        timeout=30,
    )
    assert elsewhere.status_code == 422 and "Idempotency-Key" in elsewhere.text
    assert state(url, 10006) == after


def test_the_same_key_with_another_body_is_refused(service: tuple[WebService, str]) -> None:
    web, url = service
    key = f"delay-{uuid.uuid4()}"
    assert delay(web, key, days=2).status_code == 202
    after = state(url)
    reused = delay(web, key, days=9)
    assert reused.status_code == 422
    assert reused.json()["fields"][0]["field"] == "Idempotency-Key"
    assert state(url) == after
    too_long = delay(web, "k" * 256)
    assert too_long.status_code == 422 and "Idempotency-Key" in too_long.text
    assert state(url) == after


@contextlib.contextmanager
def orders_held(url: str) -> Iterator[None]:
    """Hold up every intake at its first write (SQLite) or Erik's order (PostgreSQL)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(str(make_url(url).database), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text("SELECT id FROM orders WHERE id = 10001 FOR UPDATE"))
            try:
                yield
            finally:
                transaction.rollback()
    finally:
        engine.dispose()


def test_two_calls_at_once_with_the_same_key_apply_once(service: tuple[WebService, str]) -> None:
    web, url = service
    before = state(url)
    key = f"delay-{uuid.uuid4()}"
    answers: list[requests.Response] = []

    def call() -> None:
        answers.append(delay(web, key, days=4))

    callers = [threading.Thread(target=call) for _ in range(2)]
    with orders_held(url):
        for caller in callers:
            caller.start()
        time.sleep(1.5)
        assert answers == []  # both are inside, waiting: neither has answered
    for caller in callers:
        caller.join(timeout=60)
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    after = state(url)
    assert before[0] is not None and after[0] == before[0] + timedelta(days=4)
    assert after[1:] == (before[1] + 1, before[2] + 1)


def test_an_expired_key_is_forgotten(any_database_url: str) -> None:
    _seeded(any_database_url, TODAY)
    sessions = make_session_factory(create_db_engine(any_database_url))
    now = datetime(2026, 1, 1, 12, 0)
    done: list[datetime] = []

    def work(when: datetime) -> Answer:
        done.append(when)
        return Answer(202, {"n": len(done)})

    def once(when: datetime, fingerprint: str = "a") -> Answer:
        return run_once(
            sessions,
            key="k1",
            endpoint="supplier-delays",
            fingerprint=fingerprint,
            now=when,
            hours=24,
            work=lambda _session: work(when),
        )

    assert once(now) == Answer(202, {"n": 1})
    assert once(now + timedelta(hours=23)) == Answer(202, {"n": 1})
    with pytest.raises(KeyReused):
        once(now + timedelta(hours=23), fingerprint="b")
    # After IDEMPOTENCY_HOURS the key is as new: the work is done again.
    assert once(now + timedelta(hours=25), fingerprint="b") == Answer(202, {"n": 2})
    run_once(
        sessions,
        key="k2",
        endpoint="supplier-delays",
        fingerprint="c",
        now=now,
        hours=24,
        work=lambda _session: Answer(202, {}),
    )
    assert forget_expired(sessions, now + timedelta(hours=30)) == 1  # k2; k1 is newer
    with sessions() as session:
        keys = session.execute(select(IdempotencyKeyRow.key)).scalars().all()
    assert keys == ["k1"]
