"""WooCommerce as the order system: the order-system contract against a
stand-in of the REST API v3 (tests/woocommerce_shop_standin.py), and what
only WooCommerce has: its fields, its order numbers, its notes, its failures.

Left out of the contract: test_sql_order_system_reports_an_unreachable_database
(it builds a SqlOrderSystem of its own: the demo shop's, not this one); the
store being away is tested here instead.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.database import create_db_engine, make_session_factory
from bot.orders.remembered import RememberingOrders
from bot.orders.system import OrderSystemUnavailable
from bot.sources.woocommerce_orders import WooCommerceOrderSystem
from tests.conftest import _seeded
from tests.integration.test_order_system_contract import (  # noqa: F401 (collected here)
    test_a_customer_cancels_an_order_that_has_not_shipped_and_only_that,
    test_demo_shop_has_the_five_stories,
    test_erik_has_the_gazelle_order_with_its_recorded_reason,
    test_follow_up_request_is_recorded_once,
    test_order_history_is_in_event_order,
    test_unknown_ids_are_none,
    test_verification_needs_the_orders_own_postcode_or_email,
    test_verification_of_an_unknown_order_is_simply_false,
    test_what_the_customer_was_told_is_the_assistants_and_moves_forward_only,
)
from tests.woocommerce_shop_standin import WooCommerceShop

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"


def shop_for(standin: WooCommerceShop, **options: float) -> WooCommerceOrderSystem:
    return WooCommerceOrderSystem(
        standin.url,
        KEY,
        SECRET,
        timeout=float(options.get("timeout", 2.0)),
        retries=int(options.get("retries", 1)),
        retry_pause=0.01,
    )


@pytest.fixture
def standin(sqlite_url: str, today: date) -> Iterator[WooCommerceShop]:
    orders = _seeded(sqlite_url, today)
    sessions = make_session_factory(create_db_engine(sqlite_url))
    with WooCommerceShop(orders, sessions, KEY, SECRET) as store:
        yield store


@pytest.fixture
def woocommerce(standin: WooCommerceShop) -> WooCommerceOrderSystem:
    return shop_for(standin)


@pytest.fixture
def order_system(woocommerce: WooCommerceOrderSystem, sqlite_url: str) -> RememberingOrders:
    """The store with the assistant's memory laid over it, as the contract wants."""
    return RememberingOrders(woocommerce, make_session_factory(create_db_engine(sqlite_url)))


# --- the fields --------------------------------------------------------------


def test_erik_picks_up_in_the_shop_and_the_gazelle_is_a_brand(
    woocommerce: WooCommerceOrderSystem, today: date
) -> None:
    bike = woocommerce.get_order(10001)
    assert bike is not None
    assert (bike.status, bike.fulfilment) == ("changed", "pickup")
    assert bike.pickup_location == "Fietsen & Meer Utrecht, Oudegracht 101"
    assert bike.address == "Lange Nieuwstraat 12, 3511 AB Utrecht"
    assert (bike.postcode, bike.email) == ("3511 AB", "erik@example.nl")
    assert (bike.total_cents, bike.currency) == (129900, "EUR")
    assert bike.events == () and bike.informed_event_id is None  # the memory's, not the shop's
    (line,) = bike.lines
    assert (line.sku, line.supplier_name, line.quantity, line.status) == (
        "GZ-C380-53",
        "Gazelle",
        1,
        "ok",
    )


def test_a_wholesaler_is_the_lines_supplier_meta_and_a_backorder_is_out_of_stock(
    woocommerce: WooCommerceOrderSystem,
) -> None:
    tablets = woocommerce.get_order(10002)
    assert tablets is not None
    (line,) = tablets.lines
    assert (line.supplier_name, line.status, line.quantity) == ("TabletWereld", "out_of_stock", 2)
    lock = woocommerce.get_order(10006)
    assert lock is not None and lock.lines[0].supplier_name is None  # no brand, no meta


def test_a_parcel_of_the_extensions_own_provider_has_no_link_a_custom_one_has(
    woocommerce: WooCommerceOrderSystem, today: date
) -> None:
    cufflinks = woocommerce.get_order(10003)
    assert cufflinks is not None and cufflinks.status == "shipped"
    (parcel,) = cufflinks.shipments
    assert (parcel.carrier, parcel.tracking_code, parcel.tracking_url) == (
        "PostNL",
        "3SFMEX1234567",
        None,
    )
    assert parcel.status == "in_transit" and parcel.expected_date is None
    assert parcel.shipped_at is not None and parcel.shipped_at.date() == today - timedelta(days=1)
    dryer = woocommerce.get_order(10004)
    assert dryer is not None and dryer.status == "delivered"
    (parcel,) = dryer.shipments
    assert parcel.tracking_url == "https://jouw.postnl.nl/track-and-trace/3SFMEX7654321-NL-9711LM"
    assert parcel.status == "delivered" and parcel.delivered_at == dryer.delivered_at


