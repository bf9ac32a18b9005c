"""Collapsing the order system's event log into changes a customer can be told."""

from __future__ import annotations

from datetime import date

import pytest

from bot.changes import all_problem_changes, changes_in, unseen_changes
from tests.fakes import date_moved, make_event, make_line, make_order, status_event

DEC_3 = date(2025, 12, 3)
DEC_10 = date(2025, 12, 10)
DEC_17 = date(2025, 12, 17)

BIKE = make_line(id=1, product_name="Gazelle Ultimate C380", supplier_name="Gazelle")
HELMET = make_line(id=2, product_name="Fietshelm Urban M", sku="GZ-HELM-M", supplier_name="Gazelle")


def changes_of(*events, **order_fields):  # type: ignore[no-untyped-def]
    order = make_order(lines=(BIKE, HELMET), events=events, **order_fields)
    return changes_in(order, list(order.events))


def test_several_date_moves_collapse_into_one_change_first_old_last_new() -> None:
    [change] = changes_of(
        date_moved(1, DEC_3, DEC_10, "production_problem", party_name="Gazelle"),
        date_moved(2, DEC_10, DEC_17, "carrier_delay", party_name="PostNL"),
    )
    assert change.kind == "date_moved"
    assert (change.old, change.new) == ("2025-12-03", "2025-12-17")
    assert [event.id for event in change.events] == [1, 2]
    assert change.last_event_id == 2
    assert not change.is_progress


def test_events_are_collapsed_in_id_order_whatever_order_they_come_in() -> None:
    order = make_order(events=())
    later, earlier = date_moved(7, DEC_10, DEC_17), date_moved(3, DEC_3, DEC_10)
    [change] = changes_in(order, [later, earlier])
    assert (change.old, change.new) == ("2025-12-03", "2025-12-17")


def test_a_date_moved_back_to_where_it_was_is_no_change() -> None:
    assert changes_of(date_moved(1, DEC_3, DEC_10), date_moved(2, DEC_10, DEC_3)) == []


def test_a_date_moved_back_is_dropped_but_other_changes_stay() -> None:
    changes = changes_of(
        date_moved(1, DEC_3, DEC_10),
        make_event(2, field="address", old="Oudegracht 12", new="Lange Nieuwstraat 4"),
        date_moved(3, DEC_10, DEC_3),
    )
    assert [change.kind for change in changes] == ["address"]


def test_progress_steps_stay_apart_and_are_progress() -> None:
    changes = changes_of(
        status_event(1, "placed", "processing"),
        date_moved(2, DEC_3, DEC_10),
        status_event(3, "processing", "shipped"),
        status_event(4, "shipped", "delivered"),
    )
    assert [(c.kind, c.is_progress) for c in changes] == [
        ("progress_processing", True),
        ("date_moved", False),
        ("progress_shipped", True),
        ("progress_delivered", True),
    ]
    assert [c.events[0].id for c in changes] == [1, 2, 3, 4]


def test_two_identical_progress_steps_are_not_merged() -> None:
    changes = changes_of(status_event(1, "processing", "shipped"), status_event(5, "x", "shipped"))
    assert [(c.kind, c.last_event_id) for c in changes] == [
        ("progress_shipped", 1),
        ("progress_shipped", 5),
    ]


@pytest.mark.parametrize(
    ("field", "old", "new", "line_id", "kind", "product"),
    [
        ("line_status", "ok", "out_of_stock", 2, "out_of_stock", "Fietshelm Urban M"),
        ("line_status", "out_of_stock", "ok", 2, "back_in_stock", "Fietshelm Urban M"),
        ("line_status", "ok", "cancelled", 1, "line_cancelled", "Gazelle Ultimate C380"),
        (
            "line_product",
            "Fietshelm Urban M",
            "Fietshelm Urban L",
            2,
            "item_replaced",
            "Fietshelm Urban M",
        ),
        ("line_quantity", "1", "2", 2, "quantity", "Fietshelm Urban M"),
        ("shipment_split", "1", "2", None, "split_shipment", None),
        ("address", "Oudegracht 12", "Lange Nieuwstraat 4", None, "address", None),
        ("total", "249900", "259900", None, "total", None),
        ("refund", None, "4995", None, "refund", None),
        ("status", "processing", "cancelled", None, "cancelled", None),
        ("gift_wrap", "no", "yes", None, "other", None),
    ],
)
def test_each_field_maps_to_its_kind_of_change(
    field: str, old: str | None, new: str, line_id: int | None, kind: str, product: str | None
) -> None:
    [change] = changes_of(make_event(1, field=field, old=old, new=new, line_id=line_id))
    assert change.kind == kind
    assert (change.old, change.new) == (old, new)
    # A line's own product, or else the whole order's products.
    assert change.product == (product or "Gazelle Ultimate C380, Fietshelm Urban M")
    assert not change.is_progress


def test_status_changed_and_placed_are_labels_not_changes() -> None:
    assert (
        changes_of(status_event(1, "processing", "changed"), status_event(2, "x", "placed")) == []
    )


def test_line_changes_on_different_lines_stay_apart() -> None:
    changes = changes_of(
        make_event(1, field="line_status", old="ok", new="out_of_stock", line_id=1),
        make_event(2, field="line_status", old="ok", new="out_of_stock", line_id=2),
    )
    assert [c.product for c in changes] == ["Gazelle Ultimate C380", "Fietshelm Urban M"]


def test_a_change_without_a_line_and_without_lines_has_no_product() -> None:
    order = make_order(lines=(), events=[make_event(1, field="address", new="Elders 1")])
    [change] = changes_in(order, list(order.events))
    assert change.product is None


def test_unseen_changes_are_those_after_the_informed_event() -> None:
    order = make_order(
        events=[
            date_moved(1, DEC_3, DEC_10, "production_problem", party_name="Gazelle"),
            make_event(2, field="address", old="Oudegracht 12", new="Lange Nieuwstraat 4"),
            date_moved(3, DEC_10, DEC_17, "carrier_delay", party_name="PostNL"),
        ],
        informed_event_id=1,
    )
    changes = unseen_changes(order)
    assert [(c.kind, c.old, c.new) for c in changes] == [
        ("address", "Oudegracht 12", "Lange Nieuwstraat 4"),
        ("date_moved", "2025-12-10", "2025-12-17"),
    ]


def test_unseen_changes_without_informed_event_are_all_changes() -> None:
    order = make_order(events=[date_moved(1, DEC_3, DEC_10), date_moved(2, DEC_10, DEC_17)])
    [change] = unseen_changes(order)
    assert (change.old, change.new) == ("2025-12-03", "2025-12-17")


def test_nothing_is_unseen_once_the_last_event_was_told() -> None:
    order = make_order(events=[date_moved(1, DEC_3, DEC_10)], informed_event_id=1)
    assert unseen_changes(order) == []


def test_all_problem_changes_ignore_what_was_told_and_leave_out_good_news() -> None:
    order = make_order(
        events=[
            date_moved(1, DEC_3, DEC_10, "production_problem", party_name="Gazelle"),
            status_event(2, "processing", "shipped"),
        ],
        informed_event_id=2,
    )
    assert [c.kind for c in all_problem_changes(order)] == ["date_moved"]


def test_a_quantity_changed_back_to_what_it_was_is_no_change() -> None:
    changes = changes_of(
        make_event(1, field="line_quantity", old="1", new="2", line_id=2),
        make_event(2, field="line_quantity", old="2", new="1", line_id=2),
    )
    assert changes == []
