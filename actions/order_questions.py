"""action_answer_order_question: status, dates, what changed, tracking, overview."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compensation import offer_in_conversation
from actions.deadlines import apply_pending_deadline
from actions.handoff import hand_over
from actions.services import services
from actions.turn import read_turn
from actions.warnings import customer_of, show_unshown, visible_orders
from bot.answers import OrderAssistant

QUESTION_BY_INTENT = {
    "ask_changes": "changes",
    "ask_status": "status",
    "ask_delivery_date": "delivery_date",
    "ask_why_late": "why_late",
    "ask_tracking": "tracking",
    "list_orders": "list_orders",
}


class ActionAnswerOrderQuestion(Action):
    def name(self) -> str:
        return "action_answer_order_question"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        question = QUESTION_BY_INTENT.get(turn.intent) or tracker.get_slot("pending_question")
        question = question or "status"
        events.append(SlotSet("pending_question", question))

        if not turn.identity.is_known:
            failures = int(tracker.get_slot("verification_failures") or 0)
            if failures >= found.settings.max_verification_attempts:
                dispatcher.utter_message(
                    text=found.catalog.message("verify_too_many", turn.language)
                )
                return [*events, SlotSet("needs_verification", False)]
            dispatcher.utter_message(text=found.catalog.message("verify_intro", turn.language))
            return [*events, SlotSet("needs_verification", True)]

        # News the customer has not seen yet comes first (a REST customer
        # cannot be pushed to: this is where they hear it).
        customer_id = customer_of(turn, found)
        if customer_id is not None:
            events += show_unshown(
                dispatcher, found, tracker, customer_id, turn.language, visible_orders(turn)
            )
        assistant = OrderAssistant(found.orders, found.catalog, turn.language, found.today())
        reply = assistant.answer(question, turn.identity, turn.order_number)
        if reply.verify_order_number is not None:
            # An order number the customer has not proved: ask for its postcode.
            dispatcher.utter_message(text=found.catalog.message("verify_intro", turn.language))
            return [
                *events,
                SlotSet("order_number", str(reply.verify_order_number)),
                SlotSet("postcode", None),
                SlotSet("email", None),
                SlotSet("needs_verification", True),
            ]
        if turn.mood == "upset":
            dispatcher.utter_message(text=found.catalog.message("upset_apology", turn.language))
        for message in reply.messages:
            dispatcher.utter_message(text=message)
        offer_in_conversation(dispatcher, found, turn, question, reply.messages)
        # A deadline told before the customer was identified: now it can be weighed.
        events += apply_pending_deadline(dispatcher, tracker, found, turn)
        events.append(SlotSet("needs_verification", False))
        if turn.mood == "angry":
            # The answer first (they asked), then a person with the whole story.
            return [*events, *hand_over(dispatcher, tracker, found, turn, "angry")]
        if reply.follow_up_offer is not None:
            order_id, event_id = reply.follow_up_offer
            events.append(SlotSet("follow_up_offer", f"{order_id}:{event_id}"))
        elif tracker.get_slot("follow_up_offer"):
            events.append(SlotSet("follow_up_offer", None))  # the offer has lapsed
        return events
