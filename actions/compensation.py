"""Making up for it in the conversation: offers beside an answer about a delay,
and the customer's "yes please"."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.offers import offers_for, policy
from actions.services import Services, services
from actions.turn import Turn, entity_value, identified_orders, read_turn
from actions.warnings import customer_of
from bot.clock import utcnow
from bot.compensation.ledger import accept
from bot.compensation.present import money
from bot.compensation.rules import UpsellError, check_no_upsell
from bot.orders.system import OrderSystemUnavailable

logger = logging.getLogger(__name__)

# Answers about a delay, where an offer to make up for it belongs.
OFFER_AFTER = ("changes", "why_late", "delivery_date", "status")


def offer_in_conversation(
    dispatcher: CollectingDispatcher,
    found: Services,
    turn: Turn,
    question: str,
    answer: list[str],
) -> None:
    """After an answer about the order: what the rules give and was not offered yet."""
    if question not in OFFER_AFTER or not turn.identity.is_known:
        return
    try:
        orders = identified_orders(turn, found)
    except OrderSystemUnavailable:
        return
    lines = offers_for(
        found, [order for order in orders if order.is_open], turn.language, "conversation"
    )
    if not lines:
        return
    try:
        check_no_upsell([*answer, *(line.text for line in lines)])
    except UpsellError:
        logger.error("compensation kept back: the answer promotes something")
        return
    for line in lines:
        dispatcher.utter_message(
            text=line.text, buttons=[{"title": line.accept_title, "payload": line.payload}]
        )


class ActionAcceptCompensation(Action):
    """The customer's button: the offer is recorded as accepted."""

    def name(self) -> str:
        return "action_accept_compensation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        customer_id = customer_of(turn, found)
        raw = str(entity_value(tracker, "compensation_id") or "")
        if customer_id is None:
            dispatcher.utter_message(text=found.catalog.message("identity_needed", turn.language))
            return events
        taken = accept(found.sessions, int(raw) if raw.isdigit() else None, customer_id, utcnow())
        rule = policy(found).rule(taken.rule) if taken else None
        if taken is None or rule is None:
            dispatcher.utter_message(
                text=found.catalog.message("compensation_not_found", turn.language)
            )
            return events
        logger.info("compensation %s accepted by customer %s", taken.id, customer_id)
        value = money(taken.value_cents, taken.currency, turn.language)
        dispatcher.utter_message(text=rule.text("accepted", turn.language, value))
        return events
