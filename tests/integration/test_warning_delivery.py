"""Showing a warning: once per customer, never to another customer, and shown
again only when Rasa lost the turn that showed it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_local
from bot.orders.sql.database import create_db_engine, make_session_factory
from bot.proactive.channels import Reach, reachable, remember_shop_address
from bot.proactive.compose import compose_warning
from bot.proactive.delivery import take_for_showing, unshown_for
from bot.proactive.notifier import Notifier, QuietHours
from bot.proactive.promises import promise_callback
from bot.proactive.rasa_api import RasaApi
from bot.proactive.tables import WarningRow
from bot.proactive.watcher import watch_promises
from bot.texts import Catalog
from tests.conftest import _seeded

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
    assert take_for_showing(shop, warning_id, 1002, "anouk-chat", NOW) is None
    assert unshown_for(shop, ERIK) == [warning_id]
    shown = take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW)
    assert shown is not None and shown.order_ids == [10001] and shown.event_ids
    assert unshown_for(shop, ERIK) == []
    # Recorded in this conversation, or asked from another: silence.
    assert take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW, recorded_here=True) is None
    assert take_for_showing(shop, warning_id, ERIK, "erik-other-chat", NOW) is None


def test_a_warning_rasa_lost_is_shown_again_in_that_conversation(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    assert take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW) is not None
    # The push was cut off before Rasa saved the turn: its record lacks the warning.
    again = take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW)
    assert again is not None and again.again, "said to be shown before: the channel decides"


def test_shown_at_a_visit_needs_no_push_but_a_push_in_flight_is_left_to_its_notifier(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    with shop() as session, session.begin():
        row = session.get(WarningRow, warning_id)
        assert row is not None
        row.status = "sending"
    take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW)
    assert status_of(shop, warning_id).status == "sending"
    with shop() as session, session.begin():
        row = session.get(WarningRow, warning_id)
        assert row is not None
        row.status, row.delivered_at = "queued", None
    take_for_showing(shop, warning_id, ERIK, "erik-chat", NOW)
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
    watch_promises(shop, today, due + timedelta(minutes=5))
    with shop() as session:
        [warning_id] = session.execute(
            select(WarningRow.id).where(WarningRow.kind == "callback_missed")
        ).scalars()
    shown = take_for_showing(shop, warning_id, 1006, "daan-chat", NOW)
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
        remember_shop_address(shop, 99_999, "telegram", "555", NOW)
    remember_shop_address(shop, 1004, "telegram", "4242", NOW)
    with shop() as session:
        assert reachable(session, 1004) == [Reach("telegram", "4242")]
        assert reachable(session, 1004, channels=("socketio",)) == []


def test_without_a_channel_rasa_is_set_up_with_the_warning_waits_unread(
    warned: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = warned
    remember_shop_address(shop, ERIK, "telegram", "1001-chat", NOW)
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
