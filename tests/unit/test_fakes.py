"""The in-memory order system behaves like the RememberedOrders protocol says
(the shop's OrderSystem with what each customer was told)."""

from __future__ import annotations

import inspect
from datetime import datetime

import pytest

from bot.orders.remembered import RememberedOrders
from bot.orders.system import OrderSystemUnavailable
from tests.fakes import FakeOrderSystem, date_moved, make_customer, make_order

PROTOCOL_METHODS = [
    name
    for name in dir(RememberedOrders)
    if not name.startswith("_") and callable(getattr(RememberedOrders, name))
]


def test_the_protocol_has_the_methods_the_fake_is_checked_for() -> None:
    assert set(PROTOCOL_METHODS) == {
        "get_customer",
        "get_order",
        "orders_for_customer",
        "verify_order",
        "mark_informed",
        "request_follow_up",
        "cancel_order",
    }


@pytest.mark.parametrize("name", PROTOCOL_METHODS)
def test_the_fake_has_every_protocol_method_with_its_signature(name: str) -> None:
    expected = inspect.signature(getattr(RememberedOrders, name))
    actual = inspect.signature(getattr(FakeOrderSystem, name))
    assert list(actual.parameters) == list(expected.parameters)


CALLS = {
    "get_customer": (1001,),
    "get_order": (10001,),
    "orders_for_customer": (1001,),
    "verify_order": (10001, "3511 AB"),
    "mark_informed": (10001, 1),
    "request_follow_up": (10001, 1001, "reason", 1),
    "cancel_order": (10001, "geannuleerd via de assistent"),
}


@pytest.mark.parametrize("name", PROTOCOL_METHODS)
def test_unavailable_makes_every_method_raise(name: str) -> None:
    orders = FakeOrderSystem([make_order()], [make_customer()], unavailable=True)
    with pytest.raises(OrderSystemUnavailable):
        getattr(orders, name)(*CALLS[name])
    assert orders.informed_calls == [] and orders.follow_ups == [] and orders.cancellations == []


def test_mark_informed_is_recorded_and_applied_but_never_moves_back() -> None:
    orders = FakeOrderSystem([make_order(events=[date_moved(1, None, None)])])
    orders.mark_informed(10001, 5)
    orders.mark_informed(10001, 3)
    assert orders.informed_calls == [(10001, 5), (10001, 3)]
    assert orders.get_order(10001).informed_event_id == 5  # type: ignore[union-attr]


def test_follow_ups_are_recorded_once_per_order_and_topic() -> None:
    orders = FakeOrderSystem([make_order()])
    first = orders.request_follow_up(10001, 1001, "reason", 7)
    again = orders.request_follow_up(10001, 1001, "reason", 8)
    other = orders.request_follow_up(10001, 1001, "refund", None)
    assert first == again != other
    assert [(f.order_id, f.topic, f.event_id) for f in orders.follow_ups] == [
        (10001, "reason", 7),
        (10001, "refund", None),
    ]


def test_orders_for_customer_are_only_theirs_newest_first() -> None:
    orders = FakeOrderSystem(
        [
            make_order(id=10001, placed_at=datetime(2025, 11, 1)),
            make_order(id=10002, placed_at=datetime(2025, 11, 9)),
            make_order(id=20001, customer_id=1002),
        ]
    )
    assert [o.id for o in orders.orders_for_customer(1001)] == [10002, 10001]


def test_verify_order_matches_postcode_or_email() -> None:
    orders = FakeOrderSystem([make_order(postcode="3511 AB", email="erik@example.nl")])
    assert orders.verify_order(10001, postcode="3511ab")
    assert orders.verify_order(10001, email="Erik@Example.nl")
    assert not orders.verify_order(10001, postcode="1012 JS")
    assert not orders.verify_order(99999, postcode="3511 AB")


def test_make_order_gives_events_the_order_id_in_id_order() -> None:
    order = make_order(id=10042, events=[date_moved(9, None, None), date_moved(2, None, None)])
    assert [(e.id, e.order_id) for e in order.events] == [(2, 10042), (9, 10042)]
