"""Warnings in the conversation: shown when pushed or at the next visit, and the
customer's answers to them (wait, cancel, an alternative, keep posted, stop).
Thin: read the turn, call the use case (bot/usecases), say the result."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.say import say
from actions.services import Services, services
from actions.turn import Turn, conversation_key, entity_value, read_turn
from bot.channels.addresses import is_whatsapp
from bot.channels.whatsapp import window_open
from bot.clock import unix_seconds
from bot.identity import customer_from_token, orders_from_proof
from bot.orders.matching import parse_order_number
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.channels import owner_of_address
from bot.proactive.delivery import last_said_warning
from bot.proactive.push_signature import push_is_genuine
from bot.usecases import order_choices
from bot.usecases.asker import Asker, customer_of
from bot.usecases.order_choices import Choice
from bot.usecases.said import text, yes_no
from bot.usecases.warnings import (
    ShownWarning,
    Viewer,
    customer_language,
    show_unshown,
    show_warning,
)
from bot.usecases.work import Work

logger = logging.getLogger(__name__)

# How many shown warning ids a conversation remembers (enough for any retry).
REMEMBERED_WARNINGS = 50


def shown_here(tracker: Tracker) -> list[int]:
    """Warnings this conversation's own record says it showed."""
    return [int(i) for i in tracker.get_slot("shown_warnings") or [] if str(i).isdigit()]


def whatsapp_template(found: Services, tracker: Tracker, language: str) -> tuple[bool, str | None]:
    """(whether a warning can be said now, the WhatsApp template to say it with).
    After WhatsApp's 24 hours free text is refused: a template, or it waits for
    the customer's next message."""
    if not is_whatsapp(tracker.sender_id) or window_open(tracker.events, time.time()):
        return True, None
    template = found.settings.whatsapp_templates.get(language)
    if template is None:
        logger.warning(
            "warning waits: WhatsApp's 24 hours are over and WHATSAPP_TEMPLATE_%s is unset",
            language.upper(),
        )
        return False, None
    return True, template


def said_warnings(
    dispatcher: CollectingDispatcher, tracker: Tracker, shown: list[ShownWarning]
) -> list[dict[str, Any]]:
    """Say the warnings; the conversation remembers which it showed, and the
    order the last one's choices are about."""
    if not shown:
        return []
    say(dispatcher, [warning.message for warning in shown])
    recorded = [*shown_here(tracker), *(warning.warning_id for warning in shown)]
    events = [SlotSet("shown_warnings", recorded[-REMEMBERED_WARNINGS:])]
    order_ids = [warning.order_id for warning in shown if warning.order_id]
    if order_ids:
        events.append(SlotSet("warned_order", str(order_ids[-1])))
    return events


def warned_order(work: Work, tracker: Tracker, asker: Asker) -> int | None:
    """The order the assistant last offered choices about: the conversation's
    slot (a warning or a deadline said in a turn), or a warning the notifier
    sent itself since (no turn set the slot for it, bot/proactive/direct.py)."""
    slot_at, slot_order = None, tracker.get_slot("warned_order")
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "warned_order":
            slot_at = float(event.get("timestamp") or 0)
            break
    customer_id = customer_of(work, asker)
    sent = last_said_warning(work.session, customer_id, asker.address) if customer_id else None
    if sent is not None and (slot_at is None or unix_seconds(sent[0]) > slot_at):
        return sent[1]
    return parse_order_number(slot_order)


def news_first(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    found: Services,
    work: Work,
    asker: Asker,
    told: set[int] | None = None,
) -> list[dict[str, Any]]:
    """Warnings the customer has not seen yet, before anything else is said (a
    REST customer cannot be pushed to: this is where they hear it). `told`
    gets the orders they told of."""
    customer_id = customer_of(work, asker)
    if customer_id is None:
        return []
    can_say, template = whatsapp_template(found, tracker, asker.language)
    if not can_say:
        return []
    shown = show_unshown(work, Viewer.of(asker, customer_id, template), shown_here(tracker))
    if shown:
        dispatcher.utter_message(text=work.text("unread_warnings", asker.language))
    if told is not None:
        told.update(order_id for warning in shown for order_id in warning.order_ids)
    return said_warnings(dispatcher, tracker, shown)


