"""Rasa's REST channel with the checks a public entry needs.

Rasa's REST channel takes the sender id, the input channel's name and the
metadata from the body as they come. So a client could write into another
channel's conversation (`"sender": "telegram:987654321"`), pass for a signed
platform (`"input_channel": "telegram"`), or send any size of body. Here:
- a body over MAX_MESSAGE_BYTES gets 413, nothing handed to Rasa;
- a sender id of a messaging platform (`telegram:`, `slack:`, `sms:`,
  `whatsapp:`) gets 403; a missing or overlong one 400;
- the input channel is always this channel's own name;
- the metadata's `client_address` is the address the request came from (set
  here, whatever the client sent), for counting failed verifications.
The callback channel (bot/channels/callback.py) takes the same checks.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.addresses import is_platform_sender
from bot.channels.client_address import CLIENT_ADDRESS_KEY
from bot.channels.client_address import client_address as address_of_client
from bot.settings import load_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 256


def client_address(request: Request) -> str:
    """The address the request came from (bot/channels/client_address.py)."""
    return address_of_client(request.ip or "", request.headers.get("x-forwarded-for", ""))


def refusal(request: Request, max_bytes: int) -> HTTPResponse | None:
    """Why this message is not handed to Rasa, as the client's answer; None when
    it may go on. Sets the input channel and the client's address in the body."""
    if len(request.body or b"") > max_bytes:
        return response.json({"error": f"message body over {max_bytes} bytes"}, status=413)
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for bad JSON
        body = None
    if not isinstance(body, dict):
        return response.json({"error": "the body must be a JSON object"}, status=400)
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        return response.json(
            {"error": f"sender must be a text of 1 to {MAX_SENDER_CHARS} characters"},
            status=400,
        )
    if is_platform_sender(sender):
        logger.warning("a message claiming a messaging platform's sender id refused")
        return response.json({"error": "this sender id belongs to another channel"}, status=403)
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        return response.json({"error": "message must be a text"}, status=400)
    metadata = body.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata[CLIENT_ADDRESS_KEY] = client_address(request)
    body["metadata"] = metadata
    body.pop("input_channel", None)
    return None


def guard(blueprint: Blueprint, max_bytes: int) -> Blueprint:
    """The checks above, before every route of a REST-like channel."""

    @blueprint.middleware("request")
    async def check(request: Request) -> HTTPResponse | None:
        if request.method != "POST":
            return None
        return refusal(request, max_bytes)

    return blueprint


class GuardedRestInput(RestInput):
    """`rest:` in credentials.yml: the same URL, /webhooks/rest/webhook."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        return guard(super().blueprint(on_new_message), load_settings().max_message_bytes)
