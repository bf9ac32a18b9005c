"""OrderAssistant over an in-memory order system: every question, every identity."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot.answers import QUESTIONS, OrderAssistant, Reply
from bot.dates import spoken_date
from bot.explain import with_quote
from bot.identity import Identity
from bot.orders.model import Order
from bot.orders.system import OrderSystemUnavailable
from bot.texts import Catalog
from tests.fakes import (
    FakeOrderSystem,
    date_moved,
    make_customer,
    make_event,
    make_line,
    make_order,
    make_shipment,
    status_event,
)

ERIK = Identity(customer_id=1001)
ANONYMOUS = Identity()
FRAME_TEXT = "Het frame moest opnieuw worden gelakt"
TRACKING_URL = "https://jouw.postnl.nl/track-and-trace/3SFM000123456-NL-3511AB"
PICKUP_STORE = "Fietsen & Meer Utrecht, Oudegracht 101"

HELMET = make_line(id=2, product_name="Fietshelm Urban M", sku="GZ-HELM-M")
LOCK = make_line(id=3, product_name="Kettingslot 85 cm", sku="AX-LOCK-85", supplier_name=None)
TABLET = make_line(
    id=4, product_name="Tablet 10 inch 64 GB", sku="TW-TAB10-64", supplier_name="TabletWereld"
)


def days(today: date, n: int) -> date:
    return today + timedelta(days=n)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour))


def late_bike(today: date, **fields: object) -> Order:
    """10001: Erik's bike, moved by Gazelle from today+3 to today+17 (not told yet)."""
    values: dict[str, object] = dict(
        id=10001,
        status="processing",
        placed_at=at(days(today, -10)),
        original_promised_date=days(today, 3),
        promised_date=days(today, 17),
        events=[
            date_moved(
                1,
                days(today, 3),
                days(today, 17),
                reason_code="production_problem",
                reason_text=FRAME_TEXT,
                party_type="supplier",
                party_name="Gazelle",
            )
        ],
    )
    values.update(fields)
    return make_order(**values)  # type: ignore[arg-type]


def shipped_helmet(today: date, **fields: object) -> Order:
    """10002: Erik's helmet, shipped with PostNL (already told)."""
    values: dict[str, object] = dict(
        id=10002,
        status="shipped",
        placed_at=at(days(today, -3)),
        promised_date=days(today, 1),
        lines=(HELMET,),
        shipments=(make_shipment(tracking_url=TRACKING_URL),),
        events=[status_event(2, "processing", "shipped")],
        informed_event_id=2,
    )
    values.update(fields)
    return make_order(**values)  # type: ignore[arg-type]


def delivered_lock(today: date) -> Order:
    """10003: Erik's lock, delivered three weeks ago (already told)."""
    return make_order(
        id=10003,
        status="delivered",
        placed_at=at(days(today, -30)),
        promised_date=days(today, -20),
        delivered_at=at(days(today, -21), 14),
        lines=(LOCK,),
        events=[status_event(3, "processing", "shipped"), status_event(4, "shipped", "delivered")],
        informed_event_id=4,
    )


def pickup_helmet(today: date) -> Order:
    """10004: Erik's helmet to pick up in the store, tomorrow."""
    return make_order(
        id=10004,
        status="processing",
        fulfilment="pickup",
        placed_at=at(days(today, -1)),
        promised_date=days(today, 1),
        lines=(HELMET,),
    )


def anouks_tablet(today: date) -> Order:
    """20001: another customer's order."""
    return make_order(
        id=20001,
        customer_id=1002,
        placed_at=at(days(today, -2)),
        promised_date=days(today, 5),
        postcode="1012 JS",
        email="anouk@example.nl",
        lines=(TABLET,),
    )


def shop(*orders: Order) -> FakeOrderSystem:
    return FakeOrderSystem(
        orders=orders,
        customers=[
            make_customer(),
            make_customer(id=1002, name="Anouk Jansen", email="anouk@example.nl"),
        ],
    )


