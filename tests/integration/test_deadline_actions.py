"""The deadline and compensation actions against the demo shop: messages and events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.compensation import ActionAcceptCompensation
from actions.deadlines import ActionChooseExpress, ActionNoteDeadline
from actions.order_questions import ActionAnswerOrderQuestion
from actions.services import Services, build_services, use_services
from actions.warnings import ActionDeliverWarning
from bot.clock import utcnow
from bot.compensation.rules import is_promotion
from bot.dates import spoken_date
from bot.identity import issue_proof, make_customer_token
from bot.memory.compensations import CompensationRow
from bot.memory.deadlines import DeadlineRow
from bot.memory.handoffs import HandoffRow
from bot.memory.promises import PromiseRow
from bot.proactive.channels import remember_channel
from bot.proactive.intake import (
    OrderChange,
    SupplierDelay,
    apply_order_change,
    apply_supplier_delay,
)
from bot.settings import Settings
from tests.conftest import SHOP_SECRET, _seeded, make_tracker, pushed_warning
from tests.integration.conftest import helmet_order_for_erik

DOMAIN: dict[str, Any] = {"slots": {}}


@pytest.fixture
def services(
    settings: Settings, today: date, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    _seeded(settings.database_url, today)
    monkeypatch.setenv("STORE_PICKUP_LOCATION", "Utrecht, Oudegracht 101")
    from bot.settings import load_settings

    built = build_services(load_settings())
    use_services(built)
    yield built
    use_services(None)


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def payloads(dispatcher: CollectingDispatcher) -> list[str]:
    return [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]


def token(customer_id: int) -> dict[str, str]:
    return {"customer_token": make_customer_token(customer_id, SHOP_SECRET)}


def say(text: str, intent: str, customer: int | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    metadata = token(customer) if customer else {}
    tracker = make_tracker(text, intent, metadata=metadata, **kwargs)
    return dispatcher, tracker


def test_erik_needs_his_bike_on_saturday_and_hears_the_risk_and_options(
    services: Services, today: date
) -> None:
    dispatcher, tracker = say(
        "ik heb hem zaterdag nodig voor mijn bruiloft", "inform_deadline", 1001
    )
    events = ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert "voor je bruiloft" in said
    assert spoken_date(today + timedelta(days=10), "nl", today) in said  # expected: too late
    assert "te laat" in said
    # A pickup order: no express, no store (it is already at one); an alternative or a person.
    assert payloads(dispatcher) == [
        '/choose_alternative{"order_number": "10001"}',
        "/request_human",
    ]
    assert SlotSet("needs_verification", False) in events
    assert SlotSet("warned_order", "10001") in events
    with services.sessions() as session:
        row = session.get(DeadlineRow, 10001)
        assert row is not None and row.purpose == "bruiloft" and row.deadline.weekday() == 5


def test_sam_needs_the_cufflinks_in_time_and_gets_express_with_its_cut_off(
    services: Services, today: date
) -> None:
    moved = (today + timedelta(days=10)).isoformat()
    apply_order_change(
        services.sessions,
        OrderChange(
            order_id=10003, field="promised_date", new_value=moved, reason_code="carrier_delay"
        ),
        utcnow(),
    )
    deadline = today + timedelta(days=5)
    dispatcher, tracker = say(
        f"I need them by {spoken_date(deadline, 'en', today).split(' ', 1)[1]} for my wedding",
        "inform_deadline",
        1003,
    )
    ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert "for your wedding" in said and "17:00" in said and "Utrecht, Oudegracht 101" in said
    assert payloads(dispatcher)[:2] == [
        '/choose_express{"order_number": "10003"}',
        '/choose_store_pickup{"order_number": "10003"}',
    ]
    with services.sessions() as session:
        reminders = list(
            session.execute(
                select(PromiseRow).where(PromiseRow.kind == "cutoff_reminder")
            ).scalars()
        )
    assert ("reminder" in said) == bool(reminders)  # only while the cut-off is ahead
    # Express chosen: staff arrange it, the reminder is no longer needed.
    chosen, tracker = say(
        "/choose_express",
        "choose_express",
        1003,
        entities=[{"entity": "order_number", "value": "10003"}],
    )
    ActionChooseExpress().run(chosen, tracker, DOMAIN)
    assert "express" in texts(chosen)
    with services.sessions() as session:
        assert not list(
            session.execute(
                select(PromiseRow).where(
                    PromiseRow.kind == "cutoff_reminder", PromiseRow.status == "open"
                )
            ).scalars()
        )


def test_a_deadline_in_time_is_noted_and_nothing_more(services: Services, today: date) -> None:
    dispatcher, tracker = say("ik heb hem over twee weken nodig", "inform_deadline", 1001)
    ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    assert "dat gaat goed" in texts(dispatcher)
    assert payloads(dispatcher) == []


def test_of_two_orders_the_deadline_goes_to_the_one_named(services: Services, today: date) -> None:
    helmet_order_for_erik(services.sessions, today)
    dispatcher, tracker = say("ik heb hem over twee weken nodig", "inform_deadline", 1001)
    ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    assert texts(dispatcher) == services.catalog.message("which_order", "nl")
    dispatcher, tracker = say("ik heb de helm over twee weken nodig", "inform_deadline", 1001)
    ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    with services.sessions() as session:
        assert session.get(DeadlineRow, 10100) is not None
        assert session.get(DeadlineRow, 10001) is None


def test_no_date_is_asked_for_and_nothing_is_stored(services: Services) -> None:
    dispatcher, tracker = say("ik heb hem echt snel nodig", "inform_deadline", 1001)
    ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    assert "Voor wanneer" in texts(dispatcher)
    with services.sessions() as session:
        assert session.get(DeadlineRow, 10001) is None


def test_an_anonymous_deadline_waits_for_verification_then_is_weighed(
    services: Services, today: date
) -> None:
    dispatcher, tracker = say("ik moet hem uiterlijk zaterdag hebben", "inform_deadline")
    events = ActionNoteDeadline().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert "Gazelle" not in said and "10001" not in said
    assert SlotSet("needs_verification", True) in events
    pending = next(e["value"] for e in events if e.get("name") == "pending_deadline")
    proof = issue_proof("|test-conversation", [10001], services.settings.proof_secret, 600)
    after = CollectingDispatcher()
    verified = make_tracker(
        "3511 AB",
        "inform",
        slots={
            "verification_proof": proof,
            "pending_deadline": pending,
            "pending_question": "status",
        },
    )
    events = ActionAnswerOrderQuestion().run(after, verified, DOMAIN)
    assert "te laat" in texts(after)
    assert SlotSet("pending_deadline", None) in events


def test_the_delay_is_made_up_for_once_in_the_conversation(services: Services) -> None:
    first, tracker = say("wat is er gewijzigd aan mijn bestelling?", "ask_changes", 1001)
    ActionAnswerOrderQuestion().run(first, tracker, DOMAIN)
    assert "gratis onderhoudsbeurt" in texts(first)
    assert not any(is_promotion(text) for text in texts(first).splitlines())
    [accept_payload] = [p for p in payloads(first) if p.startswith("/accept_compensation")]
    again, tracker = say("en waarom is hij te laat?", "ask_why_late", 1001)
    ActionAnswerOrderQuestion().run(again, tracker, DOMAIN)
    assert "onderhoudsbeurt" not in texts(again)
    compensation_id = accept_payload.split('"')[-2]
    yes, tracker = say(
        accept_payload,
        "accept_compensation",
        1001,
        entities=[{"entity": "compensation_id", "value": compensation_id}],
    )
    ActionAcceptCompensation().run(yes, tracker, DOMAIN)
    assert "staat op je naam" in texts(yes)
    with services.sessions() as session:
        [row] = session.execute(select(CompensationRow)).scalars().all()
        assert row.status == "accepted" and row.offered_in == "conversation"


# Erik's conversation, as Rasa records it: his shop token came with what he wrote.
ERIK_SAID_SOMETHING = [
    {"event": "user", "text": "I need it by the day after tomorrow", "metadata": token(1001)}
]


def test_a_later_delay_warns_about_the_deadline_hands_over_and_offers_once(
    services: Services, today: date
) -> None:
    told, tracker = say(
        "I need it by the day after tomorrow", "inform_deadline", 1001, sender_id="erik-chat"
    )
    ActionNoteDeadline().run(told, tracker, DOMAIN)
    remember_channel(services.sessions, 1001, "rest", "erik-chat", utcnow())
    delay = SupplierDelay(
        supplier="Gazelle", delay_days=4, reason_code="production_problem", reason="frames"
    )
    result = apply_supplier_delay(services.sessions, delay, utcnow())
    assert len(result.handoff_ids) == 1
    shown = CollectingDispatcher()
    warning = make_tracker(
        "",
        "EXTERNAL_order_warning",
        entities=pushed_warning(result.warning_ids[0], "erik-chat", "rest"),
        sender_id="erik-chat",
        slots={"language": "en"},
        events=ERIK_SAID_SOMETHING,
    )
    ActionDeliverWarning().run(shown, warning, DOMAIN)
    said = texts(shown)
    assert "you told us you need it by" in said
    assert said.count("maintenance service") == 1
    with services.sessions() as session:
        case = session.get(HandoffRow, result.handoff_ids[0])
        assert case is not None and case.reason == "deadline_at_risk"
        assert len(session.execute(select(CompensationRow)).scalars().all()) == 1
    # A second delay: its warning offers nothing new for the same order.
    second = apply_supplier_delay(services.sessions, delay, utcnow())
    again = CollectingDispatcher()
    warning = make_tracker(
        "",
        "EXTERNAL_order_warning",
        entities=pushed_warning(second.warning_ids[0], "erik-chat", "rest"),
        sender_id="erik-chat",
        slots={"language": "en"},
        events=ERIK_SAID_SOMETHING,
    )
    ActionDeliverWarning().run(again, warning, DOMAIN)
    assert texts(again) and "maintenance" not in texts(again)
