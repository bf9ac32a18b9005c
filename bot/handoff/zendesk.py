"""A Zendesk ticket for a handoff, for shops that answer customers there
(Zendesk's Tickets API: POST /api/v2/tickets.json). Optional: ZENDESK_URL,
ZENDESK_EMAIL and ZENDESK_API_TOKEN. The queue in our own database stays the
record; a ticket that cannot be made is logged and the handoff goes on."""

from __future__ import annotations

import logging

import requests

from bot.handoff.queue import HandoffRequest
from bot.settings import Settings

logger = logging.getLogger(__name__)

PRIORITY = {"angry": "urgent", "upset": "high"}


def ticket_body(handoff_id: int, request: HandoffRequest) -> dict[str, object]:
    """The whole story in the ticket, so nobody asks the customer again."""
    lines = [
        f"Handoff {handoff_id}: {request.reason}, mood {request.mood}, "
        f"language {request.language}.",
        f"Customer: {request.customer_id or 'not identified'}; "
        f"orders: {', '.join(map(str, request.order_ids)) or 'none verified'}.",
    ]
    if request.deadline:
        lines.append(f"Deadline: {request.deadline.isoformat()}.")
    lines += ["", "Conversation:"]
    lines += [f"- {line.who}: {line.text}" for line in request.said]
    return {
        "ticket": {
            "subject": f"Order assistant handoff {handoff_id} ({request.reason})",
            "comment": {"body": "\n".join(lines), "public": False},
            "priority": PRIORITY.get(request.mood, "normal"),
            "tags": ["order_assistant", f"handoff_{request.reason}"],
            "external_id": f"handoff-{handoff_id}",
        }
    }


def open_ticket(settings: Settings, handoff_id: int, request: HandoffRequest) -> str | None:
    """The ticket's id, or None when Zendesk did not take it."""
    try:
        response = requests.post(
            f"{settings.zendesk_url}/api/v2/tickets.json",
            json=ticket_body(handoff_id, request),
            auth=(f"{settings.zendesk_email}/token", settings.zendesk_token),
            timeout=10,
        )
        if response.status_code != 201:
            logger.error("Zendesk refused handoff %s: %s", handoff_id, response.status_code)
            return None
        return str(response.json()["ticket"]["id"])
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.error("Zendesk ticket for handoff %s failed: %s", handoff_id, type(error).__name__)
        return None
