"""Deadlines: "ik heb hem zaterdag nodig voor mijn bruiloft". Thin: who is asking,
then bot/deadlines reads, stores and weighs the date; this says the result."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.services import Services, services
from actions.turn import Turn, read_turn
from actions.warnings import _OrderChoice
from bot.clock import utcnow
from bot.deadlines.parse import ParsedDeadline, parse_deadline
from bot.deadlines.service import (
    Assessment,
    ShopOptions,
    assess,
    remind_before_cutoff,
    save_deadline,
    shop_now,
)
from bot.explain import Explainer
from bot.orders.model import Order
from bot.orders.system import OrderSystemUnavailable
from bot.usecases import order_choices
from bot.usecases.asker import customer_of, identified_orders
from bot.usecases.order_choices import Choice
from bot.usecases.work import Work
from bot.which_order import order_named

logger = logging.getLogger(__name__)


def shop_options(found: Services) -> ShopOptions:
    settings = found.settings
    return ShopOptions(
        express_cutoff=settings.express_cutoff,
        express_days=settings.express_days,
        store_location=settings.store_pickup_location,
        time_zone=settings.shop_timezone,
    )


def _pending(parsed: ParsedDeadline) -> str:
    """The deadline waiting for the customer to be identified, in a slot."""
    return json.dumps(
        {"day": parsed.day.isoformat(), "purpose": parsed.purpose, "phrase": parsed.phrase}
    )


def _from_pending(raw: Any) -> ParsedDeadline | None:
    try:
        value = json.loads(str(raw))
        return ParsedDeadline(
            day=date.fromisoformat(value["day"]),
            phrase=str(value["phrase"]),
            before=False,
            purpose=value.get("purpose"),
        )
    except (TypeError, ValueError, KeyError):
        return None


def _orders_of(turn: Turn, found: Services) -> tuple[list[Order], int | None]:
    """The orders the deadline may be about (the one named, else the open
    ones) and their customer. Raises OrderSystemUnavailable."""
    with found.work() as work:
        orders = identified_orders(work, turn.asker)
        customer_id = customer_of(work, turn.asker)
    if turn.order_number is None:
        orders = [order for order in orders if order.is_open]
    return orders, customer_id


def tell_deadline(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    found: Services,
    turn: Turn,
    parsed: ParsedDeadline,
) -> list[dict[str, Any]]:
    """For an identified customer: store the deadline on the order and say
    whether it works, and if not, what the shop can do."""
    language = turn.language
    try:
        orders, customer_id = _orders_of(turn, found)
    except OrderSystemUnavailable:
        dispatcher.utter_message(
            text=found.catalog.message("error_order_system_unavailable", language)
        )
        return [SlotSet("pending_deadline", _pending(parsed))]
    named = order_named(turn.asker.words, orders, found.today(), language, dates=False)
    orders = [named] if named else orders
    if len(orders) != 1:
        # None open, or several: which one? The deadline waits for the number.
        key = "order_none_found" if not orders else "which_order"
        dispatcher.utter_message(text=found.catalog.message(key, language))
        return [SlotSet("pending_deadline", _pending(parsed) if orders else None)]
    order = orders[0]
    customer_id = customer_id or order.customer_id
    now = utcnow()
    try:
        save_deadline(found.sessions, order.id, customer_id, parsed, language, now)
    except SQLAlchemyError as error:
        logger.error("deadline for order %s not stored: %s", order.id, type(error).__name__)
    logger.info("deadline told for order %s", order.id)
    options = shop_options(found)
    local_now = shop_now(now, options.time_zone)
    assessment = assess(order, parsed.day, local_now, options)
    explainer = Explainer(found.catalog, language, found.today())
    events: list[dict[str, Any]] = [
        SlotSet("pending_deadline", None),
        SlotSet("warned_order", str(order.id)),
    ]
    dispatcher.utter_message(text=_verdict(explainer, order, assessment, parsed))
    if not assessment.at_risk:
        return events
    lines, buttons = _options(explainer, order, assessment)
    if assessment.express is not None:
        reminder = assessment.express.cutoff - timedelta(
            minutes=found.settings.express_reminder_minutes
        )
        if reminder > local_now:
            try:
                remind_before_cutoff(
                    found.sessions, customer_id, order.id, assessment.express.cutoff, now
                )
            except SQLAlchemyError as error:  # no reminder rather than no answer
                logger.error("reminder for order %s not stored: %s", order.id, type(error).__name__)
            else:
                lines.append(
                    explainer.text("deadline_reminder_set", time=reminder.strftime("%H:%M"))
                )
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
    return events


def _verdict(
    explainer: Explainer, order: Order, assessment: Assessment, parsed: ParsedDeadline
) -> str:
    title = explainer.order_title(order)
    if assessment.status == "done":
        return explainer.text("deadline_done", order=title)
    purpose = explainer.text("deadline_purpose", purpose=parsed.purpose) if parsed.purpose else ""
    values = {"order": title, "deadline": explainer.date(assessment.deadline), "purpose": purpose}
    if assessment.status == "unknown":
        return explainer.text("deadline_unknown", **values)
    return explainer.text(
        f"deadline_{assessment.status}", expected=explainer.date(assessment.expected), **values
    )


def _options(
    explainer: Explainer, order: Order, assessment: Assessment
) -> tuple[list[str], list[dict[str, str]]]:
    """The options as lines, and the same as buttons (payloads like a warning's)."""
    entity = json.dumps({"order_number": str(order.id)})
    lines = [explainer.text("deadline_options")]
    buttons = []
    if assessment.express is not None:
        lines.append(
            explainer.text(
                "deadline_option_express",
                time=assessment.express.cutoff.strftime("%H:%M"),
                date=explainer.date(assessment.express.arrival),
            )
        )
        buttons.append(
            {"title": explainer.text("choice_express"), "payload": f"/choose_express{entity}"}
        )
    if assessment.store_pickup:
        lines.append(explainer.text("deadline_option_store", location=assessment.store_pickup))
        buttons.append(
            {
                "title": explainer.text("choice_store_pickup"),
                "payload": f"/choose_store_pickup{entity}",
            }
        )
    if assessment.alternative:
        lines.append(explainer.text("deadline_option_alternative"))
        buttons.append(
            {
                "title": explainer.text("choice_choose_alternative"),
                "payload": f"/choose_alternative{entity}",
            }
        )
    lines.append(explainer.text("deadline_option_person"))
    buttons.append({"title": explainer.text("choice_request_human"), "payload": "/request_human"})
    return lines, buttons


def apply_pending_deadline(
    dispatcher: CollectingDispatcher, tracker: Tracker, found: Services, turn: Turn
) -> list[dict[str, Any]]:
    """A deadline told before the customer was identified, applied once they are."""
    parsed = _from_pending(tracker.get_slot("pending_deadline"))
    if parsed is None or not turn.identity.is_known:
        return []
    return tell_deadline(dispatcher, tracker, found, turn, parsed)


class ActionNoteDeadline(Action):
    def name(self) -> str:
        return "action_note_deadline"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = services()
        turn = read_turn(tracker, found)
        events = turn.language_events(tracker)
        today = found.today()
        text = "" if turn.text.startswith("/") else turn.text[: found.settings.max_message_chars]
        parsed = parse_deadline(text, today, turn.language)
        if parsed is None:
            dispatcher.utter_message(text=found.catalog.message("deadline_ask_date", turn.language))
            return [*events, SlotSet("needs_verification", False)]
        if parsed.day < today:
            explainer = Explainer(found.catalog, turn.language, today)
            dispatcher.utter_message(
                text=explainer.text("deadline_past", date=explainer.date(parsed.day))
            )
            return [*events, SlotSet("needs_verification", False)]
        if not turn.identity.is_known:
            # No order details before we know who this is: remember, verify, then apply.
            dispatcher.utter_message(
                text=found.catalog.message("deadline_remembered", turn.language)
            )
            return [
                *events,
                SlotSet("pending_deadline", _pending(parsed)),
                SlotSet("pending_question", "status"),
                SlotSet("needs_verification", True),
            ]
        return [
            *events,
            *tell_deadline(dispatcher, tracker, found, turn, parsed),
            SlotSet("needs_verification", False),
        ]


class ActionChooseExpress(_OrderChoice):
    """'Met spoed versturen' / 'Ophalen in de winkel' (bot/usecases/order_choices.py)."""

    def name(self) -> str:
        return "action_choose_express"

    def choose(self, work: Work, turn: Turn, order_id: int | None) -> Choice:
        store = turn.intent == "choose_store_pickup"
        return order_choices.arrange_delivery(work, turn.asker, order_id, store)
