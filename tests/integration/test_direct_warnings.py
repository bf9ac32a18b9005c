"""Warnings the notifier sends itself (bot/proactive/direct.py): to an address
the shop registered, through the channel's own output over real HTTP, on
SQLite and PostgreSQL; with Rasa unreachable, so nothing passes through it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from actions.services import Services
from actions.turn import read_turn
from actions.warnings import ActionCancelOrder, warned_order
from bot.bootstrap import build_parts
from bot.channels.receipts import WarningReceipts, use_receipts
from bot.clock import utcnow
from bot.database import create_db_engine, make_session_factory
from bot.identity import make_customer_token
from bot.memory.addresses import CustomerChannelRow
from bot.memory.warnings import WarningRow
from bot.orders.sql.system import SqlOrderSystem
from bot.proactive.channel_outputs import ChannelOutputs
from bot.proactive.channels import Reach, remember_shop_address
from bot.proactive.direct import DirectSender
from bot.proactive.notifier import Notifier, QuietHours
from bot.proactive.rasa_api import RasaApi
from bot.processes import free_port
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.usecases.asker import Asker
from scripts.callback_sink import CallbackSink
from tests.conftest import SHOP_SECRET, _seeded, make_tracker, settings_for
from tests.integration.conftest import gazelle_delay, helmet_order_for_erik

ERIK = 1001
ADDRESS = "shop-chat-erik"
NOW = datetime(2026, 1, 1, 12, 0)


@dataclass
class Direct:
    sessions: sessionmaker[Session]
    notifier: Notifier
    sink: CallbackSink
    warning_id: int

    def row(self) -> WarningRow:
        with self.sessions() as session:
            row = session.get(WarningRow, self.warning_id)
            assert row is not None
            return row

    def set_address(self, **values: object) -> None:
        """Change Erik's address row (its language, where it came from)."""
        with self.sessions.begin() as session:
            session.execute(
                update(CustomerChannelRow)
                .where(CustomerChannelRow.address == ADDRESS)
                .values(**values)
            )

    def to_erik(self) -> list[dict[str, Any]]:
        return [m for m in self.sink.deliveries() if m.get("recipient_id") == ADDRESS]


def direct_notifier(settings: Settings, sink: CallbackSink) -> Notifier:
    """The notifier as `python -m bot notifier` builds it, with the shop's
    callback channel switched on (CALLBACK_URL) and Rasa nowhere."""
    parts = build_parts(settings)
    outputs = ChannelOutputs.from_credentials(
        PROJECT_ROOT / "credentials.yml", {"CALLBACK_URL": sink.url}, ("callback",)
    )
    return Notifier(
        parts.sessions,
        RasaApi("http://127.0.0.1:9", "token"),  # nothing listens: a push through Rasa fails
        QuietHours(0, 0, "Europe/Amsterdam"),
        channels=("socketio", "callback"),
        backoff_seconds=1.0,
        direct=DirectSender(parts, outputs),
    )


@pytest.fixture
def direct(any_database_url: str, today: date, monkeypatch: pytest.MonkeyPatch) -> Iterator[Direct]:
    """Erik's Gazelle delay queued; the shop registered his chat on its own
    messaging system (the callback channel)."""
    settings = settings_for(any_database_url, monkeypatch)
    _seeded(any_database_url, today)
    sessions = make_session_factory(create_db_engine(any_database_url))
    remember_shop_address(sessions, SqlOrderSystem(sessions), ERIK, "callback", ADDRESS, NOW)
    warning_id = gazelle_delay(sessions, today, NOW).warning_ids[0]
    use_receipts(WarningReceipts(sessions.kw["bind"]))
    with CallbackSink() as sink:
        notifier = direct_notifier(settings, sink)
        try:
            yield Direct(sessions, notifier, sink, warning_id)
        finally:
            notifier.release_lease()
            assert notifier.direct is not None
            notifier.direct.close()
            use_receipts(None)


