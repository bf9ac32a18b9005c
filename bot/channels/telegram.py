"""Telegram, through the Bot API (https://core.telegram.org/bots/api).

Written here rather than Rasa's own `telegram` channel, which calls Telegram's
setWebhook every time Rasa asks it for an output channel (so a pushed warning
fails inside Rasa's running loop), asks getMe on every message, and takes any
POST to its webhook as coming from Telegram. This one:
- accepts an update only with the secret token set by setWebhook
  (`X-Telegram-Bot-Api-Secret-Token`), and only from private chats: order
  details are never said in a group;
- sends through sendMessage, buttons as an inline keyboard, and answers a
  button press (answerCallbackQuery) so the customer's app stops waiting;
- names conversations "telegram:<chat id>" (bot/channels/addresses.py).
Telegram's webhook is set once with `python -m bot telegram-webhook URL`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.addresses import platform_id
from bot.channels.platform_api import PlatformClient
from bot.channels.receipts import ReceiptedOutput
from bot.settings import load_settings

logger = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit per message
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for a button's data
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def split_text(text: str, limit: int) -> list[str]:
    """Paragraphs packed into messages of at most `limit` characters."""
    parts: list[str] = []
    for paragraph in text.strip().split("\n\n"):
        while len(paragraph) > limit:
            parts.append(paragraph[:limit])
            paragraph = paragraph[limit:]
        if parts and len(parts[-1]) + 2 + len(paragraph) <= limit:
            parts[-1] = f"{parts[-1]}\n\n{paragraph}"
        elif paragraph:
            parts.append(paragraph)
    return parts


def inline_keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """One button per row (the titles are sentences). A payload too long for
    Telegram's callback data is sent as the title's words instead."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or "")
        data = str(button.get("payload") or title)
        if len(data.encode()) > MAX_CALLBACK_DATA:
            data = title.encode()[:MAX_CALLBACK_DATA].decode(errors="ignore")
        rows.append([{"text": title, "callback_data": data}])
    return {"inline_keyboard": rows}


class TelegramOutput(ReceiptedOutput, OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, api: PlatformClient) -> None:
        self.api = api

    async def _send(self, recipient_id: str, text: str, markup: dict[str, Any] | None) -> None:
        chat_id = platform_id(recipient_id, "telegram")
        parts = split_text(text, MAX_TEXT)
        for number, part in enumerate(parts, start=1):
            message: dict[str, Any] = {"chat_id": chat_id, "text": part}
            if markup and number == len(parts):
                message["reply_markup"] = markup
            await self.api.post("sendMessage", json=message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, None)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, inline_keyboard(buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.api.post(
            "sendPhoto", json={"chat_id": platform_id(recipient_id, "telegram"), "photo": image}
        )


def read_update(update: Any) -> tuple[str, str, str | None, str | None] | None:
    """(chat id, text, callback query id, language) of an update we answer; None otherwise."""
    if not isinstance(update, dict):
        return None
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message") or {}
        text, query_id, sender = query.get("data"), query.get("id"), query.get("from") or {}
    else:
        message = update.get("message")
        if not isinstance(message, dict):
            return None  # edited messages, channel posts, ...: nothing to answer
        text, query_id, sender = message.get("text"), None, message.get("from") or {}
    chat = message.get("chat") or {}
    if chat.get("type") != "private" or not isinstance(text, str) or not text.strip():
        return None
    if chat.get("id") is None:
        return None
    if text.strip() == "/start" or text.startswith("/start "):
        text = "/get_started"  # Telegram's first message to a bot
    language = str(sender.get("language_code") or "")[:2]
    return str(chat["id"]), text, query_id, language if language in ("nl", "en") else None


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
            raise AssertionError  # not reached: the call above raises
        return cls(str(credentials["access_token"]), str(credentials["secret_token"]))

    def __init__(self, access_token: str, secret_token: str) -> None:
        if not access_token or not secret_token:
            raise ValueError("Telegram needs TELEGRAM_ACCESS_TOKEN and TELEGRAM_SECRET_TOKEN")
        self.secret_token = secret_token
        base = load_settings().telegram_api_url
        self.api = PlatformClient("Telegram", f"{base}/bot{access_token}")

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.api)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return response.text("forbidden", status=403)
            try:
                update = request.json
            except Exception:  # noqa: BLE001 - Sanic raises its own for bad JSON
                return response.text("bad request", status=400)
            read = read_update(update)
            if read is None:
                return response.text("ok")
            chat_id, text, query_id, language = read
            output = self.get_output_channel()
            if query_id:
                await self._answer_button(query_id)
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    f"telegram:{chat_id}",
                    input_channel=self.name(),
                    metadata={"language": language} if language else None,
                )
            )
            # Always 200 once the update is ours: Telegram would send it again otherwise.
            return response.text("ok")

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        return webhook

    async def _answer_button(self, query_id: str) -> None:
        try:
            await self.api.post("answerCallbackQuery", json={"callback_query_id": query_id})
        except Exception as error:  # noqa: BLE001 - the answer itself matters more
            logger.warning("answerCallbackQuery failed: %s", error)
