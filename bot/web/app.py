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
  POST /sources/{shopify,woocommerce,sendcloud}   the platforms' order webhooks,
                                          signed by the platform (bot/web/sources_api.py)
  GET  /health

The intake calls: bot/web/intake_api.py; the outbox, addresses and promises:
bot/web/admin_api.py. Every /api call needs `Authorization: Bearer
ORDER_API_TOKEN` (none set: every call is refused). A body over
MAX_INTAKE_BYTES gets 413. The two intake calls take an `Idempotency-Key`
header (bot/web/idempotency.py). Blocking work runs
in a bounded thread pool (bot/web/blocking.py); the database away gets 503
(JSON for /api, the unavailable page for the sites), never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import traceback

from sanic import Sanic
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse, text
from sanic.response import json as json_response

from bot.bootstrap import build_parts
from bot.settings import Settings
from bot.sources.registry import build_sources, load_status_tables
from bot.sources.worker import SourceWorker
from bot.web.admin_api import add_admin_api
from bot.web.auth import bearer_matches
from bot.web.blocking import database_down, use_bounded_pool
from bot.web.intake_api import add_intake_api, open_intake_ticket
from bot.web.site import ShopSite, add_shop_site
from bot.web.sources_api import add_sources_api
from bot.web.staff import StaffDashboard, add_staff_dashboard
from bot.web.staff_auth import StaffAuth
from bot.web.staff_handoffs import StaffHandoffs, add_staff_handoffs

logger = logging.getLogger(__name__)

# What a client is told to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def create_app(settings: Settings, name: str = "order_assistant_web") -> Sanic:
    app = Sanic(name)
    # Sanic refuses a longer body (413) before it is read into memory.
    app.config.REQUEST_MAX_SIZE = settings.max_intake_bytes
    parts = build_parts(settings)
    sessions, catalog, orders = parts.sessions, parts.catalog, parts.orders
    site = ShopSite(settings, catalog, orders, sessions) if settings.demo_shop else None
    if site is not None:
        add_shop_site(app, site)
    sources = build_sources(settings.sources)
    staff_pages = StaffDashboard(settings, sessions, tuple(sources))
    add_staff_dashboard(app, staff_pages, StaffAuth(settings))
    add_staff_handoffs(app, StaffHandoffs(settings, catalog, orders, sessions, staff_pages))

    def open_tickets(handoff_ids: list[int]) -> None:
        if settings.zendesk_url:
            for handoff_id in handoff_ids:
                open_intake_ticket(settings, sessions, handoff_id)

    source_worker = SourceWorker(
        settings.sources,
        sessions,
        sources,
        on_handoffs=open_tickets,
        # The demo shop's tables take a change; a shop's own system already has it.
        shop=None if settings.order_system == "sql" else orders,
    )

    @app.before_server_start
    async def bounded_pool(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        use_bounded_pool(loop)

    @app.after_server_start
    async def start_source_worker(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        if sources:
            await loop.run_in_executor(None, load_status_tables, sources)
            source_worker.start()

    @app.before_server_stop
    async def stop_source_worker(_app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        await loop.run_in_executor(None, source_worker.stop)

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

    add_intake_api(app, settings, sessions, orders)
    add_admin_api(app, sessions, orders)
    add_sources_api(app, sessions, sources, source_worker)
    return app


def run_web(settings: Settings) -> int:
    app = create_app(settings)
    app.run(host=settings.web_host, port=settings.web_port, access_log=False, workers=1)
    return 0
