"""The shop platforms' order webhooks.

  POST /sources/shopify       Shopify (X-Shopify-Hmac-Sha256)
  POST /sources/woocommerce   WooCommerce (X-WC-Webhook-Signature)
  POST /sources/sendcloud     Sendcloud (Sendcloud-Signature)

Authenticated by the platform's signature over the raw body, not by the
intake API's token: a wrong or missing one gets 401 and nothing is stored. A
delivery is stored (once per event id) and answered at once, within the 5
seconds Shopify allows; the source worker (bot/sources/worker.py) applies it.
A platform that is not switched on (no webhook secret) is 404.
"""

from __future__ import annotations

import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.sources.change import MalformedDelivery, Source
from bot.sources.inbox import take_delivery
from bot.sources.worker import SourceWorker
from bot.web.blocking import off_loop

logger = logging.getLogger(__name__)


def add_sources_api(
    app: Sanic,
    sessions: sessionmaker[Session],
    sources: dict[str, Source],
    worker: SourceWorker,
) -> None:
    @app.post("/sources/<name:str>")
    async def source_webhook(request: Request, name: str) -> HTTPResponse:
        source = sources.get(name)
        if source is None:
            return json_response({"error": "no such source"}, status=404)
        body = request.body or b""
        headers = {key.lower(): value for key, value in request.headers.items()}
        if not source.verify(body, headers):
            logger.warning("%s webhook: signature refused", name)
            return json_response({"error": "invalid signature"}, status=401)
        try:
            delivery = source.delivery(body, headers)
        except MalformedDelivery as error:
            logger.warning("%s webhook: malformed (%s)", name, error)
            return json_response({"error": f"malformed delivery: {error}"}, status=400)
        if delivery.topic == "ping":
            # WooCommerce's unsigned "is this URL alive" when a webhook is saved:
            # it wants exactly 200, and there is nothing in it to keep.
            return json_response({"status": "pong"})
        delivery_id = await off_loop(take_delivery, sessions, delivery, utcnow())
        if delivery_id is None:
            return json_response({"status": "duplicate"})
        worker.wake()
        return json_response({"status": "accepted", "delivery_id": delivery_id})
