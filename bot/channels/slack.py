"""Slack, as Rasa ships it (signed requests, the URL check, buttons), with
four changes:
- conversations are named "slack:<user id>" (bot/channels/addresses.py);
- a warning pushed to "slack:U123" goes to the customer's direct messages;
- only direct messages are answered, never a mention in a shared channel;
- the API address comes from SLACK_API_URL, and no `as_user` (refused by
  Slack apps with bot tokens).
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.addresses import platform_id
from bot.channels.receipts import ReceiptedOutput
from bot.settings import load_settings


class SlackOutput(ReceiptedOutput, SlackBot):
    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=load_settings().slack_api_url, proxy=proxy)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)
        # A user id as the channel opens the bot's direct messages with them.
        await super()._post_message(platform_id(channel, "slack"), **kwargs)


class SlackInput(RasaSlackInput):
    def _is_supported_channel(self, slack_event: dict[str, Any], metadata: dict[str, Any]) -> bool:
        # Direct messages only: order details are never said where others read along.
        return self._is_direct_message(slack_event)

    def _get_conversation_id(
        self, sender_id: str | None, channel_id: str | None, thread_id: str | None
    ) -> str | None:
        conversation = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return f"slack:{conversation}" if conversation else None

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
