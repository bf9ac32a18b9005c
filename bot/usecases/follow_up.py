"""Ask a colleague: staff get a follow-up request in the shop's system, the
customer a time to hear back by, which the promise ledger holds us to."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.clock import shop_local
from bot.explain import Explainer
from bot.proactive.promises import promise_callback
from bot.usecases.asker import Asker
from bot.usecases.work import Work

logger = logging.getLogger(__name__)


def ask_a_colleague(
    work: Work,
    customer_id: int,
    order_id: int,
    topic: str,
    language: str,
    event_id: int | None = None,
) -> str:
    """Returns the time to hear back by, spoken. Raises OrderSystemUnavailable
    when the shop cannot record the request (then nothing is promised)."""
    work.orders.request_follow_up(order_id, customer_id, topic, event_id)
    due_at = work.now + timedelta(hours=work.settings.follow_up_hours)
    try:
        with work.session.begin_nested():
            promise_callback(work.session, customer_id, order_id, due_at, work.now)
    except SQLAlchemyError as error:
        # Told anyway: the follow-up itself is recorded in the shop's system.
        logger.error("callback promise for order %s not recorded: %s", order_id, error)
    explainer = Explainer(work.catalog, language, work.today)
    return explainer.moment(shop_local(due_at, work.settings.shop_timezone))


def find_missing_reason(work: Work, asker: Asker, order_id: int, event_id: int) -> str | None:
    """The customer accepted our offer to find out why an order changed: the
    time they hear back by, or None when the order is not theirs to ask about.
    Raises OrderSystemUnavailable."""
    order = work.orders.get_order(order_id)
    allowed = order is not None and (
        order.customer_id == asker.identity.customer_id
        or order_id in asker.identity.verified_order_ids
    )
    if not allowed or order is None:
        logger.warning("follow-up for order %s refused: not this customer's", order_id)
        return None
    return ask_a_colleague(
        work, order.customer_id, order_id, "missing_reason", asker.language, event_id
    )