def ask(
    orders: FakeOrderSystem,
    catalog: Catalog,
    today: date,
    question: str,
    identity: Identity = ERIK,
    order_number: int | None = None,
    language: str = "nl",
) -> Reply:
    return OrderAssistant(orders, catalog, language, today).answer(question, identity, order_number)


def said(reply: Reply) -> str:
    return " ".join(reply.messages)


def title(catalog: Catalog, order_id: int, products: str, language: str = "nl") -> str:
    return catalog.message("order_title", language, order_id=order_id, products=products)


def gazelle_why(catalog: Catalog, language: str = "nl") -> str:
    return catalog.reason("production_problem", "why", language, party="Gazelle")


def gazelle_reason(catalog: Catalog, language: str = "nl") -> str:
    """Gazelle's reason with its own words, in one sentence."""
    return with_quote(gazelle_why(catalog, language), FRAME_TEXT)


# --- every question --------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_question_gets_an_answer_about_the_customers_order(
    catalog: Catalog, today: date, question: str, language: str
) -> None:
    orders = shop(late_bike(today), delivered_lock(today), anouks_tablet(today))
    reply = ask(orders, catalog, today, question, language=language)
    text = said(reply)
    assert "10001" in text
    assert "20001" not in text and "Tablet" not in text  # never another customer's order
    assert "{" not in text and "}" not in text


def test_an_unknown_question_is_answered_as_status(catalog: Catalog, today: date) -> None:
    orders = shop(shipped_helmet(today))
    assert ask(orders, catalog, today, "weather") == ask(orders, catalog, today, "status")


# --- "what changed?" ------------------------------------------------------------------


def test_changes_tells_the_date_move_with_party_reason_and_both_dates(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today)), catalog, today, "changes")
    old, new = spoken_date(days(today, 3), "nl", today), spoken_date(days(today, 17), "nl", today)
    bike = title(catalog, 10001, "Gazelle Ultimate C380")
    assert reply.messages[0] == " ".join(
        [
            catalog.message("changes_sorry", "nl", order=bike),
            catalog.message("change_date_moved_delivery", "nl", old_date=old, new_date=new),
            gazelle_reason(catalog),
        ]
    )
    assert "Gazelle" in reply.messages[0] and FRAME_TEXT in reply.messages[0]
    assert old in reply.messages[0] and new in reply.messages[0]
    assert reply.follow_up_offer is None


def test_changes_marks_the_customer_informed(catalog: Catalog, today: date) -> None:
    orders = shop(late_bike(today))
    ask(orders, catalog, today, "changes")
    assert orders.informed_calls == [(10001, 1)]
    assert orders.orders[10001].informed_event_id == 1


def test_asking_again_gives_a_recap_that_still_names_party_and_new_date(
    catalog: Catalog, today: date
) -> None:
    orders = shop(late_bike(today))
    ask(orders, catalog, today, "changes")
    again = ask(orders, catalog, today, "changes")
    first = again.messages[0]
    bike = title(catalog, 10001, "Gazelle Ultimate C380")
    assert first.startswith(catalog.message("changes_none_since_told", "nl", order=bike))
    assert gazelle_reason(catalog) in first
    assert spoken_date(days(today, 17), "nl", today) in first
    assert orders.informed_calls == [(10001, 1)]  # nothing new to mark


def test_changes_in_english(catalog: Catalog, today: date) -> None:
    reply = ask(shop(late_bike(today)), catalog, today, "changes", language="en")
    bike = title(catalog, 10001, "Gazelle Ultimate C380", "en")
    assert reply.messages[0].startswith(catalog.message("changes_sorry", "en", order=bike))
    assert gazelle_reason(catalog, "en") in reply.messages[0]
    assert spoken_date(days(today, 17), "en", today) in reply.messages[0]


def test_nothing_changed_for_a_delivered_order(catalog: Catalog, today: date) -> None:
    orders = shop(late_bike(today), delivered_lock(today))
    reply = ask(orders, catalog, today, "changes", order_number=10003)
    delivered_on = spoken_date(days(today, -21), "nl", today)
    lock = title(catalog, 10003, "Kettingslot 85 cm")
    assert reply.messages == [
        catalog.message("changes_none", "nl", order=lock)
        + " "
        + catalog.message("state_delivered", "nl", date=delivered_on)
    ]
    assert orders.informed_calls == []


