"""Answers to a customer's questions about their orders.

Plain Python over an OrderSystem: the Rasa actions only pass in who is asking,
what they asked and in which language, and send back what this returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from bot.changes import Change, all_problem_changes, changes_in, told_marker, unseen_changes
from bot.explain import Explainer
from bot.identity import Identity
from bot.orders.model import SHIPMENT_SETBACKS, Order
from bot.orders.remembered import RememberedOrders
from bot.orders.system import OrderSystemUnavailable, orders_known_to
from bot.texts import Catalog
from bot.which_order import order_named

logger = logging.getLogger(__name__)

QUESTIONS = ("changes", "status", "delivery_date", "why_late", "tracking", "list_orders")


@dataclass
class Reply:
    messages: list[str] = field(default_factory=list)
    # (order id, event id) of a change without a recorded reason: we offered to find out.
    follow_up_offer: tuple[int, int] | None = None
    # An order number the customer named but has not proved: ask for its postcode.
    verify_order_number: int | None = None
    # The orders the answer is about, as read for it (the offers look at the same).
    orders: list[Order] = field(default_factory=list)


class OrderAssistant:
    def __init__(
        self, orders: RememberedOrders, catalog: Catalog, language: str, today: date
    ) -> None:
        self.orders = orders
        self.catalog = catalog
        self.language = language
        self.today = today
        self.explainer = Explainer(catalog, language, today)

    def text(self, key: str, **values: object) -> str:
        return self.catalog.message(key, self.language, **values)

    def answer(
        self, question: str, identity: Identity, order_number: int | None, words: str = ""
    ) -> Reply:
        """Answer one question; an unreachable order system gets a clear apology.
        `words`: the customer's message, for the order it names among several."""
        if question not in QUESTIONS:
            question = "status"
        try:
            return self._answer(question, identity, order_number, words)
        except OrderSystemUnavailable as error:
            logger.warning("order system unavailable while answering %s: %s", question, error)
            return Reply([self.text("error_order_system_unavailable")])

    def _answer(
        self, question: str, identity: Identity, order_number: int | None, words: str
    ) -> Reply:
        visible = self._visible_orders(identity)
        if order_number is None:
            # "waar blijft de helm?": the helmet's order only.
            named = order_named(words, visible, self.today, self.language)
            order_number = named.id if named is not None else None
        if order_number is not None:
            chosen = [order for order in visible if order.id == order_number]
            if not chosen:
                if identity.customer_id is None:
                    # Not proved yet: ask for this order's postcode; disclose nothing.
                    return Reply(verify_order_number=order_number)
                return Reply([self.text("order_not_on_account", order_id=order_number)])
            visible = chosen
        if not visible:
            return Reply([self.text("order_none_found")])
        handler: Callable[[list[Order]], Reply] = getattr(self, f"_{question}")
        reply = handler(visible)
        reply.orders = visible
        return reply

    def _visible_orders(self, identity: Identity) -> list[Order]:
        return orders_known_to(self.orders, identity.customer_id, identity.verified_order_ids)

    def _relevant(self, orders: list[Order]) -> list[Order]:
        """Open orders, or the most recent one when none is open."""
        open_orders = [order for order in orders if order.is_open]
        return open_orders or sorted(orders, key=lambda o: o.placed_at)[-1:]

    # --- "what changed?" ------------------------------------------------

    def _changes(self, orders: list[Order]) -> Reply:
        reply = Reply()
        with_news = [order for order in orders if unseen_changes(order)]
        if with_news:
            for order in with_news:
                self._tell_changes(order, reply)
            return reply
        for order in self._relevant(orders):
            self._tell_nothing_changed(order, reply)
        return reply

    def _tell_changes(self, order: Order, reply: Reply) -> None:
        changes = unseen_changes(order)
        explanation = self.explainer.explain(order, changes)
        if all(change.is_progress for change in changes):
            opening = self.text("changes_news", order=self.explainer.order_title(order))
        else:
            opening = self.text("changes_sorry", order=self.explainer.order_title(order))
        reply.messages.append(" ".join([opening, *explanation.facts]))
        self._add_next_steps(order, explanation.next_steps, explanation.unexplained_event_id, reply)
        self._remember_told(order, changes)

    def _remember_told(self, order: Order, told: list[Change]) -> None:
        """Move the "customer knows up to here" marker past what was just told."""
        marker = told_marker(order, told)
        if marker is not None:
            self.orders.mark_informed(order.id, marker)

    def _add_next_steps(
        self, order: Order, next_steps: list[str], unexplained: int | None, reply: Reply
    ) -> None:
        steps = list(next_steps)
        if self._is_late(order) and self._can_still_choose(order):
            steps.append(self.text("options_setback"))
        if unexplained is not None:
            steps.append(self.text("reason_offer_to_find_out"))
            reply.follow_up_offer = (order.id, unexplained)
        if steps:
            reply.messages.append(" ".join(steps))

    def _is_late(self, order: Order) -> bool:
        """Open, and later than first promised, overdue, or missing an item."""
        if not order.is_open:
            return False
        moved = (
            order.promised_date is not None
            and order.original_promised_date is not None
            and order.promised_date > order.original_promised_date
        )
        overdue = order.promised_date is not None and order.promised_date < self.today
        missing = any(line.status == "out_of_stock" for line in order.lines)
        return moved or overdue or missing

    def _can_still_choose(self, order: Order) -> bool:
        """Not shipped yet: waiting, cancelling or an alternative are still possible."""
        return order.status in ("placed", "processing", "changed")

    def _tell_nothing_changed(self, order: Order, reply: Reply) -> None:
        title = self.explainer.order_title(order)
        recap = all_problem_changes(order)
        if not recap:
            reply.messages.append(
                " ".join([self.text("changes_none", order=title), self._state_sentence(order)])
            )
            return
        explanation = self.explainer.explain(order, recap)
        reply.messages.append(
            " ".join([self.text("changes_none_since_told", order=title), *explanation.facts])
        )
        self._add_next_steps(order, explanation.next_steps, explanation.unexplained_event_id, reply)

    # --- status, dates, lateness, tracking, overview -----------------------

    def _state_sentence(self, order: Order) -> str:
        if order.status in ("delivered", "picked_up"):
            return self.text(f"state_{order.status}", date=self._delivered_on(order))
        if order.status == "cancelled":
            return self.text("state_cancelled")
        return self.text(
            f"expected_{order.fulfilment}",
            date=self.explainer.date(order.promised_date),
            location=order.pickup_location or "",
        )

    def _delivered_on(self, order: Order) -> str:
        """The day a delivered or picked-up order arrived, spoken."""
        day = order.delivered_at.date() if order.delivered_at else order.promised_date
        return self.explainer.date(day)

    def _status(self, orders: list[Order]) -> Reply:
        reply = Reply()
        for order in self._relevant(orders):
            if unseen_changes(order):
                # A changed order's status is its change: never just "gewijzigd".
                self._tell_changes(order, reply)
                continue
            status_key = order.status if order.status != "changed" else "processing"
            # Where the parcel is now beats why the date moved before.
            why = self._parcel_news(order) if order.shipments else []
            reply.messages.append(
                " ".join(
                    [
                        *self._status_sentences(order, status_key),
                        *(why or self._latest_reason(order)),
                    ]
                )
            )
        return reply

    def _status_sentences(self, order: Order, status_key: str) -> list[str]:
        """Where the order is and when: "Je bestelling ... is op maandag 23
        november bezorgd." as one sentence, not "is bezorgd. Bezorgd op ..."."""
        title = self.explainer.order_title(order)
        if order.status in ("delivered", "picked_up"):
            return [
                self.text(f"status_{order.status}_on", order=title, date=self._delivered_on(order))
            ]
        return [self.text(f"status_{status_key}", order=title), self._state_sentence(order)]

    def _latest_reason(self, order: Order) -> list[str]:
        """The reason of the latest date move, if the order is later than first promised."""
        if not self._is_late(order):
            return []
        recap = [c for c in all_problem_changes(order) if c.kind in ("date_moved", "out_of_stock")]
        if not recap:
            return []
        whys, _nexts, _missing = self.explainer.why(order, recap[-1])
        self._remember_told(order, recap[-1:])
        return whys

    def _delivery_date(self, orders: list[Order]) -> Reply:
        reply = Reply()
        for order in self._relevant(orders):
            parts = [self.explainer.order_title(order) + ":", self._state_sentence(order)]
            if (
                order.is_open
                and order.original_promised_date
                and order.promised_date
                and order.original_promised_date != order.promised_date
            ):
                parts.append(
                    self.text(
                        "expected_was", date=self.explainer.date(order.original_promised_date)
                    )
                )
                parts.extend(self._latest_reason(order))
            reply.messages.append(" ".join(parts))
        return reply

    def _why_late(self, orders: list[Order]) -> Reply:
        reply = Reply()
        late = [order for order in self._relevant(orders) if self._is_late(order)]
        if not late:
            for order in self._relevant(orders):
                reply.messages.append(
                    " ".join(
                        [
                            self.text("late_not_late", order=self.explainer.order_title(order)),
                            self._state_sentence(order),
                        ]
                    )
                )
            return reply
        for order in late:
            recap = all_problem_changes(order)
            explanation = self.explainer.explain(order, recap)
            opening = self.text("late_sorry", order=self.explainer.order_title(order))
            facts = explanation.facts or [self.text("reason_not_recorded")]
            if not order.is_open:
                first, steps = [self._state_sentence(order)], explanation.next_steps
            elif self.explainer.names_new_date(order, recap):
                # The new date is said: where to pick it up goes with what now.
                first, steps = [], [*self.explainer.expected(order, recap), *explanation.next_steps]
            else:
                first, steps = self.explainer.expected(order, recap), explanation.next_steps
            reply.messages.append(" ".join([opening, *facts, *first]))
            unexplained = explanation.unexplained_event_id
            if not recap and order.events:
                unexplained = order.events[-1].id
            self._add_next_steps(order, steps, unexplained, reply)
            self._remember_told(order, recap)
        return reply

    def _parcel_news(self, order: Order) -> list[str]:
        """The carrier's latest word when it is a problem the customer must know
        (a failed attempt, customs, returned, at a pickup point): what, why and
        what now, whenever they ask where the parcel is; it counts as told."""
        latest = next((e for e in reversed(order.events) if e.field == "shipment_status"), None)
        if latest is None or latest.new_value not in SHIPMENT_SETBACKS:
            return []
        news = changes_in(order, [latest])
        explanation = self.explainer.explain(order, news)
        self._remember_told(order, news)
        return [*explanation.facts, *explanation.next_steps]

    def _tracking(self, orders: list[Order]) -> Reply:
        reply = Reply()
        for order in self._relevant(orders):
            title = self.explainer.order_title(order)
            if order.shipments:
                messages = self._parcels(order, title)
                # The carrier's latest problem goes with the parcel it is about.
                messages[-1] = " ".join([messages[-1], *self._parcel_news(order)])
                reply.messages.extend(messages)
            elif order.fulfilment == "pickup":
                reply.messages.append(
                    " ".join(
                        [self.text("tracking_pickup", order=title), self._state_sentence(order)]
                    )
                )
            else:
                reply.messages.append(
                    " ".join(
                        [
                            self.text("tracking_not_shipped", order=title),
                            self._state_sentence(order),
                        ]
                    )
                )
        return reply

    def _parcels(self, order: Order, title: str) -> list[str]:
        """A tracking link per parcel that has one; else the carrier and the state."""
        links = [s for s in order.shipments if s.tracking_url]
        if links:
            return [
                self.text("tracking_link", order=title, carrier=s.carrier, url=s.tracking_url)
                for s in links
            ]
        carrier = order.shipments[-1].carrier
        return [
            " ".join(
                [
                    self.text("tracking_no_link", order=title, carrier=carrier),
                    self._state_sentence(order),
                ]
            )
        ]

    def _list_orders(self, orders: list[Order]) -> Reply:
        lines = [self.text("orders_heading", count=len(orders))]
        for order in sorted(orders, key=lambda o: o.placed_at, reverse=True):
            lines.append(
                self.text(
                    "orders_line",
                    order_id=order.id,
                    products=order.product_summary,
                    status=self.text(f"status_label_{order.status}"),
                    state=self._state_sentence(order),
                )
            )
        return Reply(["\n".join(lines)])
