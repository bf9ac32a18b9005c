"""The source worker on its own: a webhook WooCommerce never sent is caught by
the reconcile over its REST API, applied once, and `python -m bot sources`
shows it (SQLite and PostgreSQL; the REST API is a stand-in over HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory
from bot.memory.changes import OrderEventRow
from bot.memory.sources import SourceDeliveryRow
from bot.settings import PROJECT_ROOT, load_settings
from bot.sources.woocommerce import WooCommerceSource
from bot.sources.worker import SourceWorker
from tests import platform_webhooks as hooks
from tests.conftest import _seeded
from tests.shop_standins import WooCommerceStore

KEY, SECRET = "ck_" + "5e3a1c9d7b2f" * 3, "cs_" + "8d6b4f2a0c1e" * 3


@pytest.fixture
def store() -> Iterator[WooCommerceStore]:
    api = WooCommerceStore(KEY, SECRET).start()
    yield api
    api.close()


@pytest.fixture
def shop(any_database_url: str, today: date) -> sessionmaker[Session]:
    _seeded(any_database_url, today)
    return make_session_factory(create_db_engine(any_database_url))


def test_a_missed_webhook_is_caught_by_the_reconcile_and_applied_once(
    store: WooCommerceStore, shop: sessionmaker[Session], any_database_url: str
) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    order = hooks.fixture("woocommerce", "order_updated_cancelled.json")
    order.update(number="10005", id=10005, date_modified_gmt=now.strftime("%Y-%m-%dT%H:%M:%S"))
    store.orders[10005] = order
    store.notes[10005] = []
    source = WooCommerceSource(
        hooks.SECRETS["woocommerce"], store.url, KEY, SECRET, timeout=2.0, retry_pause=0.0
    )
    clock = [now + timedelta(minutes=1)]
    worker = SourceWorker(
        load_settings().sources, shop, {"woocommerce": source}, clock=lambda: clock[0]
    )
    # The first look, at start: a backfill of the last 7 days (nothing came yet).
    assert worker.reconcile_due() == 1
    assert store.requests[-1][1]["modified_after"][0] < (now - timedelta(days=7)).isoformat()
    assert worker.work_due() == 1
    assert worker.reconcile_due() == 0  # not again before the next period
    clock[0] += timedelta(minutes=16)
    assert worker.reconcile_due() == 0  # the same order, unchanged: the same event id
    with shop() as session:
        [delivery] = session.execute(select(SourceDeliveryRow)).scalars()
        assert delivery.event_id.startswith("reconcile:10005:")
        assert (delivery.status, delivery.order_number) == ("applied", "10005")
        [cancel] = session.execute(
            select(OrderEventRow).where(
                OrderEventRow.order_id == 10005, OrderEventRow.new_value == "cancelled"
            )
        ).scalars()
        assert cancel.field == "status"

    listing = subprocess.run(
        [sys.executable, "-m", "bot", "sources"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": any_database_url, "WOOCOMMERCE_WEBHOOK_SECRET": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = {line.split()[0]: line for line in listing.splitlines() if line and line[0] != " "}
    assert "applied: 1" in lines["woocommerce"] and "last event 20" in lines["woocommerce"]
    assert "never" in lines["shopify"] and "off (no webhook secret)" in lines["shopify"]