def test_good_news_only_is_news_without_an_apology(catalog: Catalog, today: date) -> None:
    helmet = shipped_helmet(today, informed_event_id=None)
    reply = ask(shop(helmet), catalog, today, "changes")
    helmet_title = title(catalog, 10002, "Fietshelm Urban M")
    assert reply.messages == [
        catalog.message("changes_news", "nl", order=helmet_title)
        + " "
        + catalog.message("change_progress_shipped", "nl")
    ]


def test_a_change_without_reason_offers_to_find_out(catalog: Catalog, today: date) -> None:
    bike = late_bike(today, events=[date_moved(5, days(today, 3), days(today, 17))])
    reply = ask(shop(bike), catalog, today, "changes")
    assert catalog.message("reason_not_recorded", "nl") in reply.messages[0]
    assert reply.messages[-1].endswith(catalog.message("reason_offer_to_find_out", "nl"))
    assert reply.follow_up_offer == (10001, 5)


def test_options_are_offered_for_a_late_order_not_yet_shipped(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today)), catalog, today, "changes")
    assert catalog.message("options_setback", "nl") in said(reply)


def test_options_are_not_offered_once_the_late_order_has_shipped(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today, status="shipped")), catalog, today, "changes")
    assert gazelle_reason(catalog) in said(reply)
    assert catalog.message("options_setback", "nl") not in said(reply)


def test_options_are_not_offered_for_an_order_on_time(catalog: Catalog, today: date) -> None:
    bike = late_bike(
        today,
        events=[date_moved(1, days(today, 9), days(today, 5), reason_code="changed_by_customer")],
        original_promised_date=days(today, 9),
        promised_date=days(today, 5),
    )
    reply = ask(shop(bike), catalog, today, "changes")
    assert catalog.reason("changed_by_customer", "why", "nl") in said(reply)
    assert catalog.message("options_setback", "nl") not in said(reply)


# --- who may see what ----------------------------------------------------------------


def test_an_order_not_on_the_account_is_refused_without_details(
    catalog: Catalog, today: date
) -> None:
    orders = shop(late_bike(today), anouks_tablet(today))
    reply = ask(orders, catalog, today, "status", order_number=20001)
    assert reply == Reply(messages=[catalog.message("order_not_on_account", "nl", order_id=20001)])
    assert "20001" in reply.messages[0]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("identity", [ANONYMOUS, Identity(verified_order_ids=(10001,))])
def test_an_unproved_order_number_asks_for_verification_and_discloses_nothing(
    catalog: Catalog, today: date, question: str, identity: Identity
) -> None:
    orders = shop(late_bike(today), anouks_tablet(today))
    reply = ask(orders, catalog, today, question, identity=identity, order_number=20001)
    assert reply == Reply(messages=[], follow_up_offer=None, verify_order_number=20001)
    assert orders.informed_calls == []


def test_a_verified_order_number_is_answered(catalog: Catalog, today: date) -> None:
    orders = shop(late_bike(today), anouks_tablet(today))
    identity = Identity(verified_order_ids=(20001,))
    reply = ask(orders, catalog, today, "status", identity=identity, order_number=20001)
    tablet = title(catalog, 20001, "Tablet 10 inch 64 GB")
    assert reply.messages[0].startswith(catalog.message("status_processing", "nl", order=tablet))
    assert reply.verify_order_number is None


def test_an_anonymous_customer_without_orders_is_asked_for_a_number(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today)), catalog, today, "status", identity=ANONYMOUS)
    assert reply.messages == [catalog.message("order_none_found", "nl")]


def test_a_verified_order_that_no_longer_exists_is_not_found(catalog: Catalog, today: date) -> None:
    identity = Identity(verified_order_ids=(99999,))
    reply = ask(shop(late_bike(today)), catalog, today, "changes", identity=identity)
    assert reply.messages == [catalog.message("order_none_found", "nl")]


