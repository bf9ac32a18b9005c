"""Twilio's webhook signature, checked by Twilio's own RequestValidator in the
channel: a request signed as Twilio's documentation says passes, with the
address's default port or without; anything else is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.twilio import TwilioInput
from bot.settings import PROJECT_ROOT

PAYLOAD = PROJECT_ROOT / "tests" / "e2e" / "payloads" / "twilio_sms.json"
URL = "https://shop.example/webhooks/twilio/webhook"
TOKEN = "twilio-auth-token"


def documented_signature(token: str, url: str, params: dict[str, str]) -> str:
    """https://www.twilio.com/docs/usage/security: the URL, then each POST field
    name and value in name order, HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@pytest.fixture
def params() -> dict[str, str]:
    return {key: str(value) for key, value in json.loads(PAYLOAD.read_text()).items()}


@pytest.fixture
def channel(params: dict[str, str]) -> TwilioInput:
    return TwilioInput(params["AccountSid"], TOKEN, "+3197010000000", URL)


def request(signature: str | None) -> Any:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return SimpleNamespace(headers=headers)


def test_a_request_signed_as_documented_passes(
    channel: TwilioInput, params: dict[str, str]
) -> None:
    assert channel.is_from_twilio(request(documented_signature(TOKEN, URL, params)), params)
    # Twilio may sign the address with its default port written out.
    with_port = URL.replace("shop.example/", "shop.example:443/")
    assert channel.is_from_twilio(request(documented_signature(TOKEN, with_port, params)), params)


@pytest.mark.parametrize(
    "signed",
    [
        lambda p: documented_signature("another-token", URL, p),
        lambda p: documented_signature(TOKEN, URL.replace("/webhook", "/other"), p),
        lambda p: documented_signature(TOKEN, URL, {**p, "Body": "something else"}),
        lambda p: "",
        lambda p: None,
    ],
    ids=["other token", "other address", "other body", "empty", "no header"],
)
def test_anything_else_is_refused(
    channel: TwilioInput, params: dict[str, str], signed: Any
) -> None:
    assert not channel.is_from_twilio(request(signed(params)), params)


def test_another_accounts_signed_request_is_refused(params: dict[str, str]) -> None:
    other = TwilioInput("AC" + "0" * 32, TOKEN, "+3197010000000", URL)
    assert not other.is_from_twilio(request(documented_signature(TOKEN, URL, params)), params)
