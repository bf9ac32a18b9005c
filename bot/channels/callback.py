"""Rasa's callback channel (the shop's own messaging system receives the bot's
messages as POSTs) with two changes:
- a message the endpoint refuses is an error, raised into Rasa so that the
  notifier tries the warning again; Rasa's own channel logs it and carries on,
  and the warning would count as delivered;
- pushed warnings leave a receipt (bot/channels/receipts.py).
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.callback import CallbackInput as RasaCallbackInput
from rasa.core.channels.callback import CallbackOutput as RasaCallbackOutput
from rasa.core.channels.channel import CollectingOutputChannel

from bot.channels.receipts import ReceiptedOutput


class CallbackOutput(ReceiptedOutput, RasaCallbackOutput):
    async def _persist_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        # Raises ClientResponseError on a refusal, aiohttp's errors when unreachable.
        await self.callback_endpoint.request("post", content_type="application/json", json=message)


class CallbackInput(RasaCallbackInput):
    def get_output_channel(self) -> CollectingOutputChannel:
        return CallbackOutput(self.callback_endpoint)