# --- the order system is down ----------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("identity", [ERIK, Identity(verified_order_ids=(10001,))])
def test_an_unavailable_order_system_gets_a_friendly_apology(
    catalog: Catalog, today: date, question: str, identity: Identity
) -> None:
    orders = shop(late_bike(today))
    orders.unavailable = True
    reply = ask(orders, catalog, today, question, identity=identity)
    assert reply == Reply(messages=[catalog.message("error_order_system_unavailable", "nl")])
    assert "ordersysteem" in reply.messages[0]


def test_failing_to_mark_informed_gets_the_apology_not_half_an_answer(
    catalog: Catalog, today: date
) -> None:
    class MarkingFails(FakeOrderSystem):
        def mark_informed(self, order_id: int, event_id: int) -> None:
            raise OrderSystemUnavailable("write failed")

    orders = MarkingFails(orders=[late_bike(today)])
    reply = ask(orders, catalog, today, "changes", language="en")
    assert reply.messages == [catalog.message("error_order_system_unavailable", "en")]


# --- status, delivery date, lateness ---------------------------------------------------


def test_status_of_an_order_with_news_tells_the_news(catalog: Catalog, today: date) -> None:
    orders = shop(late_bike(today))
    reply = ask(orders, catalog, today, "status")
    bike = title(catalog, 10001, "Gazelle Ultimate C380")
    assert reply.messages[0].startswith(catalog.message("changes_sorry", "nl", order=bike))
    assert orders.informed_calls == [(10001, 1)]


def test_status_of_a_late_order_already_told_repeats_the_reason(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today, informed_event_id=1)), catalog, today, "status")
    new_date = spoken_date(days(today, 17), "nl", today)
    bike = title(catalog, 10001, "Gazelle Ultimate C380")
    assert reply.messages[0] == " ".join(
        [
            catalog.message("status_processing", "nl", order=bike),
            catalog.message("expected_delivery", "nl", date=new_date, location=""),
            gazelle_reason(catalog),
        ]
    )


def test_status_of_a_pickup_order_says_where(catalog: Catalog, today: date) -> None:
    reply = ask(shop(pickup_helmet(today)), catalog, today, "status", language="en")
    tomorrow = spoken_date(days(today, 1), "en", today)
    helmet_title = title(catalog, 10004, "Fietshelm Urban M", "en")
    assert reply.messages == [
        catalog.message("status_processing", "en", order=helmet_title)
        + " "
        + catalog.message("expected_pickup", "en", date=tomorrow, location=PICKUP_STORE)
    ]
    assert PICKUP_STORE in reply.messages[0]


def test_delivery_date_gives_new_and_first_date_and_the_reason(
    catalog: Catalog, today: date
) -> None:
    reply = ask(shop(late_bike(today, informed_event_id=1)), catalog, today, "delivery_date")
    new, first = spoken_date(days(today, 17), "nl", today), spoken_date(days(today, 3), "nl", today)
    assert reply.messages[0] == " ".join(
        [
            title(catalog, 10001, "Gazelle Ultimate C380") + ":",
            catalog.message("expected_delivery", "nl", date=new, location=""),
            catalog.message("expected_was", "nl", date=first),
            gazelle_reason(catalog),
        ]
    )


def test_why_late_names_the_party_and_the_recorded_reason(catalog: Catalog, today: date) -> None:
    orders = shop(late_bike(today), shipped_helmet(today))
    reply = ask(orders, catalog, today, "why_late")
    first = reply.messages[0]
    bike = title(catalog, 10001, "Gazelle Ultimate C380")
    assert first.startswith(catalog.message("late_sorry", "nl", order=bike))
    assert gazelle_reason(catalog) in first
    assert "10002" not in said(reply)  # the helmet is on time
    assert catalog.message("options_setback", "nl") in said(reply)
    assert orders.informed_calls == [(10001, 1)]


