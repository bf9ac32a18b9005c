"""The intake API: what changed in the shop's orders, applied once.

  POST /api/v1/supplier-delays            a supplier delay for every open order it affects
  POST /api/v1/orders/{order_id}/events   one change of one order (the order system's webhook)

Both take an `Idempotency-Key` header (bot/web/idempotency.py): the same key
gets the first answer again and moves nothing twice. The work runs off the
event loop; Zendesk hears of the handoffs an intake opened after the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.handoff import queue
from bot.handoff.queue import HandoffRequest
from bot.handoff.zendesk import open_ticket
from bot.orders.model import Order
from bot.orders.system import OrderSystem, OrderSystemUnavailable
from bot.proactive.intake import IntakeError, IntakeResult, UnknownOrder
from bot.settings import Settings
from bot.usecases.order_changes import apply_change, apply_delay
from bot.web import idempotency
from bot.web.blocking import off_loop
from bot.web.idempotency import Answer, KeyInProgress, KeyReused
from bot.web.requests import (
    OrderEventBody,
    SupplierDelayBody,
    ValidationError,
    field_errors,
    invalid,
    json_body,
    known_id,
)

logger = logging.getLogger(__name__)

# Expired Idempotency-Keys are deleted at most this often (per process).
CLEANUP_SECONDS = 600.0


def _delay_answer(result: IntakeResult) -> dict[str, Any]:
    return {
        "affected": len(result.order_ids),
        "order_ids": result.order_ids,
        "warnings_queued": len(result.warning_ids),
        "warning_ids": result.warning_ids,
        "handoff_ids": result.handoff_ids,
    }


def _event_answer(order_id: int, result: IntakeResult) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "event_ids": result.event_ids,
        "warnings_queued": len(result.warning_ids),
        "warning_ids": result.warning_ids,
        "handoff_ids": result.handoff_ids,
    }


class Intake:
    """The two intake calls' transactions, once per Idempotency-Key when one is given."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._cleaned_at = float("-inf")

    def run(
        self,
        key: str | None,
        endpoint: str,
        fingerprint: str,
        now: datetime,
        work: Callable[[Session], Answer],
    ) -> Answer:
        if key is None:
            with self.sessions() as session, session.begin():
                return work(session)
        answer = idempotency.run_once(
            self.sessions,
            key=key,
            endpoint=endpoint,
            fingerprint=fingerprint,
            now=now,
            hours=self.settings.idempotency_hours,
            work=work,
        )
        self._forget_expired(now)
        return answer

    def _forget_expired(self, now: datetime) -> None:
        if time.monotonic() - self._cleaned_at < CLEANUP_SECONDS:
            return
        self._cleaned_at = time.monotonic()
        try:
            gone = idempotency.forget_expired(self.sessions, now)
        except SQLAlchemyError as error:
            logger.warning("expired idempotency keys not deleted: %s", type(error).__name__)
            return
        if gone:
            logger.info("%d expired idempotency keys deleted", gone)


def open_intake_ticket(
    settings: Settings, sessions: sessionmaker[Session], handoff_id: int
) -> None:
    """A Zendesk ticket for a handoff the intake opened (a deadline now at risk)."""
    handoff = queue.get_handoff(sessions, handoff_id)
    if handoff is None or handoff.ticket_ref:
        return
    request = HandoffRequest(
        reason=handoff.reason,
        mood=handoff.mood,
        language=handoff.language,
        customer_id=handoff.customer_id,
        order_ids=handoff.order_ids,
        question=handoff.question,
        said=handoff.said,
        deadline=handoff.deadline,
        sender_id=handoff.sender_id,
        channel=handoff.channel,
    )
    ticket = open_ticket(settings, handoff_id, request)
    if ticket:
        with sessions.begin() as session:
            queue.set_ticket(session, handoff_id, ticket)


