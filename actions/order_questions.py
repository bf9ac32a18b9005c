"""action_answer_order_question: status, dates, what changed, tracking, overview.
Thin: read the turn, answer with the use case (bot/usecases/questions.py), say it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.deadlines import apply_pending_deadline
from actions.handoff import hand_over
from actions.say import say
from actions.services import services
from actions.turn import read_turn
from actions.warnings import news_first
from bot.usecases.questions import answer_question
from bot.usecases.shop_info import usual_delivery

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
            usual = usual_delivery(found.settings, found.catalog, turn.language)
            if question == "delivery_date" and usual:
                # "How long does delivery take?": the shop's usual time, then
                # their own order's date once we know who is asking.
                dispatcher.utter_message(text=usual)
            dispatcher.utter_message(text=found.catalog.message("verify_intro", turn.language))
            return [*events, SlotSet("needs_verification", True)]

        warned: set[int] = set()
        with found.work() as work:
            # News the customer has not seen yet comes first (a unit of its
            # own, committed first); the answer does not say it again.
            events += news_first(dispatcher, tracker, found, work, turn.asker, warned)
        with found.work() as work:
            answered = answer_question(work, turn.asker, question, frozenset(warned))
        if answered.verify_order_number is not None:
            # An order number the customer has not proved: ask for its postcode.
            dispatcher.utter_message(text=found.catalog.message("verify_intro", turn.language))
            return [
                *events,
                SlotSet("order_number", str(answered.verify_order_number)),
                SlotSet("postcode", None),
                SlotSet("email", None),
                SlotSet("needs_verification", True),
            ]
        say(dispatcher, answered.said)
        # A deadline told before the customer was identified: now it can be weighed.
        events += apply_pending_deadline(dispatcher, tracker, found, turn)
        events.append(SlotSet("needs_verification", False))
        if turn.mood == "angry":
            # The answer first (they asked), then a person with the whole story.
            return [*events, *hand_over(dispatcher, tracker, found, turn, "angry")]
        if answered.follow_up_offer is not None:
            order_id, event_id = answered.follow_up_offer
            events.append(SlotSet("follow_up_offer", f"{order_id}:{event_id}"))
        elif tracker.get_slot("follow_up_offer"):
            events.append(SlotSet("follow_up_offer", None))  # the offer has lapsed
        return events
