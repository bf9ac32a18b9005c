"""A local stand-in for the endpoint Rasa's callback channel posts the bot's
messages to: it keeps what arrived, for the tests and the benchmark to count.

It keeps to the endpoint's contract (docs/channels/callback.md): a message id
it has shown before is answered 200 and not shown again. `deliveries()` is
every POST, repeats included; `messages()` what the customer saw."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The opening of a change warning (messages.yml, warning_change), nl and en.
WARNING_MARKERS = ("zodat je het van ons hoort", "so you hear it from us")


def is_warning(text: str | None) -> bool:
    return any(marker in (text or "") for marker in WARNING_MARKERS)


class CallbackSink:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.shown_ids: set[str] = set()
        self.refuse = 0  # answer this many of the next messages 503, taking none
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    message = json.loads(body or b"{}")
                except ValueError:
                    message = {}
                with sink._lock:
                    refused = sink.refuse > 0
                    sink.refuse -= 1 if refused else 0
                if refused:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with sink._lock:
                    sink.received.append(message)
                    message_id = message.get("message_id")
                    if message_id not in sink.shown_ids:
                        sink.shown.append(message)
                    if message_id:
                        sink.shown_ids.add(message_id)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass  # one line per message would drown the output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/bot"

    def start(self) -> CallbackSink:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> CallbackSink:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def messages(self) -> list[dict[str, Any]]:
        """What the customer saw: each message id once."""
        with self._lock:
            return list(self.shown)

    def deliveries(self) -> list[dict[str, Any]]:
        """Every message posted, a repeated id as often as it came."""
        with self._lock:
            return list(self.received)

    def credentials(self) -> str:
        """A credentials.yml with REST, the chat widget and the callback channel to this sink."""
        return (
            "bot.channels.rest.GuardedRestInput:\n"
            "bot.channels.webchat.WebchatInput:\n  session_persistence: true\n"
            f"bot.channels.callback.CallbackInput:\n  url: {self.url}\n"
        )
