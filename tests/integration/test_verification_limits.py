"""No guessing orders: failed verifications are counted in the database, per
order number and per client, across conversations (bot/verification/limits.py)."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import bot.verification.limits as limits_module
from actions.order_questions import ActionAnswerOrderQuestion
from actions.services import Services
from actions.verification import ValidateVerificationForm
from bot.database import create_db_engine, make_session_factory
from bot.memory.verification import VerificationFailureRow
from bot.verification.limits import (
    Limit,
    VerificationLimits,
    forget_old,
    order_subject,
)
from tests.conftest import _seeded, make_tracker

# The shipped default of VERIFICATION_CLIENT_LOCK_FAILURES.
CLIENT_LOCK_FAILURES = 30
DOMAIN: dict[str, Any] = {
    "forms": {"verification_form": {"required_slots": ["order_number", "postcode"]}},
    "slots": {},
}
LIMIT = Limit(failures=10, window=timedelta(minutes=15), lock=timedelta(minutes=15))
T0 = datetime(2026, 11, 27, 10, 0)


def verify(
    order_number: str,
    postcode: str,
    sender: str,
    client_address: str | None = None,
    channel: str = "rest",
) -> tuple[list[dict[str, Any]], str]:
    """One try in a new conversation (a new sender id: the slot count starts at 0)."""
    dispatcher = CollectingDispatcher()
    slots = {"order_number": order_number, "postcode": postcode, "requested_slot": "postcode"}
    tracker = make_tracker(
        postcode,
        "inform",
        slots=slots,
        metadata={"client_address": client_address} if client_address else {},
        active_loop="verification_form",
        sender_id=sender,
        events=[
            {"event": "user", "text": postcode, "input_channel": channel},
            {"event": "slot", "name": "postcode", "value": postcode},
        ],
    )
    events = asyncio.run(ValidateVerificationForm().run(dispatcher, tracker, DOMAIN))
    said = "\n".join(m.get("text") or "" for m in dispatcher.messages)
    return events, said


def slot(events: list[dict[str, Any]], name: str) -> Any:
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]
    return values[-1] if values else None


def answer_after_form(events: list[dict[str, Any]], sender: str) -> str:
    """What the answer action that follows the form says in that conversation."""
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/inform", "inform", slots=slots, sender_id=sender)
    ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def test_ten_failures_on_one_order_lock_it_for_every_conversation(services: Services) -> None:
    for attempt in range(10):
        events, _ = verify("10003", "9999 ZZ", sender=f"guesser-{attempt}")
        assert slot(events, "verification_failures") == 1.0  # each a new conversation
    # The right postcode, in yet another conversation: refused all the same.
    events, said = verify("10003", "2511 CV", sender="guesser-final")
    assert slot(events, "verification_proof") is None
    assert slot(events, "requested_slot") is None
    answer = answer_after_form(events, "guesser-final")
    assert "log in" in answer.lower() and "Den Haag" not in answer and "10003" not in answer
    # Another order is not locked by it.
    events, _ = verify("10001", "3511ab", sender="erik")
    assert slot(events, "verification_proof")


def test_a_locked_order_answers_like_an_order_that_does_not_exist(services: Services) -> None:
    for attempt in range(10):
        verify("10003", "9999 ZZ", sender=f"real-{attempt}")
        verify("99999", "9999 ZZ", sender=f"made-up-{attempt}")
    real_events, real_said = verify("10003", "2511 CV", sender="real-final")
    made_up_events, made_up_said = verify("99999", "2511 CV", sender="made-up-final")
    assert real_events == made_up_events and real_said == made_up_said
    assert answer_after_form(real_events, "real-final") == answer_after_form(
        made_up_events, "made-up-final"
    )
    # Refused as soon as the order number is known: the postcode is not even asked.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "10003",
        "inform",
        slots={"order_number": "10003", "requested_slot": "order_number"},
        active_loop="verification_form",
        sender_id="real-early",
        events=[{"event": "user", "text": "10003"}],
    )
    events = asyncio.run(ValidateVerificationForm().run(dispatcher, tracker, DOMAIN))
    assert slot(events, "requested_slot") is None


def test_a_successful_verification_forgives_no_one_elses_failures(services: Services) -> None:
    for attempt in range(9):
        verify("10001", "9999 ZZ", sender=f"guesser-{attempt}", client_address="198.51.100.9")
    events, _ = verify("10001", "3511ab", sender="erik", client_address="192.0.2.1")
    assert slot(events, "verification_proof")
    verify("10001", "9999 ZZ", sender="guesser-9", client_address="198.51.100.9")
    events, _ = verify("10001", "3511ab", sender="erik-later", client_address="192.0.2.1")
    assert slot(events, "verification_proof") is None


def test_one_client_address_is_limited_over_all_orders(services: Services) -> None:
    address = "203.0.113.7"
    for attempt in range(CLIENT_LOCK_FAILURES):
        # A different made-up order each time: no order reaches its own limit.
        verify(str(20_000 + attempt), "9999 ZZ", sender=f"s-{attempt}", client_address=address)
    events, _ = verify("10001", "3511ab", sender="s-final", client_address=address)
    assert slot(events, "verification_proof") is None
    events, _ = verify("10001", "3511ab", sender="erik", client_address="192.0.2.1")
    assert slot(events, "verification_proof")
    # The address itself is not stored.
    with services.sessions() as session:
        subjects = set(session.execute(select(VerificationFailureRow.subject)).scalars())
    assert subjects and not any(address in subject for subject in subjects)


def test_a_platform_sender_is_limited_across_restarts(services: Services) -> None:
    """A Telegram chat has no address the assistant sees; its chat is the client
    (a /restart empties the conversation's slots, not this count)."""
    for attempt in range(CLIENT_LOCK_FAILURES):
        verify(str(20_000 + attempt), "9999 ZZ", sender="telegram:4711", channel="telegram")
    events, _ = verify("10001", "3511ab", sender="telegram:4711", channel="telegram")
    assert slot(events, "verification_proof") is None


def limits_on(url: str, today: date) -> VerificationLimits:
    _seeded(url, today)
    return VerificationLimits(make_session_factory(create_db_engine(url)))


def test_the_lock_lasts_fifteen_minutes_from_the_tenth_failure(
    any_database_url: str, today: date
) -> None:
    limits = limits_on(any_database_url, today)
    subject = order_subject(10003, LIMIT)
    for minute in range(10):
        assert limits.begin([subject], T0 + timedelta(minutes=minute)) is not None
    assert limits.failures(subject, T0 + timedelta(minutes=9)) == 10
    assert limits.is_locked([subject], T0 + timedelta(minutes=23))
    assert limits.begin([subject], T0 + timedelta(minutes=23)) is None
    assert limits.failures(subject, T0 + timedelta(minutes=9)) == 10  # a refusal is no failure
    assert not limits.is_locked([subject], T0 + timedelta(minutes=24, seconds=1))


def test_parallel_guesses_get_no_more_tries_than_slow_ones(postgres_url: str, today: date) -> None:
    limits = limits_on(postgres_url, today)
    subject = order_subject(10003, LIMIT)
    start = threading.Barrier(30)
    admitted: list[bool] = []

    def guess() -> None:
        start.wait()
        admitted.append(limits.begin([subject], T0) is not None)

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tried = admitted.count(True)
    assert tried <= 10  # a burst may even be refused whole, for a moment
    # Every admitted try that failed is counted: none lost.
    assert limits.failures(subject, T0) == tried


def test_concurrent_failures_are_all_counted(postgres_url: str, today: date) -> None:
    limits = limits_on(postgres_url, today)
    subject = order_subject(10001, LIMIT)
    start = threading.Barrier(10)

    def fail() -> None:
        start.wait()
        limits.begin([subject], T0)

    threads = [threading.Thread(target=fail) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Ten began together: the later ones may have seen the earlier ones, but
    # none saw ten before it, so all were admitted and all count.
    assert limits.failures(subject, T0) == 10
    assert limits.is_locked([subject], T0)


def test_old_failures_are_deleted(
    any_database_url: str, today: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = limits_on(any_database_url, today)
    old, recent = order_subject(10001, LIMIT), order_subject(10002, LIMIT)
    limits.begin([old], T0)
    limits.begin([recent], T0 + timedelta(minutes=20))
    sessions = make_session_factory(create_db_engine(any_database_url))
    monkeypatch.setattr(limits_module, "_last_cleanup", 0.0)
    # The next attempt, past the first one's window and lock, clears it away.
    limits.begin([recent], T0 + timedelta(minutes=31))
    with sessions() as session:
        left = list(session.execute(select(VerificationFailureRow.subject)).scalars())
    assert sorted(left) == ["order:10002", "order:10002"]
    assert forget_old(sessions, T0 + timedelta(hours=1)) == 2
