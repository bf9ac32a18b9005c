"""A real Rasa server and action server (`python -m bot run`) on free ports,
with a fresh demo database, for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.processes import free_port, wait_until_ready
from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
SHOP_SECRET = "e2e-shop-secret-at-least-32-bytes-long"
RASA_TOKEN = "e2e-rasa-token"
ORDER_API_TOKEN = "e2e-order-api-token"


@dataclass
class RunningAssistant:
    process: subprocess.Popen[bytes]
    rasa_url: str
    web_url: str
    log_path: Path
    env: dict[str, str]

    def say(
        self, sender: str, message: str, token: str | None = None, timeout: float = 30
    ) -> list[str]:
        body: dict[str, object] = {"sender": sender, "message": message}
        if token is not None:
            body["metadata"] = {"customer_token": token}
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=timeout
        )
        response.raise_for_status()
        return [item.get("text", "") for item in response.json()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def report_delay(self, body: dict[str, object]) -> requests.Response:
        """The shop's order system reports a supplier delay (the intake API)."""
        return requests.post(
            f"{self.web_url}/api/v1/supplier-delays",
            json=body,
            headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
            timeout=30,
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    if not wait_until_ready(url, process, timeout=240):
        raise RuntimeError(f"assistant not ready:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def assistant_env() -> dict[str, str]:
    """Extra environment for a module's assistant (a module overrides it, for
    example to set up a messaging channel)."""
    return {}


# One per test module: each module starts from the fresh demo shop (the
# proactive tests move and cancel the orders the conversation tests ask about).
@pytest.fixture(scope="module")
def assistant(
    tmp_path_factory: pytest.TempPathFactory, assistant_env: dict[str, str]
) -> Iterator[RunningAssistant]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)
    folder = tmp_path_factory.mktemp("e2e")
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "ORDER_SYSTEM": "sql",
            # The demo shop's site and seed; its secrets as set here.
            "DEMO_SHOP": "true",
            "SHOP_TOKEN_SECRET": SHOP_SECRET,
            "RASA_TOKEN": RASA_TOKEN,
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "WEB_PORT": str(web_port),
            "ORDER_API_TOKEN": ORDER_API_TOKEN,
            # Warnings go out at any hour in tests: no quiet hours.
            "QUIET_HOURS_START": "0",
            "QUIET_HOURS_END": "0",
            "NOTIFIER_POLL_SECONDS": "0.2",
            "PYTHONPATH": str(PROJECT_ROOT),
            **assistant_env,
        }
    )
    subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = folder / "assistant.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--model", str(MODEL)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningAssistant(
        process, f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{web_port}", log_path, env
    )
    try:
        _wait_ready(f"{running.rasa_url}/", process, log_path)
        _wait_ready(f"http://127.0.0.1:{action_port}/health", process, log_path)
        _wait_ready(f"{running.web_url}/health", process, log_path)
        yield running
    finally:
        stopped_cleanly = False
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                stopped_cleanly = process.wait(timeout=30) == 0
            except subprocess.TimeoutExpired:
                process.kill()
    # `make run` must stop both servers on SIGTERM, leaving their ports free.
    assert stopped_cleanly, f"did not stop cleanly on SIGTERM:\n{log_path.read_text()[-3000:]}"
    for port in (rasa_port, action_port, web_port):
        with socket.socket() as sock:
            # REUSEADDR ignores closed connections in TIME_WAIT, not a listener.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
