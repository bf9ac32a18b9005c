"""Who is asking, and which of the shop's orders they may hear about and act on.

A customer known by the shop's signed token or an address the shop registered
hears about all their orders; someone who verified one order by its number and
postcode hears about that order only (the signed proof, while it lasts)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.identity import Identity
from bot.orders.model import Order
from bot.orders.system import OrderSystemUnavailable, orders_known_to
from bot.usecases.work import Work

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asker:
    identity: Identity
    language: str
    address: str = ""  # the conversation's sender id on its channel
    channel: str = ""
    mood: str = "calm"  # calm, upset or angry (bot/handoff/mood.py)
    order_number: int | None = None  # an order named in this message
    words: str = ""  # what they wrote ("" for a button): which order they mean

    @property
    def visible(self) -> frozenset[int] | None:
        """The orders this asker may hear about: None for all of the customer's
        (a token or a registered address), else the verified ones."""
        if self.identity.customer_id is not None:
            return None
        return frozenset(self.identity.verified_order_ids)


def customer_of(work: Work, asker: Asker) -> int | None:
    """The customer behind the asker: from the token or registered address, or
    the owner of a verified order. None when unknown, or the shop is away."""
    if asker.identity.customer_id is not None:
        return asker.identity.customer_id
    try:
        for order_id in asker.identity.verified_order_ids:
            order = work.orders.get_order(order_id)
            if order is not None:
                return order.customer_id
    except OrderSystemUnavailable:
        logger.info("customer of a verified order unknown: order system unavailable")
    return None


def may_act_on(asker: Asker, order: Order, customer_id: int) -> bool:
    """Whether this asker may act on (wait for, cancel, ...) this order."""
    visible = asker.visible
    return order.customer_id == customer_id and (visible is None or order.id in visible)


def identified_orders(work: Work, asker: Asker) -> list[Order]:
    """The orders the asker is known to own: all of a customer with a token or a
    registered address, else the verified ones; when the message names an order,
    only that one. Raises OrderSystemUnavailable."""
    identity = asker.identity
    orders = orders_known_to(work.orders, identity.customer_id, identity.verified_order_ids)
    if asker.order_number is not None:
        return [order for order in orders if order.id == asker.order_number]
    return orders