def test_why_late_for_an_order_on_time_says_it_is_not_late(catalog: Catalog, today: date) -> None:
    reply = ask(shop(shipped_helmet(today)), catalog, today, "why_late", language="en")
    tomorrow = spoken_date(days(today, 1), "en", today)
    helmet_title = title(catalog, 10002, "Fietshelm Urban M", "en")
    assert reply.messages == [
        catalog.message("late_not_late", "en", order=helmet_title)
        + " "
        + catalog.message("expected_delivery", "en", date=tomorrow, location="")
    ]


def test_why_late_for_an_overdue_order_without_events_says_not_recorded(
    catalog: Catalog, today: date
) -> None:
    overdue = make_order(id=10005, promised_date=days(today, -2), placed_at=at(days(today, -9)))
    reply = ask(shop(overdue), catalog, today, "why_late")
    assert catalog.message("reason_not_recorded", "nl") in reply.messages[0]
    assert reply.follow_up_offer is None  # no event to find out about


# --- tracking and the overview ------------------------------------------------------------


def test_tracking_gives_the_link_of_a_shipped_order(catalog: Catalog, today: date) -> None:
    reply = ask(shop(shipped_helmet(today)), catalog, today, "tracking")
    helmet_title = title(catalog, 10002, "Fietshelm Urban M")
    assert reply.messages == [
        catalog.message(
            "tracking_link", "nl", order=helmet_title, carrier="PostNL", url=TRACKING_URL
        )
    ]
    assert reply.messages[0].endswith(TRACKING_URL)


def test_tracking_gives_every_parcel_of_a_split_order(catalog: Catalog, today: date) -> None:
    parcels = (
        make_shipment(id=1, tracking_url="https://t.example/1"),
        make_shipment(id=2, carrier="DHL", tracking_url="https://t.example/2"),
    )
    reply = ask(shop(shipped_helmet(today, shipments=parcels)), catalog, today, "tracking")
    assert len(reply.messages) == 2
    assert "PostNL" in reply.messages[0] and "https://t.example/1" in reply.messages[0]
    assert "DHL" in reply.messages[1] and "https://t.example/2" in reply.messages[1]


def test_tracking_says_there_is_none_for_pickup(catalog: Catalog, today: date) -> None:
    reply = ask(shop(pickup_helmet(today)), catalog, today, "tracking")
    tomorrow = spoken_date(days(today, 1), "nl", today)
    helmet_title = title(catalog, 10004, "Fietshelm Urban M")
    assert reply.messages == [
        catalog.message("tracking_pickup", "nl", order=helmet_title)
        + " "
        + catalog.message("expected_pickup", "nl", date=tomorrow, location=PICKUP_STORE)
    ]


def test_tracking_says_not_yet_for_an_order_not_shipped(catalog: Catalog, today: date) -> None:
    reply = ask(shop(late_bike(today)), catalog, today, "tracking", language="en")
    bike = title(catalog, 10001, "Gazelle Ultimate C380", "en")
    assert reply.messages[0].startswith(catalog.message("tracking_not_shipped", "en", order=bike))


def test_list_orders_lists_every_order_newest_first(catalog: Catalog, today: date) -> None:
    orders = shop(
        late_bike(today),
        shipped_helmet(today),
        delivered_lock(today),
        pickup_helmet(today),
        anouks_tablet(today),
    )
    [overview] = ask(orders, catalog, today, "list_orders").messages
    lines = overview.split("\n")
    assert lines[0] == catalog.message("orders_heading", "nl", count=4)
    assert len(lines) == 5
    for line, order_id in zip(lines[1:], ["10004", "10002", "10001", "10003"], strict=True):
        assert order_id in line
    assert lines[2] == catalog.message(
        "orders_line",
        "nl",
        order_id=10002,
        products="Fietshelm Urban M",
        status=catalog.message("status_label_shipped", "nl"),
        state=catalog.message(
            "expected_delivery", "nl", date=spoken_date(days(today, 1), "nl", today), location=""
        ),
    )
    delivered_on = spoken_date(days(today, -21), "nl", today)
    assert "Kettingslot 85 cm" in lines[4] and delivered_on in lines[4]
    assert "20001" not in overview


