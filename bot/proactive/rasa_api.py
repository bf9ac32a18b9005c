"""Rasa's HTTP API, as the notifier uses it: one call, its timeouts and errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from bot.proactive.push_signature import sign_push

WARNING_INTENT = "EXTERNAL_order_warning"
# Rasa answers a push with the conversation's state, by default every event of
# it: work on its event loop that grows with the conversation, for an answer
# nobody reads. Without the events the answer stays small.
NO_EVENTS = {"include_events": "NONE"}


def path_segment(sender_id: str) -> str:
    """A sender id in a URL path. Rasa's routes do not decode escapes, so the
    characters our ids use and paths allow ("whatsapp:+31...") stay as they are."""
    return quote(sender_id, safe=":+@-_.")


class PushFailed(RuntimeError):
    """The warning was not taken: by Rasa, or by the platform the notifier sent it
    to itself (bot/proactive/direct.py); `retryable` says whether trying later can help."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class RasaApi:
    def __init__(
        self, base_url: str, token: str, push_secret: str = "", timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        # Signs every warning pushed (bot/proactive/push_signature.py): without
        # it the assistant shows nothing.
        self.push_secret = push_secret
        self.timeout = timeout
        self.session = requests.Session()

    def widget_connected(self, session_id: str) -> bool:
        """Whether a chat widget is open on this socket.io conversation now."""
        url = f"{self.base_url}/webhooks/socketio/presence/{path_segment(session_id)}"
        try:
            response = self.session.get(
                url, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise PushFailed(f"Rasa unreachable: {type(error).__name__}") from error
        if not response.ok:
            raise PushFailed(f"presence check answered {response.status_code}")
        return bool(response.json().get("connected"))

    def trigger_warning(self, sender_id: str, output_channel: str, warning_id: int) -> None:
        """Have the assistant speak warning `warning_id` in conversation `sender_id`."""
        conversation = path_segment(sender_id)
        url = f"{self.base_url}/conversations/{conversation}/trigger_intent"
        try:
            response = self.session.post(
                url,
                params={"output_channel": output_channel, "token": self.token, **NO_EVENTS},
                json={
                    "name": WARNING_INTENT,
                    "entities": {
                        "warning_id": str(warning_id),
                        "push_channel": output_channel,
                        "push_signature": sign_push(
                            self.push_secret, warning_id, sender_id, output_channel
                        ),
                    },
                },
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise PushFailed(f"Rasa unreachable: {type(error).__name__}") from error
        if response.status_code in (401, 403):
            raise PushFailed(f"Rasa refused the token ({response.status_code})", retryable=True)
        if response.status_code == 400:
            raise PushFailed(f"Rasa rejected the request: {response.text[:200]}", retryable=False)
        if not response.ok:
            raise PushFailed(f"Rasa answered {response.status_code}")

    def run_action(self, sender_id: str, action: str, output_channel: str) -> None:
        """Run one action in a conversation, even a paused one (a person's reply,
        handing back). Rasa marks the endpoint deprecated but keeps it in 3.x: it is
        the one way to speak into a conversation the assistant must not answer."""
        url = f"{self.base_url}/conversations/{path_segment(sender_id)}/execute"
        try:
            response = self.session.post(
                url,
                params={"output_channel": output_channel, "token": self.token, **NO_EVENTS},
                json={"name": action},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise PushFailed(f"Rasa unreachable: {type(error).__name__}") from error
        if not response.ok:
            raise PushFailed(f"Rasa answered {response.status_code}")

    def conversation_events(self, sender_id: str) -> list[dict[str, Any]]:
        """Rasa's record of a conversation (its events), for the person taking over."""
        url = f"{self.base_url}/conversations/{path_segment(sender_id)}/tracker"
        try:
            response = self.session.get(
                url, params={"token": self.token, "include_events": "ALL"}, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise PushFailed(f"Rasa unreachable: {type(error).__name__}") from error
        if not response.ok:
            raise PushFailed(f"Rasa answered {response.status_code}")
        events = response.json().get("events") or []
        return [event for event in events if isinstance(event, dict)]
