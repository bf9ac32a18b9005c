"""A shop on Shopify with no order database of its own (ORDER_SYSTEM=shopify):
the web service (a real process) reads the orders from Shopify's Admin API
(a stand-in serving the demo shop over HTTP), takes Shopify's webhooks and
warns the customer Shopify names, writing nothing to Shopify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import shop_today
from bot.database import create_db_engine, upgrade_database
from bot.memory.changes import OrderEventRow
from bot.memory.warnings import WarningRow
from tests import platform_webhooks as hooks
from tests.conftest import _seeded
from tests.integration.test_source_webhooks import accepted, settled
from tests.integration.web_process import WebService, running_web
from tests.shopify_admin_standin import ShopifyAdminStandIn

TODAY = shop_today("Europe/Amsterdam")
TOKEN = "shpat_platform_order_system_test"


@pytest.fixture
def shopify(tmp_path: Path) -> Iterator[ShopifyAdminStandIn]:
    demo = _seeded(f"sqlite:///{tmp_path / 'shopify.db'}", TODAY)
    with ShopifyAdminStandIn(demo, access_token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def service(tmp_path: Path, shopify: ShopifyAdminStandIn) -> Iterator[tuple[WebService, str]]:
    memory = f"sqlite:///{tmp_path / 'assistant.db'}"
    upgrade_database(memory)
    env = {
        **hooks.source_env(),
        "ORDER_SYSTEM": "shopify",
        "SHOPIFY_API_URL": shopify.url,
        "SHOPIFY_ADMIN_TOKEN": TOKEN,
    }
    with running_web(tmp_path, memory, **env) as web:
        yield web, memory


def test_a_shopify_delay_warns_the_customer_shopify_names_and_writes_nothing(
    service: tuple[WebService, str], shopify: ShopifyAdminStandIn
) -> None:
    web, memory = service
    order = hooks.fixture("shopify", "orders_updated_unfulfilled.json")  # #10001
    settled(memory, accepted(web, "shopify", hooks.shopify("orders/updated", order)))
    new_date = TODAY + timedelta(days=30)
    event = hooks.fixture("shopify", "fulfillment_events_create.json")
    happened = datetime.now(timezone.utc).replace(microsecond=0)
    event.update(
        order_id=order["id"],
        status="DELAYED",
        happened_at=happened.isoformat(),
        created_at=happened.isoformat(),
        estimated_delivery_at=f"{new_date.isoformat()}T12:00:00+01:00",
    )
    row = settled(
        memory, accepted(web, "shopify", hooks.shopify("fulfillment_events/create", event))
    )
    assert (row.status, row.order_number, row.warnings) == ("applied", "10001", 1)
    engine = create_db_engine(memory)
    try:
        with Session(engine) as session:
            [change] = session.execute(select(OrderEventRow)).scalars()
            [warning] = session.execute(select(WarningRow)).scalars()
    finally:
        engine.dispose()
    assert (change.order_id, change.field, change.new_value) == (
        10001,
        "promised_date",
        new_date.isoformat(),
    )
    # The shop's own promise was the old value: read from Shopify's metafield.
    assert change.old_value == (TODAY + timedelta(days=10)).isoformat()
    assert warning.customer_id == 1001  # Erik, as Shopify says
    assert "orderCancel" not in shopify.requests and "tagsAdd" not in shopify.requests
