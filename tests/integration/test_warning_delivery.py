"""Showing a warning: once per customer, never to another customer, and shown
again only when Rasa lost the turn that showed it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_local
from bot.database import create_db_engine, make_session_factory
from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.system import SqlOrderSystem
from bot.proactive.channels import Reach, reachable, remember_shop_address
from bot.proactive.compose import compose_warning
from bot.proactive.notifier import Notifier, QuietHours
from bot.proactive.promises import promise_callback
from bot.proactive.rasa_api import RasaApi
from bot.proactive.revisit import requeue_unread
from bot.proactive.watcher import watch_promises
from bot.texts import Catalog
from tests.conftest import _seeded
from tests.memory_reads import take, unshown

NOW = datetime(2026, 1, 1, 12, 0)
ERIK = 1001


def status_of(shop: sessionmaker[Session], warning_id: int) -> WarningRow:
    with shop() as session:
        row = session.get(WarningRow, warning_id)
        assert row is not None
        return row


def test_a_warning_is_shown_once_and_never_to_another_customer(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    assert take(shop, warning_id, 1002, "anouk-chat", NOW) is None
    assert unshown(shop, ERIK) == [warning_id]
    shown = take(shop, warning_id, ERIK, "erik-chat", NOW)
    assert shown is not None and shown.order_ids == [10001] and shown.event_ids
    assert unshown(shop, ERIK) == []
    # Recorded in this conversation, or asked from another: silence.
    assert take(shop, warning_id, ERIK, "erik-chat", NOW, recorded_here=True) is None
    assert take(shop, warning_id, ERIK, "erik-other-chat", NOW) is None


def test_a_warning_rasa_lost_is_shown_again_in_that_conversation(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    assert take(shop, warning_id, ERIK, "erik-chat", NOW) is not None
    # The push was cut off before Rasa saved the turn: its record lacks the warning.
    again = take(shop, warning_id, ERIK, "erik-chat", NOW)
    assert again is not None and again.again, "said to be shown before: the channel decides"


def test_shown_at_a_visit_needs_no_push_but_a_push_in_flight_is_left_to_its_notifier(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    with shop() as session, session.begin():
        row = session.get(WarningRow, warning_id)
        assert row is not None
        row.status = "sending"
    take(shop, warning_id, ERIK, "erik-chat", NOW)
    assert status_of(shop, warning_id).status == "sending"
    with shop() as session, session.begin():
        row = session.get(WarningRow, warning_id)
        assert row is not None
        row.status, row.delivered_at = "queued", None
    take(shop, warning_id, ERIK, "erik-chat", NOW)
    row = status_of(shop, warning_id)
    assert row.status == "sent" and row.address == "erik-chat"


def test_a_missed_callback_is_told_with_the_time_we_promised(
    any_database_url: str, today: date, catalog: Catalog
) -> None:
    orders = _seeded(any_database_url, today)
    shop = make_session_factory(create_db_engine(any_database_url))
    due = datetime.combine(today, time(9, 30))  # naive UTC, as stored
    with shop() as session, session.begin():
        promise_callback(session, 1006, 10006, due, due - timedelta(hours=24))
    watch_promises(shop, SqlOrderSystem(shop), today, due + timedelta(minutes=5))
    with shop() as session:
        [warning_id] = session.execute(
            select(WarningRow.id).where(WarningRow.kind == "callback_missed")
        ).scalars()
    shown = take(shop, warning_id, 1006, "daan-chat", NOW)
    assert shown is not None and shown.promised_at == due
    daan = orders.get_order(10006)
    assert daan is not None
    local = shop_local(due, "Europe/Amsterdam")
    message = compose_warning(shown.kind, [daan], [], catalog, "nl", today, promised_at=local)
    text = "\n".join(message.texts)
    assert "terugbellen" in text and f"om {local:%H:%M}" in text


def test_a_customer_never_spoken_to_is_reached_at_an_address_the_shop_knows(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, _ = warned
    with pytest.raises(LookupError):
        remember_shop_address(shop, SqlOrderSystem(shop), 99_999, "telegram", "555", NOW)
    remember_shop_address(shop, SqlOrderSystem(shop), 1004, "telegram", "4242", NOW)
    with shop() as session:
        assert reachable(session, 1004) == [Reach("telegram", "4242", registered=True)]
        assert reachable(session, 1004, channels=("socketio",)) == []


def test_without_a_channel_rasa_is_set_up_with_the_warning_waits_unread(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    remember_shop_address(shop, SqlOrderSystem(shop), ERIK, "telegram", "1001-chat", NOW)
    # Nothing listens on port 9: a push attempt would fail, not pass silently.
    notifier = Notifier(
        shop,
        RasaApi("http://127.0.0.1:9", "token"),
        QuietHours(0, 0, "Europe/Amsterdam"),
        channels=("socketio",),
    )
    try:
        assert notifier.run_once(NOW) >= 1
    finally:
        notifier.release_lease()
    row = status_of(shop, warning_id)
    assert (row.status, row.attempts, row.last_error) == ("unread", 0, None)


def test_a_widget_opening_again_queues_its_customers_unread_warnings(
    warned: tuple[sessionmaker[Session], int], any_database_url: str
) -> None:
    """Erik's chat was closed when the Gazelle delay came (unread); his widget
    connects again: the warning goes back in the queue, once, and nobody
    else's does."""
    shop, warning_id = warned
    engine = create_db_engine(any_database_url)
    with shop.begin() as session:
        session.add_all(
            CustomerChannelRow(
                customer_id=customer_id,
                channel="socketio",
                address=address,
                source="conversation",
                last_seen_at=NOW,
            )
            for customer_id, address in ((ERIK, "erik-chat"), (1002, "anouk-chat"))
        )
        session.execute(update(WarningRow).values(status="unread"))
        others = [w for w in session.execute(select(WarningRow)).scalars() if w.id != warning_id]
    later = NOW + timedelta(hours=1)

    assert requeue_unread(engine, "socketio", "someone-unknown", later) == 0
    assert requeue_unread(engine, "telegram", "erik-chat", later) == 0
    assert requeue_unread(engine, "socketio", "erik-chat", later) == 1
    row = status_of(shop, warning_id)
    assert (row.status, row.next_attempt_at) == ("queued", later)
    assert requeue_unread(engine, "socketio", "erik-chat", later) == 0, "once"
    assert all(status_of(shop, w.id).status == "unread" for w in others)

    # Shown meanwhile (at a reply), or news older than two weeks: left alone.
    with shop.begin() as session:
        session.execute(update(WarningRow).values(status="unread"))
    take(shop, warning_id, ERIK, "erik-chat", later)
    with shop.begin() as session:
        session.execute(update(WarningRow).values(status="unread"))
    assert requeue_unread(engine, "socketio", "erik-chat", later) == 0
    with shop.begin() as session:
        session.execute(update(WarningRow).values(status="unread", delivered_at=None))
    assert requeue_unread(engine, "socketio", "erik-chat", NOW + timedelta(days=15)) == 0
