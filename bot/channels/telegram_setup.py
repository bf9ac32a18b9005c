"""Telling Telegram where to deliver the bot's updates (setWebhook), once,
with the secret token the channel checks on every update."""

from __future__ import annotations

import requests

# Only what the assistant answers: messages and button presses.
ALLOWED_UPDATES = ["message", "callback_query"]


def set_webhook(api_url: str, access_token: str, secret_token: str, webhook_url: str) -> str:
    """Telegram's description of the result; raises RuntimeError when refused."""
    if not webhook_url.startswith("https://"):
        raise RuntimeError("Telegram delivers updates to https:// addresses only")
    try:
        response = requests.post(
            f"{api_url.rstrip('/')}/bot{access_token}/setWebhook",
            json={
                "url": webhook_url,
                "secret_token": secret_token,
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": False,
            },
            timeout=15,
        )
        answer = response.json()
    except (requests.RequestException, ValueError) as error:
        raise RuntimeError(f"Telegram unreachable: {type(error).__name__}") from error
    if not answer.get("ok"):
        raise RuntimeError(f"Telegram refused: {answer.get('description', response.status_code)}")
    return str(answer.get("description") or "Webhook was set")
