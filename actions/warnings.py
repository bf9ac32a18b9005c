"""Warnings in the conversation: shown when pushed or at the next visit, and the
customer's answers to them (wait, cancel, an alternative, keep posted, stop)."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.follow_up import ask_a_colleague
from actions.offers import WARNING_KINDS, offers_for
from actions.services import Services, services
from actions.turn import Turn, conversation_key, entity_value, read_turn
from bot.channels.addresses import is_whatsapp
from bot.channels.receipts import AGAIN_KEY, WARNING_KEY
from bot.channels.whatsapp import template_message, window_open
from bot.clock import shop_local, utcnow
from bot.deadlines.service import load_deadlines
from bot.explain import Explainer
from bot.identity import customer_from_token, orders_from_proof
from bot.orders.matching import parse_order_number
from bot.orders.system import OrderSystemUnavailable
from bot.proactive import choices
from bot.proactive.channels import customer_at, customer_registered_at
from bot.proactive.compose import compose_warning
from bot.proactive.delivery import orders_of_warning, take_for_showing, unshown_for
from bot.proactive.push_signature import push_is_genuine

logger = logging.getLogger(__name__)


def customer_of(turn: Turn, found: Services) -> int | None:
    """The customer behind this turn: from the token, or the verified order."""
    if turn.identity.customer_id is not None:
        return turn.identity.customer_id
    try:
        for order_id in turn.identity.verified_order_ids:
            order = found.orders.get_order(order_id)
            if order is not None:
                return order.customer_id
    except OrderSystemUnavailable:
        logger.info("customer of a verified order unknown: order system unavailable")
    return None


def entitled_orders(
    tracker: Tracker, found: Services, customer_id: int, channel: str
) -> frozenset[int] | None:
    """Which of the customer's orders this conversation may hear about: None for
    all of them (the shop registered this address, or the shop's signed token
    named this customer here), else only the orders verified here (the signed
    proof, while it lasts). Someone who verified one order by its number and
    postcode learns nothing of the customer's other orders."""
    if customer_registered_at(found.sessions, tracker.sender_id, channel) == customer_id:
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


def may_act_on(turn: Turn, owner_id: int, order_id: int, customer_id: int) -> bool:
    """Whether this turn's asker may act on (wait for, cancel, ...) this order."""
    visible = visible_orders(turn)
    return owner_id == customer_id and (visible is None or order_id in visible)


def visible_orders(turn: Turn) -> frozenset[int] | None:
    """The orders this turn's asker may hear about: all of a customer known by
    a token or a registered address (None), else the verified ones."""
    if turn.identity.customer_id is not None:
        return None
    return frozenset(turn.identity.verified_order_ids)


# How many shown warning ids a conversation remembers (enough for any retry).
REMEMBERED_WARNINGS = 50


def shown_here(tracker: Tracker) -> list[int]:
    """Warnings this conversation's own record says it showed."""
    return [int(i) for i in tracker.get_slot("shown_warnings") or [] if str(i).isdigit()]


