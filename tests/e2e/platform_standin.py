"""A local stand-in for the Telegram, Slack and Twilio APIs: it records every
call the assistant makes and answers as each platform documents.

Used by the channel contract tests; the assistant is pointed at it with
TELEGRAM_API_URL, SLACK_API_URL and TWILIO_API_URL.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class PlatformStandIn:
    server: ThreadingHTTPServer
    calls: list[Call] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # path endings answered with 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def calls_to(self, ending: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path.endswith(ending)]

    def wait_for(self, ending: str, count: int = 1, timeout: float = 30) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(ending)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} call(s) to {ending} expected, got {self.calls_to(ending)}")

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()


def _answer(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Each platform's documented success answer."""
    if "/sendMessage" in path:  # Telegram Bot API: Message
        chat = {"id": int(str(body.get("chat_id", "0"))), "type": "private"}
        message = {"message_id": 1, "date": int(time.time()), "chat": chat, "text": body["text"]}
        return 200, {"ok": True, "result": message}
    if "/setWebhook" in path:
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}
    if "/answerCallbackQuery" in path:
        return 200, {"ok": True, "result": True}
    if path.endswith("/chat.postMessage"):  # Slack Web API
        return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
    if path.endswith("/Messages.json"):  # Twilio Messages API: 201 Created, a Message resource
        return 201, {"sid": "SM" + "0" * 32, "status": "queued", "to": body.get("To")}
    return 404, {"ok": False, "error": "unknown_method"}


def start_standin() -> PlatformStandIn:
    standin: PlatformStandIn

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw or "{}")
            else:
                body = {key: values[0] for key, values in parse_qs(raw).items()}
            standin.record(Call(self.path, dict(self.headers.items()), body))
            status, answer = _answer(self.path, body)
            if any(self.path.endswith(ending) for ending in standin.failing):
                status, answer = 500, {"ok": False, "error": "internal_error"}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin = PlatformStandIn(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return standin
