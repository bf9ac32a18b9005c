"""The custom actions against the demo shop in SQLite: messages and events."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.conversation import ActionGreet, ActionHandleFallback
from actions.follow_up import ActionRequestFollowUp
from actions.order_questions import ActionAnswerOrderQuestion
from actions.services import Services, use_services
from actions.verification import ValidateVerificationForm
from actions.warnings import (
    ActionAnswerOptIn,
    ActionAnswerOptOut,
    ActionOfferAlternative,
    ActionSetNotifications,
)
from bot.clock import shop_local, utcnow
from bot.dates import spoken_date
from bot.identity import issue_proof, make_customer_token, orders_from_proof
from bot.orders.sql.tables import FollowUpRequestRow, OrderRow
from bot.proactive.channels import customer_at, remember_shop_address
from bot.proactive.promises import list_promises
from tests.conftest import SHOP_SECRET, make_tracker
from tests.integration.conftest import gazelle_delay
from tests.memory_reads import opted_out as is_opted_out

DOMAIN: dict[str, Any] = {
    "forms": {"verification_form": {"required_slots": ["order_number", "postcode"]}},
    "slots": {},
}


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def erik_token() -> dict[str, str]:
    return {"customer_token": make_customer_token(1001, SHOP_SECRET)}


def test_erik_hears_what_changed_and_events_say_so(
    services: Services, dispatcher: CollectingDispatcher, today: date
) -> None:
    tracker = make_tracker(
        "wat is er gewijzigd aan mijn bestelling?", "ask_changes", metadata=erik_token()
    )
    events = ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert "Gazelle" in said
    assert spoken_date(today + timedelta(days=10), "nl", today) in said
    assert spoken_date(today + timedelta(days=3), "nl", today) in said
    assert SlotSet("language", "nl") in events
    assert SlotSet("pending_question", "changes") in events
    assert SlotSet("needs_verification", False) in events
    order = services.orders.get_order(10001)
    assert order is not None and order.informed_event_id == order.events[-1].id


def test_an_anonymous_visitor_is_asked_to_verify_and_told_nothing(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    tracker = make_tracker(
        "what changed in order 10001?",
        "ask_changes",
        entities=[{"entity": "order_number", "value": "10001"}],
    )
    events = ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    assert SlotSet("needs_verification", True) in events
    assert SlotSet("language", "en") in events
    said = texts(dispatcher)
    assert "make sure it's your order" in said
    assert "Gazelle" not in said and "10001" not in said


def test_a_proof_answers_for_its_own_conversation_only(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    proof = issue_proof("socketio|conversation-a", [10001], services.settings.proof_secret, 600)
    mine = make_tracker(
        "status?",
        "ask_status",
        slots={"verification_proof": proof},
        sender_id="conversation-a",
        input_channel="socketio",
    )
    ActionAnswerOrderQuestion().run(dispatcher, mine, DOMAIN)
    assert "Gazelle" in texts(dispatcher)

    stolen = CollectingDispatcher()
    theirs = make_tracker(
        "status?", "ask_status", slots={"verification_proof": proof}, sender_id="conversation-b"
    )
    events = ActionAnswerOrderQuestion().run(stolen, theirs, DOMAIN)
    assert "Gazelle" not in texts(stolen)
    assert SlotSet("needs_verification", True) in events


def test_a_proof_does_not_travel_to_the_same_sender_id_on_another_channel(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    """A REST client that names itself after a Telegram chat shares Rasa's record
    of that conversation, never the Telegram customer's verification."""
    proof = issue_proof("telegram|telegram:42", [10001], services.settings.proof_secret, 600)
    on_telegram = make_tracker(
        "status?",
        "ask_status",
        slots={"verification_proof": proof},
        sender_id="telegram:42",
        input_channel="telegram",
    )
    ActionAnswerOrderQuestion().run(dispatcher, on_telegram, DOMAIN)
    assert "Gazelle" in texts(dispatcher)

    impostor = CollectingDispatcher()
    over_rest = make_tracker(
        "status?",
        "ask_status",
        slots={"verification_proof": proof},
        sender_id="telegram:42",
        input_channel="rest",
    )
    ActionAnswerOrderQuestion().run(impostor, over_rest, DOMAIN)
    assert "Gazelle" not in texts(impostor)


