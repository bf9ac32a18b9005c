"""What a warning says: what changed, why, who, the new date, and the choices.

Built when it is shown, in the customer's language, from the order system's
own events: never only "your order changed", never an invented reason, and
no marketing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.changes import all_problem_changes, changes_in
from bot.explain import Explainer
from bot.orders.model import Order
from bot.texts import Catalog

CHOICES = ("keep_order", "cancel_order", "choose_alternative", "request_human")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass
class WarningMessage:
    texts: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    order_id: int | None = None  # the order the choices are about


def choices_for(order: Order, catalog: Catalog, language: str) -> list[Button]:
    """Wait, cancel free of charge, an alternative, a person: while that is still possible."""
    if order.status not in ("placed", "processing", "changed"):
        return [Button(catalog.message("choice_request_human", language), "/request_human")]
    entity = json.dumps({"order_number": str(order.id)})
    return [
        Button(catalog.message(f"choice_{choice}", language), f"/{choice}{entity}")
        for choice in CHOICES
        if choice != "request_human"
    ] + [Button(catalog.message("choice_request_human", language), "/request_human")]


def compose_warning(
    kind: str,
    orders: list[Order],
    event_ids: list[int],
    catalog: Catalog,
    language: str,
    today: date,
    promised: date | None = None,
    promised_at: datetime | None = None,
) -> WarningMessage:
    """`promised`: the date a promise warning is about; `promised_at`: a callback's
    time, on the shop's clock."""
    explainer = Explainer(catalog, language, today)
    message = WarningMessage()
    for order in orders:
        title = explainer.order_title(order)
        if kind == "change":
            events = [event for event in order.events if event.id in set(event_ids)]
            changes = changes_in(order, events)
            opening = catalog.message("warning_change", language, order=title)
        else:
            # A promise at risk or broken: the reasons are whatever the order system has.
            changes = all_problem_changes(order)
            when = (
                explainer.moment(promised_at)
                if promised_at
                else explainer.date(promised or order.original_promised_date)
            )
            opening = catalog.message(f"warning_{kind}", language, order=title, date=when)
        explanation = explainer.explain(order, changes)
        facts = explanation.facts or [catalog.message("reason_not_recorded", language)]
        message.texts.append(" ".join([opening, *facts]))
        expected = catalog.message(
            f"expected_{order.fulfilment}",
            language,
            date=explainer.date(order.promised_date),
            location=order.pickup_location or "",
        )
        steps = [expected, *explanation.next_steps]
        message.texts.append(" ".join(steps))
    if orders:
        main = orders[0]
        message.order_id = main.id
        message.buttons = choices_for(main, catalog, language)
        message.texts.append(catalog.message("warning_choices", language))
    return message
