"""The web service as a real process (`python -m bot web`), a TCP proxy in front
of PostgreSQL that a test takes away and brings back, and a slow helpdesk."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.processes import free_port, stop_all, wait_until_ready
from bot.settings import PROJECT_ROOT
from tests.conftest import SHOP_SECRET

API_TOKEN = "web-service-test-order-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@dataclass
class WebService:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_web(
    folder: Path,
    database_url: str,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> WebService:
    """The web service on a free port; `env` adds or overrides variables."""
    env = env or {}
    port = free_port()
    variables = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SHOP_TOKEN_SECRET": SHOP_SECRET,
        "ORDER_API_TOKEN": API_TOKEN,
        "ORDER_SYSTEM": "sql",
        "WEB_PORT": str(port),
        "PYTHONPATH": str(PROJECT_ROOT),
        **env,
    }
    for name in ("DEMO_SHOP", "ZENDESK_URL"):
        if name not in env:
            variables.pop(name, None)
    log = folder / f"web-{port}.log"
    process = subprocess.Popen(
        command or [sys.executable, "-m", "bot", "web"],
        cwd=PROJECT_ROOT,
        env=variables,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_until_ready(f"{base}/health", process, timeout=60):
        stop_all([process])
        raise RuntimeError(log.read_text())
    return WebService(base, process, log)


@contextlib.contextmanager
def running_web(folder: Path, database_url: str, **env: str) -> Iterator[WebService]:
    web = start_web(folder, database_url, env)
    try:
        yield web
    finally:
        stop_all([web.process])


class SlowZendesk:
    """Zendesk's Tickets API answering each new ticket after `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.tickets: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(seconds)
                stand_in.tickets.append(body)
                answer = json.dumps({"ticket": {"id": 7000 + len(stand_in.tickets)}}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
