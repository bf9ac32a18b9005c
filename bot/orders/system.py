"""What the assistant needs from a shop's order system, whatever stores it."""

from __future__ import annotations

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
