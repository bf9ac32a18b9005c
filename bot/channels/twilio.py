"""SMS and WhatsApp through Twilio's Messages API
(https://www.twilio.com/docs/messaging/api/message-resource).

Written here rather than Rasa's own `twilio` channel, which does not check
Twilio's signature (anyone could post as any phone number), calls Twilio's
blocking client inside Rasa's event loop, and shows buttons with their
payloads. This one:
- accepts a webhook only with a valid `X-Twilio-Signature` for this account,
  checked by Twilio's own `twilio.request_validator` (installed with Rasa);
- names conversations "whatsapp:+31..." and "sms:+31..." (addresses.py);
- shows buttons as numbered choices and reads a reply "2" as the second
  choice of the message it answers (from the conversation's own record, so
  it works on every Rasa instance), or a WhatsApp quick reply's payload;
- sends a message with `twilio_template` as an approved WhatsApp template
  (ContentSid + ContentVariables): the only message WhatsApp lets a business
  send 24 hours after the customer's last message (actions decide when).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.bootstrap import customer_texts
from bot.channels.addresses import twilio_recipient, twilio_sender
from bot.channels.platform_api import PlatformClient
from bot.channels.receipts import ReceiptedOutput
from bot.channels.telegram import split_text
from bot.channels.whatsapp import TEMPLATE_KEY
from bot.language import detect_language
from bot.settings import Settings, load_settings
from bot.texts import Catalog

logger = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's limit for one message body
_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's request signature (https://www.twilio.com/docs/usage/security),
    as Twilio's own library computes it: what the tests sign their requests with."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def numbered_choices(text: str, buttons: list[dict[str, Any]], hint: str) -> str:
    lines = [f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, 1)]
    return "\n\n".join([text.strip(), "\n".join(lines), hint])


def offered_payload(events: list[Any], reply: str) -> str | None:
    """The payload of choice `reply` ("2") among the buttons of the messages
    since the customer's last message; None when it is not such a choice."""
    match = _NUMBER.fullmatch(reply)
    if match is None:
        return None
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return None
        buttons = event.data.get("buttons") if isinstance(event, BotUttered) else None
        if buttons:
            number = int(match.group(1))
            return str(buttons[number - 1]["payload"]) if 1 <= number <= len(buttons) else None
    return None


class TwilioOutput(ReceiptedOutput, OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self,
        api: PlatformClient,
        account_sid: str,
        sms_number: str,
        whatsapp_number: str,
        catalog: Catalog,
        default_language: str,
    ) -> None:
        self.api = api
        self.account_sid = account_sid
        self.sms_number = sms_number
        self.whatsapp_number = whatsapp_number
        self.catalog = catalog
        self.default_language = default_language

    async def _create(self, recipient_id: str, fields: dict[str, str]) -> None:
        to = twilio_recipient(recipient_id)
        sender = (
            f"whatsapp:{self.whatsapp_number}" if to.startswith("whatsapp:") else self.sms_number
        )
        await self.api.post(
            f"2010-04-01/Accounts/{self.account_sid}/Messages.json",
            form={"To": to, "From": sender, **fields},
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, MAX_BODY):
            await self._create(recipient_id, {"Body": part})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        language = detect_language(text) or self.default_language
        hint = self.catalog.message("choose_by_number", language)
        await self.send_text_message(recipient_id, numbered_choices(text, buttons, hint))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        template = json_message.get(TEMPLATE_KEY)
        if not isinstance(template, dict):
            logger.warning("custom message without %s not sent over Twilio", TEMPLATE_KEY)
            return
        await self._create(
            recipient_id,
            {
                "ContentSid": str(template["content_sid"]),
                "ContentVariables": json.dumps(template.get("variables") or {}),
            },
        )


class TwilioInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
            raise AssertionError  # not reached: the call above raises
        return cls(
            str(credentials["account_sid"]),
            str(credentials["auth_token"]),
            str(credentials["twilio_number"]),
            str(credentials["webhook_url"]),
        )

    def __init__(self, account_sid: str, auth_token: str, twilio_number: str, webhook_url: str):
        if not all((account_sid, auth_token, twilio_number, webhook_url)):
            raise ValueError("Twilio needs its account SID, auth token, number and webhook URL")
        settings: Settings = load_settings()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.whatsapp_number = settings.twilio_whatsapp_number or twilio_number
        # The address Twilio posts to, as set in Twilio's console: what it signs.
        self.webhook_url = webhook_url
        # Twilio's own check: the signature in constant time, with and without
        # the URL's default port (Twilio signs either).
        self.validator = RequestValidator(auth_token)
        self.default_language = settings.default_language
        self.catalog = customer_texts(settings)
        self.api = PlatformClient(
            "Twilio", settings.twilio_api_url, auth=aiohttp.BasicAuth(account_sid, auth_token)
        )

    def get_output_channel(self) -> OutputChannel:
        return TwilioOutput(
            self.api,
            self.account_sid,
            self.twilio_number,
            self.whatsapp_number,
            self.catalog,
            self.default_language,
        )

    def is_from_twilio(self, request: Request, params: Mapping[str, str]) -> bool:
        given = request.headers.get("X-Twilio-Signature", "")
        return (
            bool(given)
            and bool(self.validator.validate(self.webhook_url, dict(params), given))
            and (params.get("AccountSid") == self.account_sid)
        )

    async def _text(self, request: Request, sender: str, params: Mapping[str, str]) -> str:
        """What the customer said: a quick reply's payload, a numbered choice, or the words."""
        payload = params.get("ButtonPayload", "")
        if payload.startswith("/"):
            return payload
        body = params.get("Body", "")
        agent = getattr(request.app.ctx, "agent", None)
        if agent is not None and _NUMBER.fullmatch(body):
            # Under the conversation's lock: a reply that follows a pushed warning
            # at once waits until Rasa saved the turn that carried the choices.
            async with agent.lock_store.lock(sender):
                tracker = await agent.tracker_store.retrieve(sender)
            chosen = offered_payload(list(tracker.events), body) if tracker else None
            if chosen:
                return chosen
        return body

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # Empty fields too: Twilio signs every parameter it sends.
            params = dict(parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True))
            if not self.is_from_twilio(request, params):
                return response.text("forbidden", status=403)
            sender = twilio_sender(params.get("From", ""))
            text = await self._text(request, sender, params) if sender else ""
            if sender and text.strip():
                await on_new_message(
                    UserMessage(text, self.get_output_channel(), sender, input_channel=self.name())
                )
            # Empty TwiML: the answer goes out through the API, not in this response.
            return response.text("<Response></Response>", content_type="text/xml")

        @webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.api.close()

        return webhook
