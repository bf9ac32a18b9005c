"""Answer a customer's question about their orders: status, dates, what
changed, tracking, the overview; with what the shop's rules give to make up
for a delay, offered once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.answers import OrderAssistant
from bot.compensation.rules import UpsellError, check_no_upsell
from bot.orders.model import Order
from bot.usecases.asker import Asker
from bot.usecases.offers import offers_for
from bot.usecases.said import Button, Message, text
from bot.usecases.work import Work

logger = logging.getLogger(__name__)

# Answers about a delay, where an offer to make up for it belongs. A warning
# says the same (what changed, why, the new date): shown in this turn, it is
# the answer.
OFFER_AFTER = ("changes", "why_late", "delivery_date", "status")


@dataclass
class Answered:
    said: list[Message] = field(default_factory=list)
    # An order number the asker named but has not proved: ask for its postcode.
    verify_order_number: int | None = None
    # (order id, event id) of a change without a recorded reason: we offered to find out.
    follow_up_offer: tuple[int, int] | None = None


def answer_question(
    work: Work, asker: Asker, question: str, warned: frozenset[int] = frozenset()
) -> Answered:
    """The answer, for an asker who is identified (a token, a registered
    address or a verified order). An unreachable shop gets a clear apology.
    `warned`: orders a warning shown in this turn told of; when the answer would
    only say again what it said, it says nothing (each fact once per turn)."""
    assistant = OrderAssistant(work.orders, work.catalog, asker.language, work.today)
    reply = assistant.answer(question, asker.identity, asker.order_number, asker.words)
    if reply.verify_order_number is not None:
        return Answered(verify_order_number=reply.verify_order_number)
    apology = [text(work.text("upset_apology", asker.language))] if asker.mood == "upset" else []
    if question in OFFER_AFTER and reply.orders and {o.id for o in reply.orders} <= warned:
        return Answered(apology)
    said = [*apology, *(text(message) for message in reply.messages)]
    if question in OFFER_AFTER:
        said += offers_after(work, asker, reply.orders, reply.messages)
    return Answered(said, follow_up_offer=reply.follow_up_offer)


def offers_after(work: Work, asker: Asker, orders: list[Order], answer: list[str]) -> list[Message]:
    """After an answer about a delay (`orders`: the orders it is about): what
    the rules give and was not offered yet, each with a button to accept it."""
    lines = offers_for(
        work, [order for order in orders if order.is_open], asker.language, "conversation"
    )
    if not lines:
        return []
    try:
        check_no_upsell([*answer, *(line.text for line in lines)])
    except UpsellError:
        logger.error("compensation kept back: the answer promotes something")
        return []
    return [text(line.text, Button(line.accept_title, line.payload)) for line in lines]