def entitled_orders(
    tracker: Tracker, found: Services, customer_id: int, registered: bool
) -> frozenset[int] | None:
    """Which of the customer's orders a pushed-to conversation may hear about:
    None for all of them (`registered`: the shop registered this address as
    the customer's, or the shop's signed token named this customer here), else
    only the orders verified here (the signed proof, while it lasts). Someone
    who verified one order by its number and postcode learns nothing of the
    customer's other orders."""
    if registered:
        return None
    secret = found.settings.shop_token_secret
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        token = (event.get("metadata") or {}).get("customer_token")
        if token and customer_from_token(token, secret, expired_ok=True) == customer_id:
            return None
    return frozenset(
        orders_from_proof(
            tracker.get_slot("verification_proof"),
            conversation_key(tracker),
            found.settings.proof_secret,
        )
    )


class ActionDeliverWarning(Action):
    """Triggered by the notifier through Rasa's trigger_intent, signed."""

    def name(self) -> str:
        return "action_deliver_warning"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        warning_id = _int(entity_value(tracker, "warning_id"))
        channel = str(entity_value(tracker, "push_channel") or "")
        if warning_id is None or not push_is_genuine(
            found.settings.push_secret,
            entity_value(tracker, "push_signature"),
            warning_id,
            tracker.sender_id,
            channel,
        ):
            return refuse_forged_push(dispatcher, found, tracker)
        with found.work() as work:
            customer_id, registered = owner_of_address(work.session, tracker.sender_id, channel)
            if customer_id is None:
                logger.warning("warning push to a conversation of no known customer ignored")
                return []
            language = tracker.get_slot("language") or customer_language(work, customer_id)
            can_say, template = whatsapp_template(found, tracker, language)
            if not can_say:
                return []
            viewer = Viewer(
                customer_id,
                tracker.sender_id,
                language,
                entitled_orders(tracker, found, customer_id, registered),
                template,
            )
            shown = show_warning(work, viewer, warning_id, warning_id in shown_here(tracker))
        return said_warnings(dispatcher, tracker, [shown] if shown else [])


def refuse_forged_push(
    dispatcher: CollectingDispatcher, found: Services, tracker: Tracker
) -> list[dict[str, Any]]:
    """An unsigned, expired or misdirected push: nothing shown, nothing marked.
    A customer who typed the intent's payload gets the ordinary fallback."""
    typed = str((tracker.latest_message or {}).get("text") or "").startswith("/")
    logger.warning("unsigned warning push refused (%s)", "typed" if typed else "pushed")
    if typed:
        language = tracker.get_slot("language") or found.settings.default_language
        dispatcher.utter_message(text=found.catalog.message("fallback", language))
    return []


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class _OrderChoice(Action, ABC):
    """Common ground of the answers to a warning: which order, said, and the
    order system being away. Abstract, so the action server does not try to
    register it."""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice: ...

    def order_id(self, work: Work, tracker: Tracker, turn: Turn) -> int | None:
        """The order named now, else the one the last warning was about."""
        return turn.order_number or warned_order(work, tracker, turn.asker)

    def events(self, choice: Choice) -> list[dict[str, Any]]:
        return []

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        try:
            with found.work() as work:
                choice = self.choose(work, turn, self.order_id(work, tracker, turn))
        except OrderSystemUnavailable as error:
            # Nothing done; a pending question (cancel?) stays, so a "ja" later counts.
            logger.warning("%s: order system unavailable (%s)", self.name(), error)
            message = found.catalog.message("error_order_system_unavailable", turn.language)
            dispatcher.utter_message(text=message)
            return events
        say(dispatcher, choice.said)
        return events + self.events(choice)


class ActionKeepOrder(_OrderChoice):
    """'Wachten' / 'hou me op de hoogte': the order stays, every change is told."""

    def name(self) -> str:
        return "action_keep_order"

    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice:
        posted = turn.intent == "keep_me_posted"
        return order_choices.keep_order(work, turn.asker, order_id, posted)


