"""What a use case gives back to be said: messages with their buttons, in the
customer's language, for whichever channel says them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Message:
    text: str = ""
    buttons: tuple[Button, ...] = ()
    # A channel's own message (a WhatsApp template) instead of the text.
    custom: dict[str, Any] | None = None
    # For the channel, never shown (a warning's receipt: bot/channels/receipts.py).
    extra: dict[str, Any] = field(default_factory=dict)


def text(value: str, *buttons: Button) -> Message:
    return Message(text=value, buttons=tuple(buttons))


def yes_no(work_text: Any, language: str) -> tuple[Button, Button]:
    """The yes and no buttons of a question that needs the customer's consent;
    `work_text` is Work.text."""
    return (
        Button(work_text("button_yes", language), "/affirm"),
        Button(work_text("button_no", language), "/deny"),
    )
