"""ShopifyOrderSystem passes the order-system contract against a stand-in of
Shopify's GraphQL Admin API serving the demo shop (tests/shopify_admin_standin.py),
and reports an API that is away, failing or refusing its token as unavailable."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.orders.remembered import RememberingOrders
from bot.orders.system import OrderSystemUnavailable
from bot.sources.shopify.order_system import ShopifyOrderSystem, follow_up_id
from tests.conftest import _seeded
from tests.integration.test_order_system_contract import (  # noqa: F401 - pytest runs them here
    remembering,
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

# Left out: test_sql_order_system_reports_an_unreachable_database is about the
# SQL order system's own database, not this one; the API's failures are below.
from tests.shopify_admin_standin import ShopifyAdminStandIn

TOKEN = "shpat_standin_token"


@pytest.fixture
def shopify(sqlite_url: str, today: date) -> Iterator[ShopifyAdminStandIn]:
    with ShopifyAdminStandIn(_seeded(sqlite_url, today), access_token=TOKEN) as stand_in:
        yield stand_in


def client(
    shopify: ShopifyAdminStandIn, token: str = TOKEN, retries: int = 1
) -> ShopifyOrderSystem:
    return ShopifyOrderSystem(shopify.url, token, timeout=2.0, retries=retries, retry_wait=0.01)


@pytest.fixture
def order_system(shopify: ShopifyAdminStandIn, sqlite_url: str) -> RememberingOrders:
    """The contract's fixture: Shopify's orders with the assistant's memory laid over."""
    return remembering(client(shopify), sqlite_url)


# --- what Shopify says, mapped ---------------------------------------------------------------


def test_orders_come_with_their_shipments_lines_and_money(
    shopify: ShopifyAdminStandIn, today: date
) -> None:
    orders = client(shopify)
    cufflinks = orders.get_order(10003)
    assert cufflinks is not None
    assert (cufflinks.status, cufflinks.fulfilment, cufflinks.customer_id) == (
        "shipped",
        "delivery",
        1003,
    )
    (parcel,) = cufflinks.shipments
    assert (parcel.carrier, parcel.tracking_code, parcel.status) == (
        "PostNL",
        "3SFMEX1234567",
        "in_transit",
    )
    assert parcel.tracking_url and parcel.tracking_url.endswith("3SFMEX1234567-NL-2511CV")
    assert parcel.expected_date == today + timedelta(days=2)
    assert parcel.shipped_at is not None and parcel.shipped_at.date() == today - timedelta(days=1)
    assert (cufflinks.total_cents, cufflinks.currency) == (4995, "EUR")
    assert cufflinks.address == "Spui 70, 2511 CV Den Haag"
    (line,) = cufflinks.lines
    assert (line.product_name, line.sku, line.supplier_name, line.status) == (
        "Joker cufflinks",
        "MC-JOKER-01",
        "Manchet & Co",
        "ok",
    )
    assert cufflinks.events == () and cufflinks.informed_event_id is None


def test_a_pickup_order_has_its_store_and_no_shipping_address(shopify: ShopifyAdminStandIn) -> None:
    bike = client(shopify).get_order(10001)
    assert bike is not None
    assert bike.fulfilment == "pickup"
    assert bike.pickup_location == "Fietsen & Meer Utrecht, Oudegracht 101"
    assert bike.postcode == "3511 AB"  # the billing address's: Shopify has no shipping one
    assert bike.shipments == ()


def test_a_held_out_of_stock_line_and_a_moved_date_make_the_order_changed(
    shopify: ShopifyAdminStandIn,
) -> None:
    tablets = client(shopify).get_order(10002)
    assert tablets is not None
    assert tablets.status == "changed"
    assert [(line.status, line.quantity) for line in tablets.lines] == [("out_of_stock", 2)]


def test_delivered_order_and_customer(shopify: ShopifyAdminStandIn, today: date) -> None:
    orders = client(shopify)
    dryer = orders.get_order(10004)
    assert dryer is not None and dryer.status == "delivered"
    assert dryer.shipments[0].status == "delivered"
    assert dryer.delivered_at is not None and dryer.delivered_at.date() == today - timedelta(days=5)
    sam = orders.get_customer(1003)
    assert sam is not None
    assert (sam.name, sam.email, sam.postcode, sam.language) == (
        "Sam Bakker",
        "sam@example.com",
        "2511 CV",
        "en",
    )


def test_a_fresh_order_is_placed_with_equal_dates(shopify: ShopifyAdminStandIn) -> None:
    helmet = client(shopify).get_order(10005)
    assert helmet is not None
    assert helmet.status == "placed"
    assert helmet.promised_date == helmet.original_promised_date is not None


