"""A person takes over: the conversation goes to the handoff queue with the
whole story, the assistant falls silent (Rasa's own pause: messages are kept,
not answered), a person's replies reach the customer through Rasa on their own
channel, and the person hands the conversation back.

The staff page (bot/web/staff_handoffs.py) runs the last two through Rasa's
HTTP API: action_relay_staff_reply and action_resume_assistant (or, to a closed
chat widget, action_resume_assistant_quietly).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    ConversationResumed,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import Services, services
from actions.turn import Turn, identified_orders, read_turn
from actions.warnings import customer_of, show_unshown, visible_orders
from bot.clock import shop_local, utcnow
from bot.deadlines.service import load_deadlines
from bot.explain import Explainer
from bot.handoff import queue
from bot.handoff.conversation import customers_words, recent_lines
from bot.handoff.hours import ServiceHours
from bot.handoff.zendesk import open_ticket
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.promises import promise_callback

logger = logging.getLogger(__name__)


def _orders_of(turn: Turn, found: Services) -> list[int]:
    try:
        return [order.id for order in identified_orders(turn, found)]
    except OrderSystemUnavailable:
        return list(turn.identity.verified_order_ids)


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    found: Services,
    turn: Turn,
    reason: str,
) -> list[dict[str, Any]]:
    """Queue the handoff with its context, tell the customer when a person answers
    (a promise), and pause the assistant. When the queue cannot be written, say
    how to reach the shop instead and stay: the customer is never left hanging."""
    settings = found.settings
    customer_id = customer_of(turn, found)
    now = utcnow()
    hours = ServiceHours(
        settings.service_days, settings.service_start, settings.service_end, settings.shop_timezone
    )
    opening, answer_by = hours.answer_window(now, settings.handoff_answer_minutes)
    said = recent_lines(tracker.events)
    order_ids = _orders_of(turn, found)
    deadlines = [d.day for d in load_deadlines(found.sessions, order_ids).values()]
    request = queue.HandoffRequest(
        reason=reason,
        mood=turn.mood,
        language=turn.language,
        customer_id=customer_id,
        order_ids=order_ids,
        question=customers_words(said),
        said=said,
        deadline=min(deadlines, default=None),  # the most urgent one
        sender_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel(),
    )
    try:
        with found.sessions() as session, session.begin():
            handoff_id = queue.open_handoff(session, request, now)
            if customer_id is not None:
                order_id = request.order_ids[0] if len(request.order_ids) == 1 else None
                promise = promise_callback(session, customer_id, order_id, answer_by, now)
                session.flush()
                queue.set_promise(session, handoff_id, promise.id)
    except SQLAlchemyError as error:
        logger.error("handoff not queued: %s", type(error).__name__)
        dispatcher.utter_message(text=found.catalog.message("request_human", turn.language))
        return turn.language_events(tracker)
    logger.info("handoff %s queued (%s, %s)", handoff_id, reason, turn.mood)
    if settings.zendesk_url:
        ticket = open_ticket(settings, handoff_id, request)
        if ticket:
            queue.set_ticket(found.sessions, handoff_id, ticket)

    language = turn.language
    if turn.mood == "angry":
        dispatcher.utter_message(text=found.catalog.message("handoff_sorry", language))
    if reason == "not_understood":
        dispatcher.utter_message(text=found.catalog.message("handoff_not_understood", language))
    explainer = Explainer(found.catalog, language, found.today())
    time = explainer.moment(shop_local(answer_by, settings.shop_timezone))
    if opening == now:
        text = found.catalog.message("handoff_now", language, time=time)
    else:
        when = explainer.moment(shop_local(opening, settings.shop_timezone))
        text = found.catalog.message("handoff_later", language, when=when, time=time)
    dispatcher.utter_message(text=text)
    events = turn.language_events(tracker)
    if tracker.active_loop.get("name"):
        events.append(ActiveLoop(None))
    return [*events, SlotSet("handoff_id", str(handoff_id)), ConversationPaused()]


def consecutive_fallbacks(events: list[dict[str, Any]]) -> int:
    """How many of the customer's last messages in a row were not understood."""
    count = 0
    for event in reversed(events):
        if event.get("event") != "user" or (event.get("metadata") or {}).get("is_external"):
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandOver(Action):
    """'Mag ik iemand spreken?' / 'human please', and the cases that go to a person."""

    def name(self) -> str:
        return "action_hand_over"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        if turn.intent == "request_human":
            reason = "asked"
        elif turn.mood == "angry":
            reason = "angry"
        else:
            reason = "not_understood"
        return hand_over(dispatcher, tracker, found, turn, reason)


class ActionRelayStaffReply(Action):
    """A person's replies, said in the conversation (run by the staff page)."""

    def name(self) -> str:
        return "action_relay_staff_reply"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        language = tracker.get_slot("language") or found.settings.default_language
        say_waiting_replies(dispatcher, found, tracker.sender_id, language)
        return []


def say_waiting_replies(
    dispatcher: CollectingDispatcher, found: Services, sender_id: str, language: str
) -> None:
    """A person's replies not yet said in this conversation, in the order written."""
    waiting = queue.take_waiting_replies(found.sessions, sender_id, utcnow())
    for reply in waiting:
        dispatcher.utter_message(
            text=found.catalog.message(
                "staff_reply", language, name=reply.staff_name, text=reply.text
            )
        )
    logger.info("%d staff replies said in conversation", len(waiting))


class ActionResumeAssistant(Action):
    """The person hands the conversation back (run by the staff page)."""

    customer_listens = True  # the chat is open: say it, and show what came meanwhile

    def name(self) -> str:
        return "action_resume_assistant"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        language = tracker.get_slot("language") or found.settings.default_language
        handoff = queue.close_conversation(found.sessions, tracker.sender_id, utcnow())
        events: list[dict[str, Any]] = [ConversationResumed(), SlotSet("handoff_id", None)]
        if self.customer_listens:
            name = handoff.claimed_by if handoff and handoff.claimed_by else None
            name = name or found.catalog.message("choice_request_human", language)
            dispatcher.utter_message(
                text=found.catalog.message("assistant_back", language, name=name)
            )
            turn = read_turn(tracker, found)
            customer_id = customer_of(turn, found)
            if customer_id is not None:
                # Warnings that came while a person had the conversation.
                events += show_unshown(
                    dispatcher, found, tracker, customer_id, language, visible_orders(turn)
                )
        # Run from outside (no prediction loop): record the listening Rasa would
        # have done, so the customer's next message is read as a fresh turn.
        return [*events, ActionExecuted("action_listen")]


class ActionResumeAssistantQuietly(ActionResumeAssistant):
    """Handed back while the customer's chat widget is closed: said now, it would
    go nowhere, and warnings shown into a closed chat would count as seen. So
    nothing is said; the warnings wait for the next visit or reply."""

    customer_listens = False

    def name(self) -> str:
        return "action_resume_assistant_quietly"
