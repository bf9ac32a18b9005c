"""The customer's "yes please" to an offer that makes up for a setback
(bot/usecases/offers.py); the offers themselves come with warnings and answers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import services
from actions.turn import entity_value, read_turn
from bot.usecases.asker import customer_of
from bot.usecases.offers import accept_offer


class ActionAcceptCompensation(Action):
    """The customer's button: the offer is recorded as accepted."""

    def name(self) -> str:
        return "action_accept_compensation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        raw = str(entity_value(tracker, "compensation_id") or "")
        with found.work() as work:
            customer_id = customer_of(work, turn.asker)
            if customer_id is None:
                said = work.text("identity_needed", turn.language)
            else:
                compensation_id = int(raw) if raw.isdigit() else None
                accepted = accept_offer(work, compensation_id, customer_id, turn.language)
                said = accepted or work.text("compensation_not_found", turn.language)
        dispatcher.utter_message(text=said)
        return turn.language_events(tracker)
