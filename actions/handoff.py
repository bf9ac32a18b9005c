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

from actions.say import say
from actions.services import Services, services
from actions.turn import Turn, read_turn
from actions.warnings import news_first
from bot.clock import utcnow
from bot.handoff import queue
from bot.handoff.conversation import recent_lines
from bot.usecases import handover

logger = logging.getLogger(__name__)


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    found: Services,
    turn: Turn,
    reason: str,
) -> list[dict[str, Any]]:
    """Hand over with the whole story (bot/usecases/handover.py) and pause the
    assistant; when the queue could not take it, the assistant stays."""
    with found.work() as work:
        handed = handover.hand_over(work, turn.asker, reason, recent_lines(tracker.events))
    say(dispatcher, handed.said)
    events = turn.language_events(tracker)
    if handed.handoff_id is None:
        return events
    if tracker.active_loop.get("name"):
        events.append(ActiveLoop(None))
    return [*events, SlotSet("handoff_id", str(handed.handoff_id)), ConversationPaused()]


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
            with found.work() as work:
                # Warnings that came while a person had the conversation.
                events += news_first(dispatcher, tracker, found, work, turn.asker)
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
