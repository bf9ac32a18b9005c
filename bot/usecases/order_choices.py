"""A customer's answer to a warning, about one of their own orders: wait, keep
me posted, cancel (after a yes), an alternative; and whether warnings come at all."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from bot.changes import unseen_changes
from bot.deadlines.service import end_reminders
from bot.explain import Explainer
from bot.memory.customers import OptOutRow
from bot.orders.model import MOVABLE_STATUSES, Order
from bot.proactive.promises import keep_posted
from bot.usecases.asker import Asker, customer_of, identified_orders, may_act_on
from bot.usecases.follow_up import ask_a_colleague
from bot.usecases.said import Button, Message, text, yes_no
from bot.usecases.work import Work
from bot.which_order import order_named

logger = logging.getLogger(__name__)

# Orders offered as buttons when the customer did not say which (a phone shows a few).
MAX_ORDER_BUTTONS = 5

# What the shop records as the reason of a cancellation made in the chat.
CANCELLED_IN_CHAT = "geannuleerd via de assistent"


@dataclass
class Choice:
    """What to say, and the question left open (the order a yes would cancel)."""

    said: list[Message] = field(default_factory=list)
    pending_cancellation: int | None = None
    # A cancellation asked about before is off the table (too late now).
    cancellation_off: bool = False


def _title(work: Work, order: Order, language: str) -> str:
    return Explainer(work.catalog, language, work.today).order_title(order)


def _own(
    work: Work, asker: Asker, order_id: int | None, intent: str = ""
) -> tuple[int, Order] | Choice:
    """(customer id, order) when the asker may act on the order; else what to
    say: who they are first, or which order (with a button per order)."""
    customer_id = customer_of(work, asker)
    if customer_id is None:
        return Choice([text(work.text("identity_needed", asker.language))])
    if order_id is None:
        return _the_one(work, asker, customer_id, intent)
    order = work.orders.get_order(order_id)
    if order is None or not may_act_on(asker, order, customer_id):
        return Choice([text(work.text("which_order", asker.language))])
    return customer_id, order


def _the_one(work: Work, asker: Asker, customer_id: int, intent: str) -> tuple[int, Order] | Choice:
    """No order number: the asker's only open order is the order; of several,
    the one their words name (its product, its maker, its date), else the only
    one that changed since they were told. Still several: which one, with a
    button per open order that asks the same again about it."""
    orders = [order for order in identified_orders(work, asker) if order.is_open]
    named = order_named(asker.words, orders, work.today, asker.language)
    changed = [order for order in orders if unseen_changes(order)]
    for candidates in (orders, [named] if named else [], changed):
        if len(candidates) == 1:
            return customer_id, candidates[0]
    buttons = [
        Button(_title(work, order, asker.language), f"/{intent}{_order_entity(order)}")
        for order in orders[:MAX_ORDER_BUTTONS]
        if intent
    ]
    return Choice([text(work.text("which_order", asker.language), *buttons)])


def _order_entity(order: Order) -> str:
    return json.dumps({"order_number": str(order.id)})


def keep_order(work: Work, asker: Asker, order_id: int | None, posted: bool) -> Choice:
    """'Wachten' / 'hou me op de hoogte': the order stays, every change is told.
    Raises OrderSystemUnavailable (nothing done)."""
    found = _own(work, asker, order_id, "keep_me_posted" if posted else "keep_order")
    if isinstance(found, Choice):
        return found
    customer_id, order = found
    keep_posted(work.session, customer_id, order.id, work.now)
    key = "keep_posted_ok" if posted else "keep_order_ok"
    return Choice([text(work.text(key, asker.language, order=_title(work, order, asker.language)))])


def ask_to_cancel(work: Work, asker: Asker, order_id: int | None) -> Choice:
    """'Annuleren': a question first, since a cancellation cannot be undone."""
    found = _own(work, asker, order_id, "cancel_order")
    if isinstance(found, Choice):
        return found
    _, order = found
    title, language = _title(work, order, asker.language), asker.language
    if order.status not in MOVABLE_STATUSES:
        too_late = text(work.text("cancel_too_late", language, order=title))
        return Choice([too_late], cancellation_off=True)
    question = text(
        work.text("cancel_confirm", language, order=title), *yes_no(work.text, language)
    )
    return Choice([question], pending_cancellation=order.id)


def answer_cancellation(work: Work, asker: Asker, order_id: int | None, yes: bool) -> Choice:
    """Yes: cancelled free of charge through the shop (recorded there as the
    customer's own change). No: the order stays."""
    if order_id is None:
        # No cancellation was asked about: a stray yes cancels nothing.
        key = "which_order" if customer_of(work, asker) else "identity_needed"
        return Choice([text(work.text(key, asker.language))])
    found = _own(work, asker, order_id)
    if isinstance(found, Choice):
        return found
    _, order = found
    if not yes:
        key = "cancel_kept"
    elif work.orders.cancel_order(order.id, CANCELLED_IN_CHAT):
        logger.info("order %s cancelled by its customer", order.id)
        key = "cancel_done"
    else:
        key = "cancel_too_late"
    title = _title(work, order, asker.language)
    return Choice([text(work.text(key, asker.language, order=title))])


def ask_for_alternative(work: Work, asker: Asker, order_id: int | None) -> Choice:
    """Staff look for an alternative in stock; the customer hears by when and
    of every change meanwhile."""
    found = _own(work, asker, order_id, "choose_alternative")
    if isinstance(found, Choice):
        return found
    customer_id, order = found
    when = ask_a_colleague(work, customer_id, order.id, "alternative", asker.language)
    keep_posted(work.session, customer_id, order.id, work.now)
    title = _title(work, order, asker.language)
    return Choice([text(work.text("alternative_ok", asker.language, order=title, when=when))])


def arrange_delivery(work: Work, asker: Asker, order_id: int | None, store: bool) -> Choice:
    """For a deadline at risk: sent with express, or picked up in the shop's
    store. Staff arrange it and the customer hears by when; the reminder before
    the express cut-off is no longer needed."""
    found = _own(work, asker, order_id, "choose_store_pickup" if store else "choose_express")
    if isinstance(found, Choice):
        return found
    location = work.settings.store_pickup_location
    if store and not location:
        # The shop has no store: a person helps on.
        return Choice([text(work.text("request_human", asker.language))])
    customer_id, order = found
    topic = "store_pickup" if store else "express"
    when = ask_a_colleague(work, customer_id, order.id, topic, asker.language)
    end_reminders(work.session, order.id, work.now)
    title = _title(work, order, asker.language)
    if store:
        said = work.text(
            "store_pickup_ok", asker.language, order=title, location=location, when=when
        )
    else:
        said = work.text("express_ok", asker.language, order=title, when=when)
    return Choice([text(said)])


def is_opted_out(work: Work, customer_id: int) -> bool:
    return work.session.get(OptOutRow, customer_id) is not None


def set_opted_out(work: Work, customer_id: int, opted_out: bool) -> None:
    """Warnings off from now on, or on again."""
    row = work.session.get(OptOutRow, customer_id)
    if not opted_out and row is not None:
        work.session.delete(row)
    elif opted_out and row is None:
        work.session.add(OptOutRow(customer_id=customer_id, opted_out_at=work.now))
    logger.info("customer %s opted %s", customer_id, "out" if opted_out else "in")