def test_a_platform_address_the_shop_registered_identifies_only_on_that_platform(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    remember_shop_address(
        services.sessions, services.orders, 1001, "telegram", "telegram:777", utcnow()
    )
    on_telegram = make_tracker(
        "wat is er gewijzigd?",
        "ask_what_changed",
        sender_id="telegram:777",
        input_channel="telegram",
    )
    ActionAnswerOrderQuestion().run(dispatcher, on_telegram, DOMAIN)
    assert "Gazelle" in texts(dispatcher)

    for channel in ("rest", "socketio"):
        impostor = CollectingDispatcher()
        claimed = make_tracker(
            "wat is er gewijzigd?",
            "ask_what_changed",
            sender_id="telegram:777",
            input_channel=channel,
        )
        events = ActionAnswerOrderQuestion().run(impostor, claimed, DOMAIN)
        assert "Gazelle" not in texts(impostor)
        assert SlotSet("needs_verification", True) in events


def test_a_slot_claiming_a_customer_proves_nothing(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    forged = make_tracker(
        "status?", "ask_status", slots={"verification_proof": "1001", "customer_id": 1001}
    )
    events = ActionAnswerOrderQuestion().run(dispatcher, forged, DOMAIN)
    assert SlotSet("needs_verification", True) in events
    assert "Gazelle" not in texts(dispatcher)


def run_form(
    tracker_slots: dict[str, Any],
    text: str,
    dispatcher: CollectingDispatcher,
    requested: str,
    sender: str = "form-test",
    channel: str | None = None,
) -> list[dict[str, Any]]:
    """The validation action as Rasa calls it: the extracted slot comes last in the events."""
    tracker = make_tracker(
        text,
        "inform",
        slots={**tracker_slots, "requested_slot": requested},
        active_loop="verification_form",
        sender_id=sender,
        events=[
            {"event": "user", "text": text, "input_channel": channel},
            {"event": "slot", "name": requested, "value": tracker_slots.get(requested)},
        ],
    )
    return asyncio.run(ValidateVerificationForm().run(dispatcher, tracker, DOMAIN))


def slot(events: list[dict[str, Any]], name: str) -> Any:
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]
    assert values, f"no SlotSet for {name} in {events}"
    return values[-1]


def test_matching_order_number_and_postcode_give_a_signed_proof(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = run_form(
        {"order_number": "10001", "postcode": "3511ab"}, "3511ab", dispatcher, "postcode"
    )
    proof = slot(events, "verification_proof")
    assert orders_from_proof(proof, "|form-test", services.settings.proof_secret) == (10001,)
    assert slot(events, "requested_slot") is None
    assert slot(events, "needs_verification") is False


def test_a_mismatch_counts_clears_and_asks_again(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = run_form(
        {"order_number": "10001", "postcode": "1012 JS"}, "1012 JS", dispatcher, "postcode"
    )
    assert slot(events, "verification_failures") == 1.0
    assert slot(events, "order_number") is None and slot(events, "postcode") is None
    assert slot(events, "requested_slot") == "order_number"
    assert "horen niet bij elkaar" in texts(dispatcher) or "don't go together" in texts(dispatcher)
    assert not [e for e in events if e.get("name") == "verification_proof"]


def test_the_fifth_mismatch_ends_the_form(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = run_form(
        {"order_number": "10001", "postcode": "9999 ZZ", "verification_failures": 4.0},
        "9999 ZZ",
        dispatcher,
        "postcode",
    )
    assert slot(events, "verification_failures") == 5.0
    assert slot(events, "requested_slot") is None


def test_a_malformed_order_number_gets_a_clear_answer(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = run_form({"order_number": "abc-12"}, "abc-12", dispatcher, "order_number")
    assert slot(events, "order_number") is None
    assert "10001" in texts(dispatcher)  # the example of what an order number looks like


def test_an_email_given_for_the_postcode_is_used_as_email(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    events = run_form(
        {"order_number": "10001", "postcode": "erik@example.nl"},
        "erik@example.nl",
        dispatcher,
        "postcode",
    )
    assert slot(events, "verification_proof")


def test_follow_up_is_recorded_for_the_customers_own_order_only(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    daan = {"customer_token": make_customer_token(1006, SHOP_SECRET)}
    event_id = services.orders.get_order(10006).events[0].id  # type: ignore[union-attr]
    tracker = make_tracker(
        "ja", "affirm", slots={"follow_up_offer": f"10006:{event_id}"}, metadata=daan
    )
    events = ActionRequestFollowUp().run(dispatcher, tracker, DOMAIN)
    assert "10006" in texts(dispatcher)
    assert SlotSet("follow_up_offer", None) in events
    # A promise with a time, told to Daan and held in the ledger.
    [promise] = list_promises(services.sessions, status="open")[-1:]
    assert (promise.kind, promise.customer_id, promise.order_id) == ("callback", 1006, 10006)
    assert promise.due_at is not None
    due = shop_local(promise.due_at, services.settings.shop_timezone)
    said = f"uiterlijk {spoken_date(due.date(), 'nl', services.today())} om {due:%H:%M}"
    assert said in texts(dispatcher)

    intruder = CollectingDispatcher()
    other = make_tracker(
        "ja", "affirm", slots={"follow_up_offer": f"10006:{event_id}"}, metadata=erik_token()
    )
    ActionRequestFollowUp().run(intruder, other, DOMAIN)
    assert "10006" not in texts(intruder)


def test_greeting_uses_the_first_name_of_a_known_customer(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    ActionGreet().run(dispatcher, make_tracker("hoi", "greet", metadata=erik_token()), DOMAIN)
    assert texts(dispatcher).startswith("Hoi Erik!")


def test_a_very_long_message_is_answered_plainly(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    tracker = make_tracker("x" * 10_000, "nlu_fallback")
    ActionHandleFallback().run(dispatcher, tracker, DOMAIN)
    assert str(services.settings.max_message_chars) in texts(dispatcher)


def test_an_alternative_is_asked_of_a_colleague_with_a_time_to_hear_back(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    anouk = {"customer_token": make_customer_token(1002, SHOP_SECRET)}
    tracker = make_tracker(
        "alternatief", "choose_alternative", slots={"warned_order": "10002"}, metadata=anouk
    )
    ActionOfferAlternative().run(dispatcher, tracker, DOMAIN)
    with services.sessions() as session:
        [topic] = session.execute(
            select(FollowUpRequestRow.topic).where(FollowUpRequestRow.order_id == 10002)
        ).scalars()
    assert topic == "alternative"
    kinds = {p.kind for p in list_promises(services.sessions, status="open") if p.order_id == 10002}
    assert {"callback", "keep_posted"} <= kinds
    assert "alternatief" in texts(dispatcher) and "uiterlijk" in texts(dispatcher)


def test_stop_is_at_once_but_messages_come_back_only_after_a_yes(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    def opted_out() -> bool:
        return is_opted_out(services.sessions, 1001)

    def run(action: Any, text: str, intent: str, **slots: Any) -> list[dict[str, Any]]:
        tracker = make_tracker(text, intent, slots=slots, metadata=erik_token())
        return list(action.run(dispatcher, tracker, DOMAIN))

    run(ActionSetNotifications(), "stop", "opt_out")
    assert opted_out()
    # "opt out" mistaken for an opt-in: a question, and no still means off.
    asked = run(ActionSetNotifications(), "opt out", "opt_in")
    assert SlotSet("pending_opt_in", True) in asked and opted_out()
    run(ActionAnswerOptIn(), "nee", "deny", pending_opt_in=True)
    assert opted_out()
    run(ActionAnswerOptIn(), "ja", "affirm")  # nothing was asked
    assert opted_out()
    run(ActionAnswerOptIn(), "ja", "affirm", pending_opt_in=True)
    assert not opted_out()
    run(ActionSetNotifications(), "aanmelden", "opt_in")
    assert "al bericht" in texts(dispatcher)


def test_a_stop_the_nlu_was_unsure_of_is_asked_back_before_anything_is_switched_off(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    def run(action: Any, text: str, intent: str, sure: float, **slots: Any) -> list[Any]:
        tracker = make_tracker(text, intent, slots=slots, metadata=erik_token())
        tracker.latest_message["intent"]["confidence"] = sure
        return list(action.run(dispatcher, tracker, DOMAIN))

    asked = run(ActionSetNotifications(), "minder mails graag", "opt_out", 0.55)
    assert SlotSet("pending_opt_out", True) in asked
    assert not is_opted_out(services.sessions, 1001), "not on a guess"
    run(ActionAnswerOptOut(), "nee", "deny", 0.99, pending_opt_out=True)
    assert not is_opted_out(services.sessions, 1001)
    run(ActionAnswerOptOut(), "ja", "affirm", 0.99)  # nothing was asked
    assert not is_opted_out(services.sessions, 1001)
    run(ActionAnswerOptOut(), "ja", "affirm", 0.99, pending_opt_out=True)
    assert is_opted_out(services.sessions, 1001)


def test_the_widgets_get_started_is_answered_in_the_pages_or_customers_language(
    services: Services,
) -> None:
    def greeting(metadata: dict[str, str]) -> str:
        said = CollectingDispatcher()
        ActionGreet().run(
            said, make_tracker("/get_started", "get_started", metadata=metadata), DOMAIN
        )
        return texts(said)

    assert greeting(erik_token()).startswith("Hoi Erik!")  # the payload's words carry no language
    assert greeting({**erik_token(), "language": "en"}).startswith("Hi Erik!")  # an English page


def give_sam_a_second_order(services: Services) -> None:
    """Sam (customer 1003) has order 10003; a second one, 10090, to keep apart."""
    with services.sessions() as session, session.begin():
        session.add(
            OrderRow(
                id=10090,
                customer_id=1003,
                status="processing",
                fulfilment="delivery",
                placed_at=datetime(2026, 11, 1, 9, 0),
                postcode="2511 CV",
                email="sam@example.com",
                address="Spui 70, 2511 CV Den Haag",
                total_cents=12_000,
            )
        )


def test_a_telegram_chat_that_verified_one_order_sees_that_order_only_while_the_proof_lasts(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    give_sam_a_second_order(services)
    chat = "telegram:555"
    events = run_form(
        {"order_number": "10003", "postcode": "2511 CV"},
        "2511 CV",
        dispatcher,
        "postcode",
        sender=chat,
        channel="telegram",
    )
    proof = slot(events, "verification_proof")
    assert orders_from_proof(proof, f"telegram|{chat}", services.settings.proof_secret) == (10003,)

    def ask(proof: str, intent: str) -> tuple[str, list[dict[str, Any]]]:
        said = CollectingDispatcher()
        tracker = make_tracker(
            "my orders?",
            intent,
            slots={"verification_proof": proof},
            sender_id=chat,
            input_channel="telegram",
        )
        events = ActionAnswerOrderQuestion().run(said, tracker, DOMAIN)
        return texts(said), events

    said, _ = ask(proof, "list_orders")
    assert "10090" not in said  # the customer's other order
    said, _ = ask(proof, "ask_status")
    assert "10003" in said and "10090" not in said
    # The chat still gets the customer's warnings pushed (it was seen in a conversation).
    assert customer_at(services.sessions, chat, channel="telegram") == 1003

    expired = issue_proof(f"telegram|{chat}", [10003], services.settings.proof_secret, -10)
    said, events = ask(expired, "list_orders")
    assert SlotSet("needs_verification", True) in events
    assert "10003" not in said and "10090" not in said


def test_a_chat_that_verified_one_order_hears_nothing_of_the_customers_other_orders(
    services: Services,
) -> None:
    """Not in an unread warning at its next question, not in a push, and it may
    not cancel the other order by naming it."""
    from actions.warnings import ActionCancelOrder, ActionDeliverWarning
    from bot.proactive.intake import OrderChange, apply_order_change
    from tests.conftest import pushed_warning

    give_sam_a_second_order(services)
    chat = "telegram:556"
    proof = issue_proof(f"telegram|{chat}", [10003], services.settings.proof_secret, 3600)
    from bot.proactive.channels import remember_channel

    remember_channel(services.sessions, 1003, "telegram", chat, utcnow())
    other = apply_order_change(
        services.sessions,
        OrderChange(
            order_id=10090,
            field="promised_date",
            new_value=(date.today() + timedelta(days=30)).isoformat(),
            reason_code="supplier_delay",
            reason="secret supplier trouble",
        ),
        utcnow(),
    )
    [other_warning] = other.warning_ids

    def tracker(text: str, intent: str, **extra: Any):  # type: ignore[no-untyped-def]
        return make_tracker(
            text,
            intent,
            slots={"verification_proof": proof},
            sender_id=chat,
            input_channel="telegram",
            **extra,
        )

    said = CollectingDispatcher()
    ActionAnswerOrderQuestion().run(said, tracker("status?", "ask_status"), DOMAIN)
    assert "10003" in texts(said)
    assert "10090" not in texts(said) and "secret supplier" not in texts(said)

    pushed = CollectingDispatcher()
    push = tracker(
        "EXTERNAL: EXTERNAL_order_warning",
        "EXTERNAL_order_warning",
        entities=pushed_warning(other_warning, chat, "telegram"),
    )
    assert ActionDeliverWarning().run(pushed, push, DOMAIN) == []
    assert pushed.messages == []
    from tests.memory_reads import unshown

    assert other_warning in unshown(services.sessions, 1003), "it waits for Sam"

    cancel = CollectingDispatcher()
    naming = tracker(
        "cancel 10090",
        "cancel_order",
        entities=[{"entity": "order_number", "value": "10090"}],
    )
    ActionCancelOrder().run(cancel, naming, DOMAIN)
    assert "10090" not in texts(cancel)
    assert all(
        "pending_cancellation" not in str(event)
        for event in ActionCancelOrder().run(CollectingDispatcher(), naming, DOMAIN)
    )


def test_a_verification_does_not_move_a_chat_the_shop_registered(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    """Erik's chat, registered by the shop: someone in it who knows Sam's
    postcode sees Sam's order, and the chat stays Erik's."""
    remember_shop_address(
        services.sessions, services.orders, 1001, "telegram", "telegram:777", utcnow()
    )
    events = run_form(
        {"order_number": "10003", "postcode": "2511 CV"},
        "2511 CV",
        dispatcher,
        "postcode",
        sender="telegram:777",
        channel="telegram",
    )
    assert slot(events, "verification_proof")
    assert customer_at(services.sessions, "telegram:777", channel="telegram") == 1001
    erik = CollectingDispatcher()
    tracker = make_tracker(
        "wat is er gewijzigd?",
        "ask_what_changed",
        sender_id="telegram:777",
        input_channel="telegram",
    )
    ActionAnswerOrderQuestion().run(erik, tracker, DOMAIN)
    assert "Gazelle" in texts(erik)


def test_a_warning_shown_with_the_answer_is_the_answer_each_fact_said_once(
    services: Services, dispatcher: CollectingDispatcher, today: date
) -> None:
    """Erik asks what changed while a warning about it waits: he reads the
    warning, and the answer does not say the reason and the date again."""
    gazelle_delay(services.sessions, today)
    tracker = make_tracker(
        "wat is er gewijzigd aan mijn bestelling?", "ask_changes", metadata=erik_token()
    )
    ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert said.count("frames komen later") == 1, said
    assert said.count(spoken_date(today + timedelta(days=20), "nl", today)) == 1, said
    # Asked again, with nothing new: the answer says it (once).
    again = CollectingDispatcher()
    ActionAnswerOrderQuestion().run(again, tracker, DOMAIN)
    assert texts(again).count("frames komen later") == 1


def test_how_long_delivery_takes_is_answered_before_anyone_is_identified(
    services: Services, dispatcher: CollectingDispatcher
) -> None:
    """The shop's usual delivery time for anyone; their own order's date after
    they proved it is theirs. Nothing of any order is told before that."""
    use_services(replace(services, settings=replace(services.settings, delivery_days=(1, 2))))
    tracker = make_tracker("hoe lang duurt de levering", "ask_delivery_date")
    events = ActionAnswerOrderQuestion().run(dispatcher, tracker, DOMAIN)
    said = texts(dispatcher)
    assert said.startswith("Bestellingen worden meestal binnen 1-2 werkdagen bezorgd.")
    assert services.catalog.message("verify_intro", "nl") in said
    assert "10001" not in said and SlotSet("needs_verification", True) in events
