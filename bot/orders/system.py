"""What the assistant needs from a shop's order system, whatever stores it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.orders.model import Customer, Order


class OrderSystemUnavailable(RuntimeError):
    """The order system could not be reached or answered with an error.

    The message is for the log (ids only); customers get a friendly text.
    """


class OrderSystem(Protocol):
    def get_customer(self, customer_id: int) -> Customer | None: ...

    def get_order(self, order_id: int) -> Order | None: ...

    def orders_for_customer(self, customer_id: int) -> list[Order]: ...

    def verify_order(
        self, order_id: int, postcode: str | None = None, email: str | None = None
    ) -> bool:
        """True only when the order exists and the postcode or email matches it."""
        ...

    def cancel_order(self, order_id: int, reason: str) -> bool:
        """Cancel at the customer's request, free of charge, while the order has
        not shipped; False when it is too late or unknown. The shop records it
        as the customer's own change, with `reason`."""
        ...

    def request_follow_up(
        self, order_id: int, customer_id: int, topic: str, event_id: int | None
    ) -> int:
        """Ask shop staff to find out what the order system did not record."""
        ...


def orders_known_to(
    orders: OrderSystem, customer_id: int | None, verified_order_ids: Iterable[int]
) -> list[Order]:
    """All orders of a customer known by the shop's token or a registered
    address; else the orders verified in this conversation (that still exist).
    Raises OrderSystemUnavailable."""
    if customer_id is not None:
        return orders.orders_for_customer(customer_id)
    found = (orders.get_order(order_id) for order_id in verified_order_ids)
    return [order for order in found if order is not None]
