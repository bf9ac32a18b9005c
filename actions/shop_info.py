"""General questions about the shop (bot/usecases/shop_info.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.say import say
from actions.services import services
from actions.turn import read_turn
from bot.usecases.shop_info import answer_shop_info

TOPIC_BY_INTENT = {
    "ask_returns": "returns",
    "ask_opening_hours": "opening_hours",
}


class ActionAnswerShopInfo(Action):
    def name(self) -> str:
        return "action_answer_shop_info"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        topic = TOPIC_BY_INTENT.get(turn.intent, "")
        say(dispatcher, answer_shop_info(found.settings, found.catalog, topic, turn.language))
        return turn.language_events(tracker)
