"""A stand-in for Rasa's HTTP API that answers or fails, for outage tests: it
answers what the notifier asks of Rasa (trigger_intent, the widget's presence,
execute) and records each push it took. The database's outage:
tests/database_proxy.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class RasaStandIn:
    """Rasa's HTTP API as the notifier uses it. `up` False: every call gets 503.
    `on_push` runs before a taken push is answered (to cut the database then)."""

    def __init__(self) -> None:
        self.up = True
        self.on_push: Callable[[], None] | None = None
        self.taken: list[dict[str, Any]] = []  # pushes answered 200, in order
        self.refused = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RasaStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pushes_of(self, warning_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [push for push in self.taken if push["warning_id"] == warning_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if not standin.up:
                    self._answer(503, {})
                    return
                self._answer(200, {"connected": False})

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not standin.up:
                    with standin._lock:
                        standin.refused += 1
                    self._answer(503, {})
                    return
                parts = urlsplit(self.path)
                if parts.path.endswith("/trigger_intent"):
                    sender = unquote(parts.path.split("/")[2])
                    entities = body.get("entities") or {}
                    push = {
                        "sender": sender,
                        "channel": parse_qs(parts.query).get("output_channel", [""])[0],
                        "warning_id": int(entities.get("warning_id", 0)),
                    }
                    if standin.on_push is not None:
                        standin.on_push()
                    with standin._lock:
                        standin.taken.append(push)
                self._answer(200, {})

        return Handler
