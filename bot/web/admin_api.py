"""The shop's own API beside the intake: the outbox, customers' addresses, promises.

GET  /api/v1/outbox?status=dead         warnings, and counts per status
POST /api/v1/outbox/{warning_id}/retry  put a dead warning back in the queue
PUT  /api/v1/customers/{id}/channels     an address the shop knows (Telegram chat id, ...)
GET  /api/v1/promises?status=open        the promise ledger
POST /api/v1/promises/{promise_id}/kept  staff kept a promise (called back, answered)
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.orders.system import OrderSystem
from bot.proactive.channels import remember_shop_address
from bot.proactive.outbox import counts, id_list, list_warnings, retry_warning
from bot.proactive.promises import list_promises, mark_kept
from bot.web.blocking import off_loop
from bot.web.requests import (
    ChannelAddressBody,
    ValidationError,
    field_errors,
    invalid,
    json_body,
    known_id,
)


def add_admin_api(app: Sanic, sessions: sessionmaker[Session], shop: OrderSystem) -> None:
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
        if known_id(warning_id) and await off_loop(
            retry_warning, sessions, warning_id, utcnow(), retry=False
        ):
            return json_response({"id": warning_id, "status": "queued"}, status=202)
        return json_response({"error": f"warning {warning_id} is not dead or unread"}, status=409)

    @app.put("/api/v1/customers/<customer_id:int>/channels")
    async def channel_address(request: Request, customer_id: int) -> HTTPResponse:
        """Where the shop can reach a customer the assistant never spoke to."""
        if not known_id(customer_id):
            return json_response({"error": f"customer {customer_id} not found"}, status=404)
        data = json_body(request)
        if not isinstance(data, dict):
            return invalid([{"field": "body", "error": "expected a JSON object"}])
        try:
            body = ChannelAddressBody(**data)
        except ValidationError as error:
            return invalid(field_errors(error))
        try:
            await off_loop(
                remember_shop_address,
                sessions,
                shop,
                customer_id,
                body.channel,
                body.address,
                utcnow(),
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
        if known_id(promise_id) and await off_loop(
            mark_kept, sessions, promise_id, utcnow(), retry=False
        ):
            return json_response({"id": promise_id, "status": "kept"})
        return json_response({"error": f"promise {promise_id} is not open"}, status=409)