def test_a_warning_to_an_address_the_shop_registered_goes_straight_to_the_channel(
    direct: Direct,
) -> None:
    assert direct.notifier.run_once(NOW) >= 1
    row = direct.row()
    assert (row.status, row.attempts, row.channel, row.address) == (
        "sent",
        0,
        "callback",
        ADDRESS,
    )
    assert row.delivered_to == ADDRESS and row.received_at is not None  # shown, and its receipt
    messages = direct.to_erik()
    said = "\n".join(str(m.get("text") or "") for m in messages)
    assert "Gazelle" in said and "frames komen later" in said
    # As Rasa's callback channel posts it: split at blank lines, the choices as
    # buttons on the last part, every part with its warning's message id.
    assert [m["message_id"] for m in messages] == [
        f"warning-{direct.warning_id}.{n}" for n in range(1, len(messages) + 1)
    ]
    payloads = [b["payload"] for b in messages[-1].get("buttons") or []]
    assert any(p.startswith("/keep_order") for p in payloads)
    assert any(p.startswith("/cancel_order") for p in payloads)
    # For the person who takes over: what was sent, since no Rasa turn holds it.
    assert row.said is not None and "Gazelle" in row.said


def test_the_warning_speaks_the_language_of_the_customers_conversation(
    direct: Direct,
) -> None:
    direct.set_address(language="en")
    direct.notifier.run_once(NOW)
    said = "\n".join(str(m.get("text") or "") for m in direct.to_erik())
    assert "so you hear it from us" in said and "zodat je het van ons hoort" not in said


def test_a_platform_that_refuses_gets_the_warning_again_later_and_it_arrives_once(
    direct: Direct,
) -> None:
    direct.sink.refuse = 1
    direct.notifier.run_once(NOW)
    row = direct.row()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "503" in (row.last_error or "") and row.received_at is None
    assert direct.to_erik() == []

    direct.notifier.run_once(utcnow() + timedelta(minutes=5))  # its backoff is over
    assert direct.row().status == "sent"
    ids = [m["message_id"] for m in direct.to_erik()]
    assert ids and len(ids) == len(set(ids)), "every part once"