def test_list_orders_labels_a_cancelled_order(catalog: Catalog, today: date) -> None:
    cancelled = make_order(id=10006, status="cancelled", promised_date=days(today, 2))
    [overview] = ask(shop(cancelled), catalog, today, "list_orders", language="en").messages
    assert overview == "\n".join(
        [
            catalog.message("orders_heading", "en", count=1),
            catalog.message(
                "orders_line",
                "en",
                order_id=10006,
                products="Gazelle Ultimate C380",
                status=catalog.message("status_label_cancelled", "en"),
                state=catalog.message("state_cancelled", "en"),
            ),
        ]
    )


# --- bugs ------------------------------------------------------------------------------


def test_asking_the_date_does_not_swallow_other_news(catalog: Catalog, today: date) -> None:
    bike = make_order(
        id=10001,
        lines=(HELMET,),
        promised_date=days(today, 4),
        events=[
            make_event(
                7,
                field="line_product",
                old="Fietshelm Urban M",
                new="Fietshelm Urban L",
                reason_code="item_replaced",
                party_type="shop",
                line_id=2,
            ),
        ],
    )
    orders = shop(bike)
    ask(orders, catalog, today, "delivery_date")
    reply = ask(orders, catalog, today, "changes")
    bike = title(catalog, 10001, "Fietshelm Urban M")
    assert reply.messages[0].startswith(catalog.message("changes_sorry", "nl", order=bike))


def test_tracking_does_not_call_a_shipped_order_unshipped(catalog: Catalog, today: date) -> None:
    no_link = (make_shipment(tracking_code=None, tracking_url=None),)
    reply = ask(shop(shipped_helmet(today, shipments=no_link)), catalog, today, "tracking")
    not_shipped = catalog.message(
        "tracking_not_shipped", "nl", order=title(catalog, 10002, "Fietshelm Urban M")
    )
    assert not_shipped not in reply.messages[0]


def test_tracking_names_the_carriers_latest_problem(catalog: Catalog, today: date) -> None:
    """ "Waar is mijn pakket?" after Sendcloud reported a failed attempt: the link,
    and what the carrier said, why, and what happens now; told, so said once."""
    attempt = make_event(
        3,
        field="shipment_status",
        old="in_transit",
        new="exception",
        reason_code="delivery_attempt_failed",
        reason_text="Delivery attempt failed",
        party_type="carrier",
        party_name="PostNL",
        order_id=10002,
    )
    helmet = shipped_helmet(today, events=[status_event(2, "processing", "shipped"), attempt])
    orders = shop(helmet)
    reply = ask(orders, catalog, today, "tracking", language="en")
    [message] = reply.messages
    assert message.startswith(
        catalog.message(
            "tracking_link",
            "en",
            order=title(catalog, 10002, "Fietshelm Urban M", "en"),
            carrier="PostNL",
            url=TRACKING_URL,
        )
    )
    assert catalog.message("change_shipment_problem", "en") in message
    # The carrier's words end the sentence of its reason.
    assert "PostNL tried to deliver your parcel, but could not: “Delivery attempt" in message
    assert orders.informed_calls == [(10002, 3)]
    # A parcel on its way with nothing wrong: only the link.
    fine = ask(shop(shipped_helmet(today)), catalog, today, "tracking", language="en")
    assert "could not" not in said(fine)


def test_the_status_of_a_parcel_in_trouble_names_the_carriers_event(
    catalog: Catalog, today: date
) -> None:
    """ "Waar is mijn pakket?" (read as a status question) after a failed attempt
    that was already told: not just "onderweg", but what the carrier said."""
    attempt = make_event(
        3,
        field="shipment_status",
        old="in_transit",
        new="exception",
        reason_code="delivery_attempt_failed",
        party_type="carrier",
        party_name="PostNL",
        order_id=10002,
    )
    helmet = shipped_helmet(
        today, events=[status_event(2, "processing", "shipped"), attempt], informed_event_id=3
    )
    reply = ask(shop(helmet), catalog, today, "status")
    assert "PostNL heeft geprobeerd je pakket te bezorgen, maar dat is niet gelukt." in said(reply)
