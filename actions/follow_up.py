"""When the order system recorded no reason: the customer may ask us to find out."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import Services, services
from actions.turn import read_turn
from bot.clock import shop_local, utcnow
from bot.explain import Explainer
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.promises import promise_callback

logger = logging.getLogger(__name__)


def ask_a_colleague(
    found: Services,
    customer_id: int,
    order_id: int,
    topic: str,
    language: str,
    event_id: int | None = None,
) -> str:
    """Staff get a follow-up request and the customer a time to hear back by,
    which the promise ledger holds us to. Returns that time, spoken.
    Raises OrderSystemUnavailable when the request cannot be recorded."""
    found.orders.request_follow_up(order_id, customer_id, topic, event_id)
    now = utcnow()
    due_at = now + timedelta(hours=found.settings.follow_up_hours)
    try:
        with found.sessions() as session, session.begin():
            promise_callback(session, customer_id, order_id, due_at, now)
    except SQLAlchemyError as error:
        # Told anyway: the follow-up itself is recorded in the order system.
        logger.error("callback promise for order %s not recorded: %s", order_id, error)
    explainer = Explainer(found.catalog, language, found.today())
    return explainer.moment(shop_local(due_at, found.settings.shop_timezone))


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
            # The offer names an order; only a customer who may see it may ask.
            order = found.orders.get_order(order_id)
            allowed = order is not None and (
                order.customer_id == turn.identity.customer_id
                or order_id in turn.identity.verified_order_ids
            )
            if not allowed or order is None:
                logger.warning("follow-up for order %s refused: not this customer's", order_id)
                return events
            when = ask_a_colleague(
                found, order.customer_id, order_id, "missing_reason", turn.language, event_id
            )
        except OrderSystemUnavailable as error:
            logger.warning("follow-up for order %s not recorded: %s", order_id, error)
            dispatcher.utter_message(
                text=found.catalog.message("error_order_system_unavailable", turn.language)
            )
            return events
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
