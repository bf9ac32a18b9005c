"""What a warning says: what changed, why, who, the new date, and the choices.

Built when it is shown, in the customer's language, from the order system's
own events: never only "your order changed", never an invented reason, and
no marketing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.changes import all_problem_changes, changes_in
from bot.compensation.present import OfferLine
from bot.compensation.rules import UpsellError, check_no_upsell
from bot.deadlines.service import Deadline
from bot.explain import Explainer
from bot.orders.model import Order
from bot.texts import Catalog

logger = logging.getLogger(__name__)

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
    deadlines: dict[int, Deadline] | None = None,
    offers: list[OfferLine] | None = None,
) -> WarningMessage:
    """`promised`: the date a promise warning is about; `promised_at`: a callback's
    time, on the shop's clock."""
    explainer = Explainer(catalog, language, today)
    deadlines = deadlines or {}
    if kind == "cutoff_reminder":
        return _cutoff_reminder(orders, deadlines, catalog, language, explainer, promised_at)
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
        threatened = deadline_threatened(order, deadlines.get(order.id), explainer)
        if threatened:
            facts = [*facts, threatened]
        message.texts.append(" ".join([opening, *facts]))
        steps = [*explainer.expected(order, changes), *explanation.next_steps]
        message.texts.append(" ".join(steps))
    if orders:
        main = orders[0]
        message.order_id = main.id
        message.buttons = choices_for(main, catalog, language)
        message.texts.append(catalog.message("warning_choices", language))
    return with_offers(message, offers or [])


def deadline_threatened(
    order: Order, deadline: Deadline | None, explainer: Explainer
) -> str | None:
    """The customer told us a deadline and the order's date now passes it."""
    if deadline is None or not order.is_open or order.promised_date is None:
        return None
    if order.promised_date <= deadline.day:
        return None
    purpose = (
        explainer.text("deadline_purpose", purpose=deadline.purpose) if deadline.purpose else ""
    )
    return explainer.text(
        "warning_deadline_threatened", deadline=explainer.date(deadline.day), purpose=purpose
    )


def _cutoff_reminder(
    orders: list[Order],
    deadlines: dict[int, Deadline],
    catalog: Catalog,
    language: str,
    explainer: Explainer,
    cutoff: datetime | None,
) -> WarningMessage:
    """'Choose express before 17:00': only while it still matters."""
    message = WarningMessage()
    order = orders[0] if orders else None
    deadline = deadlines.get(order.id) if order else None
    if order is None or deadline is None or cutoff is None or not order.is_open:
        return message  # nothing to remind of any more
    message.order_id = order.id
    message.texts.append(
        catalog.message(
            "warning_cutoff_reminder",
            language,
            order=explainer.order_title(order),
            date=explainer.date(deadline.day),
            time=cutoff.strftime("%H:%M"),
        )
    )
    entity = json.dumps({"order_number": str(order.id)})
    message.buttons = [
        Button(catalog.message("choice_express", language), f"/choose_express{entity}"),
        Button(catalog.message("choice_request_human", language), "/request_human"),
    ]
    return message


def with_offers(message: WarningMessage, offers: list[OfferLine]) -> WarningMessage:
    """Offers to make up for it, each with a button to accept, before the choices;
    never in a message that promotes a product."""
    if not offers or not message.texts:
        return message
    texts = [*message.texts[:-1], *(offer.text for offer in offers), message.texts[-1]]
    try:
        check_no_upsell(texts)
    except UpsellError:
        logger.error("compensation left out of a warning: it would stand beside a promotion")
        return message
    message.texts = texts
    # After the choices: "1. Ik wacht" stays the first choice, on every channel.
    message.buttons = message.buttons + [Button(o.accept_title, o.payload) for o in offers]
    return message
