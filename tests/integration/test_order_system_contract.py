"""The same behaviour from every order system: SQLite, PostgreSQL and HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.database import create_db_engine, make_session_factory
from bot.orders.http_system import HttpOrderSystem
from bot.orders.remembered import RememberingOrders
from bot.orders.sql.system import SqlOrderSystem
from bot.orders.system import OrderSystem
from tests.conftest import _seeded
from tests.integration.order_api_server import OrderApiServer


def remembering(shop: OrderSystem, url: str) -> RememberingOrders:
    """The shop with the assistant's memory (change log, told markers) of `url`."""
    return RememberingOrders(shop, make_session_factory(create_db_engine(url)))


@pytest.fixture(params=["sqlite", "postgresql", "http"])
def order_system(
    request: pytest.FixtureRequest, sqlite_url: str, today: date
) -> Iterator[RememberingOrders]:
    """Each order system as the assistant uses it: with its memory laid over."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        yield remembering(_seeded(url, today), url)
    elif request.param == "http":
        with OrderApiServer(_seeded(sqlite_url, today), api_key="k") as server:
            shop = HttpOrderSystem(server.url, api_key="k", timeout=2, retries=1)
            yield remembering(shop, sqlite_url)
    else:
        yield remembering(_seeded(sqlite_url, today), sqlite_url)


def test_erik_has_the_gazelle_order_with_its_recorded_reason(
    order_system: RememberingOrders, today: date
) -> None:
    orders = order_system.orders_for_customer(1001)
    assert [order.id for order in orders] == [10001]
    bike = orders[0]
    assert bike.fulfilment == "pickup"
    assert bike.status == "changed"
    assert bike.original_promised_date == today + timedelta(days=3)
    assert bike.promised_date == today + timedelta(days=10)
    assert bike.lines[0].product_name == "Gazelle Ultimate C380"
    assert bike.lines[0].supplier_name == "Gazelle"
    (event,) = bike.events
    assert event.field == "promised_date"
    assert event.reason_code == "production_problem"
    assert event.party_type == "supplier"
    assert event.party_name == "Gazelle"
    assert event.old_value == (today + timedelta(days=3)).isoformat()
    assert event.new_value == (today + timedelta(days=10)).isoformat()
    assert event.occurred_at.date() == today - timedelta(days=1)


def test_demo_shop_has_the_five_stories(order_system: RememberingOrders, today: date) -> None:
    customers = {cid: order_system.get_customer(cid) for cid in range(1001, 1006)}
    assert {cid: c.name for cid, c in customers.items() if c} == {
        1001: "Erik de Vries",
        1002: "Anouk Jansen",
        1003: "Sam Bakker",
        1004: "Lisa Visser",
        1005: "Emma Smith",
    }
    assert customers[1003] is not None and customers[1003].language == "en"
    tablets = order_system.get_order(10002)
    assert tablets is not None
    assert tablets.original_promised_date == today - timedelta(days=2)
    assert tablets.promised_date == today + timedelta(days=9)
    assert tablets.lines[0].quantity == 2
    cufflinks = order_system.get_order(10003)
    assert cufflinks is not None
    assert cufflinks.shipments[0].carrier == "PostNL"
    assert cufflinks.promised_date == today + timedelta(days=2)
    dryer = order_system.get_order(10004)
    assert dryer is not None and dryer.status == "delivered"
    assert dryer.delivered_at is not None
    assert dryer.delivered_at.date() == today - timedelta(days=5)
    fresh = order_system.get_order(10005)
    assert fresh is not None and fresh.events == () and fresh.placed_at.date() == today


def test_unknown_ids_are_none(order_system: RememberingOrders) -> None:
    assert order_system.get_order(99999) is None
    assert order_system.get_customer(9999) is None
    assert order_system.orders_for_customer(9999) == []


@pytest.mark.parametrize(
    ("postcode", "email", "expected"),
    [
        ("3511 AB", None, True),
        ("3511ab", None, True),
        (" 3511 ab ", None, True),
        ("3511 AC", None, False),
        ("1012 JS", None, False),  # Anouk's postcode: another customer's order stays closed
        (None, "ERIK@example.nl", True),
        (None, "anouk@example.nl", False),
        (None, None, False),
        ("", "", False),
    ],
)
def test_verification_needs_the_orders_own_postcode_or_email(
    order_system: RememberingOrders, postcode: str | None, email: str | None, expected: bool
) -> None:
    assert order_system.verify_order(10001, postcode=postcode, email=email) is expected


def test_verification_of_an_unknown_order_is_simply_false(order_system: RememberingOrders) -> None:
    assert order_system.verify_order(99999, postcode="3511 AB") is False


def test_what_the_customer_was_told_is_the_assistants_and_moves_forward_only(
    order_system: RememberingOrders,
) -> None:
    """The marker lives in the assistant's memory, laid over whichever order
    system: the shop is only read."""
    shop_before = order_system.shop.get_order(10002)
    event_id = order_system.get_order(10002).events[-1].id  # type: ignore[union-attr]
    order_system.mark_informed(10002, event_id)
    order_system.mark_informed(10002, event_id - 1)
    order = order_system.get_order(10002)
    assert order is not None
    assert order.informed_event_id == event_id
    assert order.informed_at is not None
    assert [o.informed_event_id for o in order_system.orders_for_customer(1002)] == [event_id]
    assert order_system.shop.get_order(10002) == shop_before


def test_follow_up_request_is_recorded_once(order_system: RememberingOrders) -> None:
    event_id = order_system.get_order(10006).events[0].id  # type: ignore[union-attr]
    first = order_system.request_follow_up(10006, 1006, "missing_reason", event_id)
    again = order_system.request_follow_up(10006, 1006, "missing_reason", event_id)
    assert first == again


def test_order_history_is_in_event_order(order_system: RememberingOrders) -> None:
    tablets = order_system.get_order(10002)
    assert tablets is not None
    ids = [event.id for event in tablets.events]
    assert ids == sorted(ids)
    assert [event.field for event in tablets.events] == ["line_status", "promised_date"]


def test_sql_order_system_reports_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.database import create_db_engine, make_session_factory
    from bot.orders.system import OrderSystemUnavailable

    missing = tmp_path / "no-such-dir" / "nested" / "shop.db"
    engine = create_db_engine(f"sqlite:///{missing}")
    missing.parent.rmdir()  # the engine made the folder; take it away again
    with pytest.raises(OrderSystemUnavailable):
        SqlOrderSystem(make_session_factory(engine)).get_order(10001)


def test_a_customer_cancels_an_order_that_has_not_shipped_and_only_that(
    order_system: RememberingOrders,
) -> None:
    """Emma's placed helmet can be cancelled, once; Sam's shipped order cannot."""
    assert order_system.cancel_order(10005, "geannuleerd via de assistent") is True
    helmet = order_system.get_order(10005)
    assert helmet is not None and helmet.status == "cancelled"
    cancel = helmet.events[-1]
    assert (cancel.field, cancel.new_value, cancel.party_type) == (
        "status",
        "cancelled",
        "customer",
    )
    assert cancel.reason_text == "geannuleerd via de assistent"
    assert order_system.cancel_order(10005, "nog eens") is False
    assert len(order_system.get_order(10005).events) == len(helmet.events)  # type: ignore[union-attr]
    assert order_system.cancel_order(10003, "te laat") is False
    assert order_system.get_order(10003).status == "shipped"  # type: ignore[union-attr]
    assert order_system.cancel_order(99999, "bestaat niet") is False
