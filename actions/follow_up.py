"""When the order system recorded no reason: the customer may ask us to find
out (bot/usecases/follow_up.py)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.services import services
from actions.turn import read_turn
from bot.orders.system import OrderSystemUnavailable
from bot.usecases.follow_up import find_missing_reason

logger = logging.getLogger(__name__)


def _offer(tracker: Tracker) -> tuple[int, int] | None:
    raw = str(tracker.get_slot("follow_up_offer") or "")
    order_id, _, event_id = raw.partition(":")
    if not (order_id.isdigit() and event_id.isdigit()):
        return None
    return int(order_id), int(event_id)


class ActionRequestFollowUp(Action):
    def name(self) -> str:
        return "action_request_follow_up"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = [*turn.language_events(tracker), SlotSet("follow_up_offer", None)]
        offer = _offer(tracker)
        if offer is None:
            dispatcher.utter_message(text=found.catalog.message("thank", turn.language))
            return events
        order_id, event_id = offer
        try:
            with found.work() as work:
                # The offer names an order; only a customer who may see it may ask.
                when = find_missing_reason(work, turn.asker, order_id, event_id)
        except OrderSystemUnavailable as error:
            logger.warning("follow-up for order %s not recorded: %s", order_id, error)
            dispatcher.utter_message(
                text=found.catalog.message("error_order_system_unavailable", turn.language)
            )
            return events
        if when is not None:
            dispatcher.utter_message(
                text=found.catalog.message(
                    "follow_up_recorded", turn.language, order_id=order_id, when=when
                )
            )
        return events


class ActionDeclineFollowUp(Action):
    def name(self) -> str:
        return "action_decline_follow_up"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = read_turn(tracker, services())
        dispatcher.utter_message(
            text=services().catalog.message("follow_up_declined", turn.language)
        )
        return [*turn.language_events(tracker), SlotSet("follow_up_offer", None)]
