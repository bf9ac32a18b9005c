"""Show a warning in a conversation: once, to its own customer, about the
orders this conversation may hear about; the offers a setback earns with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.channels.receipts import AGAIN_KEY, WARNING_KEY
from bot.channels.whatsapp import template_message
from bot.clock import shop_local
from bot.deadlines.service import deadlines_for
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.compose import compose_warning
from bot.proactive.delivery import orders_of_warning, take_for_showing, unshown_for
from bot.usecases.asker import Asker
from bot.usecases.offers import WARNING_KINDS, offers_for
from bot.usecases.said import Button, Message
from bot.usecases.work import Work

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewer:
    """The conversation a warning is shown in."""

    customer_id: int
    address: str  # its sender id
    language: str
    # The orders it may hear about: None for all of the customer's.
    allowed: frozenset[int] | None = None
    # WhatsApp outside its 24 hours: the template to send instead of free text.
    template: str | None = None

    @classmethod
    def of(cls, asker: Asker, customer_id: int, template: str | None = None) -> Viewer:
        return cls(customer_id, asker.address, asker.language, asker.visible, template)


@dataclass(frozen=True)
class ShownWarning:
    warning_id: int
    message: Message
    order_id: int | None  # the order the warning's choices are about
    order_ids: tuple[int, ...] = ()  # every order it tells of


def customer_language(work: Work, customer_id: int) -> str:
    """The language the shop has for the customer (their conversation did not
    set one); the shop's default when the order system cannot say."""
    try:
        customer = work.orders.get_customer(customer_id)
    except OrderSystemUnavailable:
        customer = None
    return customer.language if customer is not None else work.settings.default_language


def show_warning(
    work: Work, viewer: Viewer, warning_id: int, recorded_here: bool
) -> ShownWarning | None:
    """Mark the warning shown and compose it; None when it was shown before (a
    retried push), is not this customer's, or is about an order this
    conversation did not verify (it waits for its customer).
    `recorded_here`: the conversation's own record says it showed it."""
    if (
        viewer.allowed is not None
        and not set(orders_of_warning(work.session, warning_id)) <= viewer.allowed
    ):
        logger.info("warning %s waits: this conversation verified other orders", warning_id)
        return None
    shown = take_for_showing(
        work.session,
        warning_id,
        viewer.customer_id,
        viewer.address,
        work.now,
        recorded_here=recorded_here,
    )
    if shown is None:
        return None
    language = viewer.language
    orders = [order for order in map(work.orders.get_order, shown.order_ids) if order]
    # Making up for it, recorded once: a warning shown again offers nothing new.
    offers = offers_for(work, orders, language, "warning") if shown.kind in WARNING_KINDS else []
    composed = compose_warning(
        shown.kind,
        orders,
        shown.event_ids,
        work.catalog,
        language,
        work.today,
        promised=shown.promised,
        promised_at=(
            shop_local(shown.promised_at, work.settings.shop_timezone)
            if shown.promised_at
            else None
        ),
        deadlines=deadlines_for(work.session, shown.order_ids),
        offers=offers,
    )
    logger.info("warning %s shown to customer %s", warning_id, viewer.customer_id)
    # For the channel's receipt (bot/channels/receipts.py); never shown.
    receipt = {WARNING_KEY: warning_id, AGAIN_KEY: shown.again}
    if not composed.texts:
        message = Message(extra=receipt)
    elif viewer.template is not None:
        custom = template_message(viewer.template, work.settings.shop_name, composed.texts)
        message = Message(custom=custom, extra=receipt)
    else:
        # One message per change: on a phone, one notification rather than three.
        buttons = tuple(Button(b.title, b.payload) for b in composed.buttons)
        message = Message("\n\n".join(composed.texts), buttons, extra=receipt)
    return ShownWarning(warning_id, message, composed.order_id, tuple(shown.order_ids))


def show_unshown(work: Work, viewer: Viewer, shown_here: list[int]) -> list[ShownWarning]:
    """The warnings the customer has not seen yet (at the next visit or reply),
    oldest first, each marked shown; `shown_here` as recorded_here above."""
    waiting = unshown_for(work.session, viewer.customer_id, viewer.allowed)
    shown = (show_warning(work, viewer, i, recorded_here=i in shown_here) for i in waiting)
    return [warning for warning in shown if warning is not None]