def show_warning(
    dispatcher: CollectingDispatcher,
    found: Services,
    tracker: Tracker,
    warning_id: int,
    customer_id: int,
    language: str,
    recorded: list[int],
    allowed: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """Show one warning, once. `recorded` (the ids this conversation showed) grows.
    `allowed`: the orders this conversation may hear about (None: all of the
    customer's); a warning about any other order waits for its customer."""
    if allowed is not None and not set(orders_of_warning(found.sessions, warning_id)) <= allowed:
        logger.info("warning %s waits: this conversation verified other orders", warning_id)
        return []
    template = None
    if is_whatsapp(tracker.sender_id) and not window_open(tracker.events, time.time()):
        template = found.settings.whatsapp_templates.get(language)
        if template is None:
            # WhatsApp would refuse free text now: it waits for the customer's next message.
            logger.warning(
                "warning %s waits: WhatsApp's 24 hours are over and WHATSAPP_TEMPLATE_%s is unset",
                warning_id,
                language.upper(),
            )
            return []
    shown = take_for_showing(
        found.sessions,
        warning_id,
        customer_id,
        tracker.sender_id,
        utcnow(),
        recorded_here=warning_id in recorded,
    )
    if shown is None:
        return []  # shown before (a retried push) or not this customer's: say nothing
    orders = [order for order in map(found.orders.get_order, shown.order_ids) if order]
    deadlines = load_deadlines(found.sessions, shown.order_ids)
    # Making up for it, recorded once: a warning shown again offers nothing new.
    offers = offers_for(found, orders, language, "warning") if shown.kind in WARNING_KINDS else []
    message = compose_warning(
        shown.kind,
        orders,
        shown.event_ids,
        found.catalog,
        language,
        found.today(),
        promised=shown.promised,
        promised_at=(
            shop_local(shown.promised_at, found.settings.shop_timezone)
            if shown.promised_at
            else None
        ),
        deadlines=deadlines,
        offers=offers,
    )
    # For the channel's receipt (bot/channels/receipts.py); never shown.
    receipt = {WARNING_KEY: warning_id, AGAIN_KEY: shown.again}
    if message.texts and template is not None:
        dispatcher.utter_message(
            json_message=template_message(template, found.settings.shop_name, message.texts),
            **receipt,
        )
    elif message.texts:
        # One message per change: on a phone, one notification rather than three.
        dispatcher.utter_message(
            text="\n\n".join(message.texts),
            buttons=[{"title": b.title, "payload": b.payload} for b in message.buttons],
            **receipt,
        )
    logger.info("warning %s shown to customer %s", warning_id, customer_id)
    recorded.append(warning_id)
    events = [SlotSet("shown_warnings", recorded[-REMEMBERED_WARNINGS:])]
    if message.order_id:
        events.append(SlotSet("warned_order", str(message.order_id)))
    return events


def show_unshown(
    dispatcher: CollectingDispatcher,
    found: Services,
    tracker: Tracker,
    customer_id: int,
    language: str,
    allowed: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """Warnings the customer has not seen yet: at the next visit or the next reply.
    `allowed` as for show_warning (visible_orders of the turn)."""
    waiting = unshown_for(found.sessions, customer_id, allowed)
    if not waiting:
        return []
    dispatcher.utter_message(text=found.catalog.message("unread_warnings", language))
    events: list[dict[str, Any]] = []
    recorded = shown_here(tracker)
    for warning_id in waiting:
        events += show_warning(
            dispatcher, found, tracker, warning_id, customer_id, language, recorded, allowed
        )
    return events


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
        customer_id = customer_at(found.sessions, tracker.sender_id, channel=channel)
        if customer_id is None:
            logger.warning("warning push to a conversation of no known customer ignored")
            return []
        language = tracker.get_slot("language") or customer_language(found, customer_id)
        allowed = entitled_orders(tracker, found, customer_id, channel)
        return show_warning(
            dispatcher,
            found,
            tracker,
            warning_id,
            customer_id,
            language,
            shown_here(tracker),
            allowed,
        )


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


def customer_language(found: Services, customer_id: int) -> str:
    """The language the shop has for the customer (their conversation did not
    set one); the shop's default when the order system cannot say."""
    try:
        customer = found.orders.get_customer(customer_id)
    except OrderSystemUnavailable:
        customer = None
    return customer.language if customer is not None else found.settings.default_language


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@dataclass
class Choice:
    """A customer's answer to a warning, about one of their own orders."""

    dispatcher: CollectingDispatcher
    turn: Turn
    found: Services
    customer_id: int
    order_id: int

    def say(self, key: str, **values: Any) -> None:
        self.dispatcher.utter_message(
            text=self.found.catalog.message(key, self.turn.language, **values)
        )

    def title(self) -> str:
        order = self.found.orders.get_order(self.order_id)
        explainer = Explainer(self.found.catalog, self.turn.language, self.found.today())
        return explainer.order_title(order) if order else str(self.order_id)


class _OrderChoice(Action, ABC):
    """Common ground of the answers to a warning: whose order, which order.
    Abstract, so the action server does not try to register it."""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def act(self, choice: Choice) -> list[dict[str, Any]]: ...

    def order_for(self, tracker: Tracker, turn: Turn, found: Services) -> tuple[int, int] | None:
        """(customer id, order id) when this customer may act on the order."""
        order_id = turn.order_number or parse_order_number(tracker.get_slot("warned_order"))
        customer_id = customer_of(turn, found)
        if order_id is None or customer_id is None:
            return None
        order = found.orders.get_order(order_id)
        if order is None or not may_act_on(turn, order.customer_id, order.id, customer_id):
            return None
        return customer_id, order_id

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        try:
            target = self.order_for(tracker, turn, found)
            if target is None:
                key = "which_order" if customer_of(turn, found) else "identity_needed"
                dispatcher.utter_message(text=found.catalog.message(key, turn.language))
                return events
            return events + self.act(Choice(dispatcher, turn, found, *target))
        except OrderSystemUnavailable as error:
            # Nothing done; a pending question (cancel?) stays, so a "ja" later counts.
            logger.warning("%s: order system unavailable (%s)", self.name(), error)
            message = found.catalog.message("error_order_system_unavailable", turn.language)
            dispatcher.utter_message(text=message)
            return events


class ActionKeepOrder(_OrderChoice):
    """'Wachten' / 'hou me op de hoogte': the order stays, every change is told."""

    def name(self) -> str:
        return "action_keep_order"

    def act(self, choice: Choice) -> list[dict[str, Any]]:
        choices.keep_customer_posted(
            choice.found.sessions, choice.customer_id, choice.order_id, utcnow()
        )
        key = "keep_posted_ok" if choice.turn.intent == "keep_me_posted" else "keep_order_ok"
        choice.say(key, order=choice.title())
        return []


class ActionCancelOrder(_OrderChoice):
    """'Annuleren': asks to confirm, since a cancellation cannot be undone."""

    def name(self) -> str:
        return "action_cancel_order"

    def act(self, choice: Choice) -> list[dict[str, Any]]:
        if not choices.can_cancel(choice.found.orders, choice.order_id):
            choice.say("cancel_too_late", order=choice.title())
            return [SlotSet("pending_cancellation", None)]
        found, language = choice.found, choice.turn.language
        choice.dispatcher.utter_message(
            text=found.catalog.message("cancel_confirm", language, order=choice.title()),
            buttons=yes_no_buttons(found, language),
        )
        return [SlotSet("pending_cancellation", str(choice.order_id))]


class ActionAnswerCancellation(_OrderChoice):
    """Yes: cancel free of charge. No: the order stays."""

    def name(self) -> str:
        return "action_answer_cancellation"

    def order_for(self, tracker: Tracker, turn: Turn, found: Services) -> tuple[int, int] | None:
        order_id = parse_order_number(tracker.get_slot("pending_cancellation"))
        customer_id = customer_of(turn, found)
        order = found.orders.get_order(order_id) if order_id else None
        if order is None or customer_id is None:
            return None
        if not may_act_on(turn, order.customer_id, order.id, customer_id):
            return None
        return customer_id, order.id

    def act(self, choice: Choice) -> list[dict[str, Any]]:
        if choice.turn.intent != "affirm":
            key = "cancel_kept"
        else:
            cancelled = choices.cancel_order(choice.found.orders, choice.order_id)
            if cancelled:
                logger.info("order %s cancelled by its customer", choice.order_id)
            key = "cancel_done" if cancelled else "cancel_too_late"
        choice.say(key, order=choice.title())
        return [SlotSet("pending_cancellation", None)]


class ActionOfferAlternative(_OrderChoice):
    """Staff look for an alternative in stock; the customer hears by when."""

    def name(self) -> str:
        return "action_offer_alternative"

    def act(self, choice: Choice) -> list[dict[str, Any]]:
        found, language = choice.found, choice.turn.language
        try:
            when = ask_a_colleague(
                found, choice.customer_id, choice.order_id, "alternative", language
            )
        except OrderSystemUnavailable:
            choice.say("error_order_system_unavailable")
            return []
        choices.keep_customer_posted(found.sessions, choice.customer_id, choice.order_id, utcnow())
        choice.say("alternative_ok", order=choice.title(), when=when)
        return []


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
        customer_id = customer_of(turn, found)
        if customer_id is None:
            dispatcher.utter_message(text=found.catalog.message("identity_needed", turn.language))
            return events
        if turn.intent == "opt_out":
            choices.set_opt_out(found.sessions, customer_id, utcnow())
            logger.info("customer %s opted out", customer_id)
            dispatcher.utter_message(text=found.catalog.message("opt_out_ok", turn.language))
            return [*events, SlotSet("pending_opt_in", None)]
        if not choices.is_opted_out(found.sessions, customer_id):
            dispatcher.utter_message(text=found.catalog.message("opt_in_already", turn.language))
            return events
        dispatcher.utter_message(
            text=found.catalog.message("opt_in_confirm", turn.language),
            buttons=yes_no_buttons(found, turn.language),
        )
        return [*events, SlotSet("pending_opt_in", True)]


class ActionAnswerOptIn(Action):
    """Yes: messages back on. No: they stay off."""

    def name(self) -> str:
        return "action_answer_opt_in"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = [*turn.language_events(tracker), SlotSet("pending_opt_in", None)]
        customer_id = customer_of(turn, found)
        if customer_id is None:
            dispatcher.utter_message(text=found.catalog.message("identity_needed", turn.language))
            return events
        if not tracker.get_slot("pending_opt_in"):
            # Nothing was asked: a stray yes switches nothing on.
            dispatcher.utter_message(text=found.catalog.message("fallback", turn.language))
            return events
        if turn.intent == "affirm":
            choices.set_opt_out(found.sessions, customer_id, None)
            logger.info("customer %s opted in", customer_id)
            key = "opt_in_ok"
        else:
            key = "opt_in_declined"
        dispatcher.utter_message(text=found.catalog.message(key, turn.language))
        return events


def yes_no_buttons(found: Services, language: str) -> list[dict[str, str]]:
    return [
        {"title": found.catalog.message("button_yes", language), "payload": "/affirm"},
        {"title": found.catalog.message("button_no", language), "payload": "/deny"},
    ]