def test_an_unreachable_order_system_leaves_the_warning_to_be_tried_again(
    direct: Direct, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop's order API away while the warning is composed: nothing marked,
    nothing sent, the notifier carries on; with the shop back it goes out once."""
    monkeypatch.setenv("ORDER_SYSTEM", "http")
    monkeypatch.setenv("ORDER_API_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("ORDER_API_RETRIES", "0")
    away = direct_notifier(load_settings(), direct.sink)
    try:
        away.run_once(NOW)
    finally:
        away.release_lease()
        assert away.direct is not None
        away.direct.close()
    row = direct.row()
    assert (row.status, row.attempts) == ("queued", 1)
    assert "order system unavailable" in (row.last_error or "")
    assert row.delivered_at is None and direct.to_erik() == []

    direct.notifier.run_once(utcnow() + timedelta(minutes=5))  # the shop is back
    assert direct.row().status == "sent"
    ids = [m["message_id"] for m in direct.to_erik()]
    assert ids and len(ids) == len(set(ids))


def test_a_warning_that_cannot_be_composed_fails_alone(direct: Direct) -> None:
    """A kind this version does not know (written by a newer one): the warning
    is tried again later and ends dead in the outbox; the notifier carries on."""
    with direct.sessions.begin() as session:
        session.execute(
            update(WarningRow)
            .where(WarningRow.id == direct.warning_id)
            .values(kind="from_a_newer_version")
        )
    direct.notifier.run_once(NOW)
    row = direct.row()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error == "warning not composed: KeyError"
    assert row.delivered_at is None and direct.to_erik() == []


def test_a_notifier_that_died_after_sending_does_not_send_it_twice(direct: Direct) -> None:
    direct.notifier.run_once(NOW)
    sent = len(direct.to_erik())
    # Its outcome never written: the lease runs out and another try comes.
    with direct.sessions.begin() as session:
        session.execute(
            update(WarningRow)
            .where(WarningRow.id == direct.warning_id)
            .values(status="sending", lease_until=None, sent_at=None)
        )
    direct.notifier.run_once(utcnow() + timedelta(minutes=5))
    assert direct.row().status == "sent"
    assert len(direct.to_erik()) == sent, "the receipt says it arrived: not sent again"


def test_an_address_a_conversation_learned_still_goes_through_rasa(direct: Direct) -> None:
    """What such a conversation may hear is in the conversation (a verified
    order), which only the action reads: the push goes to Rasa."""
    direct.set_address(source="conversation")
    direct.notifier.run_once(NOW)
    row = direct.row()
    assert row.status == "queued" and "Rasa unreachable" in (row.last_error or "")
    assert row.delivered_at is None and direct.to_erik() == []


def test_the_chat_widget_twilio_and_conversations_stay_with_rasa(settings: Settings) -> None:
    """Only where the message carries its own choices (buttons with their
    payloads): a reply "2" to an SMS is read against the conversation's record,
    and WhatsApp's 24 hours are in the conversation."""
    environ = {
        "TELEGRAM_ACCESS_TOKEN": "123:abc",
        "TELEGRAM_SECRET_TOKEN": "s" * 32,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_NUMBER": "+3197010000000",
        "TWILIO_WEBHOOK_URL": "https://shop.example/webhooks/twilio/webhook",
    }
    outputs = ChannelOutputs.from_credentials(
        PROJECT_ROOT / "credentials.yml", environ, ("telegram", "twilio", "socketio")
    )
    assert outputs.channels == ("telegram", "twilio")  # never the widget's
    sender = DirectSender(build_parts(settings), outputs)
    assert sender.takes(Reach("telegram", "telegram:777", registered=True))
    assert not sender.takes(Reach("telegram", "telegram:777", registered=False))
    assert not sender.takes(Reach("twilio", "sms:+31612345678", registered=True))
    assert not sender.takes(Reach("twilio", "whatsapp:+31612345678", registered=True))
    assert not sender.takes(Reach("socketio", "widget-session", registered=True))


def test_annuleren_after_a_warning_the_notifier_sent_is_about_its_order(
    services: Services, settings: Settings, today: date
) -> None:
    """Erik has two open orders (the Gazelle and a helmet): his "annuleren"
    answers the warning, whose order no Rasa turn wrote into a slot."""
    helmet_order_for_erik(services.sessions, today)
    remember_shop_address(services.sessions, services.orders, ERIK, "callback", ADDRESS, NOW)
    gazelle_delay(services.sessions, today, NOW)
    erik = {"customer_token": make_customer_token(ERIK, SHOP_SECRET)}
    tracker = make_tracker(
        "annuleren", "cancel_order", sender_id=ADDRESS, input_channel="callback", metadata=erik
    )
    with services.work() as work:
        assert warned_order(work, tracker, _asker(tracker, services)) is None

    use_receipts(WarningReceipts(services.sessions.kw["bind"]))
    with CallbackSink() as sink:
        notifier = direct_notifier(settings, sink)
        try:
            notifier.run_once(utcnow())
        finally:
            notifier.release_lease()
            assert notifier.direct is not None
            notifier.direct.close()
            use_receipts(None)
    assert sink.deliveries(), "the warning was sent"

    dispatcher = CollectingDispatcher()
    events = ActionCancelOrder().run(dispatcher, tracker, {})
    assert SlotSet("pending_cancellation", "10001") in events

    # A choice said in a turn after it (a slot set later) counts instead.
    later = make_tracker(
        "annuleren",
        "cancel_order",
        sender_id=ADDRESS,
        input_channel="callback",
        metadata=erik,
        slots={"warned_order": "10100"},
        events=[
            {
                "event": "slot",
                "name": "warned_order",
                "value": "10100",
                "timestamp": time.time() + 60,
            }
        ],
    )
    with services.work() as work:
        assert warned_order(work, later, _asker(later, services)) == 10100


def _asker(tracker: Tracker, services: Services) -> Asker:
    return read_turn(tracker, services).asker
