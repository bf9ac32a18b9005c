"""Conversation ids on the messaging platforms.

Rasa keeps one conversation per sender id, whichever channel a message came
in on, and a widget or REST client chooses its own sender id. So the platforms'
ids carry the platform's name ("telegram:<chat id>", "slack:<user id>",
"whatsapp:+31...", "sms:+31..."), and an identity that rests on a platform
address is only granted to messages that really came in on that platform
(actions/turn.py).
"""

from __future__ import annotations

import re

# Channels whose senders the platform itself vouches for (signed webhooks).
PLATFORM_CHANNELS = ("telegram", "slack", "twilio")

# The prefixes of the platforms' sender ids: only their own signed webhooks use them.
PLATFORM_SENDER_PREFIXES = ("telegram:", "slack:", "sms:", "whatsapp:")

_TELEGRAM_CHAT = re.compile(r"-?\d{1,20}")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,30}")
_PHONE = re.compile(r"\+[1-9]\d{6,14}")  # E.164


class AddressError(ValueError):
    """An address that cannot be one of this channel's."""


def sender_id(channel: str, address: str) -> str:
    """The Rasa sender id of `address` on `channel` (already prefixed is fine)."""
    address = address.strip()
    if channel == "telegram":
        chat = address.removeprefix("telegram:")
        if not _TELEGRAM_CHAT.fullmatch(chat):
            raise AddressError("a Telegram chat id is a number, such as 123456789")
        return f"telegram:{chat}"
    if channel == "slack":
        user = address.removeprefix("slack:")
        if not _SLACK_USER.fullmatch(user):
            raise AddressError("a Slack user id looks like U012AB3CD")
        return f"slack:{user}"
    if channel == "twilio":
        kind, _, number = address.rpartition(":")
        kind = kind or "sms"
        if kind not in ("whatsapp", "sms") or not _PHONE.fullmatch(number):
            raise AddressError(
                "a phone number in international form: +31612345678, or whatsapp:+31612345678"
            )
        return f"{kind}:{number}"
    return address


def is_platform_sender(sender: str) -> bool:
    """Whether a sender id is (or passes for) a messaging platform's: a REST,
    widget or callback client that claims one would write into that customer's
    conversation. Case and spaces are ignored, as some lookups would."""
    return sender.strip().lower().startswith(PLATFORM_SENDER_PREFIXES)


def twilio_sender(from_field: str) -> str | None:
    """The sender id of a Twilio webhook's `From` ("whatsapp:+31..." or "+31...")."""
    try:
        return sender_id("twilio", from_field)
    except AddressError:
        return None


def twilio_recipient(sender: str) -> str:
    """What Twilio's `To` gets for a sender id: "whatsapp:+31..." or "+31..."."""
    return sender.removeprefix("sms:")


def is_whatsapp(sender: str) -> bool:
    return sender.startswith("whatsapp:")


def platform_id(sender: str, channel: str) -> str:
    """The platform's own id behind a sender id (a Telegram chat id, a Slack user id)."""
    return sender.removeprefix(f"{channel}:")
