"""WhatsApp's 24-hour rule: a business may write freely only within 24 hours
of the customer's last message; after that only an approved template.

Read from the conversation's own record (the events Rasa sends an action), so
it holds whichever Rasa instance took the customer's last message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

WINDOW_SECONDS = 24 * 3600
TEMPLATE_KEY = "twilio_template"  # read by bot/channels/twilio.py
MAX_VARIABLE = 1000  # characters; WhatsApp refuses longer template variables


def _is_customer_message(event: dict[str, Any]) -> bool:
    """A message the customer wrote, not a trigger_intent push (Rasa records those
    as user events too, marked external)."""
    if event.get("event") != "user":
        return False
    if (event.get("metadata") or {}).get("is_external"):
        return False
    return not str(event.get("text") or "").startswith("EXTERNAL: ")


def last_customer_message_at(events: Iterable[dict[str, Any]]) -> float | None:
    times = [
        float(e["timestamp"]) for e in events if _is_customer_message(e) and e.get("timestamp")
    ]
    return max(times) if times else None


def window_open(events: Iterable[dict[str, Any]], now: float) -> bool:
    last = last_customer_message_at(events)
    return last is not None and now - last < WINDOW_SECONDS


def one_line(text: str, limit: int = MAX_VARIABLE) -> str:
    """A template variable: no line breaks or tabs, no runs of spaces (WhatsApp's rules)."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def template_message(content_sid: str, shop: str, texts: list[str]) -> dict[str, Any]:
    """The warning as the approved template: {{1}} the shop, {{2}} what changed and why
    (docs/channels/twilio.md gives the template's wording)."""
    return {
        TEMPLATE_KEY: {
            "content_sid": content_sid,
            "variables": {"1": one_line(shop, 60), "2": one_line(" ".join(texts))},
        }
    }