def test_the_customers_language_is_woocommerce_multilinguals(
    woocommerce: WooCommerceOrderSystem,
) -> None:
    sam = woocommerce.get_customer(1003)
    assert sam is not None
    assert (sam.name, sam.email, sam.postcode, sam.language) == (
        "Sam Bakker",
        "sam@example.com",
        "2511 CV",
        "en",
    )
    assert woocommerce.get_customer(0) is None  # a guest


def test_an_order_number_plugins_numbers_are_found_by_search(sqlite_url: str, today: date) -> None:
    orders = _seeded(sqlite_url, today)
    sessions = make_session_factory(create_db_engine(sqlite_url))
    with WooCommerceShop(orders, sessions, KEY, SECRET, number_offset=-9000) as store:
        shop = shop_for(store)
        bike = shop.get_order(10001)
        assert bike is not None and bike.id == 10001
        assert ("/wp-json/wc/v3/orders/10001", {}) in store.requests
        assert any(query.get("search") == ["10001"] for _, query in store.requests)
        assert shop.cancel_order(10005, "geannuleerd via de assistent") is True
        assert ("PUT", "/wp-json/wc/v3/orders/1005", {"status": "cancelled"}) in store.writes


# --- the writes --------------------------------------------------------------


def test_cancelling_puts_the_status_and_leaves_staff_a_private_note(
    woocommerce: WooCommerceOrderSystem, standin: WooCommerceShop
) -> None:
    assert woocommerce.cancel_order(10005, "geannuleerd via de assistent") is True
    assert ("PUT", "/wp-json/wc/v3/orders/10005", {"status": "cancelled"}) in standin.writes
    note = standin.order_notes[10005][-1]
    assert "cancelled this order in the chat" in note["note"]
    assert "geannuleerd via de assistent" in note["note"]
    assert note["customer_note"] is False
    helmet = woocommerce.get_order(10005)
    assert helmet is not None and helmet.status == "cancelled"


def test_a_completed_order_is_never_sent_a_cancellation(
    woocommerce: WooCommerceOrderSystem, standin: WooCommerceShop
) -> None:
    assert woocommerce.cancel_order(10003, "te laat") is False
    assert woocommerce.cancel_order(10004, "te laat") is False
    assert [w for w in standin.writes if w[0] == "PUT"] == []


def test_a_follow_up_is_one_private_note_found_again(
    woocommerce: WooCommerceOrderSystem, standin: WooCommerceShop
) -> None:
    first = woocommerce.request_follow_up(10006, 1006, "missing_reason", None)
    again = woocommerce.request_follow_up(10006, 1006, "missing_reason", 7)
    other = woocommerce.request_follow_up(10006, 1006, "other_topic", None)
    assert first == again != other
    notes = standin.order_notes[10006]
    assert [n["note"] for n in notes] == [
        "assistant follow-up: missing_reason",
        "assistant follow-up: other_topic",
    ]
    assert all(n["customer_note"] is False for n in notes)
    assert [w[0] for w in standin.writes] == ["POST", "POST"]


# --- failures ----------------------------------------------------------------


def test_a_500_is_retried_until_it_passes(
    woocommerce: WooCommerceOrderSystem, standin: WooCommerceShop
) -> None:
    standin.failures_left = 1
    assert woocommerce.get_customer(1001) is not None
    assert standin.requests.count(("/wp-json/wc/v3/customers/1001", {})) == 2


def test_a_store_answering_500_is_unavailable_after_its_retries(
    woocommerce: WooCommerceOrderSystem, standin: WooCommerceShop
) -> None:
    standin.failures_left = 100
    with pytest.raises(OrderSystemUnavailable, match="500"):
        woocommerce.get_order(10001)
    assert standin.requests.count(("/wp-json/wc/v3/orders/10001", {})) == 2  # retries=1


def test_a_store_that_is_away_is_unavailable(sqlite_url: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    shop = WooCommerceOrderSystem(
        f"http://127.0.0.1:{port}", KEY, SECRET, timeout=0.5, retries=1, retry_pause=0.01
    )
    with pytest.raises(OrderSystemUnavailable, match="unreachable"):
        shop.orders_for_customer(1001)
    with pytest.raises(OrderSystemUnavailable):
        shop.verify_order(10001, postcode="3511 AB")


def test_wrong_keys_are_unavailable_not_retried_and_logged_with_the_status_only(
    standin: WooCommerceShop, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = WooCommerceOrderSystem(standin.url, KEY, "cs_wrong_secret", retries=2)
    with caplog.at_level(logging.WARNING), pytest.raises(OrderSystemUnavailable, match="401"):
        wrong.get_order(10001)
    assert standin.requests.count(("/wp-json/wc/v3/orders/10001", {})) == 1
    assert "refused the API keys (401)" in caplog.text
    for secret in (KEY, SECRET, "cs_wrong_secret", "Erik", "3511"):
        assert secret not in caplog.text


def test_the_constructor_needs_the_store_and_its_keys() -> None:
    with pytest.raises(ValueError, match="WOOCOMMERCE_URL"):
        WooCommerceOrderSystem("", KEY, SECRET)
