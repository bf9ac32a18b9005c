"""Hand over to a person: the handoff queue gets the whole story, the customer
hears when a person answers (a promise the watcher holds us to), and a
helpdesk ticket follows when the shop uses Zendesk."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from bot.clock import shop_local
from bot.deadlines.service import deadlines_for
from bot.explain import Explainer
from bot.handoff import queue
from bot.handoff.conversation import customers_words
from bot.handoff.hours import ServiceHours
from bot.handoff.queue import HandoffRequest, Said
from bot.handoff.zendesk import open_ticket
from bot.orders.system import OrderSystemUnavailable
from bot.proactive.promises import promise_callback
from bot.usecases.asker import Asker, customer_of, identified_orders
from bot.usecases.said import Message, text
from bot.usecases.work import Work

logger = logging.getLogger(__name__)


@dataclass
class HandedOver:
    said: list[Message] = field(default_factory=list)
    handoff_id: int | None = None  # None: the queue could not take it; the assistant stays


def _orders_of(work: Work, asker: Asker) -> list[int]:
    try:
        return [order.id for order in identified_orders(work, asker)]
    except OrderSystemUnavailable:
        return list(asker.identity.verified_order_ids)


def hand_over(work: Work, asker: Asker, reason: str, said: list[Said]) -> HandedOver:
    """Queue the handoff with the conversation so far (`said`). When the queue
    cannot be written, say how to reach the shop instead: the customer is never
    left hanging."""
    settings, language, now = work.settings, asker.language, work.now
    hours = ServiceHours(
        settings.service_days, settings.service_start, settings.service_end, settings.shop_timezone
    )
    opening, answer_by = hours.answer_window(now, settings.handoff_answer_minutes)
    customer_id = customer_of(work, asker)
    order_ids = _orders_of(work, asker)
    deadlines = [d.day for d in deadlines_for(work.session, order_ids).values()]
    request = HandoffRequest(
        reason=reason,
        mood=asker.mood,
        language=language,
        customer_id=customer_id,
        order_ids=order_ids,
        question=customers_words(said),
        said=said,
        deadline=min(deadlines, default=None),  # the most urgent one
        sender_id=asker.address,
        channel=asker.channel or None,
    )
    try:
        with work.session.begin_nested():
            handoff_id = queue.open_handoff(work.session, request, now)
            if customer_id is not None:
                order_id = order_ids[0] if len(order_ids) == 1 else None
                promise = promise_callback(work.session, customer_id, order_id, answer_by, now)
                work.session.flush()
                queue.set_promise(work.session, handoff_id, promise.id)
    except SQLAlchemyError as error:
        logger.error("handoff not queued: %s", type(error).__name__)
        return HandedOver([text(work.text("request_human", language))])
    logger.info("handoff %s queued (%s, %s)", handoff_id, reason, asker.mood)
    if settings.zendesk_url:
        work.after_commit(lambda: _ticket(work, handoff_id, request))

    messages = []
    if asker.mood == "angry":
        messages.append(text(work.text("handoff_sorry", language)))
    if reason == "not_understood":
        messages.append(text(work.text("handoff_not_understood", language)))
    explainer = Explainer(work.catalog, language, work.today)
    time = explainer.moment(shop_local(answer_by, settings.shop_timezone))
    if opening == now:
        messages.append(text(work.text("handoff_now", language, time=time)))
    else:
        when = explainer.moment(shop_local(opening, settings.shop_timezone))
        messages.append(text(work.text("handoff_later", language, when=when, time=time)))
    return HandedOver(messages, handoff_id)


def _ticket(work: Work, handoff_id: int, request: HandoffRequest) -> None:
    """After the commit: the helpdesk may be slow, the queue is the record."""
    ticket = open_ticket(work.settings, handoff_id, request)
    if ticket:
        with work.session.begin():  # the unit's own transaction has committed
            queue.set_ticket(work.session, handoff_id, ticket)
