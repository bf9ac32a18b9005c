"""Greeting, small talk and fallback, in the customer's language; an angry
customer, or one not understood twice in a row, goes to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import consecutive_fallbacks, hand_over
from actions.services import services
from actions.turn import read_turn
from actions.warnings import news_first
from bot.orders.system import OrderSystemUnavailable

# Intents answered by one fixed message (its key in messages.yml).
SMALLTALK_MESSAGES = {
    "goodbye": "goodbye",
    "thank": "thank",
    "bot_challenge": "bot_challenge",
    "out_of_scope": "out_of_scope",
    "affirm": "acknowledge",
    "deny": "acknowledge",
}


def _say(dispatcher: CollectingDispatcher, key: str, language: str) -> None:
    dispatcher.utter_message(text=services().catalog.message(key, language))


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        name = None
        if turn.identity.customer_id is not None:
            try:
                customer = found.orders.get_customer(turn.identity.customer_id)
                name = customer.name.split()[0] if customer else None
            except OrderSystemUnavailable:
                name = None
        if name:
            dispatcher.utter_message(
                text=found.catalog.message("greet_known", turn.language, name=name)
            )
        else:
            _say(dispatcher, "greet", turn.language)
        events = turn.language_events(tracker)
        with found.work() as work:
            return events + news_first(dispatcher, tracker, found, work, turn.asker)


class ActionReplySmalltalk(Action):
    def name(self) -> str:
        return "action_reply_smalltalk"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        if turn.mood == "angry":
            return hand_over(dispatcher, tracker, found, turn, "angry")
        _say(dispatcher, SMALLTALK_MESSAGES.get(turn.intent, "fallback"), turn.language)
        return turn.language_events(tracker)


class ActionHandleFallback(Action):
    """Low NLU confidence: say what the assistant can do (too long: say so)."""

    def name(self) -> str:
        return "action_handle_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        if turn.mood == "angry":
            return hand_over(dispatcher, tracker, found, turn, "angry")
        if not turn.too_long and consecutive_fallbacks(tracker.events) >= 2:
            # Not understood twice in a row: a person, rather than a third try.
            return hand_over(dispatcher, tracker, found, turn, "not_understood")
        if turn.too_long:
            dispatcher.utter_message(
                text=found.catalog.message(
                    "message_too_long", turn.language, limit=found.settings.max_message_chars
                )
            )
        else:
            _say(dispatcher, "fallback", turn.language)
        return turn.language_events(tracker)