def test_other_metafield_names_are_read_and_missing_ones_are_none(
    shopify: ShopifyAdminStandIn,
) -> None:
    orders = ShopifyOrderSystem(
        shopify.url,
        TOKEN,
        promised_date_metafield="shop.delivery_date",
        original_date_metafield="shop.first_delivery_date",
        timeout=2.0,
    )
    bike = orders.get_order(10001)
    assert bike is not None
    assert (bike.promised_date, bike.original_promised_date) == (None, None)
    assert bike.status == "placed"  # no dates, nothing held: nothing says it changed


# --- the writes, as Shopify records them -------------------------------------------------------


def test_cancel_is_shopifys_order_cancel_with_the_customers_words(
    shopify: ShopifyAdminStandIn,
) -> None:
    orders = client(shopify)
    assert orders.cancel_order(10005, "geannuleerd via de assistent") is True
    assert shopify.staff_note(10005) == "geannuleerd via de assistent"
    assert shopify.orders.get_order(10005).status == "cancelled"  # type: ignore[union-attr]
    helmet = orders.get_order(10005)
    assert helmet is not None and helmet.status == "cancelled"
    assert [line.status for line in helmet.lines] == ["cancelled"]  # restocked
    assert shopify.requests.count("OrderCancel") == 1
    assert orders.cancel_order(10005, "nog eens") is False
    assert orders.cancel_order(10003, "te laat") is False
    assert shopify.requests.count("OrderCancel") == 1  # neither was asked of Shopify


def test_follow_up_is_a_tag_on_the_order(shopify: ShopifyAdminStandIn) -> None:
    orders = client(shopify)
    first = orders.request_follow_up(10006, 1006, "missing_reason", 7)
    assert orders.request_follow_up(10006, 1006, "missing_reason", 7) == first
    assert first == follow_up_id(10006, "missing_reason") > 0
    assert orders.request_follow_up(10006, 1006, "other_topic", 7) != first
    assert shopify.tags[10006] == {
        "assistant-follow-up:missing_reason",
        "assistant-follow-up:other_topic",
    }


def test_follow_up_for_an_unknown_order_is_unavailable(shopify: ShopifyAdminStandIn) -> None:
    with pytest.raises(OrderSystemUnavailable):
        client(shopify).request_follow_up(99999, 1006, "missing_reason", None)


# --- failures ------------------------------------------------------------------------------


def test_a_passing_500_is_retried(shopify: ShopifyAdminStandIn) -> None:
    shopify.fail_next = 1
    order = client(shopify, retries=1).get_order(10001)
    assert order is not None and order.id == 10001
    assert shopify.requests[:2] == ["500", "OrderByName"]


def test_a_500_that_stays_is_unavailable_after_the_retries(shopify: ShopifyAdminStandIn) -> None:
    shopify.fail_next = 10
    with pytest.raises(OrderSystemUnavailable, match="500"):
        client(shopify, retries=2).get_order(10001)
    assert shopify.requests == ["500"] * 3


def test_nobody_listening_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    orders = ShopifyOrderSystem(
        f"http://127.0.0.1:{port}", TOKEN, timeout=0.5, retries=1, retry_wait=0.01
    )
    with pytest.raises(OrderSystemUnavailable):
        orders.orders_for_customer(1001)


def test_a_wrong_token_is_unavailable_and_logged_with_the_status_only(
    shopify: ShopifyAdminStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "shpat_wrong_token"
    with pytest.raises(OrderSystemUnavailable, match="401"):
        client(shopify, token=wrong, retries=2).get_customer(1001)
    assert shopify.requests == ["401"]  # not retried
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "401" in logged
    assert wrong not in logged and "Invalid API key" not in logged


def test_a_query_shopify_does_not_understand_is_unavailable(shopify: ShopifyAdminStandIn) -> None:
    orders = client(shopify)
    with pytest.raises(OrderSystemUnavailable, match="undefinedField"):
        orders._query(
            'query Broken { orders(first: 1, query: "name:#10001") { nodes { noSuchField } } }', {}
        )


def test_a_shop_domain_becomes_its_admin_api_address() -> None:
    orders = ShopifyOrderSystem("fietsen.myshopify.com", TOKEN)
    assert orders.api.url == "https://fietsen.myshopify.com/admin/api/2025-01/graphql.json"
    with pytest.raises(ValueError):
        ShopifyOrderSystem("", TOKEN)
