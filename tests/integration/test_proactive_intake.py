"""Intake of order changes, the outbox and the promise watcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.database import create_db_engine, make_session_factory
from bot.memory.changes import OrderEventRow
from bot.memory.promises import PromiseRow
from bot.memory.warnings import WarningRow
from bot.orders.http_system import HttpOrderSystem
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.sql.tables import OrderRow, ProductRow, SupplierRow
from bot.proactive.intake import (
    IntakeError,
    OrderChange,
    SupplierDelay,
    UnknownOrder,
    apply_order_change,
    apply_supplier_delay,
)
from bot.proactive.outbox import counts, id_list, retry_warning
from bot.proactive.promises import keep_posted, list_promises, mark_kept, promise_callback
from bot.proactive.watcher import watch_promises
from bot.processes import free_port
from tests.conftest import _seeded

NOW = datetime(2026, 1, 1, 12, 0)


@pytest.fixture
def shop(any_database_url: str, today: date) -> sessionmaker[Session]:
    _seeded(any_database_url, today)
    return make_session_factory(create_db_engine(any_database_url))


def warnings(shop: sessionmaker[Session]) -> list[WarningRow]:
    with shop() as session:
        return list(session.execute(select(WarningRow).order_by(WarningRow.id)).scalars())


def test_gazelle_delay_moves_erik_and_queues_one_warning(
    shop: sessionmaker[Session], today: date
) -> None:
    new_date = today + timedelta(days=17)
    result = apply_supplier_delay(
        shop,
        SupplierDelay(
            supplier="gazelle",
            new_date=new_date,
            reason_code="production_problem",
            reason="frames komen later",
        ),
        NOW,
    )
    assert result.order_ids == [10001]
    with shop() as session:
        order = session.get(OrderRow, 10001)
        assert order is not None and order.promised_date == new_date and order.status == "changed"
        event = session.get(OrderEventRow, result.event_ids[0])
        assert event is not None
        assert (event.party_name, event.reason_code, event.reason_text) == (
            "Gazelle",
            "production_problem",
            "frames komen later",
        )
    (warning,) = warnings(shop)
    assert warning.customer_id == 1001 and warning.status == "queued"
    assert id_list(warning.order_ids) == [10001]
    assert id_list(warning.event_ids) == result.event_ids


def test_a_delay_not_later_than_promised_changes_nothing(
    shop: sessionmaker[Session], today: date
) -> None:
    result = apply_supplier_delay(
        shop, SupplierDelay("Gazelle", "supplier_delay", "x", new_date=today), NOW
    )
    assert result.order_ids == [] and warnings(shop) == []


def test_one_warning_per_customer_for_several_orders(
    shop: sessionmaker[Session], today: date
) -> None:
    with shop() as session, session.begin():
        second = session.get(OrderRow, 10005)
        assert second is not None
        second.customer_id = 1001  # Erik also ordered the helmet, made by Gazelle here
        helmet = session.execute(
            select(ProductRow).where(ProductRow.sku == "AB-HELM-M")
        ).scalar_one()
        helmet.supplier_id = session.execute(
            select(SupplierRow.id).where(SupplierRow.name == "Gazelle")
        ).scalar_one()
    result = apply_supplier_delay(
        shop, SupplierDelay("Gazelle", "supplier_delay", "late", delay_days=5), NOW
    )
    assert result.order_ids == [10001, 10005]
    (warning,) = warnings(shop)
    assert id_list(warning.order_ids) == [10001, 10005]
    assert len(id_list(warning.event_ids)) == 2


def test_sku_and_product_narrow_the_delay(shop: sessionmaker[Session]) -> None:
    other_sku = apply_supplier_delay(
        shop, SupplierDelay("Gazelle", "supplier_delay", "x", delay_days=3, sku="GZ-OTHER"), NOW
    )
    assert other_sku.order_ids == []
    abus = apply_supplier_delay(
        shop, SupplierDelay("Abus", "supplier_delay", "x", delay_days=3, sku="AB-HELM-M"), NOW
    )
    assert abus.order_ids == [10005]
    by_name = apply_supplier_delay(
        shop, SupplierDelay("Gazelle", "supplier_delay", "x", delay_days=3, product="ultimate"), NOW
    )
    assert by_name.order_ids == [10001]


def test_the_same_change_never_queues_twice(shop: sessionmaker[Session]) -> None:
    from bot.proactive.outbox import queue_warning

    with shop() as session, session.begin():
        first = queue_warning(
            session, customer_id=1001, kind="change", order_ids=[10001], event_ids=[1], now=NOW
        )
        again = queue_warning(
            session, customer_id=1001, kind="change", order_ids=[10001], event_ids=[1], now=NOW
        )
        assert first.id == again.id


def test_a_single_order_event_is_applied_and_warned(
    shop: sessionmaker[Session], today: date
) -> None:
    new = today + timedelta(days=6)
    result = apply_order_change(
        shop,
        OrderChange(
            order_id=10006,
            field="promised_date",
            new_value=new.isoformat(),
            reason_code="warehouse_delay",
            reason="te weinig mensen",
            party_type="warehouse",
        ),
        NOW,
    )
    with shop() as session:
        order = session.get(OrderRow, 10006)
        assert order is not None and order.promised_date == new
        event = session.get(OrderEventRow, result.event_ids[0])
        assert event is not None and event.old_value == (today + timedelta(days=5)).isoformat()
    assert [w.customer_id for w in warnings(shop)] == [1006]


def test_progress_is_only_warned_to_subscribers(shop: sessionmaker[Session]) -> None:
    quiet = apply_order_change(
        shop, OrderChange(order_id=10005, field="status", new_value="processing"), NOW
    )
    assert quiet.warning_ids == []
    with shop() as session, session.begin():
        keep_posted(session, 1005, 10005, NOW)
    told = apply_order_change(
        shop, OrderChange(order_id=10005, field="status", new_value="shipped"), NOW
    )
    assert len(told.warning_ids) == 1


def test_an_unknown_order_or_a_bad_change_applies_nothing(shop: sessionmaker[Session]) -> None:
    with shop() as session:
        before = session.execute(select(func.count()).select_from(OrderEventRow)).scalar()
    with pytest.raises(UnknownOrder):
        apply_order_change(shop, OrderChange(order_id=99999, field="status", new_value="x"), NOW)
    with pytest.raises(IntakeError):
        apply_order_change(
            shop,
            OrderChange(
                order_id=10001, field="line_status", new_value="out_of_stock", line_id=None
            ),
            NOW,
        )
    with shop() as session:
        after = session.execute(select(func.count()).select_from(OrderEventRow)).scalar()
    assert after == before and warnings(shop) == []


def test_the_watcher_judges_nothing_while_the_shop_cannot_be_read(
    shop: sessionmaker[Session], today: date
) -> None:
    """A shop's REST API that is away: no promise is judged on a guess (ended,
    broken); they all wait for the next round and are judged then."""
    away = HttpOrderSystem(f"http://127.0.0.1:{free_port()}", timeout=0.5, retries=0)
    assert watch_promises(shop, away, today, NOW).warning_ids == []
    assert warnings(shop) == [] and list_promises(shop, "ended") == []
    back = watch_promises(shop, SqlOrderSystem(shop), today, NOW + timedelta(minutes=5))
    assert back.broken and any(w.kind == "promise_broken" for w in warnings(shop))


def test_anouks_broken_promise_becomes_a_warning_without_any_intake(
    shop: sessionmaker[Session], today: date
) -> None:
    result = watch_promises(shop, SqlOrderSystem(shop), today, NOW)
    broken = [p for p in list_promises(shop) if p.id in result.broken]
    assert [(p.order_id, p.due_date) for p in broken] == [(10002, today - timedelta(days=2))]
    kinds = {(w.customer_id, w.kind) for w in warnings(shop)}
    assert (1002, "promise_broken") in kinds
    # Lisa's delivered order: kept. Erik's D+3 is not due yet: nothing said.
    assert all(w.customer_id != 1001 for w in warnings(shop))
    # The new date is promised again, honestly.
    renewed = [p for p in list_promises(shop, "open") if p.order_id == 10002]
    assert [p.due_date for p in renewed] == [today + timedelta(days=9)]
    # Watching again says nothing twice.
    again = watch_promises(shop, SqlOrderSystem(shop), today, NOW + timedelta(minutes=5))
    assert again.warning_ids == []
    assert len(warnings(shop)) == len(kinds)


def test_a_promise_due_tomorrow_for_an_unshipped_order_is_at_risk(
    shop: sessionmaker[Session], today: date
) -> None:
    result = watch_promises(
        shop, SqlOrderSystem(shop), today + timedelta(days=2), NOW
    )  # Erik's D+3 is now tomorrow
    assert any(w.customer_id == 1001 and w.kind == "promise_at_risk" for w in warnings(shop))
    with shop() as session:
        erik = (
            session.execute(
                select(PromiseRow).where(PromiseRow.order_id == 10001).order_by(PromiseRow.id)
            )
            .scalars()
            .all()
        )
    assert [p.status for p in erik] == ["renewed", "open"]
    assert erik[-1].due_date == today + timedelta(days=10)
    assert result.at_risk


def test_dead_warnings_can_be_retried_by_hand(shop: sessionmaker[Session]) -> None:
    apply_supplier_delay(shop, SupplierDelay("Gazelle", "supplier_delay", "x", delay_days=2), NOW)
    (warning,) = warnings(shop)
    assert retry_warning(shop, warning.id, NOW) is False  # queued: nothing to retry
    with shop() as session, session.begin():
        row = session.get(WarningRow, warning.id)
        assert row is not None
        row.status, row.attempts = "dead", 8
    assert counts(shop)["dead"] == 1
    assert retry_warning(shop, warning.id, NOW) is True
    assert counts(shop)["queued"] == 1 and counts(shop)["dead"] == 0


def test_a_callback_not_made_in_time_is_owned_up_to(shop: sessionmaker[Session]) -> None:
    with shop() as session, session.begin():
        late = promise_callback(session, 1006, 10006, NOW - timedelta(minutes=1), NOW)
        kept = promise_callback(session, 1006, 10006, NOW - timedelta(minutes=1), NOW)
        waiting = promise_callback(session, 1006, 10006, NOW + timedelta(hours=2), NOW)
    assert mark_kept(shop, kept.id, NOW)
    assert not mark_kept(shop, kept.id, NOW)  # kept once
    result = watch_promises(shop, SqlOrderSystem(shop), NOW.date(), NOW)
    assert result.broken == [late.id]
    [warning] = [w for w in warnings(shop) if w.id in result.warning_ids]
    assert (warning.kind, warning.customer_id, warning.promise_id) == (
        "callback_missed",
        1006,
        late.id,
    )
    statuses = {p.id: p.status for p in list_promises(shop)}
    assert statuses[kept.id] == "kept" and statuses[waiting.id] == "open"
