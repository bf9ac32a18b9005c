"""Handing over to a person, with the actions as Rasa runs them and the queue in
a real database: the context a person gets, the silence, the reply, the way back."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.conversation import ActionHandleFallback
from actions.handoff import (
    ActionHandOver,
    ActionRelayStaffReply,
    ActionResumeAssistant,
    ActionResumeAssistantQuietly,
)
from actions.order_questions import ActionAnswerOrderQuestion
from actions.services import Services, build_services, use_services
from bot.clock import utcnow
from bot.database import create_db_engine, make_session_factory
from bot.deadlines.parse import ParsedDeadline
from bot.deadlines.service import save_deadline
from bot.handoff import queue
from bot.identity import make_customer_token
from bot.memory.handoffs import HandoffRow
from bot.memory.promises import PromiseRow
from bot.settings import Settings
from tests.conftest import SHOP_SECRET, _seeded, make_tracker
from tests.integration.conftest import gazelle_delay
from tests.memory_reads import unshown

DOMAIN: dict[str, Any] = {"slots": {}}
ALWAYS_OPEN = {"service_days": frozenset(range(7)), "service_start": 0, "service_end": 24}


def start(settings: Settings, today: date, **changes: Any) -> Services:
    _seeded(settings.database_url, today)
    built = build_services(dataclasses.replace(settings, **changes))
    use_services(built)
    return built


@pytest.fixture
def services(settings: Settings, today: date) -> Iterator[Services]:
    yield start(settings, today, **ALWAYS_OPEN)
    use_services(None)


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def erik(text: str, intent: str, events: list[dict[str, Any]] | None = None, **kwargs: Any):
    return make_tracker(
        text,
        intent,
        metadata={"customer_token": make_customer_token(1001, SHOP_SECRET)},
        sender_id="erik-widget",
        input_channel="socketio",
        events=events,
        **kwargs,
    )


def handoffs(services: Services) -> list[HandoffRow]:
    with services.sessions() as session:
        return list(session.execute(select(HandoffRow).order_by(HandoffRow.id)).scalars())


BEFORE = [
    {
        "event": "user",
        "timestamp": 1.0,
        "text": "wat is er gewijzigd aan mijn bestelling?",
        "input_channel": "socketio",
        "parse_data": {"intent": {"name": "ask_changes"}},
    },
    {
        "event": "bot",
        "timestamp": 2.0,
        "text": "Je Gazelle komt later: de fabriek wacht op frames.",
    },
]


def test_asking_for_a_person_hands_over_the_whole_story(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = ActionHandOver().run(
        dispatcher, erik("mag ik iemand spreken", "request_human", BEFORE), DOMAIN
    )
    assert {"event": "pause", "timestamp": None} in events
    [row] = handoffs(services)
    assert SlotSet("handoff_id", str(row.id)) in events
    assert (row.reason, row.mood, row.status, row.channel) == (
        "asked",
        "calm",
        "waiting",
        "socketio",
    )
    assert row.customer_id == 1001 and "10001" in row.order_ids.split(",")
    assert row.question == "wat is er gewijzigd aan mijn bestelling?\nmag ik iemand spreken"
    said = json.loads(row.context)["said"]
    assert said[1] == {"who": "assistant", "text": BEFORE[1]["text"], "at": 2.0}
    # When a person answers is a promise the ledger holds us to.
    with services.sessions() as session:
        promise = session.get(PromiseRow, row.promise_id)
        assert promise is not None and promise.kind == "callback" and promise.status == "open"
        assert promise.due_at is not None
        minutes = (promise.due_at - row.created_at).total_seconds() / 60
        assert 29 <= minutes <= 31
    assert "je hoeft niets opnieuw te vertellen" in texts(dispatcher)

    # Asking again keeps the one handoff.
    ActionHandOver().run(CollectingDispatcher(), erik("hallo??", "request_human", BEFORE), DOMAIN)
    assert len(handoffs(services)) == 1


def test_the_orders_deadline_goes_along(services: Services, today: date) -> None:
    told = ParsedDeadline(today + timedelta(days=4), "zaterdag", before=False, purpose="bruiloft")
    save_deadline(services.sessions, 10001, 1001, told, "nl", utcnow())
    ActionHandOver().run(
        CollectingDispatcher(), erik("mag ik iemand spreken", "request_human"), DOMAIN
    )
    [row] = handoffs(services)
    assert row.deadline == today + timedelta(days=4)


def test_outside_service_hours_the_customer_hears_when(
    settings: Settings, today: date, dispatcher: CollectingDispatcher
) -> None:
    in_three_days = (today + timedelta(days=3)).weekday()
    found = start(settings, today, service_days=frozenset({in_three_days}))
    try:
        ActionHandOver().run(dispatcher, erik("human please", "request_human"), DOMAIN)
    finally:
        use_services(None)
    said = texts(dispatcher)
    assert "My colleagues aren't in right now; they're back" in said
    [row] = handoffs(found)
    with found.sessions() as session:
        promise = session.get(PromiseRow, row.promise_id)
        assert promise is not None and promise.due_at is not None
        assert promise.due_at - row.created_at > timedelta(days=1)


def test_not_understood_twice_goes_to_a_person(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    first = {
        "event": "user",
        "timestamp": 1.0,
        "text": "grmbl flux",
        "parse_data": {"intent": {"name": "nlu_fallback"}},
    }
    once = erik("qwerty", "nlu_fallback")
    ActionHandleFallback().run(dispatcher, once, DOMAIN)
    assert handoffs(services) == []  # once: the assistant says what it can do
    twice = erik("qwerty", "nlu_fallback", [first, {"event": "bot", "text": "?"}])
    events = ActionHandleFallback().run(CollectingDispatcher(), twice, DOMAIN)
    assert {"event": "pause", "timestamp": None} in events
    assert [row.reason for row in handoffs(services)] == ["not_understood"]


def test_an_angry_customer_gets_the_answer_and_then_a_person(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    tracker = erik("Waar blijft mijn fiets verdomme, dit is belachelijk", "ask_status")
    events = ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert said.index("Gazelle") < said.index("Het spijt me echt") < said.index("collega")
    assert {"event": "pause", "timestamp": None} in events
    [row] = handoffs(services)
    assert (row.reason, row.mood) == ("angry", "angry")


def test_an_upset_customer_hears_an_apology_and_the_answer(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    ActionAnswerOrderQuestion().run(
        dispatcher, erik("alweer vertraagd? balen", "ask_status"), DOMAIN
    )
    assert texts(dispatcher).startswith("Vervelend dat je hiermee zit")
    assert handoffs(services) == []


def test_a_persons_reply_is_said_once_and_the_assistant_comes_back(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    ActionHandOver().run(
        CollectingDispatcher(), erik("mag ik iemand spreken", "request_human"), DOMAIN
    )
    [row] = handoffs(services)
    assert queue.claim(services.sessions, row.id, "Miranda", utcnow())
    assert not queue.claim(services.sessions, row.id, "Harry", utcnow())  # one person, not two
    queue.add_reply(services.sessions, row.id, "Miranda", "Ik bel de fabriek nu even.", utcnow())

    paused = erik("mag ik iemand spreken", "request_human", slots={"language": "nl"})
    ActionRelayStaffReply().run(dispatcher, paused, DOMAIN)
    assert texts(dispatcher) == "Miranda van Fietsen & Meer: Ik bel de fabriek nu even."
    again = CollectingDispatcher()
    ActionRelayStaffReply().run(again, paused, DOMAIN)
    assert again.messages == []  # said once

    back = CollectingDispatcher()
    events = ActionResumeAssistant().run(back, paused, DOMAIN)
    assert {"event": "resume", "timestamp": None} in events
    assert "Miranda heeft het gesprek teruggegeven" in texts(back)
    assert handoffs(services)[0].status == "closed"


def test_a_reply_written_while_the_chat_was_closed_waits_and_is_said_once(
    services: Services,
) -> None:
    """Kept by the staff page, found by the notifier's round, said once, also
    after the person handed the conversation back meanwhile."""
    ActionHandOver().run(
        CollectingDispatcher(), erik("mag ik iemand spreken", "request_human"), DOMAIN
    )
    [row] = handoffs(services)
    queue.claim(services.sessions, row.id, "Miranda", utcnow())
    now = utcnow()
    queue.add_reply(services.sessions, row.id, "Miranda", "Ik bel de fabriek.", now)
    queue.add_reply(services.sessions, row.id, "Miranda", "Gazelle levert vrijdag.", now)
    waiting = queue.conversations_with_waiting_replies
    assert waiting(services.sessions, "socketio", now - timedelta(days=1)) == ["erik-widget"]
    assert waiting(services.sessions, "telegram", now - timedelta(days=1)) == []
    assert waiting(services.sessions, "socketio", now + timedelta(seconds=1)) == [], "too old"

    queue.close(services.sessions, row.id, utcnow())  # handed back before Erik came back
    back = erik("hallo", "greet", slots={"language": "nl"})
    said = CollectingDispatcher()
    ActionRelayStaffReply().run(said, back, DOMAIN)
    assert texts(said) == (
        "Miranda van Fietsen & Meer: Ik bel de fabriek.\n"
        "Miranda van Fietsen & Meer: Gazelle levert vrijdag."
    )
    assert waiting(services.sessions, "socketio", now - timedelta(days=1)) == []
    again = CollectingDispatcher()
    ActionRelayStaffReply().run(again, back, DOMAIN)
    assert again.messages == []


def test_handed_back_to_a_closed_chat_says_nothing_and_keeps_the_news(
    services: Services, dispatcher: CollectingDispatcher, today: date
) -> None:
    """A supplier delay came while a person had the conversation and Erik has
    closed the chat: the news waits for his next visit instead of counting as
    seen in a chat nobody reads; the assistant is back all the same."""
    ActionHandOver().run(
        CollectingDispatcher(), erik("mag ik iemand spreken", "request_human"), DOMAIN
    )
    gazelle_delay(services.sessions, today)
    [news] = unshown(services.sessions, 1001)
    paused = erik("mag ik iemand spreken", "request_human", slots={"language": "nl"})

    events = ActionResumeAssistantQuietly().run(dispatcher, paused, DOMAIN)
    assert dispatcher.messages == []
    assert {"event": "resume", "timestamp": None} in events
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    assert handoffs(services)[0].status == "closed"
    assert unshown(services.sessions, 1001) == [news], "waits for the next visit"

    # Handed back to an open chat, the same news is shown.
    open_chat = CollectingDispatcher()
    ActionResumeAssistant().run(open_chat, paused, DOMAIN)
    assert "Gazelle" in texts(open_chat)
    assert unshown(services.sessions, 1001) == []


def test_two_takers_at_once_get_each_reply_once(any_database_url: str, today: date) -> None:
    """The staff page and a notifier (or two notifiers) saying the replies at
    the same moment: every reply goes to exactly one of them."""
    _seeded(any_database_url, today)
    sessions = make_session_factory(create_db_engine(any_database_url))
    request = queue.HandoffRequest(
        reason="asked",
        mood="calm",
        language="nl",
        customer_id=1001,
        order_ids=[],
        question="mag ik iemand spreken",
        sender_id="erik-widget",
        channel="socketio",
    )
    with sessions() as session, session.begin():
        handoff_id = queue.open_handoff(session, request, utcnow())
    for n in range(20):
        queue.add_reply(sessions, handoff_id, "Miranda", f"antwoord {n}", utcnow())
    taken: list[list[queue.StaffReply]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def take(index: int) -> None:
        barrier.wait()
        taken[index] = queue.take_waiting_replies(sessions, "erik-widget", utcnow())

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts_said = sorted(reply.text for replies in taken for reply in replies)
    assert texts_said == sorted(f"antwoord {n}" for n in range(20))


class _Zendesk(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Zendesk.received.append({"path": self.path, "auth": self.headers["Authorization"], **body})
        payload = json.dumps({"ticket": {"id": 35436, "status": "new"}}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        pass


def test_a_zendesk_ticket_when_a_helpdesk_is_configured(
    settings: Settings, today: date, dispatcher: CollectingDispatcher
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Zendesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        found = start(
            settings,
            today,
            **ALWAYS_OPEN,
            zendesk_url=url,
            zendesk_email="shop@example.nl",
            zendesk_token="zd-token",
        )
        ActionHandOver().run(
            dispatcher, erik("mag ik iemand spreken", "request_human", BEFORE), DOMAIN
        )
    finally:
        server.shutdown()
        use_services(None)
    [ticket] = _Zendesk.received
    assert ticket["path"] == "/api/v2/tickets.json" and ticket["auth"].startswith("Basic ")
    assert "Je Gazelle komt later" in ticket["ticket"]["comment"]["body"]
    assert handoffs(found)[0].ticket_ref == "35436"
