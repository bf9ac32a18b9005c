"""The chat widget's socket.io channel, with one addition: the notifier can ask
whether a conversation has a widget open right now.

A push to a socket.io conversation nobody is connected to goes nowhere (the
widget does not fetch missed messages), so the notifier asks first and leaves
the warning unread for the next visit instead. Answers only to `Authorization: Bearer RASA_TOKEN`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import load_settings
from bot.web.auth import bearer_matches


class WebchatInput(SocketIOInput):
    """`socketio` as Rasa ships it, plus GET /webhooks/socketio/presence/<session_id>."""

    def is_connected(self, session_id: str) -> bool:
        if self.sio is None:
            return False
        rooms = self.sio.manager.rooms.get(self.namespace or "/", {})
        return session_id in rooms and bool(rooms[session_id])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        expected = load_settings().rasa_token

        @webhook.route("/presence/<session_id>", methods=["GET"])
        async def presence(request: Request, session_id: str) -> HTTPResponse:
            if not bearer_matches(request, expected):
                return response.json({"error": "unauthorized"}, status=401)
            return response.json({"connected": self.is_connected(session_id)})

        return webhook
