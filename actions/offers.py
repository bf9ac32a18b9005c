"""Offers to make up for a setback: the rules, recorded once, as lines to show."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from actions.services import Services
from bot.clock import utcnow
from bot.compensation.ledger import record_offers
from bot.compensation.present import OfferLine, offer_lines
from bot.compensation.rules import Policy, load_policy
from bot.orders.model import Order

logger = logging.getLogger(__name__)

# Warnings about a setback, where an offer belongs (not a reminder or a callback).
WARNING_KINDS = ("change", "promise_at_risk", "promise_broken")


@lru_cache(maxsize=4)
def _policy(path: Path) -> Policy:
    return load_policy(path)


def policy(found: Services) -> Policy:
    return _policy(found.settings.compensation_rules_path)


def offers_for(
    found: Services, orders: list[Order], language: str, offered_in: str
) -> list[OfferLine]:
    """Record what these orders earn now and was not offered before; as lines to show.
    A database failure costs the offer, never the answer."""
    rules = policy(found)
    try:
        made = record_offers(found.sessions, rules, orders, utcnow(), offered_in)
    except SQLAlchemyError as error:
        logger.error("compensation not recorded: %s", type(error).__name__)
        return []
    for offer in made:
        logger.info(
            "compensation %s (%s) offered for order %s", offer.id, offer.rule, offer.order_id
        )
    return offer_lines(rules, made, language)
