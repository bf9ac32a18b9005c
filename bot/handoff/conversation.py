"""The story so far, from Rasa's record of the conversation: what the customer
said in their own words and what the assistant answered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.clock import unix_seconds
from bot.handoff.queue import Said

RECENT_LINES = 16
MAX_LINE = 1000  # characters kept of one message


def recent_lines(events: Iterable[dict[str, Any]], limit: int = RECENT_LINES) -> list[Said]:
    """The last lines of the conversation. A button press is shown as the
    button's title when the assistant offered it, pushes are left out."""
    lines: list[Said] = []
    titles: dict[str, str] = {}
    for event in events:
        kind, text = event.get("event"), str(event.get("text") or "")
        at = float(event.get("timestamp") or 0)
        if kind == "bot" and text:
            lines.append(Said("assistant", text[:MAX_LINE], at))
            for button in (event.get("data") or {}).get("buttons") or []:
                titles[str(button.get("payload"))] = str(button.get("title"))
        elif kind == "user" and text and not (event.get("metadata") or {}).get("is_external"):
            if text.startswith("/"):
                if text not in titles:
                    continue  # the widget's start, or a payload without a button
                text = f"[{titles[text]}]"
            lines.append(Said("customer", text[:MAX_LINE], at))
    return lines[-limit:]


def with_warnings_sent(
    said: list[Said], sent: Iterable[tuple[datetime, str]], limit: int = RECENT_LINES
) -> list[Said]:
    """The conversation with the warnings the notifier sent itself (`sent`:
    when, naive UTC, and what; Rasa's record does not hold them), in time order."""
    lines = [
        *said,
        *(Said("assistant", text[:MAX_LINE], unix_seconds(at)) for at, text in sent),
    ]
    return sorted(lines, key=lambda line: line.at)[-limit:]


def customers_words(said: list[Said], last: int = 3) -> str:
    """The question in the customer's own words: their last messages (not buttons)."""
    words = [line.text for line in said if line.who == "customer" and not line.text.startswith("[")]
    return "\n".join(words[-last:])
