"""The web service (Sanic, already part of Rasa 3.6): intake API and outbox.

  POST /api/v1/supplier-delays            a supplier delay for every open order it affects
  POST /api/v1/orders/{order_id}/events   one change of one order (the order system's webhook)
  GET  /api/v1/outbox?status=dead         warnings, and counts per status
  POST /api/v1/outbox/{warning_id}/retry  put a dead warning back in the queue
  PUT  /api/v1/customers/{id}/channels     an address the shop knows (Telegram chat id, ...)
  GET  /api/v1/promises?status=open        the promise ledger
  POST /api/v1/promises/{promise_id}/kept  staff kept a promise (called back, answered)
  GET  /shop, /shop/orders, /shop/orders/{id}   the demo shop site (bot/web/site.py),
                                          only with DEMO_SHOP=true
  GET  /staff, /staff/api/stats           the staff dashboard behind a login (bot/web/staff.py)
  GET  /staff/handoffs[/{id}]              handoffs: claim, reply, hand back (staff_handoffs.py)
  GET  /health

Every /api call needs `Authorization: Bearer ORDER_API_TOKEN` (none set: every
call is refused). A body over MAX_INTAKE_BYTES gets 413. The two intake calls
take an `Idempotency-Key` header (bot/web/idempotency.py). Blocking work runs
in a bounded thread pool (bot/web/blocking.py); the database away gets 503
(JSON for /api, the unavailable page for the sites), never a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sanic import Sanic
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, text
from sanic.response import json as json_response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.handoff import queue
from bot.handoff.queue import HandoffRequest
from bot.handoff.zendesk import open_ticket
from bot.orders.factory import build_order_system
from bot.orders.sql.database import create_db_engine, make_session_factory
from bot.proactive.channels import remember_shop_address
from bot.proactive.intake import (
    IntakeError,
    IntakeResult,
    UnknownOrder,
    order_change_in,
    supplier_delay_in,
)
from bot.proactive.outbox import counts, id_list, list_warnings, retry_warning
from bot.proactive.promises import list_promises, mark_kept
from bot.settings import Settings
from bot.texts import load_catalog
from bot.web import idempotency
from bot.web.auth import bearer_matches
from bot.web.blocking import database_down, off_loop, use_bounded_pool
from bot.web.idempotency import Answer, KeyInProgress, KeyReused
from bot.web.requests import (
    MAX_ID,
    ChannelAddressBody,
    OrderEventBody,
    SupplierDelayBody,
    ValidationError,
    field_errors,
)
from bot.web.site import ShopSite, add_shop_site
from bot.web.staff import StaffDashboard, add_staff_dashboard
from bot.web.staff_auth import StaffAuth
from bot.web.staff_handoffs import StaffHandoffs, add_staff_handoffs

logger = logging.getLogger(__name__)

# Expired Idempotency-Keys are deleted at most this often (per process).
CLEANUP_SECONDS = 600.0
# What a client is told to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def _body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def _invalid(errors: list[dict[str, str]]) -> HTTPResponse:
    return json_response({"error": "invalid request", "fields": errors}, status=422)


def _known_id(value: int) -> bool:
    """An id the INTEGER columns can hold (a larger one is simply not there)."""
    return 1 <= value <= MAX_ID


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
        queue.set_ticket(sessions, handoff_id, ticket)


def create_app(settings: Settings, name: str = "order_assistant_web") -> Sanic:
    app = Sanic(name)
    # Sanic refuses a longer body (413) before it is read into memory.
    app.config.REQUEST_MAX_SIZE = settings.max_intake_bytes
    sessions = make_session_factory(create_db_engine(settings.database_url))
    catalog = load_catalog(
        settings.reason_texts_path,
        settings.message_texts_path,
        {"shop": settings.shop_name, "contact": settings.shop_contact},
    )
    orders = build_order_system(settings, sessions)
    site = ShopSite(settings, catalog, orders, sessions) if settings.demo_shop else None
    if site is not None:
        add_shop_site(app, site)
    staff_pages = StaffDashboard(settings, sessions)
    add_staff_dashboard(app, staff_pages, StaffAuth(settings))
    add_staff_handoffs(app, StaffHandoffs(settings, catalog, orders, sessions, staff_pages))
    intake = Intake(settings, sessions)
    background: set[asyncio.Task[None]] = set()

    @app.before_server_start
    async def bounded_pool(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        use_bounded_pool(loop)

    def unavailable(request: Request) -> HTTPResponse:
        path = request.path
        if site is not None and (path == "/shop" or path.startswith("/shop/")):
            return site.unavailable(request)
        if path == "/staff" or (path.startswith("/staff/") and not path.startswith("/staff/api/")):
            return staff_pages.render(request, "staff_unavailable.html", status=503)
        response = json_response({"error": "the database is unavailable, try again"}, status=503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, _exception: Exception) -> HTTPResponse:
        return json_response(
            {"error": f"request body over {settings.max_intake_bytes} bytes"}, status=413
        )

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        """No stack trace to anyone: the database away is a 503, the rest a short 500."""
        if isinstance(exception, SanicException):
            return app.error_handler.default(request, exception)
        if database_down(exception):
            logger.warning("%s: database unavailable (%s)", request.path, type(exception).__name__)
            return unavailable(request)
        where = traceback.extract_tb(exception.__traceback__)[-1:] or None
        logger.error(
            "%s failed: %s at %s",
            request.path,
            type(exception).__name__,
            f"{where[0].filename}:{where[0].lineno}" if where else "?",
        )
        if request.path.startswith("/api/"):
            return json_response({"error": "internal error"}, status=500)
        return text("Something went wrong. Please try again later.", status=500)

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path.startswith("/api/") and not bearer_matches(
            request, settings.order_api_token
        ):
            return json_response({"error": "unauthorized"}, status=401)
        return None

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

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
                return _invalid([{"field": idempotency.HEADER, "error": problem}])
        fingerprint = idempotency.request_hash(request.path, data)
        try:
            # Without a key a lost commit cannot be told from a failed one: no retry.
            answer = await off_loop(
                intake.run, key, endpoint, fingerprint, utcnow(), work, retry=key is not None
            )
        except UnknownOrder as error:
            return json_response({"error": str(error)}, status=404)
        except IntakeError as error:
            return _invalid([{"field": "body", "error": str(error)}])
        except KeyReused:
            return _invalid(
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
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            delay = SupplierDelayBody(**data).to_delay()
        except ValidationError as error:
            return _invalid(field_errors(error))
        now = utcnow()

        def work(session: Session) -> Answer:
            result = supplier_delay_in(session, delay, now)
            logger.info(
                "supplier delay: %d orders moved, %d warnings queued",
                len(result.order_ids),
                len(result.warning_ids),
            )
            return Answer(202, _delay_answer(result))

        return await run_intake(request, "supplier-delays", data, work)

    @app.post("/api/v1/orders/<order_id:int>/events")
    async def order_events(request: Request, order_id: int) -> HTTPResponse:
        if not _known_id(order_id):
            return json_response({"error": f"order {order_id} not found"}, status=404)
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            change = OrderEventBody(**data).to_change(order_id)
        except ValidationError as error:
            return _invalid(field_errors(error))
        now = utcnow()

        def work(session: Session) -> Answer:
            return Answer(202, _event_answer(order_id, order_change_in(session, change, now)))

        return await run_intake(request, "order-events", data, work)

    def outbox_page(status: str | None) -> dict[str, Any]:
        rows = list_warnings(sessions, status=status, limit=500)
        return {
            "counts": counts(sessions),
            "warnings": [
                {
                    "id": w.id,
                    "customer_id": w.customer_id,
                    "kind": w.kind,
                    "status": w.status,
                    "order_ids": id_list(w.order_ids),
                    "attempts": w.attempts,
                    "last_error": w.last_error,
                    "created_at": w.created_at.isoformat(),
                    "sent_at": w.sent_at.isoformat() if w.sent_at else None,
                }
                for w in rows
            ],
        }

    @app.get("/api/v1/outbox")
    async def outbox(request: Request) -> HTTPResponse:
        return json_response(await off_loop(outbox_page, request.args.get("status")))

    @app.post("/api/v1/outbox/<warning_id:int>/retry")
    async def retry(_request: Request, warning_id: int) -> HTTPResponse:
        if _known_id(warning_id) and await off_loop(
            retry_warning, sessions, warning_id, utcnow(), retry=False
        ):
            return json_response({"id": warning_id, "status": "queued"}, status=202)
        return json_response({"error": f"warning {warning_id} is not dead or unread"}, status=409)

    @app.put("/api/v1/customers/<customer_id:int>/channels")
    async def channel_address(request: Request, customer_id: int) -> HTTPResponse:
        """Where the shop can reach a customer the assistant never spoke to."""
        if not _known_id(customer_id):
            return json_response({"error": f"customer {customer_id} not found"}, status=404)
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            body = ChannelAddressBody(**data)
        except ValidationError as error:
            return _invalid(field_errors(error))
        try:
            await off_loop(
                remember_shop_address, sessions, customer_id, body.channel, body.address, utcnow()
            )
        except LookupError:
            return json_response({"error": f"customer {customer_id} not found"}, status=404)
        return json_response({"customer_id": customer_id, "channel": body.channel})

    def promise_page(status: str | None) -> dict[str, Any]:
        rows = list_promises(sessions, status=status)
        return {
            "promises": [
                {
                    "id": p.id,
                    "customer_id": p.customer_id,
                    "order_id": p.order_id,
                    "kind": p.kind,
                    "status": p.status,
                    "due_date": p.due_date.isoformat() if p.due_date else None,
                    "due_at": p.due_at.isoformat() if p.due_at else None,
                    "made_by": p.made_by,
                }
                for p in rows[-500:]
            ]
        }

    @app.get("/api/v1/promises")
    async def promises(request: Request) -> HTTPResponse:
        return json_response(await off_loop(promise_page, request.args.get("status")))

    @app.post("/api/v1/promises/<promise_id:int>/kept")
    async def kept(_request: Request, promise_id: int) -> HTTPResponse:
        """Staff called back or answered: the watcher stops holding us to it."""
        if _known_id(promise_id) and await off_loop(
            mark_kept, sessions, promise_id, utcnow(), retry=False
        ):
            return json_response({"id": promise_id, "status": "kept"})
        return json_response({"error": f"promise {promise_id} is not open"}, status=409)

    return app


def run_web(settings: Settings) -> int:
    app = create_app(settings)
    app.run(host=settings.web_host, port=settings.web_port, access_log=False, workers=1)
    return 0