class ActionCancelOrder(_OrderChoice):
    """'Annuleren': asks to confirm, since a cancellation cannot be undone."""

    def name(self) -> str:
        return "action_cancel_order"

    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice:
        return order_choices.ask_to_cancel(work, turn.asker, order_id)

    def events(self, choice: Choice) -> list[dict[str, Any]]:
        if choice.pending_cancellation is not None:
            return [SlotSet("pending_cancellation", str(choice.pending_cancellation))]
        if choice.cancellation_off:
            return [SlotSet("pending_cancellation", None)]
        return []


class ActionAnswerCancellation(_OrderChoice):
    """Yes: cancel free of charge. No: the order stays."""

    def name(self) -> str:
        return "action_answer_cancellation"

    def order_id(self, work: Work, tracker: Tracker, turn: Turn) -> int | None:
        return parse_order_number(tracker.get_slot("pending_cancellation"))

    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice:
        yes = turn.intent == "affirm"
        return order_choices.answer_cancellation(work, turn.asker, order_id, yes)

    def events(self, choice: Choice) -> list[dict[str, Any]]:
        return [SlotSet("pending_cancellation", None)]


class ActionOfferAlternative(_OrderChoice):
    """Staff look for an alternative in stock; the customer hears by when."""

    def name(self) -> str:
        return "action_offer_alternative"

    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice:
        return order_choices.ask_for_alternative(work, turn.asker, order_id)


class ActionSetNotifications(Action):
    """'Stop' / 'afmelden' at once. 'Aanmelden' only after a yes: an opt-out
    the NLU mistook for an opt-in then costs a question, never a message."""

    def name(self) -> str:
        return "action_set_notifications"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        language = turn.language
        with found.work() as work:
            customer_id = customer_of(work, turn.asker)
            if customer_id is None:
                say(dispatcher, [text(work.text("identity_needed", language))])
                return events
            if (
                turn.intent == "opt_out"
                and turn.confidence < found.settings.confirm_below_confidence
            ):
                # Unsure it says "stop": asked back, never switched off on a guess.
                ask = text(work.text("opt_out_confirm", language), *yes_no(work.text, language))
                say(dispatcher, [ask])
                return [*events, SlotSet("pending_opt_out", True)]
            if turn.intent == "opt_out":
                order_choices.set_opted_out(work, customer_id, True)
                say(dispatcher, [text(work.text("opt_out_ok", language))])
                return [*events, SlotSet("pending_opt_in", None)]
            if not order_choices.is_opted_out(work, customer_id):
                say(dispatcher, [text(work.text("opt_in_already", language))])
                return events
            question = text(work.text("opt_in_confirm", language), *yes_no(work.text, language))
        say(dispatcher, [question])
        return [*events, SlotSet("pending_opt_in", True)]


class _AnswerNotificationsQuestion(Action, ABC):
    """Yes or no to "messages back on?" or "no more messages?": the switch
    moves on a yes to a question that was asked, never on a stray yes.
    Abstract, so the action server does not try to register it."""

    pending_slot: str  # the slot that says the question was asked
    opts_out: bool  # what a yes does
    keys: tuple[str, str]  # what is said after a yes, after a no

    @abstractmethod
    def name(self) -> str: ...

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = [*turn.language_events(tracker), SlotSet(self.pending_slot, None)]
        with found.work() as work:
            customer_id = customer_of(work, turn.asker)
            if customer_id is None:
                key = "identity_needed"
            elif not tracker.get_slot(self.pending_slot):
                key = "fallback"  # nothing was asked: a stray yes switches nothing
            elif turn.intent == "affirm":
                order_choices.set_opted_out(work, customer_id, self.opts_out)
                key = self.keys[0]
            else:
                key = self.keys[1]
            say(dispatcher, [text(work.text(key, turn.language))])
        return events


class ActionAnswerOptIn(_AnswerNotificationsQuestion):
    """Yes: messages back on. No: they stay off."""

    pending_slot, opts_out, keys = "pending_opt_in", False, ("opt_in_ok", "opt_in_declined")

    def name(self) -> str:
        return "action_answer_opt_in"


class ActionAnswerOptOut(_AnswerNotificationsQuestion):
    """Yes: messages off. No: they stay on (asked when "stop" was unsure)."""

    pending_slot, opts_out, keys = "pending_opt_out", True, ("opt_out_ok", "opt_out_declined")

    def name(self) -> str:
        return "action_answer_opt_out"
