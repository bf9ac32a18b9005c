"""Normalized platform changes applied to the demo shop, once and in order
(bot/sources/apply.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory, upgrade_database
from bot.memory.changes import OrderEventRow
from bot.memory.sources import APPLIED, FAILED, IGNORED, UNKNOWN_ORDER, SourceOrderLinkRow
from bot.memory.warnings import WarningRow
from bot.orders.http_system import HttpOrderSystem
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.sql.tables import OrderRow, ShipmentRow
from bot.sources.apply import apply_changes
from bot.sources.change import ShipmentInfo, SourceChange
from tests.conftest import _seeded
from tests.integration.order_api_server import OrderApiServer

NOW = datetime(2026, 1, 1, 12, 0)
T0 = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def shop(any_database_url: str, today: date) -> sessionmaker[Session]:
    _seeded(any_database_url, today)
    return make_session_factory(create_db_engine(any_database_url))


def apply(
    shop: sessionmaker[Session], *changes: SourceChange, numbers: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    with shop() as session, session.begin():
        return apply_changes(session, "shopify", list(changes), numbers or {}, NOW)


def events(shop: sessionmaker[Session], order_id: int, field: str) -> list[OrderEventRow]:
    with shop() as session:
        return list(
            session.execute(
                select(OrderEventRow)
                .where(OrderEventRow.order_id == order_id, OrderEventRow.field == field)
                .order_by(OrderEventRow.id)
            ).scalars()
        )


def warnings_for(shop: sessionmaker[Session], customer_id: int) -> list[WarningRow]:
    with shop() as session:
        return list(
            session.execute(
                select(WarningRow).where(WarningRow.customer_id == customer_id)
            ).scalars()
        )


def date_change(
    new: date, at: datetime, number: str | None = "10001", **extra: object
) -> SourceChange:
    return SourceChange(
        source="shopify",
        field="promised_date",
        new_value=new.isoformat(),
        occurred_at=at,
        order_number=number,
        reason_code="carrier_delay",
        reason_text="Vertraging in het sorteercentrum",
        party_type="carrier",
        party_name="PostNL",
        **extra,  # type: ignore[arg-type]
    )


def test_a_carrier_delay_moves_the_date_records_the_reason_and_warns(
    shop: sessionmaker[Session], today: date
) -> None:
    new = today + timedelta(days=30)
    outcome = apply(shop, date_change(new, T0))
    assert outcome.status == APPLIED and outcome.applied == 1 and outcome.order_number == "10001"
    with shop() as session:
        order = session.get(OrderRow, 10001)
        assert order is not None and order.promised_date == new
    event = events(shop, 10001, "promised_date")[-1]
    assert event.reason_code == "carrier_delay"
    assert event.reason_text == "Vertraging in het sorteercentrum"
    assert (event.party_type, event.party_name) == ("carrier", "PostNL")
    assert event.occurred_at == T0.replace(tzinfo=None)  # when it happened, not when it came
    assert len(outcome.warning_ids) == 1
    assert [w.id for w in warnings_for(shop, 1001)] == outcome.warning_ids


def test_the_same_state_again_is_no_change_and_warns_nobody(
    shop: sessionmaker[Session], today: date
) -> None:
    new = today + timedelta(days=30)
    apply(shop, date_change(new, T0))
    again = apply(shop, date_change(new, T0 + timedelta(minutes=5)))
    assert again.status == APPLIED and again.applied == 0 and again.unchanged == 1
    assert len(events(shop, 10001, "promised_date")) == 2  # the seeded move and ours
    assert len(warnings_for(shop, 1001)) == 1


def test_an_older_change_delivered_late_never_moves_the_order_back(
    shop: sessionmaker[Session], today: date
) -> None:
    newer, older = today + timedelta(days=40), today + timedelta(days=30)
    apply(shop, date_change(newer, T0 + timedelta(hours=1)))
    late = apply(shop, date_change(older, T0))
    assert late.stale == 1 and late.applied == 0
    with shop() as session:
        order = session.get(OrderRow, 10001)
        assert order is not None and order.promised_date == newer
    assert len(warnings_for(shop, 1001)) == 1


def test_an_order_named_only_by_the_platforms_id_is_found_through_the_link(
    shop: sessionmaker[Session], today: date
) -> None:
    hold = SourceChange(
        source="shopify",
        field="hold",
        new_value="on_hold",
        occurred_at=T0,
        order_number="10002",
        platform_order_id="820982911946154508",
        reason_code="payment_pending",
        party_type="shop",
    )
    apply(shop, hold)
    with shop() as session:
        link = session.get(SourceOrderLinkRow, ("shopify", "820982911946154508"))
        assert link is not None and link.order_number == "10002"
    released = SourceChange(
        source="shopify",
        field="hold",
        new_value="released",
        occurred_at=T0 + timedelta(hours=1),
        platform_order_id="820982911946154508",
    )
    outcome = apply(shop, released, numbers={"820982911946154508": "10002"})
    assert outcome.applied == 1 and outcome.order_number == "10002"
    assert [e.new_value for e in events(shop, 10002, "hold")] == ["on_hold", "released"]
    # The hold warned Anouk; its release is good news she was not asked about.
    assert len(warnings_for(shop, 1002)) == 1


def test_a_carriers_failed_attempt_updates_the_parcel_and_warns(
    shop: sessionmaker[Session],
) -> None:
    change = SourceChange(
        source="sendcloud",
        field="shipment_status",
        new_value="exception",
        occurred_at=T0,
        order_number="10003",
        reason_code="delivery_attempt_failed",
        reason_text="Delivery attempt failed",
        party_type="carrier",
        party_name="PostNL",
        shipment=ShipmentInfo(carrier="PostNL", tracking_code="3SFMEX1234567", status="exception"),
    )
    outcome = apply(shop, change)
    assert outcome.applied == 1 and len(outcome.warning_ids) == 1
    with shop() as session:
        parcel = session.execute(
            select(ShipmentRow).where(ShipmentRow.tracking_code == "3SFMEX1234567")
        ).scalar_one()
        assert parcel.status == "exception"
    delivered = SourceChange(
        source="sendcloud",
        field="shipment_status",
        new_value="delivered",
        occurred_at=T0 + timedelta(days=1),
        order_number="10003",
        shipment=ShipmentInfo(carrier="PostNL", tracking_code="3SFMEX1234567"),
    )
    apply(shop, delivered)
    with shop() as session:
        order = session.get(OrderRow, 10003)
        assert order is not None and order.status == "delivered"
        assert order.delivered_at == (T0 + timedelta(days=1)).replace(tzinfo=None)


def test_an_unknown_order_moves_nothing(shop: sessionmaker[Session], today: date) -> None:
    outcome = apply(shop, date_change(today + timedelta(days=30), T0, number="99999"))
    assert outcome.status == UNKNOWN_ORDER and outcome.unknown == 1
    not_a_number = apply(shop, date_change(today, T0, number="'; DROP TABLE orders; --"))
    assert not_a_number.status == UNKNOWN_ORDER
    unlinked = apply(shop, date_change(today, T0, number=None, platform_order_id="404"))
    assert unlinked.status == UNKNOWN_ORDER


def test_a_line_the_order_does_not_have_fails_only_that_change(
    shop: sessionmaker[Session], today: date
) -> None:
    missing_line = SourceChange(
        source="woocommerce",
        field="line_status",
        new_value="out_of_stock",
        occurred_at=T0,
        order_number="10005",
        line_sku="NOT-IN-THIS-ORDER",
    )
    alone = apply(shop, missing_line)
    assert alone.status == FAILED and "SKU" in alone.errors[0]
    both = apply(shop, missing_line, date_change(today + timedelta(days=9), T0, number="10005"))
    assert both.status == APPLIED and both.applied == 1 and len(both.errors) == 1


def test_nothing_for_a_customer_is_ignored(shop: sessionmaker[Session]) -> None:
    assert apply(shop).status == IGNORED


def test_a_shops_own_system_is_read_and_never_written(
    shop: sessionmaker[Session], tmp_path: Path, today: date
) -> None:
    """ORDER_SYSTEM=http (or a platform): the shop already holds the change; the
    assistant logs it and warns, comparing with what it heard before, not with
    the shop (which says "cancelled" already when Shopify reports the cancel)."""
    memory_url = f"sqlite:///{tmp_path / 'memory.db'}"
    upgrade_database(memory_url)
    memory = make_session_factory(create_db_engine(memory_url))
    with OrderApiServer(SqlOrderSystem(shop), api_key="k") as api:
        system = HttpOrderSystem(api.url, api_key="k", timeout=2, retries=0)
        SqlOrderSystem(shop).cancel_order(10005, "geannuleerd in de webwinkel")
        cancelled = SourceChange(
            source="shopify",
            field="status",
            new_value="cancelled",
            occurred_at=T0,
            order_number="10005",
            reason_code="cancelled_by_customer",
            party_type="customer",
        )
        attempt = SourceChange(
            source="sendcloud",
            field="shipment_status",
            new_value="exception",
            occurred_at=T0,
            order_number="10003",
            reason_code="delivery_attempt_failed",
            party_type="carrier",
        )
        orders = {"10005": system.get_order(10005), "10003": system.get_order(10003)}
        before = system.get_order(10003)
        with memory() as session, session.begin():
            outcome = apply_changes(session, "shopify", [cancelled, attempt], {}, NOW, orders)
        assert (outcome.status, outcome.applied, len(outcome.warning_ids)) == ("applied", 2, 2)
        with memory() as session, session.begin():
            again = apply_changes(session, "shopify", [cancelled], {}, NOW, orders)
        assert (again.applied, again.unchanged) == (0, 1)
        assert system.get_order(10003) == before  # the parcel stays the shop's business
    with memory() as session:
        logged = {e.order_id: e for e in session.execute(select(OrderEventRow)).scalars()}
    assert (logged[10005].new_value, logged[10005].old_value) == ("cancelled", None)
    assert logged[10003].party_name == "PostNL"  # the carrier of the shop's parcel
