"""Rasa's callback channel (the shop's own messaging system receives the bot's
messages as POSTs to CALLBACK_URL) with these changes:
- the REST channel's checks on what comes in (bot/channels/rest.py);
- a message the endpoint refuses is an error, raised into Rasa so that the
  notifier tries the warning again; Rasa's own channel logs it and carries on,
  and the warning would count as delivered;
- one HTTP client for the channel, its connections kept; Rasa's opens a new
  client for every message;
- pushed warnings leave a receipt (bot/channels/receipts.py);
- every message carries a `message_id`, the same in every copy of a pushed
  warning's message, so that the endpoint can drop a repeat (a copy is sent
  again only when an instance died between the endpoint's answer and the receipt).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import aiohttp
from rasa.core.channels.callback import CallbackInput as RasaCallbackInput
from rasa.core.channels.callback import CallbackOutput as RasaCallbackOutput
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.utils.endpoints import EndpointConfig
from sanic import Blueprint
from sanic.request import Request

from bot.channels.platform_api import PlatformClient
from bot.channels.receipts import ReceiptedOutput
from bot.channels.rest import guard
from bot.settings import load_settings


def endpoint_client(endpoint: EndpointConfig) -> PlatformClient:
    """The endpoint's address, headers and basic auth, as credentials.yml gives them."""
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return PlatformClient(
        "callback endpoint", endpoint.url or "", auth=auth, headers=endpoint.headers
    )


class CallbackOutput(ReceiptedOutput, RasaCallbackOutput):
    def __init__(self, endpoint: EndpointConfig, client: PlatformClient) -> None:
        super().__init__(endpoint)
        self.client = client

    async def _persist_message(self, message: dict[str, Any]) -> None:
        message = {**message, "message_id": self.message_id() or uuid4().hex}
        self.messages.append(message)
        await self.client.post("", json=message)  # PlatformError unless 2xx


class CallbackInput(RasaCallbackInput):
    def __init__(self, endpoint: EndpointConfig) -> None:
        super().__init__(endpoint)
        self.client = endpoint_client(endpoint)

    def get_output_channel(self) -> CollectingOutputChannel:
        return CallbackOutput(self.callback_endpoint, self.client)

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # The REST channel's checks: size, another channel's sender id, the client's address.
        webhook = guard(super().blueprint(on_new_message), load_settings().max_message_bytes)

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.client.close()

        return webhook