def add_intake_api(
    app: Sanic, settings: Settings, sessions: sessionmaker[Session], shop: OrderSystem
) -> None:
    """`shop` is read for a reported change when the orders live in the shop's
    own system (ORDER_SYSTEM=http); the demo shop's are changed here."""
    shop_applies_changes = settings.order_system != "sql"
    intake = Intake(settings, sessions)
    background: set[asyncio.Task[None]] = set()

    def open_tickets(handoff_ids: list[int]) -> None:
        """Zendesk, when set up, hears of the handoffs the intake opened; after the
        answer, so a slow helpdesk never holds up the order system."""
        if not settings.zendesk_url or not handoff_ids:
            return

        async def tickets() -> None:
            for handoff_id in handoff_ids:
                try:
                    await off_loop(open_intake_ticket, settings, sessions, handoff_id)
                except Exception as error:  # noqa: BLE001 - the queue stays the record
                    logger.error("ticket for handoff %s: %s", handoff_id, type(error).__name__)

        task = asyncio.create_task(tickets())
        background.add(task)
        task.add_done_callback(background.discard)

    async def run_intake(
        request: Request, endpoint: str, data: Any, work: Callable[[Session], Answer]
    ) -> HTTPResponse:
        """`work` once (per Idempotency-Key, when given), off the event loop."""
        key = request.headers.get(idempotency.HEADER)
        if key is not None:
            key = key.strip()
            problem = idempotency.key_problem(key)
            if problem:
                return invalid([{"field": idempotency.HEADER, "error": problem}])
        fingerprint = idempotency.request_hash(request.path, data)
        try:
            # Without a key a lost commit cannot be told from a failed one: no retry.
            answer = await off_loop(
                intake.run, key, endpoint, fingerprint, utcnow(), work, retry=key is not None
            )
        except UnknownOrder as error:
            return json_response({"error": str(error)}, status=404)
        except IntakeError as error:
            return invalid([{"field": "body", "error": str(error)}])
        except KeyReused:
            return invalid(
                [
                    {
                        "field": idempotency.HEADER,
                        "error": "was used before with another request",
                    }
                ]
            )
        except KeyInProgress:
            return json_response(
                {"error": "a request with this Idempotency-Key is still in progress"}, status=409
            )
        response = json_response(answer.body, status=answer.status)
        if answer.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        else:
            open_tickets(list(answer.body.get("handoff_ids") or []))
        return response

    @app.post("/api/v1/supplier-delays")
    async def supplier_delays(request: Request) -> HTTPResponse:
        if shop_applies_changes:
            # The assistant cannot move the shop's dates: the shop does, and
            # reports each order's change.
            return json_response(
                {
                    "error": f"with ORDER_SYSTEM={settings.order_system} the shop moves its own "
                    "orders: report "
                    "each order's change with POST /api/v1/orders/{id}/events"
                },
                status=409,
            )
        data = json_body(request)
        if not isinstance(data, dict):
            return invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            delay = SupplierDelayBody(**data).to_delay()
        except ValidationError as error:
            return invalid(field_errors(error))
        now = utcnow()

        def work(session: Session) -> Answer:
            result = apply_delay(session, delay, now)
            logger.info(
                "supplier delay: %d orders moved, %d warnings queued",
                len(result.order_ids),
                len(result.warning_ids),
            )
            return Answer(202, _delay_answer(result))

        return await run_intake(request, "supplier-delays", data, work)

    @app.post("/api/v1/orders/<order_id:int>/events")
    async def order_events(request: Request, order_id: int) -> HTTPResponse:
        if not known_id(order_id):
            return json_response({"error": f"order {order_id} not found"}, status=404)
        data = json_body(request)
        if not isinstance(data, dict):
            return invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            change = OrderEventBody(**data).to_change(order_id)
        except ValidationError as error:
            return invalid(field_errors(error))
        now = utcnow()
        order: Order | None = None  # the demo shop's tables take the change
        if shop_applies_changes:
            try:
                order = await off_loop(shop.get_order, order_id, retry=False)
            except OrderSystemUnavailable:
                return json_response({"error": "the order system is unavailable"}, status=503)
            if order is None:
                return json_response({"error": f"order {order_id} not found"}, status=404)

        def work(session: Session) -> Answer:
            result = apply_change(session, change, now, order)
            return Answer(202, _event_answer(order_id, result))

        return await run_intake(request, "order-events", data, work)
