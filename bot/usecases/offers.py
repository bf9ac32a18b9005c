"""Making up for a setback: what the shop's rules give and was not offered
before, recorded once, as lines to show; and the customer's "yes please"."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.compensation.ledger import Offered, accept, offer_compensations
from bot.compensation.present import OfferLine, money, offer_lines
from bot.compensation.rules import Policy, load_policy
from bot.orders.model import Order
from bot.usecases.work import Work

logger = logging.getLogger(__name__)

# Warnings about a setback, where an offer belongs (not a reminder or a callback).
WARNING_KINDS = ("change", "promise_at_risk", "promise_broken")


@lru_cache(maxsize=4)
def _policy(path: Path) -> Policy:
    return load_policy(path)


def policy(work: Work) -> Policy:
    return _policy(work.settings.compensation_rules_path)


def offers_for(work: Work, orders: list[Order], language: str, offered_in: str) -> list[OfferLine]:
    """Record what these orders earn now and was not offered before; as lines to
    show. A database failure costs the offer, never the rest of the unit."""
    rules = policy(work)
    made: list[Offered] = []
    try:
        with work.session.begin_nested():
            for order in orders:
                made += offer_compensations(work.session, rules, order, work.now, offered_in)
    except SQLAlchemyError as error:
        logger.error("compensation not recorded: %s", type(error).__name__)
        return []
    for offer in made:
        logger.info(
            "compensation %s (%s) offered for order %s", offer.id, offer.rule, offer.order_id
        )
    return offer_lines(rules, made, language)


def accept_offer(
    work: Work, compensation_id: int | None, customer_id: int, language: str
) -> str | None:
    """The customer's "yes please", recorded on the offer: what to say, or None
    when the offer is not theirs (or its rule is gone)."""
    taken = accept(work.session, compensation_id, customer_id, work.now)
    rule = policy(work).rule(taken.rule) if taken else None
    if taken is None or rule is None:
        return None
    logger.info("compensation %s accepted by customer %s", taken.id, customer_id)
    return rule.text("accepted", language, money(taken.value_cents, taken.currency, language))
