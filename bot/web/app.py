"""The web service (Sanic, already part of Rasa 3.6): intake API and outbox.

  POST /api/v1/supplier-delays            a supplier delay for every open order it affects
  POST /api/v1/orders/{order_id}/events   one change of one order (the order system's webhook)
  GET  /api/v1/outbox?status=dead         warnings, and counts per status
  POST /api/v1/outbox/{warning_id}/retry  put a dead warning back in the queue
  PUT  /api/v1/customers/{id}/channels     an address the shop knows (Telegram chat id, ...)
  GET  /api/v1/promises?status=open        the promise ledger
  POST /api/v1/promises/{promise_id}/kept  staff kept a promise (called back, answered)
  GET  /shop, /shop/orders, /shop/orders/{id}   the demo shop site (bot/web/site.py)
  GET  /staff, /staff/api/stats           the staff dashboard behind a login (bot/web/staff.py)
  GET  /staff/handoffs[/{id}]              handoffs: claim, reply, hand back (staff_handoffs.py)
  GET  /health

Every /api call needs `Authorization: Bearer ORDER_API_TOKEN`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.clock import utcnow
from bot.orders.factory import build_order_system
from bot.orders.sql.database import create_db_engine, make_session_factory
from bot.proactive.channels import remember_shop_address
from bot.proactive.intake import IntakeError, UnknownOrder, apply_order_change, apply_supplier_delay
from bot.proactive.outbox import counts, id_list, list_warnings, retry_warning
from bot.proactive.promises import list_promises, mark_kept
from bot.settings import Settings
from bot.texts import load_catalog
from bot.web.auth import bearer_matches
from bot.web.requests import (
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


def _body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def _invalid(errors: list[dict[str, str]]) -> HTTPResponse:
    return json_response({"error": "invalid request", "fields": errors}, status=422)


def create_app(settings: Settings, name: str = "order_assistant_web") -> Sanic:
    app = Sanic(name)
    sessions = make_session_factory(create_db_engine(settings.database_url))
    catalog = load_catalog(
        settings.reason_texts_path,
        settings.message_texts_path,
        {"shop": settings.shop_name, "contact": settings.shop_contact},
    )
    orders = build_order_system(settings, sessions)
    add_shop_site(app, ShopSite(settings, catalog, orders, sessions))
    staff_pages = StaffDashboard(settings, sessions)
    add_staff_dashboard(app, staff_pages, StaffAuth(settings))
    add_staff_handoffs(app, StaffHandoffs(settings, catalog, orders, sessions, staff_pages))

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

    @app.post("/api/v1/supplier-delays")
    async def supplier_delays(request: Request) -> HTTPResponse:
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            delay = SupplierDelayBody(**data).to_delay()
        except ValidationError as error:
            return _invalid(field_errors(error))
        # The database work runs in a thread: the event loop keeps serving.
        result = await asyncio.to_thread(apply_supplier_delay, sessions, delay, utcnow())
        logger.info(
            "supplier delay: %d orders moved, %d warnings queued",
            len(result.order_ids),
            len(result.warning_ids),
        )
        return json_response(
            {
                "affected": len(result.order_ids),
                "order_ids": result.order_ids,
                "warnings_queued": len(result.warning_ids),
                "warning_ids": result.warning_ids,
                "handoff_ids": result.handoff_ids,
            },
            status=202,
        )

    @app.post("/api/v1/orders/<order_id:int>/events")
    async def order_events(request: Request, order_id: int) -> HTTPResponse:
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            change = OrderEventBody(**data).to_change(order_id)
        except ValidationError as error:
            return _invalid(field_errors(error))
        try:
            result = await asyncio.to_thread(apply_order_change, sessions, change, utcnow())
        except UnknownOrder:
            return json_response({"error": f"order {order_id} not found"}, status=404)
        except IntakeError as error:
            return _invalid([{"field": "body", "error": str(error)}])
        return json_response(
            {
                "order_id": order_id,
                "event_ids": result.event_ids,
                "warnings_queued": len(result.warning_ids),
                "warning_ids": result.warning_ids,
                "handoff_ids": result.handoff_ids,
            },
            status=202,
        )

    @app.get("/api/v1/outbox")
    async def outbox(request: Request) -> HTTPResponse:
        status = request.args.get("status")
        rows = list_warnings(sessions, status=status, limit=500)
        return json_response(
            {
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
        )

    @app.post("/api/v1/outbox/<warning_id:int>/retry")
    async def retry(_request: Request, warning_id: int) -> HTTPResponse:
        if retry_warning(sessions, warning_id, utcnow()):
            return json_response({"id": warning_id, "status": "queued"}, status=202)
        return json_response({"error": f"warning {warning_id} is not dead or unread"}, status=409)

    @app.put("/api/v1/customers/<customer_id:int>/channels")
    async def channel_address(request: Request, customer_id: int) -> HTTPResponse:
        """Where the shop can reach a customer the assistant never spoke to."""
        data = _body(request)
        if not isinstance(data, dict):
            return _invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            body = ChannelAddressBody(**data)
        except ValidationError as error:
            return _invalid(field_errors(error))
        try:
            await asyncio.to_thread(
                remember_shop_address, sessions, customer_id, body.channel, body.address, utcnow()
            )
        except LookupError:
            return json_response({"error": f"customer {customer_id} not found"}, status=404)
        return json_response({"customer_id": customer_id, "channel": body.channel})

    @app.get("/api/v1/promises")
    async def promises(request: Request) -> HTTPResponse:
        rows = list_promises(sessions, status=request.args.get("status"))
        return json_response(
            {
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
        )

    @app.post("/api/v1/promises/<promise_id:int>/kept")
    async def kept(_request: Request, promise_id: int) -> HTTPResponse:
        """Staff called back or answered: the watcher stops holding us to it."""
        if mark_kept(sessions, promise_id, utcnow()):
            return json_response({"id": promise_id, "status": "kept"})
        return json_response({"error": f"promise {promise_id} is not open"}, status=409)

    return app


def run_web(settings: Settings) -> int:
    app = create_app(settings)
    app.run(host=settings.web_host, port=settings.web_port, access_log=False, workers=1)
    return 0
