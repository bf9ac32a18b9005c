"""The handoff's plain parts: mood, service hours, the story so far, the ticket."""

from __future__ import annotations

from datetime import datetime

import pytest

from actions.handoff import consecutive_fallbacks
from bot.handoff.conversation import customers_words, recent_lines
from bot.handoff.hours import ServiceHours, parse_days
from bot.handoff.mood import mood_of
from bot.handoff.queue import HandoffRequest, Said
from bot.handoff.zendesk import ticket_body


@pytest.mark.parametrize(
    ("text", "mood"),
    [
        ("wat is er gewijzigd aan mijn bestelling?", "calm"),
        ("Waar blijft mijn fiets? Dit is belachelijk", "angry"),
        ("ik ben het zat, nooit meer bij jullie", "angry"),
        ("WAAR BLIJFT MIJN BESTELLING NOU WEER", "angry"),  # shouting, and again
        ("WAAR IS MIJN BESTELLING", "upset"),
        ("weer vertraagd!!! ik ben echt teleurgesteld", "angry"),
        ("jammer dat het later wordt", "upset"),
        ("This is ridiculous, where is my order", "angry"),
        ("I'm a bit disappointed it's late again", "upset"),
        ("where is my parcel?", "calm"),
        ("/request_human", "calm"),
        ("", "calm"),
    ],
)
def test_mood(text: str, mood: str) -> None:
    assert mood_of(text) == mood


def utc(*parts: int) -> datetime:
    return datetime(*parts)  # naive UTC, as the product stores it


HOURS = ServiceHours(parse_days("mon-fri"), 9, 17, "Europe/Amsterdam")


def test_service_hours_in_the_shops_time_zone() -> None:
    # Wednesday 26 November 2026, 10:00 in Amsterdam is 09:00 UTC.
    assert HOURS.is_open(utc(2026, 11, 25, 9, 0))
    assert HOURS.next_opening(utc(2026, 11, 25, 9, 0)) == utc(2026, 11, 25, 9, 0)
    # 07:30 UTC = 08:30 local: opens at 09:00 local = 08:00 UTC.
    assert not HOURS.is_open(utc(2026, 11, 25, 7, 30))
    assert HOURS.next_opening(utc(2026, 11, 25, 7, 30)) == utc(2026, 11, 25, 8, 0)
    # Friday 18:00 local: Monday 09:00 local.
    assert HOURS.next_opening(utc(2026, 11, 27, 17, 0)) == utc(2026, 11, 30, 8, 0)
    # Summer time: 09:00 in Amsterdam is 07:00 UTC.
    assert HOURS.next_opening(utc(2026, 7, 4, 12, 0)) == utc(2026, 7, 6, 7, 0)


def test_an_answer_is_promised_only_when_a_person_is_in_to_give_it() -> None:
    # 10:00 local: within 30 minutes.
    assert HOURS.answer_window(utc(2026, 11, 25, 9, 0), 30) == (
        utc(2026, 11, 25, 9, 0),
        utc(2026, 11, 25, 9, 30),
    )
    # 16:50 local on a Friday: not before closing, so Monday 09:30.
    assert HOURS.answer_window(utc(2026, 11, 27, 15, 50), 30) == (
        utc(2026, 11, 30, 8, 0),
        utc(2026, 11, 30, 8, 30),
    )
    # 16:20 local: 16:50 is still in.
    assert HOURS.answer_window(utc(2026, 11, 25, 15, 20), 30)[1] == utc(2026, 11, 25, 15, 50)


def test_service_days() -> None:
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("sat,sun") == frozenset({5, 6})
    assert parse_days("fri-mon") == frozenset({4, 5, 6, 0})
    with pytest.raises(ValueError):
        parse_days("maandag")
    with pytest.raises(ValueError):
        parse_days("")


def user(text: str, intent: str, at: float = 1.0, external: bool = False) -> dict[str, object]:
    event: dict[str, object] = {
        "event": "user",
        "text": text,
        "timestamp": at,
        "parse_data": {"intent": {"name": intent}},
    }
    if external:
        event["metadata"] = {"is_external": True}
    return event


def bot(text: str, at: float = 1.0, buttons: list[dict[str, str]] | None = None):
    return {"event": "bot", "text": text, "timestamp": at, "data": {"buttons": buttons or []}}


def test_two_fallbacks_in_a_row_are_counted_pushes_are_not() -> None:
    events = [
        user("waar is mijn fiets", "ask_status"),
        bot("..."),
        user("blabla", "nlu_fallback"),
        bot("Sorry?"),
        user("EXTERNAL: EXTERNAL_order_warning", "EXTERNAL_order_warning", external=True),
        user("pfff hmm", "nlu_fallback"),
    ]
    assert consecutive_fallbacks(events) == 2
    assert consecutive_fallbacks(events[:2]) == 0


def test_the_story_in_the_customers_own_words() -> None:
    choices = [{"title": "Ik wacht", "payload": '/keep_order{"order_number": "10001"}'}]
    events = [
        user("/get_started", "get_started", 1),
        bot("Hoi!", 2),
        user("wat is er met mijn fiets?", "ask_changes", 3),
        bot("De Gazelle komt later.", 4, choices),
        user('/keep_order{"order_number": "10001"}', "keep_order", 5),
        user("EXTERNAL: warning", "EXTERNAL_order_warning", 6, external=True),
        user("mag ik iemand spreken", "request_human", 7),
    ]
    said = recent_lines(events)
    assert [(s.who, s.text) for s in said] == [
        ("assistant", "Hoi!"),
        ("customer", "wat is er met mijn fiets?"),
        ("assistant", "De Gazelle komt later."),
        ("customer", "[Ik wacht]"),
        ("customer", "mag ik iemand spreken"),
    ]
    assert customers_words(said) == "wat is er met mijn fiets?\nmag ik iemand spreken"


def test_a_zendesk_ticket_carries_the_whole_story() -> None:
    request = HandoffRequest(
        reason="angry",
        mood="angry",
        language="nl",
        customer_id=1001,
        order_ids=[10001],
        question="waar blijft mijn fiets",
        said=[Said("customer", "waar blijft mijn fiets", 1.0), Said("assistant", "...", 2.0)],
    )
    ticket = ticket_body(7, request)["ticket"]
    assert isinstance(ticket, dict)
    assert ticket["priority"] == "urgent" and ticket["external_id"] == "handoff-7"
    body = ticket["comment"]["body"]
    assert "1001" in body and "10001" in body and "- customer: waar blijft mijn fiets" in body
